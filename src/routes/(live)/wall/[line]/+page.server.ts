import { error } from '@sveltejs/kit';
import { eq } from 'drizzle-orm';
import { runningApp } from '$lib/server/running-app';
import { requirePermission } from '$lib/server/auth/guard';
import { can } from '$lib/server/auth/policy';
import { line } from '$lib/server/db/schema';
import type { PageServerLoad } from './$types';

/**
 * A line's wall: anonymous visitors sign in (or the screen pairs) first; a principal whose
 * grants do not cover this line gets 403 here, and its socket would be refused the rooms too.
 */
export const load: PageServerLoad = async (event) => {
	requirePermission(event, 'live:view');
	const app = runningApp();
	// Like the page, the URL names the line by code (stable across databases) or by id.
	const key = event.params.line;
	const [row] = await app.database.db
		.select({ id: line.id, siteId: line.siteId })
		.from(line)
		.where(/^\d{1,9}$/.test(key) ? eq(line.id, Number(key)) : eq(line.code, key));
	if (!row) error(404, `There is no line ${event.params.line}.`);
	const principal = requirePermission(event, 'live:view', { lineId: row.id, siteId: row.siteId });
	// A person at a desk or tablet may open an alarm from the banner; a wall device only watches.
	return {
		linkAlarms:
			principal.kind === 'user' &&
			can(principal, 'alarm:view', { lineId: row.id, siteId: row.siteId })
	};
};
