/** The lots, change requests or open items behind one KPI, under the board's filters. */
import { error } from '@sveltejs/kit';
import { isKpiKey } from '$lib/kpi/definitions';
import { requireUserWith } from '$lib/server/auth/guard';
import { kpiContext } from '$lib/server/kpi/board';
import { kpiDrilldown } from '$lib/server/kpi/drilldown';
import { parseKpiFilters } from '$lib/server/kpi/page';
import { runningApp } from '$lib/server/running-app';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'kpi:view');
	const key = event.params.kpi;
	if (!isKpiKey(key)) error(404, 'No such KPI.');
	const parsed = parseKpiFilters(event.url);
	const ctx = kpiContext(parsed.filters, Date.now());
	if (!parsed.ok) {
		return { key, problem: parsed.problem, filters: parsed.filters, range: ctx.range, drill: null };
	}
	const drill = await kpiDrilldown(runningApp().database, key, ctx);
	return { key, problem: null, filters: parsed.filters, range: ctx.range, drill };
};
