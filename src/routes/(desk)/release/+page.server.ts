/**
 * The release queue: completed and in-review lots on the lines the reviewer may release, oldest
 * completion first, with their open/resolved exception counts and how long each has waited.
 * `lot:release` (line-scoped): anonymous → /login, without it anywhere → 403; the list holds
 * only the lots of the lines it covers (lots/release.ts reviewQueue).
 */
import { requireUserWith } from '$lib/server/auth/guard';
import { reviewQueue } from '$lib/server/lots/release';
import { runningApp } from '$lib/server/running-app';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const user = requireUserWith(event, 'lot:release');
	const now = new Date();
	const queue = await reviewQueue(runningApp().database, user, now);
	return { ...queue, now };
};
