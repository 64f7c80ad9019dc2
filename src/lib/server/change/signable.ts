/**
 * A change request as a signable record (src/lib/server/records/signatures.ts lists it).
 *
 * Signatures bind to the request's `revision` and to the SHA-256 of what the author proposes:
 * kind, subject, title, justification and proposal. Status, step times, impact and effective
 * date are left out on purpose: moving through the workflow does not change what was signed,
 * but editing the draft does (and raises the revision, so earlier signatures show as lapsed).
 *
 * Meanings by status: `authored` while the request is open (draft, impact, review); `approved`
 * only in review, and signRecord then demands a valid `authored` signature of the same revision
 * by somebody else. Who may sign which meaning (only the author authors; the approver holds
 * change:approve and is not the author) is checked by the change service before signRecord.
 *
 * Only type imports from signatures.ts: it imports this module, and a runtime cycle would leave
 * one of the two half-initialised.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { SignatureMeaning } from '$lib/auth/roles';
import { appendAudit, type Actor } from '../audit/append';
import type { AppDb, TxContext } from '../db';
import type { RawQuery } from '../db/raw';
import { changeRequest, line, signature } from '../db/schema';
import type { ChangeStatus } from '../db/schema/change';
import { contentSha256 } from '../records/canonical';
import { insertDemoSignatures, type DemoSignature } from '../records/demo-signatures';
import type { SignableAdapter, SignableVersion } from '../records/signatures';
import { ChangeError } from './errors';

export const CHANGE_RECORD = 'change-request';

type Queryable = RawQuery & { db: AppDb };
type ChangeRow = typeof changeRequest.$inferSelect;

/** Exactly what a signature of a change request binds to. */
export function changeContent(row: ChangeRow): Record<string, unknown> {
	return {
		recordType: CHANGE_RECORD,
		id: row.id,
		code: row.code,
		kind: row.kind,
		revision: row.revision,
		title: row.title,
		justification: row.justification,
		characteristicId: row.characteristicId,
		productId: row.productId,
		processVersionId: row.processVersionId,
		lineId: row.lineId,
		proposal: row.proposal
	};
}

export function changeMeanings(status: ChangeStatus): readonly SignatureMeaning[] {
	switch (status) {
		case 'draft':
		case 'impact':
			return ['authored'];
		case 'review':
			return ['authored', 'approved'];
		default:
			return [];
	}
}

async function load(
	database: Queryable,
	recordId: string,
	options?: { lock?: boolean }
): Promise<SignableVersion | null> {
	if (!/^\d{1,9}$/.test(recordId)) return null;
	const query = database.db
		.select({ r: changeRequest, siteId: line.siteId })
		.from(changeRequest)
		.leftJoin(line, eq(line.id, changeRequest.lineId))
		.where(eq(changeRequest.id, Number(recordId)));
	// Locking the row keeps an edit from slipping in between hashing and signing.
	const [row] = options?.lock ? await query.for('update', { of: changeRequest }) : await query;
	if (!row) return null;
	const r = row.r;
	return {
		recordType: CHANGE_RECORD,
		recordId: String(r.id),
		version: r.revision,
		content: changeContent(r),
		summary: `${r.code} ${r.title} (${r.kind}, ${r.status})`,
		// Every request has a line (set at creation from its subject); 0 never matches a grant.
		scope: { lineId: r.lineId ?? 0, siteId: row.siteId ?? 0 },
		meanings: changeMeanings(r.status),
		dualSignature: true
	};
}

/**
 * The `approved` signature completed the pair (signRecord checked: a valid `authored` signature
 * of this revision by somebody else). In the same transaction the request becomes approved with
 * the effective date the approver chose (set on the request just before signing; a date that
 * passed meanwhile, or none, means now), so signature and approval commit together or not at all.
 */
async function onApproved(tx: TxContext, record: SignableVersion, actor: Actor): Promise<void> {
	const [row] = await tx.db
		.select()
		.from(changeRequest)
		.where(eq(changeRequest.id, Number(record.recordId)))
		.for('update');
	if (!row || row.status !== 'review') {
		throw new ChangeError('stale', 'The request changed meanwhile; reload and retry.');
	}
	// The `authored` signature must be the author's own (signRecord only knows "someone else").
	const [authored] = await tx.db
		.select({ id: signature.id })
		.from(signature)
		.where(
			and(
				eq(signature.recordType, CHANGE_RECORD),
				eq(signature.recordId, record.recordId),
				eq(signature.recordVersion, row.revision),
				eq(signature.contentSha256, contentSha256(changeContent(row))),
				eq(signature.meaning, 'authored'),
				eq(signature.signerUserId, row.authorId)
			)
		)
		.limit(1);
	if (!authored) {
		throw new ChangeError(
			'not-signed',
			'The author has not signed this revision yet: approval needs the author’s signature first.'
		);
	}
	const [after] = await tx.db
		.update(changeRequest)
		.set({
			status: 'approved',
			approvedAt: sql`clock_timestamp()`,
			approverId: actor.userId,
			effectiveFrom: sql`greatest(coalesce(${changeRequest.effectiveFrom}, clock_timestamp()), clock_timestamp())`,
			updatedAt: sql`now()`
		})
		.where(eq(changeRequest.id, row.id))
		.returning();
	await appendAudit(tx, {
		actor,
		action: 'state',
		entityType: CHANGE_RECORD,
		entityId: row.id,
		oldValues: { status: 'review' },
		newValues: {
			status: 'approved',
			event: 'approve',
			effectiveFrom: after.effectiveFrom!.toISOString(),
			approverId: actor.userId
		},
		reason: 'authored and approved by two different people'
	});
}

export const changeSignable: SignableAdapter = { recordType: CHANGE_RECORD, load, onApproved };

/**
 * Demo history only: the signatures its change requests carry, as the workflow would have made
 * them — `authored` by the author when the request went to review, `approved` by the approver at
 * approval — bound to the request as stored (revision and content hash), so the pages show them
 * valid. Requests that already carry a signature, or have audit events of their own (made or
 * moved through the app), are left alone: safe at every start. Real requests are signed only
 * through signRecord, with re-authentication.
 */
export async function signChangeRequestsForDemo(
	database: Queryable,
	sessionId: string
): Promise<number> {
	const rows = await database.db
		.select()
		.from(changeRequest)
		.where(
			// Seeded rows only: a request made or moved through the app has audit events of its own
			// and is signed by people, never here.
			sql`${changeRequest.reviewAt} IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM signature s WHERE s.record_type = ${CHANGE_RECORD}
				  AND s.record_id = ${changeRequest.id}::text)
				AND NOT EXISTS (SELECT 1 FROM audit_event a WHERE a.entity_type = ${CHANGE_RECORD}
				  AND a.entity_id = ${changeRequest.id}::text)`
		);
	if (rows.length === 0) return 0;
	const people = new Map(
		(
			await database.query<{ id: number; full_name: string; username: string }>(
				`SELECT id, full_name, username FROM app_user`
			)
		).map((u) => [u.id, u])
	);
	const signatures: DemoSignature[] = [];
	const add = (r: ChangeRow, meaning: SignatureMeaning, userId: number, at: Date) => {
		const u = people.get(userId);
		if (!u) return;
		signatures.push({
			recordType: CHANGE_RECORD,
			recordId: String(r.id),
			recordVersion: r.revision,
			contentSha256: contentSha256(changeContent(r)),
			signerUserId: userId,
			signerFullName: u.full_name,
			signerUsername: u.username,
			meaning,
			signedAt: at
		});
	};
	for (const r of rows) {
		// Signed as author just before review (the author signs in review, before the approver).
		add(r, 'authored', r.authorId, r.reviewAt!);
		if (r.approvedAt && r.approverId !== null) add(r, 'approved', r.approverId, r.approvedAt);
	}
	return insertDemoSignatures(database, sessionId, signatures);
}
