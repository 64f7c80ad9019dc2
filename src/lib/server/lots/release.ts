/**
 * Lot release: a QA reviewer (`lot:release` on the lot's line) reviews a completed lot's record
 * by exception and releases or rejects it with an electronic signature.
 *
 *   completed ──start review──▶ in_review ──release (signed, no open exception)──▶ released
 *                                        └──reject  (signed, with a reason)──────▶ rejected
 *
 * - Starting the review records `review_started_at` (revision + 1). A decision on a lot still
 *   `completed` starts the review first, in the same transaction (two audit events).
 * - Release is refused (`exceptions-open`) while any exception of the record is open
 *   (history.ts lotExceptions says what is open; docs/lot-release.md is the reference);
 *   rejection is allowed with open exceptions and needs a reason.
 * - The decision IS the signature: signRecord re-authenticates the reviewer, then, in its
 *   transaction and under the lot's row lock, this service re-checks status and exceptions,
 *   writes status, decided_at, decided_by and revision + 1, audits the transition, and the
 *   signature (meaning `released` / `rejected`) binds to the lot's content at that new revision
 *   (lots/signing.ts). Either all of it commits or none.
 * - Refusals are closed ProductionError codes: `forbidden`, `not-found`, `invalid`,
 *   `illegal-transition` (not reviewable, already decided), `exceptions-open`,
 *   `signature-refused` (re-authentication or signing right; the details name the signature
 *   code). State refusals are audited on the lot in their own transaction, like a refused run
 *   start; callers count every refusal in /metrics (countRefusal).
 *
 * Release time (the KPI boards): completed_at → decided_at of released lots.
 */
import { eq } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/append';
import { can } from '../auth/policy';
import type { Database, TxContext } from '../db';
import { epochMs } from '../db/raw';
import { lot } from '../db/schema';
import type { LotStatus } from '../db/schema/production';
import { actorOf, type Person } from '../production/access';
import { ProductionError } from '../production/errors';
import { LOT_ENTITY } from '../production/lots';
import {
	SIGNATURE_ERROR_TEXT,
	SignatureError,
	signRecord,
	type SignedSignature
} from '../records/signatures';
import { loadLotExceptions, type LotException } from './history';
import { LOT_RECORD_TYPE, loadLotSignable } from './signing';

export type LotDecision = 'released' | 'rejected';

/** Longest reason or comment kept with a decision. */
export const MAX_REASON = 1000;

const STATUS_WORDS: Record<LotStatus, string> = {
	planned: 'planned',
	running: 'running',
	completed: 'completed',
	in_review: 'in review',
	released: 'released',
	rejected: 'rejected'
};

interface ReviewLot {
	id: number;
	code: string;
	status: LotStatus;
	lineId: number;
	siteId: number;
	revision: number;
	completedAt: number | null;
	reviewStartedAt: number | null;
	decidedAt: number | null;
	decidedBy: string | null;
}

async function readLot(
	db: Database | TxContext,
	id: number,
	lock = false
): Promise<ReviewLot | null> {
	if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) return null;
	const rows = await db.query<ReviewLot>(
		`SELECT l.id, l.code, l.status, l.line_id AS "lineId", ln.site_id AS "siteId", l.revision,
		        ${epochMs('l.completed_at')} AS "completedAt",
		        ${epochMs('l.review_started_at')} AS "reviewStartedAt",
		        ${epochMs('l.decided_at')} AS "decidedAt", u.full_name AS "decidedBy"
		 FROM lot l JOIN line ln ON ln.id = l.line_id LEFT JOIN app_user u ON u.id = l.decided_by
		 WHERE l.id = $1${lock ? ' FOR UPDATE OF l' : ''}`,
		[id]
	);
	return rows[0] ?? null;
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The sentence for a lot that is not (or no longer) open for a release decision. */
function notReviewable(l: ReviewLot): ProductionError {
	if (l.status === 'released' || l.status === 'rejected') {
		const by = l.decidedBy ? ` by ${l.decidedBy}` : '';
		const at = l.decidedAt !== null ? ` on ${utc(l.decidedAt)}` : '';
		return new ProductionError(
			'illegal-transition',
			`Lot ${l.code} was already ${l.status}${by}${at}: a decision cannot be made twice.`,
			{ details: { status: l.status } }
		);
	}
	return new ProductionError(
		'illegal-transition',
		`Lot ${l.code} is ${STATUS_WORDS[l.status]}: only a completed lot can be reviewed for release.`,
		{ details: { status: l.status } }
	);
}

/**
 * The lot behind `id` for `person`, who must hold `lot:release` on its line. A lot on a line
 * the person cannot release answers `forbidden` only when they may see lots there at all,
 * `not-found` otherwise (nothing revealed about other lines).
 */
async function reviewableLot(
	db: Database | TxContext,
	person: Person,
	id: number,
	lock = false
): Promise<ReviewLot> {
	if (!can(person, 'lot:release')) {
		throw new ProductionError('forbidden', 'You may not release or reject lots.');
	}
	const l = await readLot(db, id, lock);
	if (!l) throw new ProductionError('not-found', 'No such lot.');
	const scope = { lineId: l.lineId, siteId: l.siteId };
	if (!can(person, 'lot:release', scope)) {
		if (!can(person, 'lot:view', scope)) throw new ProductionError('not-found', 'No such lot.');
		throw new ProductionError('forbidden', 'You may not release or reject lots on this line.');
	}
	return l;
}

/** completed → in_review inside `tx` (the lot row already locked). */
async function markInReview(tx: TxContext, l: ReviewLot, actor: Actor, now: Date): Promise<void> {
	const changes = { status: 'in_review' as const, reviewStartedAt: now, revision: l.revision + 1 };
	await tx.db.update(lot).set(changes).where(eq(lot.id, l.id));
	await appendAudit(tx, {
		actor,
		action: 'state',
		entityType: LOT_ENTITY,
		entityId: l.id,
		oldValues: { status: l.status, revision: l.revision },
		newValues: { ...changes, reviewStartedAt: now.toISOString() },
		reason: 'QA review started'
	});
	l.status = 'in_review';
	l.revision += 1;
	l.reviewStartedAt = now.getTime();
}

/** Audit a refused decision or review start on the lot, in its own transaction. */
async function auditRefusal(
	database: Database,
	person: Person,
	lotId: number,
	what: 'review' | LotDecision,
	e: ProductionError
): Promise<void> {
	await database.transaction(async (tx) => {
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'state',
			entityType: LOT_ENTITY,
			entityId: lotId,
			newValues: {
				[what === 'review' ? 'reviewStart' : 'decision']: 'refused',
				to: what,
				code: e.code,
				...e.details
			},
			reason: e.message
		});
	});
}

const AUDITED_REFUSALS = new Set(['illegal-transition', 'exceptions-open']);

async function withRefusalAudit<T>(
	database: Database,
	person: Person,
	lotId: number,
	what: 'review' | LotDecision,
	fn: () => Promise<T>
): Promise<T> {
	try {
		return await fn();
	} catch (e) {
		if (e instanceof ProductionError && AUDITED_REFUSALS.has(e.code)) {
			await auditRefusal(database, person, lotId, what, e);
		}
		throw e;
	}
}

/** completed → in_review: a reviewer takes the lot's record up (review_started_at). */
export async function startLotReview(
	database: Database,
	person: Person,
	input: { id: number; now?: Date }
): Promise<{ revision: number }> {
	return withRefusalAudit(database, person, input.id, 'review', () =>
		database.transaction(async (tx) => {
			const l = await reviewableLot(tx, person, input.id, true);
			if (l.status !== 'completed') {
				if (l.status === 'in_review') {
					throw new ProductionError(
						'illegal-transition',
						`Lot ${l.code} is already in review (since ${utc(l.reviewStartedAt as number)}).`
					);
				}
				throw notReviewable(l);
			}
			await markInReview(tx, l, actorOf(person), input.now ?? new Date());
			return { revision: l.revision };
		})
	);
}

export interface DecideLotInput {
	id: number;
	decision: LotDecision;
	/** Re-authentication (signRecord): the user ID at the first signing of the session. */
	username?: string | null;
	password: string;
	/** Why (required to reject; optional comment on release). */
	reason?: string | null;
	/** The lot revision the reviewer was shown; a different one refuses (`version-changed`). */
	expectedRevision?: number;
	now?: Date;
}

export interface DecideLotResult {
	status: LotDecision;
	revision: number;
	decidedAt: Date;
	/** completed_at → decided_at. */
	releaseTimeMs: number | null;
	signature: SignedSignature;
}

function openExceptionsError(code: string, open: LotException[]): ProductionError {
	const list = open.slice(0, 5).map((e) => e.text);
	const more = open.length > 5 ? `; and ${open.length - 5} more` : '';
	return new ProductionError(
		'exceptions-open',
		`Lot ${code} cannot be released: ${open.length} open exception${open.length === 1 ? '' : 's'} (${list.join('; ')}${more}). Resolve them, or reject the lot.`,
		{ details: { openExceptions: open.map((e) => ({ kind: e.kind, ref: e.ref })) } }
	);
}

/** Maps a refused signature to the production refusal the pages and the API answer. */
async function signatureRefusal(
	database: Database,
	e: SignatureError,
	lotId: number
): Promise<ProductionError> {
	if (e.code === 'version-changed' || e.code === 'meaning-not-allowed') {
		// Someone else decided or changed the lot meanwhile: say what it is now.
		const l = await readLot(database, lotId);
		if (l && l.status !== 'completed' && l.status !== 'in_review') return notReviewable(l);
		if (e.code === 'version-changed') {
			return new ProductionError('illegal-transition', SIGNATURE_ERROR_TEXT['version-changed'], {
				details: { signature: e.code }
			});
		}
	}
	if (e.code === 'record-not-found') return new ProductionError('not-found', 'No such lot.');
	return new ProductionError('signature-refused', e.message, { details: { signature: e.code } });
}

/**
 * Release or reject a lot with the reviewer's electronic signature (see the module comment).
 */
export async function decideLot(
	database: Database,
	person: Person,
	input: DecideLotInput,
	options: { lockoutThreshold: number }
): Promise<DecideLotResult> {
	const { decision } = input;
	const reason = input.reason?.trim() ?? '';
	if (decision !== 'released' && decision !== 'rejected') {
		throw new ProductionError('invalid', 'Choose release or rejection.', { field: 'decision' });
	}
	if (reason.length > MAX_REASON) {
		throw new ProductionError('invalid', `Keep the reason under ${MAX_REASON} characters.`, {
			field: 'reason'
		});
	}
	if (decision === 'rejected' && reason.length < 3) {
		throw new ProductionError('invalid', 'Say why the lot is rejected.', { field: 'reason' });
	}
	const now = input.now ?? new Date();
	return withRefusalAudit(database, person, input.id, decision, async () => {
		// Before asking for the password: the checks that do not need the lock, so a lot that
		// cannot be decided never costs the reviewer a re-authentication (or a failed attempt).
		const before = await reviewableLot(database, person, input.id);
		if (before.status !== 'completed' && before.status !== 'in_review') {
			throw notReviewable(before);
		}
		if (decision === 'released') {
			const open = (await loadLotExceptions(database, before.id, now)).filter((e) => e.open);
			if (open.length > 0) throw openExceptionsError(before.code, open);
		}

		let decided: { revision: number; decidedAt: Date; completedAt: number | null } | null = null;
		let signature: SignedSignature;
		try {
			signature = await signRecord(
				database,
				{
					principal: person,
					recordType: LOT_RECORD_TYPE,
					recordId: String(input.id),
					meaning: decision,
					username: input.username,
					password: input.password,
					reason: reason || null,
					expectedVersion: input.expectedRevision,
					transition: async (tx, _record, actor) => {
						// The row is locked (the adapter's load); read it again under the lock.
						const l = await reviewableLot(tx, person, input.id, true);
						if (l.status !== 'completed' && l.status !== 'in_review') throw notReviewable(l);
						const exceptions = await loadLotExceptions(tx, l.id, now);
						const open = exceptions.filter((e) => e.open);
						if (decision === 'released' && open.length > 0) {
							throw openExceptionsError(l.code, open);
						}
						if (l.status === 'completed') await markInReview(tx, l, actor, now);
						const changes = {
							status: decision,
							decidedAt: now,
							decidedBy: person.userId,
							revision: l.revision + 1
						};
						await tx.db.update(lot).set(changes).where(eq(lot.id, l.id));
						const releaseTimeMs = l.completedAt === null ? null : now.getTime() - l.completedAt;
						await appendAudit(tx, {
							actor,
							action: 'state',
							entityType: LOT_ENTITY,
							entityId: l.id,
							oldValues: { status: l.status, revision: l.revision },
							newValues: {
								...changes,
								decidedAt: now.toISOString(),
								releaseTimeMs,
								exceptions: {
									total: exceptions.length,
									open: open.map((e) => ({ kind: e.kind, ref: e.ref }))
								}
							},
							reason:
								reason ||
								(decision === 'released'
									? `released by QA review, ${exceptions.length} exception${exceptions.length === 1 ? '' : 's'} resolved`
									: null)
						});
						decided = { revision: changes.revision, decidedAt: now, completedAt: l.completedAt };
						const after = await loadLotSignable(tx, l.id);
						if (!after) throw new ProductionError('not-found', 'No such lot.');
						return after;
					}
				},
				options
			);
		} catch (e) {
			if (e instanceof SignatureError) throw await signatureRefusal(database, e, input.id);
			throw e;
		}
		const d = decided as { revision: number; decidedAt: Date; completedAt: number | null } | null;
		if (!d) throw new Error('lot decision: the signature committed without its transition');
		return {
			status: decision,
			revision: d.revision,
			decidedAt: d.decidedAt,
			releaseTimeMs: d.completedAt === null ? null : d.decidedAt.getTime() - d.completedAt,
			signature
		};
	});
}

/* ---------------------------------------------------------------------------------------- */
/* The review queue                                                                          */
/* ---------------------------------------------------------------------------------------- */

/** Most lots the queue lists (oldest first); the rest wait below the fold of a day's work. */
export const QUEUE_LIMIT = 200;

export interface ReviewQueueItem {
	id: number;
	code: string;
	status: 'completed' | 'in_review';
	revision: number;
	product: { code: string; name: string };
	customer: string;
	line: { id: number; code: string };
	goodQty: number;
	plannedQty: number;
	completedAt: Date;
	reviewStartedAt: Date | null;
	/** now − completed_at: how long the lot has waited for its release decision. */
	waitingMs: number;
	exceptions: { open: number; resolved: number; openKinds: string[] };
}

/**
 * Completed and in-review lots on the lines `person` may release, oldest completion first, each
 * with its exception counts. Bounded (QUEUE_LIMIT); exceptions read per lot with
 * loadLotExceptions (five indexed statements each).
 */
export async function reviewQueue(
	database: Database,
	person: Person,
	now: Date = new Date()
): Promise<{ items: ReviewQueueItem[]; truncated: boolean }> {
	if (!can(person, 'lot:release')) return { items: [], truncated: false };
	const rows = await database.query<{
		id: number;
		code: string;
		status: 'completed' | 'in_review';
		revision: number;
		product_code: string;
		product_name: string;
		customer: string;
		line_id: number;
		line_code: string;
		site_id: number;
		good_qty: number;
		planned_qty: number;
		completed_at: number;
		review_started_at: number | null;
	}>(
		`SELECT l.id, l.code, l.status, l.revision, p.code AS product_code, p.name AS product_name,
		        c.name AS customer, ln.id AS line_id, ln.code AS line_code, ln.site_id,
		        l.good_qty, l.planned_qty, ${epochMs('l.completed_at')} AS completed_at,
		        ${epochMs('l.review_started_at')} AS review_started_at
		 FROM lot l
		 JOIN product p ON p.id = l.product_id
		 JOIN customer c ON c.id = p.customer_id
		 JOIN line ln ON ln.id = l.line_id
		 WHERE l.status IN ('completed', 'in_review')
		 ORDER BY l.completed_at NULLS FIRST, l.id`
	);
	const mine = rows.filter((r) =>
		can(person, 'lot:release', { lineId: r.line_id, siteId: r.site_id })
	);
	const page = mine.slice(0, QUEUE_LIMIT);
	const items: ReviewQueueItem[] = [];
	// A few lots at a time: each reads five statements, and PGlite serves one at a time anyway.
	for (let i = 0; i < page.length; i += 8) {
		const chunk = page.slice(i, i + 8);
		const exceptions = await Promise.all(chunk.map((r) => loadLotExceptions(database, r.id, now)));
		chunk.forEach((r, k) => {
			const list = exceptions[k];
			const open = list.filter((e) => e.open);
			const completedAt = new Date(r.completed_at ?? now.getTime());
			items.push({
				id: r.id,
				code: r.code,
				status: r.status,
				revision: r.revision,
				product: { code: r.product_code, name: r.product_name },
				customer: r.customer,
				line: { id: r.line_id, code: r.line_code },
				goodQty: r.good_qty,
				plannedQty: r.planned_qty,
				completedAt,
				reviewStartedAt: r.review_started_at === null ? null : new Date(r.review_started_at),
				waitingMs: Math.max(0, now.getTime() - completedAt.getTime()),
				exceptions: {
					open: open.length,
					resolved: list.length - open.length,
					openKinds: [...new Set(open.map((e) => e.kind))]
				}
			});
		});
	}
	return { items, truncated: mine.length > page.length };
}

/** May `person` review this lot for release (the lot page's link)? */
export function canReleaseOn(person: Person, scope: { lineId: number; siteId: number }): boolean {
	return can(person, 'lot:release', scope);
}

/** The reason recorded with a lot's decision (the audit event of the transition), if any. */
export async function decisionReason(database: Database, lotId: number): Promise<string | null> {
	const rows = await database.query<{ reason: string | null }>(
		`SELECT reason FROM audit_event
		 WHERE entity_type = $1 AND entity_id = $2 AND action = 'state'
		   AND new_values->>'status' IN ('released', 'rejected')
		 ORDER BY id DESC LIMIT 1`,
		[LOT_ENTITY, String(lotId)]
	);
	return rows[0]?.reason ?? null;
}
