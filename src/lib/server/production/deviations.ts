/**
 * Deviations and their CAPA workflow (src/lib/deviations/workflow.ts is the state machine).
 *
 * A deviation is opened from a lot, an alarm or an inspection (prefilled with that context), or
 * by hand on a line; it is contained, investigated (root cause), gets corrective and preventive
 * actions with owners and due dates, an effectiveness check, and is closed by an electronic
 * signature (meaning "approved") bound to its revision. Every change raises the revision and is
 * audited in its own transaction; an illegal transition is refused with a sentence saying what
 * to do, audited on the deviation (its trail shows attempts too) and counted by the caller in
 * /metrics like other production refusals.
 *
 * Coverage (lots.ts): a deviation linked to a lot covers that lot's overdue and missed
 * inspections; one linked to an inspection (directly, or through the missed-inspection alarm it
 * was opened from) covers that inspection. Covered inspections become `waived` when the lot
 * completes. Coverage does not depend on the workflow status: a closed deviation still records
 * the departure it was opened for. "Open" for lot release means status <> 'closed'.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import {
	decide,
	overdueItems,
	possibleEvents,
	agingDays,
	type DeviationEvent,
	type DeviationFacts,
	type DeviationState,
	type EventInput,
	type Severity
} from '$lib/deviations/workflow';
import { formatUnit, formatValue, ruleLabel } from '$lib/ui/format';
import type { LiveAlarm } from '$lib/realtime/events';
import { appendAudit, type Actor } from '../audit/append';
import { can } from '../auth/policy';
import type { Database, TxContext } from '../db';
import { epochMs, type RawQuery } from '../db/raw';
import { alarm, appUser, capa, deviation, inspection, line, lot } from '../db/schema';
import type { CapaKind } from '../db/schema/production';
import type { SignableAdapter, SignableVersion } from '../records/signatures';
import { signRecord } from '../records/signatures';
import { actorOf, ensureCan, type Person } from './access';
import { ProductionError } from './errors';

export const DEVIATION_ENTITY = 'deviation';
/** Record type of closure signatures (src/lib/server/records/signatures.ts). */
export const DEVIATION_RECORD = 'deviation';

const DAY_MS = 86_400_000;

type DeviationRow = typeof deviation.$inferSelect;
type DeviationSet = Partial<typeof deviation.$inferInsert>;

/* ---------------------------------------------------------------------------------------- */
/* Opening                                                                                   */
/* ---------------------------------------------------------------------------------------- */

export interface OpenDeviationInput {
	title: string;
	description: string;
	lotId?: number | null;
	alarmId?: number | null;
	inspectionId?: number | null;
	/** Required when nothing above names the line. */
	lineId?: number | null;
	severity?: Severity;
	ownerId?: number | null;
	/** When the whole deviation should be closed. */
	dueAt?: Date | null;
	now?: Date;
}

async function checkOwner(tx: TxContext, ownerId: number, field: string): Promise<string> {
	const [u] = await tx.db
		.select({
			fullName: appUser.fullName,
			disabledAt: appUser.disabledAt,
			customerId: appUser.customerId
		})
		.from(appUser)
		.where(eq(appUser.id, ownerId));
	if (!u || u.disabledAt || u.customerId !== null) {
		throw new ProductionError('invalid', 'Choose an owner among the active staff.', { field });
	}
	return u.fullName;
}

export async function openDeviation(
	database: Database,
	person: Person,
	input: OpenDeviationInput
): Promise<{ id: number; code: string }> {
	ensureCan(person, 'deviation:open');
	const title = input.title.trim();
	const description = input.description.trim();
	if (title.length < 3)
		throw new ProductionError('invalid', 'Give the deviation a title.', { field: 'title' });
	if (description.length < 3) {
		throw new ProductionError('invalid', 'Describe what departed from the process or plan.', {
			field: 'description'
		});
	}
	if (!input.lotId && !input.alarmId && !input.inspectionId && !input.lineId) {
		throw new ProductionError(
			'invalid',
			'Link the deviation to a lot, an alarm or an inspection, or choose the line where it happened.',
			{ field: 'lineId' }
		);
	}
	const now = input.now ?? new Date();
	if (input.dueAt && input.dueAt.getTime() <= now.getTime()) {
		throw new ProductionError('invalid', 'The due date must be in the future.', { field: 'dueAt' });
	}
	return database.transaction(async (tx) => {
		let lotId = input.lotId ?? null;
		let lineId: number | null = null;
		if (input.inspectionId) {
			const [i] = await tx.db
				.select({ lotId: inspection.lotId })
				.from(inspection)
				.where(eq(inspection.id, input.inspectionId));
			if (!i) throw new ProductionError('not-found', 'No such inspection.');
			if (lotId !== null && lotId !== i.lotId) {
				throw new ProductionError('invalid', 'The inspection belongs to another lot.');
			}
			lotId = i.lotId;
		}
		if (lotId !== null) {
			const [l] = await tx.db
				.select({ id: lot.id, lineId: lot.lineId })
				.from(lot)
				.where(eq(lot.id, lotId));
			if (!l) throw new ProductionError('not-found', 'No such lot.');
			lineId = l.lineId;
		}
		if (input.alarmId) {
			const [a] = await tx.db
				.select({ id: alarm.id, lineId: alarm.lineId })
				.from(alarm)
				.where(eq(alarm.id, input.alarmId));
			if (!a) throw new ProductionError('not-found', 'No such alarm.');
			lineId ??= a.lineId;
		}
		if (input.lineId) {
			const [l] = await tx.db.select({ id: line.id }).from(line).where(eq(line.id, input.lineId));
			if (!l) throw new ProductionError('invalid', 'No such line.', { field: 'lineId' });
			if (lineId !== null && lineId !== input.lineId) {
				throw new ProductionError('invalid', 'The lot or alarm is on another line.', {
					field: 'lineId'
				});
			}
			lineId = input.lineId;
		}
		if (input.ownerId) await checkOwner(tx, input.ownerId, 'ownerId');
		const [{ id }] = await tx.query<{ id: number }>(
			`SELECT nextval(pg_get_serial_sequence('deviation', 'id'))::float8 AS id`
		);
		const code = `DEV-${now.getUTCFullYear()}-${String(id).padStart(5, '0')}`;
		const values = {
			id,
			code,
			title,
			description,
			lotId,
			alarmId: input.alarmId ?? null,
			inspectionId: input.inspectionId ?? null,
			lineId,
			severity: input.severity ?? ('minor' as const),
			ownerId: input.ownerId ?? null,
			dueAt: input.dueAt ?? null,
			status: 'open' as const,
			revision: 1,
			openedBy: person.userId,
			openedAt: now,
			updatedAt: now
		};
		await tx.db.insert(deviation).values(values);
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'create',
			entityType: DEVIATION_ENTITY,
			entityId: id,
			newValues: values
		});
		return { id, code };
	});
}

/* ---------------------------------------------------------------------------------------- */
/* Transitions                                                                               */
/* ---------------------------------------------------------------------------------------- */

/** A refusal decided inside a step's transaction: audited, committed, then thrown. */
class StepRefusal extends Error {}

async function factsOf(tx: TxContext, row: DeviationRow): Promise<DeviationFacts> {
	const counts = await tx.db
		.select({ status: capa.status, n: sql<number>`count(*)::int` })
		.from(capa)
		.where(eq(capa.deviationId, row.id))
		.groupBy(capa.status);
	const n = (s: string) => Number(counts.find((c) => c.status === s)?.n ?? 0);
	return {
		status: row.status,
		severity: row.severity,
		openCapa: n('open'),
		doneCapa: n('done'),
		effective: row.effective,
		effectivenessRecorded: row.effectivenessResult !== null
	};
}

interface StepChange {
	set: DeviationSet;
	old: Record<string, unknown>;
	new: Record<string, unknown>;
	reason?: string | null;
}

interface StepSpec {
	id: number;
	event: DeviationEvent;
	/** The revision the person saw; another one refuses (someone changed it meanwhile). */
	expectedRevision?: number;
	input?: EventInput;
	now?: Date;
	/** The change itself, in the transaction, once the state machine allowed the event. */
	apply(tx: TxContext, row: DeviationRow, to: DeviationState, now: Date): Promise<StepChange>;
}

async function auditRefusal(
	tx: TxContext,
	person: Person,
	row: DeviationRow,
	event: DeviationEvent,
	message: string
): Promise<ProductionError> {
	await appendAudit(tx, {
		actor: actorOf(person),
		action: 'state',
		entityType: DEVIATION_ENTITY,
		entityId: row.id,
		oldValues: { status: row.status, revision: row.revision },
		newValues: { refused: event, code: 'illegal-transition' },
		reason: message
	});
	return new ProductionError('illegal-transition', message, { details: { event } });
}

async function lockDeviation(tx: TxContext, id: number): Promise<DeviationRow> {
	const [row] = await tx.db.select().from(deviation).where(eq(deviation.id, id)).for('update');
	if (!row) throw new ProductionError('not-found', 'No such deviation.');
	return row;
}

function staleMessage(row: DeviationRow): string {
	return `${row.code} changed since you opened it (now revision ${row.revision}): reload it and try again.`;
}

/** One audited step of the workflow. Throws ProductionError on refusal. */
async function step(
	database: Database,
	person: Person,
	spec: StepSpec
): Promise<{ revision: number; status: DeviationState }> {
	const outcome = await database.transaction(async (tx) => {
		const row = await lockDeviation(tx, spec.id);
		if (spec.expectedRevision !== undefined && spec.expectedRevision !== row.revision) {
			return auditRefusal(tx, person, row, spec.event, staleMessage(row));
		}
		const decision = decide(await factsOf(tx, row), spec.event, spec.input);
		if (!decision.ok) return auditRefusal(tx, person, row, spec.event, decision.message);
		const now = spec.now ?? new Date();
		let change: StepChange;
		try {
			change = await spec.apply(tx, row, decision.to, now);
		} catch (e) {
			if (e instanceof StepRefusal) return auditRefusal(tx, person, row, spec.event, e.message);
			throw e;
		}
		const revision = row.revision + 1;
		await tx.db
			.update(deviation)
			.set({ ...change.set, status: decision.to, revision, updatedAt: now })
			.where(eq(deviation.id, row.id));
		await appendAudit(tx, {
			actor: actorOf(person),
			action: decision.to !== row.status ? 'state' : 'update',
			entityType: DEVIATION_ENTITY,
			entityId: row.id,
			oldValues: { status: row.status, revision: row.revision, ...change.old },
			newValues: { event: spec.event, status: decision.to, revision, ...change.new },
			reason: change.reason ?? null
		});
		return { revision, status: decision.to };
	});
	if (outcome instanceof ProductionError) throw outcome;
	return outcome;
}

function ensureManage(person: Person, what: string): void {
	if (!can(person, 'deviation:manage')) {
		throw new ProductionError(
			'forbidden',
			`You may not ${what}: it needs the deviation management right (quality engineer, QA reviewer or manager).`
		);
	}
}

function text(value: string, min: number, field: string, message: string): string {
	const t = value.trim();
	if (t.length < min) throw new ProductionError('invalid', message, { field });
	return t;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export interface EditDeviationInput {
	id: number;
	expectedRevision?: number;
	title: string;
	description: string;
	severity: Severity;
	ownerId: number | null;
	dueAt: Date | null;
	reason: string;
	now?: Date;
}

/** Title, description, severity, owner, due date: any state but closed; audited with reason. */
export async function editDeviation(database: Database, person: Person, input: EditDeviationInput) {
	ensureManage(person, 'edit deviations');
	const title = text(input.title, 3, 'title', 'Give the deviation a title.');
	const description = text(input.description, 3, 'description', 'Describe the deviation.');
	const reason = text(input.reason, 3, 'reason', 'Say why it is changed.');
	return step(database, person, {
		id: input.id,
		event: 'edit',
		expectedRevision: input.expectedRevision,
		now: input.now,
		async apply(tx, row) {
			if (input.ownerId !== null && input.ownerId !== row.ownerId) {
				await checkOwner(tx, input.ownerId, 'ownerId');
			}
			const next = {
				title,
				description,
				severity: input.severity,
				ownerId: input.ownerId,
				dueAt: input.dueAt
			};
			const old: Record<string, unknown> = {};
			const changed: Record<string, unknown> = {};
			for (const key of Object.keys(next) as (keyof typeof next)[]) {
				const before = row[key] instanceof Date ? iso(row[key] as Date) : row[key];
				const after = next[key] instanceof Date ? iso(next[key] as Date) : next[key];
				if (before !== after) {
					old[key] = before;
					changed[key] = after;
				}
			}
			if (Object.keys(changed).length === 0) throw new StepRefusal('Nothing was changed.');
			return { set: next, old, new: changed, reason };
		}
	});
}

/** Containment: what was done at once to protect product and customer (shift leads too). */
export async function containDeviation(
	database: Database,
	person: Person,
	input: { id: number; expectedRevision?: number; containment: string; now?: Date }
) {
	ensureCan(person, 'deviation:open');
	const containment = text(
		input.containment,
		5,
		'containment',
		'Describe the containment: what was isolated, stopped or checked.'
	);
	return step(database, person, {
		id: input.id,
		event: 'contain',
		expectedRevision: input.expectedRevision,
		now: input.now,
		async apply(_tx, _row, _to, now) {
			return {
				set: { containment, containedAt: now, containedBy: person.userId },
				old: {},
				new: { containment, containedAt: iso(now) }
			};
		}
	});
}

/** Root cause, from the investigation. */
export async function investigateDeviation(
	database: Database,
	person: Person,
	input: { id: number; expectedRevision?: number; rootCause: string; now?: Date }
) {
	ensureManage(person, 'record root causes');
	const rootCause = text(input.rootCause, 5, 'rootCause', 'Describe the root cause found.');
	return step(database, person, {
		id: input.id,
		event: 'investigate',
		expectedRevision: input.expectedRevision,
		now: input.now,
		async apply(_tx, _row, _to, now) {
			return {
				set: { rootCause, investigatedAt: now, investigatedBy: person.userId },
				old: {},
				new: { rootCause, investigatedAt: iso(now) }
			};
		}
	});
}

export interface AddCapaInput {
	deviationId: number;
	expectedRevision?: number;
	kind: CapaKind;
	description: string;
	ownerId: number;
	dueAt: Date;
	now?: Date;
}

/** A corrective or preventive action, owned by a person, due on a date. */
export async function addCapa(
	database: Database,
	person: Person,
	input: AddCapaInput
): Promise<{ revision: number; status: DeviationState; capaId: number; code: string }> {
	ensureManage(person, 'plan CAPA actions');
	const description = text(input.description, 5, 'description', 'Describe the action to take.');
	const now = input.now ?? new Date();
	if (input.dueAt.getTime() <= now.getTime()) {
		throw new ProductionError('invalid', 'The due date of the action must be in the future.', {
			field: 'dueAt'
		});
	}
	let created = { capaId: 0, code: '' };
	const result = await step(database, person, {
		id: input.deviationId,
		event: 'add-capa',
		expectedRevision: input.expectedRevision,
		now,
		async apply(tx, row) {
			const owner = await checkOwner(tx, input.ownerId, 'ownerId');
			const [{ n }] = await tx.db
				.select({ n: sql<number>`count(*)::int` })
				.from(capa)
				.where(eq(capa.deviationId, row.id));
			const code = `${row.code}-A${Number(n) + 1}`;
			const [c] = await tx.db
				.insert(capa)
				.values({
					code,
					deviationId: row.id,
					kind: input.kind,
					description,
					ownerId: input.ownerId,
					dueAt: input.dueAt,
					status: 'open',
					createdBy: person.userId,
					createdAt: now
				})
				.returning({ id: capa.id });
			created = { capaId: c.id, code };
			return {
				set: {},
				old: {},
				new: {
					capa: code,
					capaKind: input.kind,
					capaDescription: description,
					capaOwner: owner,
					capaDueAt: iso(input.dueAt)
				}
			};
		}
	});
	return { ...result, ...created };
}

/** Mark an open CAPA action done (with its outcome) or cancelled (with the reason). */
export async function resolveCapa(
	database: Database,
	person: Person,
	input: {
		capaId: number;
		expectedRevision?: number;
		status: 'done' | 'cancelled';
		outcome: string;
		now?: Date;
	}
) {
	const outcome = text(
		input.outcome,
		3,
		'outcome',
		input.status === 'done' ? 'Say what was done.' : 'Say why the action is cancelled.'
	);
	const [c] = await database.db.select().from(capa).where(eq(capa.id, input.capaId));
	if (!c) throw new ProductionError('not-found', 'No such CAPA action.');
	// The owner completes their own action; the deviation's managers may record any.
	const isOwner = c.ownerId === person.userId && can(person, 'deviation:open');
	if (!isOwner) ensureManage(person, 'complete CAPA actions owned by others');
	return step(database, person, {
		id: c.deviationId,
		event: 'resolve-capa',
		expectedRevision: input.expectedRevision,
		now: input.now,
		async apply(tx, _row, _to, now) {
			const [current] = await tx.db
				.select({ status: capa.status })
				.from(capa)
				.where(eq(capa.id, c.id))
				.for('update');
			if (current.status !== 'open') {
				throw new StepRefusal(`Action ${c.code} is already ${current.status}.`);
			}
			await tx.db
				.update(capa)
				.set({ status: input.status, outcome, doneAt: now, doneBy: person.userId })
				.where(eq(capa.id, c.id));
			return {
				set: {},
				old: { capa: c.code, capaStatus: 'open' },
				new: { capa: c.code, capaStatus: input.status, capaOutcome: outcome },
				reason: input.status === 'cancelled' ? outcome : null
			};
		}
	});
}

/** Every action done or cancelled: the effectiveness check falls due on `effectivenessDueAt`. */
export async function submitForEffectiveness(
	database: Database,
	person: Person,
	input: { id: number; expectedRevision?: number; effectivenessDueAt: Date; now?: Date }
) {
	ensureManage(person, 'send deviations to the effectiveness check');
	const now = input.now ?? new Date();
	if (input.effectivenessDueAt.getTime() <= now.getTime()) {
		throw new ProductionError('invalid', 'The effectiveness check must fall due in the future.', {
			field: 'effectivenessDueAt'
		});
	}
	return step(database, person, {
		id: input.id,
		event: 'submit-effectiveness',
		expectedRevision: input.expectedRevision,
		now,
		async apply() {
			return {
				// A new round: the verdict of an earlier, not effective check is kept in the trail.
				set: {
					effectivenessDueAt: input.effectivenessDueAt,
					effectivenessResult: null,
					effective: null,
					effectivenessCheckedAt: null,
					effectivenessCheckedBy: null
				},
				old: {},
				new: { effectivenessDueAt: iso(input.effectivenessDueAt) }
			};
		}
	});
}

/** The effectiveness check: effective keeps it ready to close; not effective reopens actions. */
export async function recordEffectiveness(
	database: Database,
	person: Person,
	input: { id: number; expectedRevision?: number; result: string; effective: boolean; now?: Date }
) {
	ensureManage(person, 'record effectiveness checks');
	const result = text(input.result, 5, 'result', 'Describe what the effectiveness check found.');
	return step(database, person, {
		id: input.id,
		event: 'record-effectiveness',
		expectedRevision: input.expectedRevision,
		input: { effective: input.effective },
		now: input.now,
		async apply(_tx, _row, _to, now) {
			return {
				set: {
					effectivenessResult: result,
					effective: input.effective,
					effectivenessCheckedAt: now,
					effectivenessCheckedBy: person.userId
				},
				old: {},
				new: { effectivenessResult: result, effective: input.effective },
				reason: input.effective ? null : 'not effective: further actions needed'
			};
		}
	});
}

/* ---------------------------------------------------------------------------------------- */
/* Closure with an electronic signature                                                      */
/* ---------------------------------------------------------------------------------------- */

export interface CloseDeviationInput {
	id: number;
	expectedRevision?: number;
	/** Re-authentication (signRecord): user ID at the first signing of the session. */
	username?: string | null;
	password: string;
	comment?: string | null;
	/** Minor deviations closed after containment without CAPA actions: why that suffices. */
	justification?: string | null;
	now?: Date;
}

/**
 * Close a deviation by signing it. The preconditions are checked first (clear refusal, audited);
 * then signRecord re-authenticates the signer and, in its transaction, the adapter's `onSigned`
 * closes the deviation under the same row lock, so the signature and the closure commit
 * together. Throws ProductionError or SignatureError.
 */
export async function closeDeviation(
	database: Database,
	person: Person,
	input: CloseDeviationInput,
	options: { lockoutThreshold: number }
): Promise<{ signatureId: number; revision: number }> {
	ensureManage(person, 'close deviations');
	let expected = input.expectedRevision;
	const justification = input.justification?.trim() ?? '';
	if (justification !== '') {
		if (justification.length < 10) {
			throw new ProductionError(
				'invalid',
				'Explain in a sentence why containment suffices without CAPA actions.',
				{ field: 'justification' }
			);
		}
		const justified = await step(database, person, {
			id: input.id,
			event: 'justify-closure',
			expectedRevision: expected,
			now: input.now,
			async apply(_tx, _row, _to, now) {
				// Stored as the effectiveness result without a verdict: it replaces the check.
				return {
					set: {
						effectivenessResult: justification,
						effective: null,
						effectivenessCheckedAt: now,
						effectivenessCheckedBy: person.userId
					},
					old: {},
					new: { closureJustification: justification },
					reason: 'minor deviation: containment suffices'
				};
			}
		});
		expected = justified.revision;
	}
	const precheck = await database.transaction(async (tx) => {
		const row = await lockDeviation(tx, input.id);
		if (expected !== undefined && expected !== row.revision) {
			return auditRefusal(tx, person, row, 'close', staleMessage(row));
		}
		const decision = decide(await factsOf(tx, row), 'close');
		if (!decision.ok) return auditRefusal(tx, person, row, 'close', decision.message);
		return row.revision;
	});
	if (precheck instanceof ProductionError) throw precheck;
	const signed = await signRecord(
		database,
		{
			principal: person,
			recordType: DEVIATION_RECORD,
			recordId: String(input.id),
			meaning: 'approved',
			username: input.username,
			password: input.password,
			reason: input.comment ?? 'closure',
			expectedVersion: precheck
		},
		options
	);
	return { signatureId: signed.id, revision: precheck };
}

async function deviationContent(
	db: TxContext | (RawQuery & { db: Database['db'] }),
	row: DeviationRow
): Promise<Record<string, unknown>> {
	const actions = await db.db
		.select()
		.from(capa)
		.where(eq(capa.deviationId, row.id))
		.orderBy(asc(capa.id));
	// What a closure signature vouches for: the record's substance, not its workflow status
	// (closing must not invalidate the signature that closed it).
	return {
		code: row.code,
		title: row.title,
		description: row.description,
		severity: row.severity,
		lineId: row.lineId,
		lotId: row.lotId,
		alarmId: row.alarmId,
		inspectionId: row.inspectionId,
		ownerId: row.ownerId,
		dueAt: iso(row.dueAt),
		containment: row.containment,
		rootCause: row.rootCause,
		effectivenessResult: row.effectivenessResult,
		effective: row.effective,
		capa: actions.map((a) => ({
			code: a.code,
			kind: a.kind,
			description: a.description,
			ownerId: a.ownerId,
			dueAt: iso(a.dueAt),
			status: a.status,
			outcome: a.outcome
		}))
	};
}

/** Deviations as signable records: only the closure ("approved"), only when closable. */
export const deviationSignable: SignableAdapter = {
	recordType: DEVIATION_RECORD,
	async load(database, recordId, options) {
		if (!/^\d{1,9}$/.test(recordId)) return null;
		const query = database.db
			.select()
			.from(deviation)
			.where(eq(deviation.id, Number(recordId)));
		const [row] = options?.lock ? await query.for('update') : await query;
		if (!row) return null;
		const lineId = row.lineId ?? (await lotLine(database, row.lotId));
		const [scope] = lineId
			? await database.db
					.select({ lineId: line.id, siteId: line.siteId })
					.from(line)
					.where(eq(line.id, lineId))
			: [];
		const facts = await factsOf(database as TxContext, row);
		const version: SignableVersion = {
			recordType: DEVIATION_RECORD,
			recordId: String(row.id),
			version: row.revision,
			content: await deviationContent(database as TxContext, row),
			summary: `Closure of ${row.code}: ${row.title}`,
			// No line: a scope no line-scoped grant covers (only plant-wide viewers may sign).
			scope: scope ?? { lineId: 0, siteId: 0 },
			meanings: decide(facts, 'close').ok ? ['approved'] : [],
			dualSignature: false
		};
		return version;
	},
	async onSigned(tx, record, signed, actor: Actor) {
		if (signed.meaning !== 'approved') return;
		const row = await lockDeviation(tx, Number(record.recordId));
		const decision = decide(await factsOf(tx, row), 'close');
		if (!decision.ok) throw new ProductionError('illegal-transition', decision.message);
		await tx.db
			.update(deviation)
			.set({
				status: 'closed',
				closedAt: signed.signedAt,
				closedBy: signed.signerUserId,
				updatedAt: signed.signedAt
			})
			.where(eq(deviation.id, row.id));
		await appendAudit(tx, {
			actor,
			action: 'state',
			entityType: DEVIATION_ENTITY,
			entityId: row.id,
			oldValues: { status: row.status, revision: row.revision },
			newValues: {
				event: 'close',
				status: 'closed',
				revision: row.revision,
				closedAt: signed.signedAt.toISOString()
			},
			reason: 'closed by electronic signature'
		});
	}
};

async function lotLine(
	database: RawQuery & { db: Database['db'] },
	lotId: number | null
): Promise<number | null> {
	if (lotId === null) return null;
	const [l] = await database.db.select({ lineId: lot.lineId }).from(lot).where(eq(lot.id, lotId));
	return l?.lineId ?? null;
}

/* ---------------------------------------------------------------------------------------- */
/* Coverage                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/**
 * The deviation covering an inspection of `lotId`, if any: one on the inspection itself, on a
 * missed-inspection alarm about it, or on the lot. Most specific first. Any status: a deviation
 * records the departure whatever stage its CAPA workflow has reached.
 */
export async function coveringDeviation(
	tx: TxContext,
	lotId: number,
	inspectionId: number
): Promise<{ id: number; code: string } | null> {
	const [row] = await tx.db
		.select({ id: deviation.id, code: deviation.code })
		.from(deviation)
		.leftJoin(alarm, eq(alarm.id, deviation.alarmId))
		.where(
			sql`${deviation.inspectionId} = ${inspectionId} OR ${alarm.inspectionId} = ${inspectionId} OR (${deviation.lotId} = ${lotId} AND ${deviation.inspectionId} IS NULL AND ${deviation.alarmId} IS NULL)`
		)
		.orderBy(
			sql`(${deviation.inspectionId} IS NOT NULL) DESC, (${deviation.alarmId} IS NOT NULL) DESC, ${deviation.id}`
		)
		.limit(1);
	return row ?? null;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading                                                                                   */
/* ---------------------------------------------------------------------------------------- */

type Queryable = RawQuery & { db: Database['db'] };

export interface PersonRef {
	id: number;
	fullName: string;
}

export interface CapaView {
	id: number;
	code: string;
	kind: CapaKind;
	description: string;
	owner: PersonRef;
	dueAt: Date;
	status: 'open' | 'done' | 'cancelled';
	outcome: string | null;
	doneAt: Date | null;
	doneBy: string | null;
	overdue: boolean;
}

export interface DeviationRecord {
	id: number;
	code: string;
	title: string;
	description: string;
	severity: Severity;
	status: DeviationState;
	revision: number;
	line: { id: number; code: string; name: string } | null;
	lot: { id: number; code: string } | null;
	alarm: { id: number; text: string } | null;
	inspection: { id: number; lotId: number; text: string } | null;
	owner: PersonRef | null;
	dueAt: Date | null;
	openedBy: string | null;
	openedAt: Date;
	containment: { text: string; by: string | null; at: Date | null } | null;
	rootCause: { text: string; by: string | null; at: Date | null } | null;
	effectiveness: {
		dueAt: Date | null;
		result: string | null;
		effective: boolean | null;
		by: string | null;
		at: Date | null;
	};
	closedAt: Date | null;
	closedBy: string | null;
	capa: CapaView[];
	facts: DeviationFacts;
	possible: DeviationEvent[];
	agingDays: number;
	overdue: string[];
}

export async function loadDeviation(
	database: Queryable,
	id: number,
	now = new Date()
): Promise<DeviationRecord | null> {
	const [r] = await database.query<{
		id: number;
		code: string;
		title: string;
		description: string;
		severity: Severity;
		status: DeviationState;
		revision: number;
		line_id: number | null;
		line_code: string | null;
		line_name: string | null;
		lot_id: number | null;
		lot_code: string | null;
		alarm_id: number | null;
		alarm_rule: string | null;
		alarm_message: string | null;
		alarm_ts: number | null;
		inspection_id: number | null;
		inspection_lot_id: number | null;
		inspection_text: string | null;
		owner_id: number | null;
		owner_name: string | null;
		due_at: number | null;
		opened_by: string | null;
		opened_at: number;
		containment: string | null;
		contained_by: string | null;
		contained_at: number | null;
		root_cause: string | null;
		investigated_by: string | null;
		investigated_at: number | null;
		effectiveness_due_at: number | null;
		effectiveness_result: string | null;
		effective: boolean | null;
		checked_by: string | null;
		checked_at: number | null;
		closed_by: string | null;
		closed_at: number | null;
	}>(
		`SELECT d.id, d.code, d.title, d.description, d.severity, d.status, d.revision,
		        ln.id AS line_id, ln.code AS line_code, ln.name AS line_name,
		        l.id AS lot_id, l.code AS lot_code,
		        a.id AS alarm_id, a.rule AS alarm_rule, a.message AS alarm_message,
		        ${epochMs('a.ts')} AS alarm_ts,
		        i.id AS inspection_id, i.lot_id AS inspection_lot_id,
		        ip.name || ' #' || i.seq || ' of lot ' || il.code AS inspection_text,
		        ow.id AS owner_id, ow.full_name AS owner_name, ${epochMs('d.due_at')} AS due_at,
		        ob.full_name AS opened_by, ${epochMs('d.opened_at')} AS opened_at,
		        d.containment, cb.full_name AS contained_by, ${epochMs('d.contained_at')} AS contained_at,
		        d.root_cause, ib.full_name AS investigated_by,
		        ${epochMs('d.investigated_at')} AS investigated_at,
		        ${epochMs('d.effectiveness_due_at')} AS effectiveness_due_at,
		        d.effectiveness_result, d.effective, eb.full_name AS checked_by,
		        ${epochMs('d.effectiveness_checked_at')} AS checked_at,
		        xb.full_name AS closed_by, ${epochMs('d.closed_at')} AS closed_at
		 FROM deviation d
		 LEFT JOIN lot l ON l.id = d.lot_id
		 LEFT JOIN line ln ON ln.id = coalesce(d.line_id, l.line_id)
		 LEFT JOIN alarm a ON a.id = d.alarm_id
		 LEFT JOIN inspection i ON i.id = d.inspection_id
		 LEFT JOIN inspection_plan ip ON ip.id = i.plan_id
		 LEFT JOIN lot il ON il.id = i.lot_id
		 LEFT JOIN app_user ow ON ow.id = d.owner_id
		 LEFT JOIN app_user ob ON ob.id = d.opened_by
		 LEFT JOIN app_user cb ON cb.id = d.contained_by
		 LEFT JOIN app_user ib ON ib.id = d.investigated_by
		 LEFT JOIN app_user eb ON eb.id = d.effectiveness_checked_by
		 LEFT JOIN app_user xb ON xb.id = d.closed_by
		 WHERE d.id = $1`,
		[id]
	);
	if (!r) return null;
	const actions = await database.query<{
		id: number;
		code: string;
		kind: CapaKind;
		description: string;
		owner_id: number;
		owner_name: string;
		due_at: number;
		status: 'open' | 'done' | 'cancelled';
		outcome: string | null;
		done_at: number | null;
		done_by: string | null;
	}>(
		`SELECT c.id, c.code, c.kind, c.description, c.owner_id, o.full_name AS owner_name,
		        ${epochMs('c.due_at')} AS due_at, c.status, c.outcome,
		        ${epochMs('c.done_at')} AS done_at, db.full_name AS done_by
		 FROM capa c
		 JOIN app_user o ON o.id = c.owner_id
		 LEFT JOIN app_user db ON db.id = c.done_by
		 WHERE c.deviation_id = $1 ORDER BY c.id`,
		[id]
	);
	const t = now.getTime();
	const at = (v: number | null) => (v === null ? null : new Date(v));
	const capaViews: CapaView[] = actions.map((c) => ({
		id: c.id,
		code: c.code,
		kind: c.kind,
		description: c.description,
		owner: { id: c.owner_id, fullName: c.owner_name },
		dueAt: new Date(c.due_at),
		status: c.status,
		outcome: c.outcome,
		doneAt: at(c.done_at),
		doneBy: c.done_by,
		overdue: c.status === 'open' && c.due_at < t
	}));
	const facts: DeviationFacts = {
		status: r.status,
		severity: r.severity,
		openCapa: capaViews.filter((c) => c.status === 'open').length,
		doneCapa: capaViews.filter((c) => c.status === 'done').length,
		effective: r.effective,
		effectivenessRecorded: r.effectiveness_result !== null
	};
	return {
		id: r.id,
		code: r.code,
		title: r.title,
		description: r.description,
		severity: r.severity,
		status: r.status,
		revision: r.revision,
		line: r.line_id === null ? null : { id: r.line_id, code: r.line_code!, name: r.line_name! },
		lot: r.lot_id === null ? null : { id: r.lot_id, code: r.lot_code! },
		alarm:
			r.alarm_id === null
				? null
				: {
						id: r.alarm_id,
						text: `${ruleLabel(r.alarm_rule as LiveAlarm['rule'])}: ${r.alarm_message ?? ''}`
					},
		inspection:
			r.inspection_id === null
				? null
				: {
						id: r.inspection_id,
						lotId: r.inspection_lot_id!,
						text: r.inspection_text ?? `Inspection ${r.inspection_id}`
					},
		owner: r.owner_id === null ? null : { id: r.owner_id, fullName: r.owner_name! },
		dueAt: at(r.due_at),
		openedBy: r.opened_by,
		openedAt: new Date(r.opened_at),
		containment:
			r.containment === null
				? null
				: { text: r.containment, by: r.contained_by, at: at(r.contained_at) },
		rootCause:
			r.root_cause === null
				? null
				: { text: r.root_cause, by: r.investigated_by, at: at(r.investigated_at) },
		effectiveness: {
			dueAt: at(r.effectiveness_due_at),
			result: r.effectiveness_result,
			effective: r.effective,
			by: r.checked_by,
			at: at(r.checked_at)
		},
		closedAt: at(r.closed_at),
		closedBy: r.closed_by,
		capa: capaViews,
		facts,
		possible: [...possibleEvents(facts)],
		agingDays: agingDays(r.opened_at, r.closed_at, t),
		overdue: overdueItems(
			{
				status: r.status,
				dueAt: r.due_at,
				effectivenessDueAt: r.effectiveness_due_at,
				effective: r.effective,
				openCapaDue: capaViews.filter((c) => c.status === 'open').map((c) => c.dueAt.getTime())
			},
			t
		)
	};
}

export const DEVIATION_LIST_LIMIT = 500;

export interface DeviationFilter {
	/** `open`: every status but closed; `all`: everything; or one status. */
	status: 'open' | 'all' | DeviationState;
	severity?: Severity | null;
	lineId?: number | null;
	ownerId?: number | null;
	overdue?: boolean;
	sort: 'aging-desc' | 'aging-asc' | 'due' | 'opened';
}

export interface DeviationListRow {
	id: number;
	code: string;
	title: string;
	severity: Severity;
	status: DeviationState;
	line: string | null;
	lotCode: string | null;
	owner: string | null;
	openedAt: Date;
	dueAt: Date | null;
	agingDays: number;
	openCapa: number;
	overdue: string[];
}

export async function listDeviations(
	database: RawQuery,
	filter: DeviationFilter,
	now = new Date()
): Promise<{ rows: DeviationListRow[]; truncated: boolean }> {
	const where: string[] = [];
	const params: unknown[] = [now.getTime()];
	const p = (v: unknown) => {
		params.push(v);
		return `$${params.length}`;
	};
	const nowTs = `(timestamptz 'epoch' + $1::float8 * interval '1 millisecond')`;
	if (filter.status === 'open') where.push(`d.status <> 'closed'`);
	else if (filter.status !== 'all') where.push(`d.status = ${p(filter.status)}`);
	if (filter.severity) where.push(`d.severity = ${p(filter.severity)}`);
	if (filter.lineId) where.push(`coalesce(d.line_id, l.line_id) = ${p(filter.lineId)}`);
	if (filter.ownerId) where.push(`d.owner_id = ${p(filter.ownerId)}`);
	if (filter.overdue) {
		where.push(`d.status <> 'closed' AND (d.due_at < ${nowTs}
			OR EXISTS (SELECT 1 FROM capa c WHERE c.deviation_id = d.id AND c.status = 'open' AND c.due_at < ${nowTs})
			OR (d.status = 'effectiveness' AND d.effective IS NULL AND d.effectiveness_due_at < ${nowTs}))`);
	}
	const age = `(coalesce(d.closed_at, ${nowTs}) - d.opened_at)`;
	const order = {
		'aging-desc': `${age} DESC, d.id DESC`,
		'aging-asc': `${age} ASC, d.id DESC`,
		due: `d.due_at ASC NULLS LAST, d.id`,
		opened: `d.opened_at DESC, d.id DESC`
	}[filter.sort];
	const rows = await database.query<{
		id: number;
		code: string;
		title: string;
		severity: Severity;
		status: DeviationState;
		line_code: string | null;
		lot_code: string | null;
		owner: string | null;
		opened_at: number;
		due_at: number | null;
		closed_at: number | null;
		effectiveness_due_at: number | null;
		effective: boolean | null;
		open_capa_due: number[] | null;
	}>(
		`SELECT d.id, d.code, d.title, d.severity, d.status, ln.code AS line_code, l.code AS lot_code,
		        ow.full_name AS owner, ${epochMs('d.opened_at')} AS opened_at,
		        ${epochMs('d.due_at')} AS due_at, ${epochMs('d.closed_at')} AS closed_at,
		        ${epochMs('d.effectiveness_due_at')} AS effectiveness_due_at, d.effective,
		        (SELECT jsonb_agg(${epochMs('c.due_at')}) FROM capa c
		          WHERE c.deviation_id = d.id AND c.status = 'open') AS open_capa_due
		 FROM deviation d
		 LEFT JOIN lot l ON l.id = d.lot_id
		 LEFT JOIN line ln ON ln.id = coalesce(d.line_id, l.line_id)
		 LEFT JOIN app_user ow ON ow.id = d.owner_id
		 ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
		 ORDER BY ${order}
		 LIMIT ${DEVIATION_LIST_LIMIT + 1}`,
		params
	);
	const t = now.getTime();
	return {
		truncated: rows.length > DEVIATION_LIST_LIMIT,
		rows: rows.slice(0, DEVIATION_LIST_LIMIT).map((r) => {
			const due = (r.open_capa_due ?? []).map(Number);
			return {
				id: r.id,
				code: r.code,
				title: r.title,
				severity: r.severity,
				status: r.status,
				line: r.line_code,
				lotCode: r.lot_code,
				owner: r.owner,
				openedAt: new Date(r.opened_at),
				dueAt: r.due_at === null ? null : new Date(r.due_at),
				agingDays: agingDays(r.opened_at, r.closed_at, t),
				openCapa: due.length,
				overdue: overdueItems(
					{
						status: r.status,
						dueAt: r.due_at,
						effectivenessDueAt: r.effectiveness_due_at,
						effective: r.effective,
						openCapaDue: due
					},
					t
				)
			};
		})
	};
}

export interface DeviationPrefill {
	title: string;
	description: string;
	lineId: number | null;
	lotId: number | null;
	alarmId: number | null;
	inspectionId: number | null;
	/** What the deviation is opened from, for the page header. */
	from: { kind: 'alarm' | 'inspection' | 'lot'; id: number; label: string } | null;
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * A proposal for a new deviation opened from an alarm, an inspection or a lot: title and
 * description from the context, links and line set. Null when the thing does not exist.
 */
export async function deviationPrefill(
	database: RawQuery,
	from: { alarmId?: number; inspectionId?: number; lotId?: number }
): Promise<DeviationPrefill | null> {
	if (from.alarmId) {
		const [a] = await database.query<{
			id: number;
			rule: string;
			message: string;
			ts: number;
			value: number | null;
			line_id: number;
			line_code: string;
			machine_code: string | null;
			char_name: string | null;
			char_unit: string | null;
			char_decimals: number | null;
			inspection_id: number | null;
			lot_id: number | null;
			lot_code: string | null;
		}>(
			`SELECT a.id, a.rule, a.message, ${epochMs('a.ts')} AS ts, a.value,
			        ln.id AS line_id, ln.code AS line_code, m.code AS machine_code,
			        ch.name AS char_name, ch.unit AS char_unit, ch.decimals AS char_decimals, a.inspection_id,
			        i.lot_id, l.code AS lot_code
			 FROM alarm a
			 JOIN line ln ON ln.id = a.line_id
			 LEFT JOIN machine m ON m.id = a.machine_id
			 LEFT JOIN characteristic ch ON ch.id = a.characteristic_id
			 LEFT JOIN inspection i ON i.id = a.inspection_id
			 LEFT JOIN lot l ON l.id = i.lot_id
			 WHERE a.id = $1`,
			[from.alarmId]
		);
		if (!a) return null;
		const rule = ruleLabel(a.rule as LiveAlarm['rule']);
		const what = a.char_name ?? a.message;
		const where = [`line ${a.line_code}`, a.machine_code ? `machine ${a.machine_code}` : null]
			.filter(Boolean)
			.join(', ');
		const value =
			a.value !== null && a.char_name
				? ` Value ${formatValue(a.value, a.char_decimals ?? 3)}${a.char_unit ? ` ${formatUnit(a.char_unit)}` : ''}.`
				: '';
		return {
			title: `${rule}: ${what} on ${a.machine_code ?? a.line_code}`.slice(0, 200),
			description:
				`Alarm #${a.id} (${rule}) on ${where} at ${utc(a.ts)}: ${a.message}.${value}` +
				(a.lot_code ? ` Lot ${a.lot_code}.` : ''),
			lineId: a.line_id,
			lotId: a.lot_id,
			alarmId: a.id,
			inspectionId: null,
			from: { kind: 'alarm', id: a.id, label: `alarm #${a.id}` }
		};
	}
	if (from.inspectionId) {
		const [i] = await database.query<{
			id: number;
			seq: number;
			status: string;
			due_at: number;
			value: number | null;
			passed: boolean | null;
			plan: string;
			lot_id: number;
			lot_code: string;
			line_id: number;
			line_code: string;
		}>(
			`SELECT i.id, i.seq, i.status, ${epochMs('i.due_at')} AS due_at, i.value, i.passed,
			        ip.name AS plan, l.id AS lot_id, l.code AS lot_code, ln.id AS line_id, ln.code AS line_code
			 FROM inspection i
			 JOIN inspection_plan ip ON ip.id = i.plan_id
			 JOIN lot l ON l.id = i.lot_id
			 JOIN line ln ON ln.id = l.line_id
			 WHERE i.id = $1`,
			[from.inspectionId]
		);
		if (!i) return null;
		const result =
			i.status === 'missed' || i.status === 'due'
				? `${i.status === 'missed' ? 'missed' : 'not done'} (due ${utc(i.due_at)})`
				: i.value !== null
					? `result ${i.value}${i.passed === false ? ', failed' : ''} (${i.status})`
					: `${i.passed === false ? 'failed' : i.passed ? 'passed' : i.status}`;
		return {
			title: `${i.plan} #${i.seq} of lot ${i.lot_code}: ${i.status === 'missed' ? 'missed' : 'deviation'}`,
			description: `Inspection ${i.plan} #${i.seq} of lot ${i.lot_code} on line ${i.line_code}: ${result}.`,
			lineId: i.line_id,
			lotId: i.lot_id,
			alarmId: null,
			inspectionId: i.id,
			from: { kind: 'inspection', id: i.id, label: `inspection ${i.plan} #${i.seq}` }
		};
	}
	if (from.lotId) {
		const [l] = await database.query<{
			id: number;
			code: string;
			status: string;
			product_code: string;
			product_name: string;
			line_id: number;
			line_code: string;
		}>(
			`SELECT l.id, l.code, l.status, p.code AS product_code, p.name AS product_name,
			        ln.id AS line_id, ln.code AS line_code
			 FROM lot l JOIN product p ON p.id = l.product_id JOIN line ln ON ln.id = l.line_id
			 WHERE l.id = $1`,
			[from.lotId]
		);
		if (!l) return null;
		return {
			title: `Lot ${l.code} (${l.product_code}): deviation`,
			description: `Lot ${l.code} of ${l.product_code} ${l.product_name} on line ${l.line_code}, ${l.status.replace('_', ' ')}: `,
			lineId: l.line_id,
			lotId: l.id,
			alarmId: null,
			inspectionId: null,
			from: { kind: 'lot', id: l.id, label: `lot ${l.code}` }
		};
	}
	return null;
}

/** People a deviation or an action can be assigned to: active staff (no customers). */
export async function assignablePeople(database: Queryable): Promise<PersonRef[]> {
	return database.db
		.select({ id: appUser.id, fullName: appUser.fullName })
		.from(appUser)
		.where(and(sql`${appUser.disabledAt} IS NULL`, sql`${appUser.customerId} IS NULL`))
		.orderBy(asc(appUser.fullName));
}

/** Default due dates (days from opening) by severity, proposed by the form. */
export const DUE_DAYS: Record<Severity, number> = { minor: 30, major: 14, critical: 7 };

export function defaultDue(severity: Severity, now = new Date()): Date {
	return new Date(now.getTime() + DUE_DAYS[severity] * DAY_MS);
}
