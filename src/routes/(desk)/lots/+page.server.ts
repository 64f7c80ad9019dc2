/**
 * Lot search: filters live in the URL (a search can be bookmarked, shared and linked from an
 * alarm, a machine or an operator). `machine` + `at` is the one-click drill-down of the wall and
 * the alarm page: when exactly one lot was running there then, go straight to it.
 */
import { error, redirect } from '@sveltejs/kit';
import { runningApp } from '$lib/server/running-app';
import { requireUserWith } from '$lib/server/auth/guard';
import { lotViewerProblem } from '$lib/server/lots/access';
import { lotSearchSchema, searchLots, LOT_SEARCH_PAGE_SIZE } from '$lib/server/lots/trace';
import { LOT_STATUSES } from '$lib/server/db/schema/production';
import type { PageServerLoad } from './$types';

const KEYS = [
	'lot',
	'part',
	'material',
	'customer',
	'status',
	'from',
	'to',
	'machine',
	'at',
	'operator',
	'page'
] as const;

export const load: PageServerLoad = async (event) => {
	const user = requireUserWith(event, 'lot:view');
	const problem = lotViewerProblem(user);
	if (problem) error(403, problem);
	const raw: Record<string, string> = {};
	for (const key of KEYS) {
		const v = event.url.searchParams.get(key);
		if (v !== null) raw[key] = v;
	}
	const base = { statuses: [...LOT_STATUSES], pageSize: LOT_SEARCH_PAGE_SIZE };
	const parsed = lotSearchSchema.safeParse(raw);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		return {
			...base,
			problem: `${String(issue?.path[0] ?? 'filter')}: ${issue?.message ?? 'invalid'}`,
			result: { lots: [], page: 1, hasMore: false }
		};
	}
	const result = await searchLots(runningApp().database, parsed.data, user);
	const q = parsed.data;
	if (q.machine !== undefined && q.at !== undefined && result.page === 1) {
		if (result.lots.length === 1 && !result.hasMore) redirect(303, `/lots/${result.lots[0].id}`);
	}
	return { ...base, problem: null, result };
};
