/**
 * Operator certifications: who may run which operation, where, from when to when, on what
 * evidence. Granted and revoked here (`certification:manage`), never edited or deleted; run start
 * and alarm acknowledgement read them.
 */
import { fail } from '@sveltejs/kit';
import { requireUserWith } from '$lib/server/auth/guard';
import { countRefusal } from '$lib/server/production/api';
import {
	grantCertification,
	grantOptions,
	listCertifications,
	revokeCertification
} from '$lib/server/production/certification-admin';
import { httpStatus, ProductionError } from '$lib/server/production/errors';
import { runningApp as app } from '$lib/server/running-app';
import type { Actions, PageServerLoad } from './$types';
import { fieldErrors, grantForm, revokeForm } from './schema';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'certification:manage');
	const { database } = app();
	const [certifications, options] = await Promise.all([
		listCertifications(database),
		grantOptions(database)
	]);
	return { certifications, ...options };
};

const valuesOf = async (request: Request) =>
	Object.fromEntries([...(await request.formData()).entries()].map(([k, v]) => [k, String(v)]));

function refused(action: 'grant' | 'revoke', e: unknown, extra: Record<string, unknown>) {
	if (e instanceof ProductionError) {
		countRefusal(
			app().metrics,
			action === 'grant' ? 'certification-grant' : 'certification-revoke',
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
	grant: async (event) => {
		const user = requireUserWith(event, 'certification:manage');
		const values = await valuesOf(event.request);
		const parsed = grantForm.safeParse(values);
		if (!parsed.success) {
			const errors = fieldErrors(parsed.error);
			return fail(400, { action: 'grant', values, message: Object.values(errors)[0], errors });
		}
		try {
			await grantCertification(app().database, user, parsed.data);
			return { action: 'grant', done: 'Certification granted.' };
		} catch (e) {
			return refused('grant', e, { values });
		}
	},

	revoke: async (event) => {
		const user = requireUserWith(event, 'certification:manage');
		const values = await valuesOf(event.request);
		const parsed = revokeForm.safeParse(values);
		if (!parsed.success) {
			const errors = fieldErrors(parsed.error);
			return fail(400, {
				action: 'revoke',
				id: values.id ?? '',
				message: Object.values(errors)[0],
				errors
			});
		}
		try {
			await revokeCertification(app().database, user, parsed.data);
			return { action: 'revoke', id: String(parsed.data.id), done: 'Certification revoked.' };
		} catch (e) {
			return refused('revoke', e, { id: String(parsed.data.id) });
		}
	}
};
