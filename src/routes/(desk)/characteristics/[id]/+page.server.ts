/**
 * A characteristic as a record: its definition, its control-limit versions under change control
 * and, for each version, the signatures with their full manifestation and validity.
 *
 * Every load and action checks `characteristic:view` on the characteristic's line; signing and
 * editing also need `record:sign` (signRecord checks it again, with the signing right, the
 * policy acknowledgement and re-authentication).
 */
import { error, fail } from '@sveltejs/kit';
import { runningApp as app } from '$lib/server/running-app';
import { requirePermission, requireUserWith } from '$lib/server/auth/guard';
import type { Scope } from '$lib/server/auth/policy';
import type { Database } from '$lib/server/db';
import { can } from '$lib/server/auth/policy';
import { listChanges } from '$lib/server/change/service';
import { changeRequest } from '$lib/server/db/schema';
import { characteristicConfig } from '$lib/server/plant/service';
import { and, eq, isNotNull } from 'drizzle-orm';
import {
	activeLimitVersionId,
	controlLimitsOf,
	LIMIT_VERSION_RECORD,
	limitVersionMeanings,
	listLimitVersions,
	loadCharacteristicRecord,
	type CharacteristicRecord
} from '$lib/server/records/limit-versions';
import {
	listSignatures,
	SignatureError,
	signingStatus,
	signRecord
} from '$lib/server/records/signatures';
import { recordAuditTrail } from '$lib/server/audit/query';
import type { Actions, PageServerLoad } from './$types';
import { fieldErrors, pageParams, signForm } from './schema';

/** The characteristic behind the URL, or 404; never reveals more than "not found". */
async function characteristicOf(
	database: Database,
	params: { id: string }
): Promise<{ record: CharacteristicRecord; scope: Scope }> {
	const parsed = pageParams.safeParse(params);
	if (!parsed.success) error(404, 'No such characteristic.');
	const record = await loadCharacteristicRecord(database, Number(parsed.data.id));
	if (!record) error(404, 'No such characteristic.');
	return { record, scope: { lineId: record.line.id, siteId: record.site.id } };
}

export const load: PageServerLoad = async (event) => {
	const { database } = app();
	// Who first (anonymous → /login, devices → 403), so an id's existence is not revealed.
	requirePermission(event, 'characteristic:view');
	const { record, scope } = await characteristicOf(database, event.params);
	const principal = requirePermission(event, 'characteristic:view', scope);
	const mayViewChanges = can(principal, 'change:view');
	const [versions, activeId, signing, changes, madeBy, config] = await Promise.all([
		listLimitVersions(database, record.id),
		activeLimitVersionId(database, record.id),
		signingStatus(database, principal),
		mayViewChanges ? listChanges(database, { characteristicId: record.id, limit: 50 }) : [],
		// Which change request made each limit version (implemented control-limit changes).
		database.db
			.select({
				id: changeRequest.id,
				code: changeRequest.code,
				versionId: changeRequest.resultLimitVersionId
			})
			.from(changeRequest)
			.where(
				and(
					eq(changeRequest.characteristicId, record.id),
					isNotNull(changeRequest.resultLimitVersionId)
				)
			),
		// The spec in force on the machine now (the running lot's process version, if any).
		characteristicConfig(database, record.id)
	]);
	const now = Date.now();
	const withSignatures = await Promise.all(
		versions.map(async (v) => ({
			id: v.id,
			version: v.version,
			status: v.status,
			revision: v.revision,
			centre: v.centre,
			sigma: v.sigma,
			source: v.source,
			justification: v.justification,
			createdBy: v.createdBy,
			createdAt: v.createdAt,
			updatedAt: v.updatedAt,
			effectiveFrom: v.status === 'effective' ? v.effectiveFrom : null,
			active: v.id === activeId,
			scheduled: v.status === 'effective' && v.effectiveFrom.getTime() > now,
			changeRequest: (() => {
				const m = madeBy.find((x) => x.versionId === v.id);
				return m && mayViewChanges ? { id: m.id, code: m.code } : null;
			})(),
			limits: controlLimitsOf(record.chart, record.subgroupSize, v),
			meanings: [...limitVersionMeanings(v.status)],
			signatures: await listSignatures(database, LIMIT_VERSION_RECORD, String(v.id)),
			// The record's audit trail, shown beside it (21 CFR 11.10(e)); hashes stay in /audit.
			trail: (await recordAuditTrail(database, LIMIT_VERSION_RECORD, String(v.id))).map(
				({ prevHash: _p, hash: _h, actorUserId: _a, ...entry }) => entry
			)
		}))
	);
	return {
		characteristic: record,
		specInForce: config?.specSource ? { spec: config.spec, source: config.specSource } : null,
		versions: withSignatures,
		changes: {
			visible: mayViewChanges,
			canRaise: can(principal, 'change:author'),
			list: changes.map((cr) => ({
				id: cr.id,
				code: cr.code,
				title: cr.title,
				kind: cr.kind,
				status: cr.status,
				openedAt: cr.openedAt
			}))
		},
		signing: {
			canSign: signing.canSign,
			policyAcknowledged: signing.policyAcknowledgedAt !== null,
			needsUsername: signing.needsUsername
		}
	};
};

/** The limit version must belong to the characteristic of the page (no cross-record posts). */
async function versionOfPage(
	database: Database,
	characteristicId: number,
	versionId: string
): Promise<boolean> {
	const versions = await listLimitVersions(database, characteristicId);
	return versions.some((v) => String(v.id) === versionId);
}

export const actions: Actions = {
	sign: async (event) => {
		const running = app();
		const user = requireUserWith(event, 'record:sign');
		const { record, scope } = await characteristicOf(running.database, event.params);
		requirePermission(event, 'characteristic:view', scope);
		const parsed = signForm.safeParse(Object.fromEntries(await event.request.formData()));
		if (!parsed.success) {
			const errors = fieldErrors(parsed.error);
			return fail(400, { action: 'sign', message: Object.values(errors)[0], errors });
		}
		const input = parsed.data;
		if (!(await versionOfPage(running.database, record.id, input.recordId))) {
			return fail(404, { action: 'sign', message: 'No such limit version on this page.' });
		}
		try {
			const signed = await signRecord(
				running.database,
				{
					principal: user,
					recordType: input.recordType,
					recordId: input.recordId,
					expectedVersion: input.recordVersion,
					meaning: input.meaning,
					username: input.username,
					password: input.password,
					reason: input.reason
				},
				{ lockoutThreshold: running.auth.lockoutThreshold }
			);
			// New effective limits reach workers and walls now, not at the next restart.
			if (signed.approvedRecord) await running.hub.publishConfig();
			return { action: 'sign', signatureId: signed.id, approved: signed.approvedRecord };
		} catch (e) {
			if (e instanceof SignatureError) {
				const status = e.code === 'not-permitted' ? 403 : 400;
				return fail(status, { action: 'sign', code: e.code, message: e.message });
			}
			throw e;
		}
	}
};
