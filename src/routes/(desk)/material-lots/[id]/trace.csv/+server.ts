/** The recall scope of a material lot as CSV (one row per shipment, or per unshipped lot). */
import { error } from '@sveltejs/kit';
import { stringify } from 'csv-stringify/sync';
import { runningApp } from '$lib/server/running-app';
import { requireApiPermission } from '$lib/server/auth/guard';
import { canTrace } from '$lib/server/lots/access';
import { traceCsvRows, traceForward } from '$lib/server/lots/trace';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	const principal = requireApiPermission(event, 'lot:view');
	if (!canTrace(principal)) error(403, 'Material traceability is for plant staff.');
	if (!/^\d{1,10}$/.test(event.params.id)) error(404, 'No such material lot.');
	const trace = await traceForward(runningApp().database, Number(event.params.id), principal);
	if (!trace) error(404, 'No such material lot.');
	const safeCode = trace.materialLot.code.replace(/[^A-Za-z0-9._-]/g, '_');
	return new Response(stringify(traceCsvRows(trace)), {
		headers: {
			'content-type': 'text/csv; charset=utf-8',
			'content-disposition': `attachment; filename="trace-forward-${safeCode}.csv"`,
			'cache-control': 'no-store'
		}
	});
};
