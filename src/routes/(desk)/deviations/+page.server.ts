/**
 * The deviation list: filters (status, severity, line, owner, overdue) and the sort live in the
 * URL, so a list can be bookmarked and linked (a KPI tile, a lot page). Aging counts whole days
 * open; overdue items (the deviation, a CAPA action, the effectiveness check) are named per row.
 */
import { runningApp } from '$lib/server/running-app';
import { can } from '$lib/server/auth/policy';
import { line } from '$lib/server/db/schema';
import {
	assignablePeople,
	DEVIATION_LIST_LIMIT,
	listDeviations
} from '$lib/server/production/deviations';
import type { PageServerLoad } from './$types';
import { requireDeviationViewer } from './guard';
import { listFilter } from './schema';

export const load: PageServerLoad = async (event) => {
	const user = requireDeviationViewer(event);
	const { database } = runningApp();
	const filter = listFilter.parse(Object.fromEntries(event.url.searchParams));
	const [result, lines, people] = await Promise.all([
		listDeviations(database, {
			status: filter.status,
			severity: filter.severity ?? null,
			lineId: filter.line,
			ownerId: filter.owner,
			overdue: filter.overdue,
			sort: filter.sort
		}),
		database.db
			.select({ id: line.id, code: line.code, name: line.name })
			.from(line)
			.orderBy(line.code),
		assignablePeople(database)
	]);
	return {
		filter,
		rows: result.rows,
		truncated: result.truncated,
		limit: DEVIATION_LIST_LIMIT,
		lines,
		people,
		canOpen: can(user, 'deviation:open'),
		now: Date.now()
	};
};
