/**
 * Material lots: receiving (into quarantine) and the quality decision (validate or reject, on
 * evidence). Only validated lots can be consumed by a run (the run start refuses the others).
 */
import { fail } from '@sveltejs/kit';
import { requireUserWith } from '$lib/server/auth/guard';
import { countRefusal } from '$lib/server/production/api';
import { httpStatus, ProductionError } from '$lib/server/production/errors';
import {
	decideMaterialLot,
	listMaterialLots,
	receiveMaterialLot,
	receivingOptions
} from '$lib/server/production/materials';
import { runningApp as app } from '$lib/server/running-app';
import type { Actions, PageServerLoad } from './$types';
import { decideForm, fieldErrors, receiveForm, statusFilter } from './schema';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'material:manage');
	const { database } = app();
	const status = statusFilter.parse(event.url.searchParams.get('status') ?? undefined);
	const [lots, options] = await Promise.all([
		listMaterialLots(database, { status, limit: 300 }),
		receivingOptions(database)
	]);
	return { status: status ?? null, lots, ...options };
};

function refused(action: string, e: unknown, extra: Record<string, unknown> = {}) {
	if (e instanceof ProductionError) {
		countRefusal(
			app().metrics,
			action === 'receive' ? 'material-receive' : 'material-decide',
			e.code
		);
		return fail(httpStatus(e.code), {
			action,
			...extra,
			message: e.message,
			errors: e.field ? { [e.field]: e.message } : {}
		});
	}
	throw e;
}

export const actions: Actions = {
	receive: async (event) => {
		const user = requireUserWith(event, 'material:manage');
		const values = Object.fromEntries(
			[...(await event.request.formData()).entries()].map(([k, v]) => [k, String(v)])
		);
		const parsed = receiveForm.safeParse(values);
		if (!parsed.success) {
			const errors = fieldErrors(parsed.error);
			return fail(400, { action: 'receive', values, message: Object.values(errors)[0], errors });
		}
		try {
			const received = await receiveMaterialLot(app().database, user, parsed.data);
			return { action: 'receive', done: `Received ${received.code} into quarantine.` };
		} catch (e) {
			return refused('receive', e, { values });
		}
	},

	decide: async (event) => {
		const user = requireUserWith(event, 'material:manage');
		const values = Object.fromEntries(
			[...(await event.request.formData()).entries()].map(([k, v]) => [k, String(v)])
		);
		const parsed = decideForm.safeParse(values);
		if (!parsed.success) {
			const errors = fieldErrors(parsed.error);
			return fail(400, {
				action: 'decide',
				id: values.id ?? '',
				message: Object.values(errors)[0],
				errors
			});
		}
		try {
			await decideMaterialLot(app().database, user, parsed.data);
			return {
				action: 'decide',
				id: String(parsed.data.id),
				done: `Material lot ${parsed.data.decision}.`
			};
		} catch (e) {
			return refused('decide', e, { id: String(parsed.data.id) });
		}
	}
};
