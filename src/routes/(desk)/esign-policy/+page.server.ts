/**
 * The electronic-signature policy (21 CFR 11.100(c)): every user reads and acknowledges it
 * once before their first signature. The acknowledgement sets app_user.esign_policy_ack_at and
 * is audited; signRecord refuses signers without it.
 */
import { fail, redirect } from '@sveltejs/kit';
import { runningApp } from '$lib/server/running-app';
import { requireUser } from '$lib/server/auth/guard';
import { acknowledgeEsignPolicy, signingStatus } from '$lib/server/records/signatures';
import type { Actions, PageServerLoad } from './$types';
import { acknowledgeForm, safeNext } from './schema';

function database() {
	const app = runningApp();
	return app.database;
}

export const load: PageServerLoad = async (event) => {
	const user = requireUser(event);
	const status = await signingStatus(database(), user);
	return {
		acknowledgedAt: status.policyAcknowledgedAt,
		canSign: status.canSign,
		next: safeNext(event.url.searchParams.get('next'))
	};
};

export const actions: Actions = {
	acknowledge: async (event) => {
		const user = requireUser(event);
		const parsed = acknowledgeForm.safeParse(Object.fromEntries(await event.request.formData()));
		if (!parsed.success) {
			return fail(400, { message: parsed.error.issues[0].message });
		}
		await acknowledgeEsignPolicy(database(), user);
		redirect(303, parsed.data.next ?? event.url.pathname);
	}
};
