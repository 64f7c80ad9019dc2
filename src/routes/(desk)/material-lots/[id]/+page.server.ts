/**
 * A material lot: what it is, its validation record, and the trace forward (every lot that
 * consumed it, every shipment of those lots: the recall scope). The trace lists every
 * customer's lots, so it is for plant staff only; customers see material lots only inside their
 * own lots' genealogy.
 */
import { error } from '@sveltejs/kit';
import { runningApp } from '$lib/server/running-app';
import { requireUserWith } from '$lib/server/auth/guard';
import { canTrace } from '$lib/server/lots/access';
import { traceForward } from '$lib/server/lots/trace';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const user = requireUserWith(event, 'lot:view');
	if (!canTrace(user)) error(403, 'Material traceability is for plant staff.');
	if (!/^\d{1,10}$/.test(event.params.id)) error(404, 'No such material lot.');
	const trace = await traceForward(runningApp().database, Number(event.params.id), user);
	if (!trace) error(404, 'No such material lot.');
	return { trace };
};
