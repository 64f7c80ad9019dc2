/**
 * Change requests, newest first, filtered by status, kind and line (filters in the URL).
 * Needs change:view; "New change request" is offered to holders of change:author.
 */
import { asc } from 'drizzle-orm';
import { runningApp as app } from '$lib/server/running-app';
import { requirePermission } from '$lib/server/auth/guard';
import { can } from '$lib/server/auth/policy';
import { listChanges } from '$lib/server/change/service';
import { line } from '$lib/server/db/schema';
import type { PageServerLoad } from './$types';
import { listFilters } from './schema';

export const load: PageServerLoad = async (event) => {
	const principal = requirePermission(event, 'change:view');
	const { database } = app();
	const filters = listFilters.parse(Object.fromEntries(event.url.searchParams));
	const [changes, lines] = await Promise.all([
		listChanges(database, {
			status: filters.status,
			kind: filters.kind,
			lineId: filters.line
		}),
		database.db
			.select({ id: line.id, code: line.code, name: line.name })
			.from(line)
			.orderBy(asc(line.code))
	]);
	return {
		changes,
		lines,
		filters: { status: filters.status ?? '', kind: filters.kind ?? '', line: filters.line ?? '' },
		canAuthor: can(principal, 'change:author')
	};
};
