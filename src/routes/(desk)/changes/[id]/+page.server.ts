/**
 * One change request: proposal beside the values in force, the impact analysis, the timeline of
 * step times, the signatures with their manifestation, and the actions this person can take in
 * this state. Reading needs change:view; every action is decided by the change service (the
 * page only hides what would be refused) and every refusal is shown beside its form.
 */
import { error, fail } from '@sveltejs/kit';
import { runningApp as app } from '$lib/server/running-app';
import type { Permission } from '$lib/auth/roles';
import { requirePermission, requireUser } from '$lib/server/auth/guard';
import { can } from '$lib/server/auth/policy';
import {
	approveChange,
	ChangeError,
	changeHttpStatus,
	editChange,
	loadChange,
	moveChange,
	signAuthored,
	type MoveEvent
} from '$lib/server/change/service';
import { recordAuditTrail } from '$lib/server/audit/query';
import { signingStatus } from '$lib/server/records/signatures';
import { CHANGE_RECORD } from '$lib/server/change/signable';
import type { Actions, PageServerLoad, RequestEvent } from './$types';
import { editForm, idParam, proposalOf, reasonForm, signForm } from '../schema';

function idOf(params: { id: string }): number {
	const parsed = idParam.safeParse(params);
	if (!parsed.success) error(404, 'No such change request.');
	return Number(parsed.data.id);
}

export const load: PageServerLoad = async (event) => {
	const principal = requirePermission(event, 'change:view');
	if (principal.kind !== 'user') error(403, 'Wall-screen devices cannot do this.');
	const { database } = app();
	const id = idOf(event.params);
	const detail = await loadChange(database, principal, id);
	if (!detail) error(404, 'No such change request.');
	const [signing, trail] = await Promise.all([
		signingStatus(database, principal),
		recordAuditTrail(database, CHANGE_RECORD, String(id))
	]);
	return {
		...detail,
		trail: trail.map(({ prevHash: _p, hash: _h, actorUserId: _a, ...entry }) => entry),
		signing: {
			canSign: signing.canSign,
			policyAcknowledged: signing.policyAcknowledgedAt !== null,
			needsUsername: signing.needsUsername
		}
	};
};

type Answer = { action: string; message: string; field?: string };

function refused(action: string, e: unknown) {
	if (e instanceof ChangeError) {
		return fail(changeHttpStatus(e.code), {
			action,
			code: e.code,
			message: e.message,
			field: e.field
		} satisfies Answer & { code: string });
	}
	throw e;
}

/** Who may post which action: checked before anything is read (the service checks again). */
const NEEDS: Record<string, readonly Permission[]> = {
	submit: ['change:author'],
	'to-review': ['change:author'],
	rework: ['change:author'],
	withdraw: ['change:author'],
	edit: ['change:author'],
	sign: ['change:author'],
	reject: ['change:approve'],
	approve: ['change:approve'],
	implement: ['change:author', 'change:approve'],
	close: ['change:author', 'change:approve']
};

function user(event: RequestEvent, action: string) {
	requirePermission(event, 'change:view');
	const person = requireUser(event);
	if (!NEEDS[action].some((p) => can(person, p))) {
		error(403, 'You do not have permission for this.');
	}
	return person;
}

/** One named action per workflow event; reasons where the event needs one. */
function move(event: MoveEvent) {
	return async (e: RequestEvent) => {
		const person = user(e, event);
		const running = app();
		const id = idOf(e.params);
		const form = reasonForm.parse(Object.fromEntries(await e.request.formData()));
		try {
			const result = await moveChange(
				{ database: running.database, metrics: running.metrics },
				person,
				{
					id,
					event,
					reason: form.reason ?? null
				}
			);
			// A version in force now reaches workers and walls now, not at the next sweep.
			if (result.effectiveNow) await running.hub.publishConfig();
			return { action: event, status: result.status };
		} catch (err) {
			return refused(event, err);
		}
	};
}

export const actions: Actions = {
	submit: move('submit'),
	toReview: move('to-review'),
	rework: move('rework'),
	reject: move('reject'),
	withdraw: move('withdraw'),
	implement: move('implement'),
	close: move('close'),

	edit: async (event) => {
		const person = user(event, 'edit');
		const running = app();
		const id = idOf(event.params);
		const values = Object.fromEntries(await event.request.formData()) as Record<string, string>;
		const parsed = editForm.safeParse(values);
		if (!parsed.success) {
			return fail(400, { action: 'edit', message: parsed.error.issues[0].message });
		}
		const current = await loadChange(running.database, person, id);
		if (!current) error(404, 'No such change request.');
		const proposal = proposalOf(current.request.kind, values);
		if (!proposal.ok) {
			return fail(400, { action: 'edit', message: proposal.message, field: proposal.field });
		}
		try {
			const edited = await editChange(
				{ database: running.database, metrics: running.metrics },
				person,
				{
					id,
					expectedRevision: parsed.data.expectedRevision,
					title: parsed.data.title,
					justification: parsed.data.justification,
					productId: parsed.data.productId,
					proposal: proposal.proposal
				}
			);
			return { action: 'edit', revision: edited.revision };
		} catch (err) {
			return refused('edit', err);
		}
	},

	sign: async (event) => {
		const person = user(event, 'sign');
		const running = app();
		const id = idOf(event.params);
		const parsed = signForm.safeParse(Object.fromEntries(await event.request.formData()));
		if (!parsed.success)
			return fail(400, { action: 'sign', message: parsed.error.issues[0].message });
		try {
			await signAuthored(
				{ database: running.database, metrics: running.metrics },
				person,
				{
					id,
					expectedRevision: parsed.data.recordVersion,
					username: parsed.data.username,
					password: parsed.data.password,
					reason: parsed.data.reason
				},
				{ lockoutThreshold: running.auth.lockoutThreshold }
			);
			return { action: 'sign' };
		} catch (err) {
			return refused('sign', err);
		}
	},

	approve: async (event) => {
		const person = user(event, 'approve');
		const running = app();
		const id = idOf(event.params);
		const parsed = signForm.safeParse(Object.fromEntries(await event.request.formData()));
		if (!parsed.success) {
			return fail(400, { action: 'approve', message: parsed.error.issues[0].message });
		}
		// The effective date comes in the URL of the dialog's action (ISO, chosen on the page).
		const raw = event.url.searchParams.get('effectiveFrom');
		const effectiveFrom = raw ? new Date(raw) : null;
		try {
			await approveChange(
				{ database: running.database, metrics: running.metrics },
				person,
				{
					id,
					expectedRevision: parsed.data.recordVersion,
					effectiveFrom,
					username: parsed.data.username,
					password: parsed.data.password,
					reason: parsed.data.reason
				},
				{ lockoutThreshold: running.auth.lockoutThreshold }
			);
			return { action: 'approve' };
		} catch (err) {
			return refused('approve', err);
		}
	}
};
