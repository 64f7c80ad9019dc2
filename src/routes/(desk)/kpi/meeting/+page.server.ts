/**
 * Meeting-room mode: every board, one at a time, in type readable across a room, rotating every
 * `every` seconds (default 20, 5-600), no navigation. Same filters as the desk board.
 */
import { requireUserWith } from '$lib/server/auth/guard';
import { boardsOf, loadBoards } from '$lib/server/kpi/page';
import { runningApp } from '$lib/server/running-app';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'kpi:view');
	const every = Number(event.url.searchParams.get('every') ?? 20);
	const result = await loadBoards(
		runningApp().database,
		event.url,
		boardsOf(event.url),
		Date.now()
	);
	return {
		...result,
		every: Number.isFinite(every) ? Math.min(600, Math.max(5, Math.round(every))) : 20
	};
};
