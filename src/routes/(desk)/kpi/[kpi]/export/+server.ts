/** A KPI's drill-down list as CSV (the same rows as the page, with their links). */
import { error } from '@sveltejs/kit';
import { isKpiKey } from '$lib/kpi/definitions';
import { requireApiPermission } from '$lib/server/auth/guard';
import { kpiContext } from '$lib/server/kpi/board';
import { drilldownCsv } from '$lib/server/kpi/csv';
import { kpiDrilldown } from '$lib/server/kpi/drilldown';
import { parseKpiFilters } from '$lib/server/kpi/page';
import { runningApp } from '$lib/server/running-app';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	requireApiPermission(event, 'kpi:view');
	const key = event.params.kpi;
	if (!isKpiKey(key)) error(404, 'No such KPI.');
	const parsed = parseKpiFilters(event.url);
	if (!parsed.ok) error(400, parsed.problem);
	const now = Date.now();
	const drill = await kpiDrilldown(runningApp().database, key, kpiContext(parsed.filters, now));
	const day = new Date(now).toISOString().slice(0, 10);
	return new Response(drilldownCsv(drill), {
		headers: {
			'content-type': 'text/csv; charset=utf-8',
			'content-disposition': `attachment; filename="kpi-${key}-${day}.csv"`,
			'cache-control': 'no-store'
		}
	});
};
