/**
 * Inspections: rows fall due by the product's inspection plans, people record results, and a
 * result far outside spec waits as `suspect` for a second person's confirmation.
 *
 * Rows are generated only when they ARE due (never ahead of time): at lot start, when the
 * lot's last open run ends (lot end), every N parts as quantities are recorded, every T minutes
 * while the lot runs (run start/end, quantity records and the sweep in inspection-sweep.ts all
 * call `ensureDueInspections`). Generation is idempotent: (lot, plan, seq) is unique and
 * inserts skip existing keys, so two callers racing produce one row.
 *
 * Statuses: due → done | suspect (→ done on a second person's confirmation) | missed (by the
 * sweep, after the plan's grace; a late result still turns it done, and the record shows it
 * late) | waived (covered by a deviation, lots.ts at completion).
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { checkSuspect } from '$lib/spc/suspect';
import type { SpecLimits } from '$lib/spc/types';
import { appendAudit, type Actor } from '../audit/append';
import type { Database, TxContext } from '../db';
import {
	appUser,
	characteristic,
	inspection,
	inspectionPlan,
	lot,
	machine,
	processSpec,
	run
} from '../db/schema';
import type { InspectionStatus, InspectionTrigger } from '../db/schema/production';
import { actorOf, ensureCan, lineScope, type Person } from './access';
import { ProductionError } from './errors';

export const INSPECTION_ENTITY = 'inspection';

/** Upper bound of rows one call generates per plan: a lot left running for months stays finite. */
const MAX_NEW_PER_PLAN = 500;

export type DueEvent = 'run-start' | 'run-end' | 'quantities' | 'tick' | 'complete';

interface PlanRow {
	id: number;
	name: string;
	characteristicId: number | null;
	trigger: InspectionTrigger;
	everyParts: number | null;
	everyMinutes: number | null;
}

/**
 * Create the inspection rows of `lotId` that are due at `now` and do not exist yet. Returns the
 * new rows' ids. Runs inside the caller's transaction (audited as created by `actor`).
 */
export async function ensureDueInspections(
	tx: TxContext,
	lotId: number,
	now: Date,
	actor: Actor,
	event: DueEvent
): Promise<number[]> {
	const [l] = await tx.db
		.select({
			productId: lot.productId,
			status: lot.status,
			startedAt: lot.startedAt,
			produced: sql<number>`(${lot.goodQty} + ${lot.scrapQty} + ${lot.reworkQty})::int`
		})
		.from(lot)
		.where(eq(lot.id, lotId));
	if (!l || !l.startedAt) return [];
	const plans: PlanRow[] = await tx.db
		.select({
			id: inspectionPlan.id,
			name: inspectionPlan.name,
			characteristicId: inspectionPlan.characteristicId,
			trigger: inspectionPlan.trigger,
			everyParts: inspectionPlan.everyParts,
			everyMinutes: inspectionPlan.everyMinutes
		})
		.from(inspectionPlan)
		.where(and(eq(inspectionPlan.productId, l.productId), eq(inspectionPlan.active, true)))
		.orderBy(asc(inspectionPlan.id));
	if (plans.length === 0) return [];

	const existing = await tx.query<{ planId: number; maxSeq: number }>(
		'SELECT plan_id AS "planId", max(seq) AS "maxSeq" FROM inspection WHERE lot_id = $1 GROUP BY plan_id',
		[lotId]
	);
	const maxSeq = new Map(existing.map((e) => [e.planId, e.maxSeq]));
	const runs = await tx.db
		.select({
			id: run.id,
			machineId: run.machineId,
			startedAt: run.startedAt,
			endedAt: run.endedAt
		})
		.from(run)
		.where(eq(run.lotId, lotId))
		.orderBy(asc(run.startedAt), asc(run.id));
	const openRuns = runs.filter((r) => r.endedAt === null);
	const charMachine = new Map<number, number>();
	const charIds = plans.flatMap((p) => (p.characteristicId === null ? [] : [p.characteristicId]));
	if (charIds.length > 0) {
		const rows = await tx.db
			.select({ id: characteristic.id, machineId: characteristic.machineId })
			.from(characteristic)
			.where(inArray(characteristic.id, charIds));
		for (const r of rows) charMachine.set(r.id, r.machineId);
	}
	/** The run an inspection belongs to: the open run on the plan's machine, else the latest. */
	const runFor = (plan: PlanRow): number | null => {
		const m = plan.characteristicId === null ? undefined : charMachine.get(plan.characteristicId);
		const pool = openRuns.length > 0 ? openRuns : runs;
		const onMachine = pool.filter((r) => m === undefined || r.machineId === m);
		return (onMachine.at(-1) ?? pool.at(-1))?.id ?? null;
	};

	const rows: { planId: number; seq: number; dueAt: Date; runId: number | null }[] = [];
	for (const plan of plans) {
		const have = maxSeq.get(plan.id) ?? 0;
		const runId = runFor(plan);
		if (plan.trigger === 'lot-start') {
			if (have === 0)
				rows.push({ planId: plan.id, seq: 1, dueAt: l.startedAt, runId: runs[0]?.id ?? runId });
		} else if (plan.trigger === 'lot-end') {
			const ended = (event === 'run-end' || event === 'complete') && openRuns.length === 0;
			if (have === 0 && ended) rows.push({ planId: plan.id, seq: 1, dueAt: now, runId });
		} else if (plan.trigger === 'every-t-minutes' && plan.everyMinutes) {
			// Time-based inspections run on the lot's clock while it is running.
			if (l.status !== 'running' && event !== 'complete') continue;
			const stepMs = plan.everyMinutes * 60_000;
			const due = Math.floor((now.getTime() - l.startedAt.getTime()) / stepMs);
			for (let k = have + 1; k <= Math.min(due, have + MAX_NEW_PER_PLAN); k++) {
				rows.push({
					planId: plan.id,
					seq: k,
					dueAt: new Date(l.startedAt.getTime() + k * stepMs),
					runId
				});
			}
		} else if (plan.trigger === 'every-n-parts' && plan.everyParts) {
			const due = Math.floor(l.produced / plan.everyParts);
			for (let k = have + 1; k <= Math.min(due, have + MAX_NEW_PER_PLAN); k++) {
				rows.push({ planId: plan.id, seq: k, dueAt: now, runId });
			}
		}
	}
	if (rows.length === 0) return [];
	const inserted = await tx.db
		.insert(inspection)
		.values(rows.map((r) => ({ lotId, ...r, status: 'due' as const })))
		.onConflictDoNothing({ target: [inspection.lotId, inspection.planId, inspection.seq] })
		.returning({
			id: inspection.id,
			planId: inspection.planId,
			seq: inspection.seq,
			dueAt: inspection.dueAt
		});
	for (const r of inserted) {
		await appendAudit(tx, {
			actor,
			action: 'create',
			entityType: INSPECTION_ENTITY,
			entityId: r.id,
			newValues: { lotId, planId: r.planId, seq: r.seq, dueAt: r.dueAt, status: 'due', event }
		});
	}
	return inserted.map((r) => r.id);
}

export interface BlockingInspection {
	id: number;
	planName: string;
	seq: number;
	status: InspectionStatus;
	dueAt: Date;
}

/**
 * Inspections that stand in the way of completing the lot: due (every generated row is already
 * due, see above) or missed, and suspect results nobody has confirmed yet.
 */
export async function blockingInspections(
	tx: TxContext,
	lotId: number
): Promise<BlockingInspection[]> {
	return tx.db
		.select({
			id: inspection.id,
			planName: inspectionPlan.name,
			seq: inspection.seq,
			status: inspection.status,
			dueAt: inspection.dueAt
		})
		.from(inspection)
		.innerJoin(inspectionPlan, eq(inspectionPlan.id, inspection.planId))
		.where(
			and(eq(inspection.lotId, lotId), inArray(inspection.status, ['due', 'missed', 'suspect']))
		)
		.orderBy(asc(inspection.dueAt), asc(inspection.id));
}

interface InspectionContext {
	id: number;
	lotId: number;
	lotCode: string;
	lineId: number;
	status: InspectionStatus;
	doneBy: number | null;
	value: number | null;
	passed: boolean | null;
	characteristicId: number | null;
	processVersionId: number | null;
	planName: string;
}

async function inspectionForUpdate(tx: TxContext, id: number): Promise<InspectionContext> {
	const [row] = await tx.db
		.select({
			id: inspection.id,
			lotId: inspection.lotId,
			lotCode: lot.code,
			lineId: lot.lineId,
			status: inspection.status,
			doneBy: inspection.doneBy,
			value: inspection.value,
			passed: inspection.passed,
			characteristicId: inspectionPlan.characteristicId,
			processVersionId: lot.processVersionId,
			planName: inspectionPlan.name
		})
		.from(inspection)
		.innerJoin(lot, eq(lot.id, inspection.lotId))
		.innerJoin(inspectionPlan, eq(inspectionPlan.id, inspection.planId))
		.where(eq(inspection.id, id))
		.for('update', { of: inspection });
	if (!row) throw new ProductionError('not-found', 'No such inspection.');
	return row;
}

/** The spec a result is judged against: the lot's process version, else the characteristic's. */
async function specFor(
	tx: TxContext,
	characteristicId: number,
	processVersionId: number | null
): Promise<{
	spec: SpecLimits;
	suspect: Parameters<typeof checkSuspect>[2];
	decimals: number;
	unit: string;
}> {
	const [c] = await tx.db
		.select({
			lsl: characteristic.specLsl,
			target: characteristic.specTarget,
			usl: characteristic.specUsl,
			suspect: characteristic.suspect,
			decimals: characteristic.decimals,
			unit: characteristic.unit
		})
		.from(characteristic)
		.where(eq(characteristic.id, characteristicId));
	let spec: SpecLimits = { lsl: c.lsl, target: c.target, usl: c.usl };
	if (processVersionId !== null) {
		const [ps] = await tx.db
			.select({ lsl: processSpec.lsl, target: processSpec.target, usl: processSpec.usl })
			.from(processSpec)
			.where(
				and(
					eq(processSpec.processVersionId, processVersionId),
					eq(processSpec.characteristicId, characteristicId)
				)
			);
		if (ps) spec = ps;
	}
	return { spec, suspect: c.suspect, decimals: c.decimals, unit: c.unit };
}

export interface RecordResultInput {
	id: number;
	/** Measured value: required for a plan on a characteristic. */
	value?: number | null;
	/** Pass/fail: required for a plan without a characteristic. */
	passed?: boolean | null;
	note?: string | null;
	now?: Date;
}

export interface RecordedResult {
	status: 'done' | 'suspect';
	passed: boolean;
	suspectReason: string | null;
}

/**
 * Record a result. A measured value is judged against spec (passed = within limits) and screened
 * for gross errors (far outside spec, outside the instrument's range): such a value is stored as
 * `suspect` and becomes `done` only when a second person confirms it. A due, missed or suspect
 * inspection may be (re-)entered; a suspect re-entry replaces the value (audited, old and new).
 */
export async function recordInspectionResult(
	database: Database,
	person: Person,
	input: RecordResultInput
): Promise<RecordedResult> {
	return database.transaction(async (tx) => {
		const row = await inspectionForUpdate(tx, input.id);
		const scope = await lineScope(tx, row.lineId);
		ensureCan(person, 'inspection:record', scope ?? undefined);
		if (row.status === 'done' || row.status === 'waived') {
			throw new ProductionError(
				'inspection-closed',
				`This inspection (${row.planName}, lot ${row.lotCode}) is already ${row.status}.`
			);
		}
		let value: number | null = null;
		let passed: boolean;
		let suspectReason: string | null = null;
		if (row.characteristicId !== null) {
			if (input.value === null || input.value === undefined || !Number.isFinite(input.value)) {
				throw new ProductionError('invalid', 'Enter the measured value.', { field: 'value' });
			}
			value = input.value;
			const { spec, suspect } = await specFor(tx, row.characteristicId, row.processVersionId);
			passed =
				(spec.lsl === null || spec.lsl === undefined || value >= spec.lsl) &&
				(spec.usl === null || spec.usl === undefined || value <= spec.usl);
			suspectReason = checkSuspect(value, spec, suspect)?.message ?? null;
		} else {
			if (input.passed === null || input.passed === undefined) {
				throw new ProductionError('invalid', 'Choose pass or fail.', { field: 'passed' });
			}
			passed = input.passed;
		}
		const status: 'suspect' | 'done' = suspectReason ? 'suspect' : 'done';
		const now = input.now ?? new Date();
		const changes = {
			status,
			value,
			passed,
			note: input.note?.trim() || null,
			suspectReason,
			doneAt: now,
			doneBy: person.userId,
			confirmedBy: null,
			confirmedAt: null
		};
		await tx.db.update(inspection).set(changes).where(eq(inspection.id, row.id));
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'update',
			entityType: INSPECTION_ENTITY,
			entityId: row.id,
			oldValues: { status: row.status, value: row.value, passed: row.passed, doneBy: row.doneBy },
			newValues: changes,
			reason: suspectReason ? `suspect: ${suspectReason}` : null
		});
		return { status, passed, suspectReason };
	});
}

/**
 * A second person confirms a suspect result (the value stands): it becomes `done`. The person
 * who entered it cannot confirm it.
 */
export async function confirmInspection(
	database: Database,
	person: Person,
	input: { id: number; note?: string | null; now?: Date }
): Promise<void> {
	await database.transaction(async (tx) => {
		const row = await inspectionForUpdate(tx, input.id);
		const scope = await lineScope(tx, row.lineId);
		ensureCan(person, 'inspection:confirm', scope ?? undefined);
		if (row.status !== 'suspect') {
			throw new ProductionError(
				'inspection-closed',
				`Only a suspect result needs confirming; this one is ${row.status}.`
			);
		}
		if (row.doneBy === person.userId) {
			throw new ProductionError(
				'same-person',
				'You entered this result: a second person must confirm it.'
			);
		}
		const now = input.now ?? new Date();
		await tx.db
			.update(inspection)
			.set({ status: 'done', confirmedBy: person.userId, confirmedAt: now })
			.where(eq(inspection.id, row.id));
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'state',
			entityType: INSPECTION_ENTITY,
			entityId: row.id,
			oldValues: { status: 'suspect' },
			newValues: { status: 'done', confirmedBy: person.userId, confirmedAt: now },
			reason: input.note?.trim() || 'suspect result confirmed by a second person'
		});
	});
}

export interface InspectionListItem {
	id: number;
	lotId: number;
	lotCode: string;
	planName: string;
	trigger: InspectionTrigger;
	characteristicId: number | null;
	characteristicName: string | null;
	unit: string | null;
	machineName: string | null;
	seq: number;
	dueAt: Date;
	graceMinutes: number;
	status: InspectionStatus;
	value: number | null;
	passed: boolean | null;
	suspectReason: string | null;
	doneBy: number | null;
	doneByName: string | null;
	doneAt: Date | null;
}

/** Open inspections (due, missed, suspect) of a line's lots, oldest due first (bounded). */
export async function openInspectionsOfLine(
	database: Database,
	lineId: number,
	limit = 200
): Promise<InspectionListItem[]> {
	return database.db
		.select({
			id: inspection.id,
			lotId: inspection.lotId,
			lotCode: lot.code,
			planName: inspectionPlan.name,
			trigger: inspectionPlan.trigger,
			characteristicId: inspectionPlan.characteristicId,
			characteristicName: characteristic.name,
			unit: characteristic.unit,
			machineName: machine.name,
			seq: inspection.seq,
			dueAt: inspection.dueAt,
			graceMinutes: inspectionPlan.graceMinutes,
			status: inspection.status,
			value: inspection.value,
			passed: inspection.passed,
			suspectReason: inspection.suspectReason,
			doneBy: inspection.doneBy,
			doneByName: appUser.fullName,
			doneAt: inspection.doneAt
		})
		.from(inspection)
		.innerJoin(lot, eq(lot.id, inspection.lotId))
		.innerJoin(inspectionPlan, eq(inspectionPlan.id, inspection.planId))
		.leftJoin(characteristic, eq(characteristic.id, inspectionPlan.characteristicId))
		.leftJoin(machine, eq(machine.id, characteristic.machineId))
		.leftJoin(appUser, eq(appUser.id, inspection.doneBy))
		.where(
			and(
				eq(lot.lineId, lineId),
				inArray(inspection.status, ['due', 'missed', 'suspect']),
				isNull(lot.decidedAt)
			)
		)
		.orderBy(asc(inspection.dueAt), asc(inspection.id))
		.limit(limit);
}
