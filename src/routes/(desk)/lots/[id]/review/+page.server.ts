/**
 * The release review of one lot, by exception: the exceptions first (open ones, then the
 * resolved ones with how), the decision (start review; release or reject with an electronic
 * signature), then the full lot record (the lot page's own component and data).
 *
 * Needs `lot:release` on the lot's line: anonymous → /login, no lot:release anywhere → 403,
 * a lot the reviewer may not see → 404 (like a lot that does not exist), a lot they see but may
 * not release → 403. The actions call lots/release.ts, which checks all of it again; every
 * refusal is counted in /metrics (countRefusal) and shown beside the form.
 */
import { error, fail, redirect } from '@sveltejs/kit';
import { resolve } from '$app/paths';
import { requireUserWith } from '$lib/server/auth/guard';
import { can } from '$lib/server/auth/policy';
import { canTrace } from '$lib/server/lots/access';
import { loadLotCharts } from '$lib/server/lots/charts';
import { loadLotHistory } from '$lib/server/lots/history';
import { decideLot, decisionReason, startLotReview } from '$lib/server/lots/release';
import { countRefusal, type ProductionAction } from '$lib/server/production/api';
import { httpStatus, ProductionError } from '$lib/server/production/errors';
import { signingStatus } from '$lib/server/records/signatures';
import { runningApp } from '$lib/server/running-app';
import type { Actions, PageServerLoad } from './$types';
import { decideForm, lotParams } from './schema';

function lotIdOf(params: { id: string }): number {
	const parsed = lotParams.safeParse(params);
	if (!parsed.success) error(404, 'No such lot.');
	return Number(parsed.data.id);
}

export const load: PageServerLoad = async (event) => {
	const user = requireUserWith(event, 'lot:release');
	const id = lotIdOf(event.params);
	const { database } = runningApp();
	const now = new Date();
	const history = await loadLotHistory(database, id, user, now);
	if (!history) error(404, 'No such lot.');
	const scope = { lineId: history.header.line.id, siteId: history.header.line.siteId };
	if (!can(user, 'lot:release', scope)) error(403, 'You may not release lots on this line.');
	const decided = history.header.status === 'released' || history.header.status === 'rejected';
	const [charts, signing, reason] = await Promise.all([
		loadLotCharts(database, history),
		signingStatus(database, user),
		decided ? decisionReason(database, id) : Promise.resolve(null)
	]);
	return {
		history,
		charts,
		// What the lot page's component needs to render the full record the same way.
		canTrace: canTrace(user),
		canOpenCharacteristics: can(user, 'characteristic:view', scope),
		canOpenAlarms: can(user, 'alarm:view', scope),
		canOpenWall: can(user, 'live:view', scope),
		// A completed lot's summaries are stored with it: nothing is computed live here.
		liveSummaries: null,
		signing: {
			canSign: signing.canSign,
			policyAcknowledged: signing.policyAcknowledgedAt !== null,
			needsUsername: signing.needsUsername
		},
		decisionReason: reason,
		now
	};
};

function refused(action: ProductionAction, name: string, e: unknown) {
	if (!(e instanceof ProductionError)) throw e;
	countRefusal(runningApp().metrics, action, e.code);
	return fail(httpStatus(e.code), { action: name, code: e.code, message: e.message });
}

export const actions: Actions = {
	start: async (event) => {
		const user = requireUserWith(event, 'lot:release');
		const id = lotIdOf(event.params);
		try {
			await startLotReview(runningApp().database, user, { id });
		} catch (e) {
			return refused('lot-review', 'start', e);
		}
		return { action: 'start', started: true };
	},

	decide: async (event) => {
		const running = runningApp();
		const user = requireUserWith(event, 'lot:release');
		const id = lotIdOf(event.params);
		const raw = Object.fromEntries(await event.request.formData());
		const parsed = decideForm.safeParse(raw);
		if (!parsed.success) {
			countRefusal(
				running.metrics,
				raw.meaning === 'rejected' ? 'lot-reject' : 'lot-release',
				'invalid'
			);
			return fail(400, {
				action: 'decide',
				code: 'invalid',
				message: parsed.error.issues[0].message
			});
		}
		const input = parsed.data;
		const action: ProductionAction = input.meaning === 'released' ? 'lot-release' : 'lot-reject';
		try {
			await decideLot(
				running.database,
				user,
				{
					id,
					decision: input.meaning,
					username: input.username,
					password: input.password,
					reason: input.reason,
					expectedRevision: input.recordVersion
				},
				{ lockoutThreshold: running.auth.lockoutThreshold }
			);
		} catch (e) {
			return refused(action, 'decide', e);
		}
		// The lot record, now showing the decision and its signature.
		redirect(303, resolve('/(desk)/lots/[id]', { id: String(id) }));
	}
};
