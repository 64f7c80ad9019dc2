/**
 * Open a deviation: by hand (choose the line), or from an alarm, an inspection or a lot
 * (`?alarm=` | `?inspection=` | `?lot=`), with the title and description proposed from that
 * context and the links and line set. The person edits the proposal before opening it.
 */
import { error, fail, redirect } from '@sveltejs/kit';
import { runningApp } from '$lib/server/running-app';
import { requireUserWith } from '$lib/server/auth/guard';
import { line } from '$lib/server/db/schema';
import {
	assignablePeople,
	defaultDue,
	deviationPrefill,
	openDeviation
} from '$lib/server/production/deviations';
import { ProductionError, httpStatus } from '$lib/server/production/errors';
import type { Actions, PageServerLoad } from './$types';
import { fieldErrors, openForm, prefillQuery } from '../schema';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'deviation:open');
	const { database } = runningApp();
	const q = prefillQuery.parse(Object.fromEntries(event.url.searchParams));
	const asked = q.alarm ?? q.inspection ?? q.lot;
	const prefill =
		asked === null
			? null
			: await deviationPrefill(database, {
					alarmId: q.alarm ?? undefined,
					inspectionId: q.inspection ?? undefined,
					lotId: q.lot ?? undefined
				});
	if (asked !== null && !prefill) error(404, 'Nothing to open a deviation from: no such record.');
	const [lines, people] = await Promise.all([
		database.db
			.select({ id: line.id, code: line.code, name: line.name })
			.from(line)
			.orderBy(line.code),
		assignablePeople(database)
	]);
	return {
		prefill,
		lines,
		people,
		defaultDue: defaultDue('minor').toISOString().slice(0, 10)
	};
};

export const actions: Actions = {
	open: async (event) => {
		const user = requireUserWith(event, 'deviation:open');
		const running = runningApp();
		const values = Object.fromEntries(
			[...(await event.request.formData()).entries()].map(([k, v]) => [k, String(v)])
		);
		const parsed = openForm.safeParse(values);
		if (!parsed.success) {
			running.metrics.productionRefusals.inc({ action: 'deviation-open', reason: 'invalid' });
			const errors = fieldErrors(parsed.error);
			return fail(400, { values, message: Object.values(errors)[0], errors });
		}
		let opened: { id: number; code: string };
		try {
			opened = await openDeviation(running.database, user, parsed.data);
		} catch (e) {
			if (e instanceof ProductionError) {
				running.metrics.productionRefusals.inc({ action: 'deviation-open', reason: e.code });
				return fail(httpStatus(e.code), {
					values,
					message: e.message,
					errors: e.field ? { [e.field]: e.message } : {}
				});
			}
			throw e;
		}
		redirect(303, `/deviations/${opened.id}`);
	}
};
