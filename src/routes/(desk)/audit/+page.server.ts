/** The global audit trail: search by user, record, action, time and reason; export as CSV. */
import { runningApp } from '$lib/server/running-app';
import { AUDIT_ACTIONS } from '$lib/server/audit/append';
import { AUDIT_ENTITY_TYPES, searchAudit } from '$lib/server/audit/query';
import { requireUserWith } from '$lib/server/auth/guard';
import type { PageServerLoad } from './$types';
import { readFilter } from './filter';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'audit:view');
	const app = runningApp();
	const read = readFilter(event.url);
	const choices = { entityTypes: [...AUDIT_ENTITY_TYPES], actions: [...AUDIT_ACTIONS] };
	if (!read.ok) return { ...choices, problem: read.message, events: [], nextBefore: null };
	const page = await searchAudit(app.database, read.filter);
	return { ...choices, problem: null, ...page };
};
