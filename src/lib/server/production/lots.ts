/**
 * Lots and their status machine:
 *
 *   planned ──(first run starts: runs.ts)──▶ running ──complete──▶ completed ──submit──▶ in_review
 *   in_review ──▶ released | rejected   (only the QA release review with an electronic
 *                                        signature: lots/release.ts; refused here)
 *
 * Completing a lot records its final quantities, refuses while a run is open or an inspection
 * is overdue, missed or unconfirmed (a deviation covering an overdue or missed inspection turns
 * it `waived` instead), and computes the per-lot parameter summaries kept for the life of the
 * lot record. Every change is audited in its own transaction.
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/append';
import type { Database, TxContext } from '../db';
import { fromEpochMs } from '../db/raw';
import { HISTOGRAM_JSON, lotIntervals, summaryCtes } from '../lots/parameter-summary';
import { inspection, line, lot, machine, processVersion, product, run } from '../db/schema';
import type { LotStatus } from '../db/schema/production';
import { actorOf, ensureCan, lineScope, type Person } from './access';
import { coveringDeviation } from './deviations';
import { ProductionError } from './errors';
import { blockingInspections, ensureDueInspections, INSPECTION_ENTITY } from './inspections';

export const LOT_ENTITY = 'lot';

/** The legal transitions; released and rejected belong to the release review (lots/release.ts). */
export const LOT_TRANSITIONS: Readonly<Record<LotStatus, readonly LotStatus[]>> = {
	planned: ['running'],
	running: ['completed'],
	completed: ['in_review'],
	in_review: ['released', 'rejected'],
	released: [],
	rejected: []
};

const STATUS_WORDS: Record<LotStatus, string> = {
	planned: 'planned',
	running: 'running',
	completed: 'completed',
	in_review: 'in review',
	released: 'released',
	rejected: 'rejected'
};

/** Throws `illegal-transition` with a sentence for the person when `from → to` is not allowed. */
export function assertLotTransition(code: string, from: LotStatus, to: LotStatus): void {
	if (to === 'released' || to === 'rejected') {
		throw new ProductionError(
			'illegal-transition',
			`Lot ${code} cannot be ${to} here: release and rejection are made in the QA release review (/lots/[id]/review), with an electronic signature.`
		);
	}
	if (!LOT_TRANSITIONS[from].includes(to)) {
		const hint =
			to === 'running'
				? ' A lot starts running when its first run starts.'
				: to === 'completed' && from === 'planned'
					? ' No run has started on it yet.'
					: '';
		throw new ProductionError(
			'illegal-transition',
			`Lot ${code} is ${STATUS_WORDS[from]}; it cannot become ${STATUS_WORDS[to]}.${hint}`
		);
	}
}

export interface LotRow {
	id: number;
	code: string;
	productId: number;
	lineId: number;
	status: LotStatus;
	plannedQty: number;
	goodQty: number;
	scrapQty: number;
	reworkQty: number;
	processVersionId: number | null;
	startedAt: Date | null;
	revision: number;
}

const LOT_COLUMNS = {
	id: lot.id,
	code: lot.code,
	productId: lot.productId,
	lineId: lot.lineId,
	status: lot.status,
	plannedQty: lot.plannedQty,
	goodQty: lot.goodQty,
	scrapQty: lot.scrapQty,
	reworkQty: lot.reworkQty,
	processVersionId: lot.processVersionId,
	startedAt: lot.startedAt,
	revision: lot.revision
};

/** The lot, locked for the rest of the transaction, or `not-found`. */
export async function lotForUpdate(tx: TxContext, id: number): Promise<LotRow> {
	const [row] = await tx.db.select(LOT_COLUMNS).from(lot).where(eq(lot.id, id)).for('update');
	if (!row) throw new ProductionError('not-found', 'No such lot.');
	return row;
}

/** The line of a lot (for permission checks before anything else is read), or null. */
export async function lotLine(database: Database | TxContext, id: number): Promise<number | null> {
	const rows = await database.query<{ lineId: number }>(
		'SELECT line_id AS "lineId" FROM lot WHERE id = $1',
		[id]
	);
	return rows[0]?.lineId ?? null;
}

async function ensureOnLotLine(
	tx: TxContext,
	person: Person,
	lineId: number,
	permission: Parameters<typeof ensureCan>[1]
) {
	const scope = await lineScope(tx, lineId);
	ensureCan(person, permission, scope ?? undefined);
}

export interface PlanLotInput {
	productId: number;
	plannedQty: number;
	/** Default: the product's line. */
	lineId?: number | null;
	/** Lot number; generated (`<part number>-<yymmdd>-<id>`) when absent. */
	code?: string | null;
	plannedStart?: Date | null;
	now?: Date;
}

export async function planLot(
	database: Database,
	person: Person,
	input: PlanLotInput
): Promise<{ id: number; code: string }> {
	ensureCan(person, 'lot:manage');
	if (!Number.isInteger(input.plannedQty) || input.plannedQty <= 0) {
		throw new ProductionError(
			'invalid',
			'The planned quantity must be a whole number above zero.',
			{
				field: 'plannedQty'
			}
		);
	}
	return database.transaction(async (tx) => {
		const [p] = await tx.db
			.select({ id: product.id, code: product.code, lineId: product.lineId })
			.from(product)
			.where(eq(product.id, input.productId));
		if (!p) throw new ProductionError('invalid', 'Choose a product.', { field: 'productId' });
		const lineId = input.lineId ?? p.lineId;
		const scope = await lineScope(tx, lineId);
		if (!scope) throw new ProductionError('invalid', 'No such line.', { field: 'lineId' });
		ensureCan(person, 'lot:manage', scope);
		const [{ id }] = await tx.query<{ id: number }>(
			`SELECT nextval(pg_get_serial_sequence('lot', 'id'))::float8 AS id`
		);
		const now = input.now ?? new Date();
		const ymd = now.toISOString().slice(2, 10).replaceAll('-', '');
		const code = input.code?.trim() || `${p.code}-${ymd}-${id}`;
		const [clash] = await tx.db.select({ id: lot.id }).from(lot).where(eq(lot.code, code));
		if (clash)
			throw new ProductionError('invalid', `Lot number ${code} is already used.`, {
				field: 'code'
			});
		const values = {
			id,
			code,
			productId: p.id,
			lineId,
			plannedQty: input.plannedQty,
			plannedStart: input.plannedStart ?? null,
			status: 'planned' as const
		};
		await tx.db.insert(lot).values(values);
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'create',
			entityType: LOT_ENTITY,
			entityId: id,
			newValues: values
		});
		return { id, code };
	});
}

/** The process version effective for a product at `at` (approved, latest effective date). */
export async function effectiveProcessVersion(
	tx: TxContext,
	productId: number,
	at: Date
): Promise<{ id: number; version: number } | null> {
	const rows = await tx.query<{ id: number; version: number }>(
		`SELECT id, version FROM process_version
		 WHERE product_id = $1 AND status = 'effective'
		   AND (effective_from IS NULL OR effective_from <= ${fromEpochMs('$2::float8')})
		 ORDER BY effective_from DESC NULLS LAST, version DESC LIMIT 1`,
		[productId, at.getTime()]
	);
	return rows[0] ?? null;
}

/**
 * planned → running, inside run start's transaction: fixes the process version effective now
 * on the lot, so the lot record keeps the specs it was made under.
 */
export async function markLotRunning(
	tx: TxContext,
	l: LotRow,
	at: Date,
	actor: Actor
): Promise<void> {
	assertLotTransition(l.code, l.status, 'running');
	const pv = await effectiveProcessVersion(tx, l.productId, at);
	const changes = {
		status: 'running' as const,
		startedAt: at,
		processVersionId: pv?.id ?? null,
		revision: l.revision + 1
	};
	await tx.db.update(lot).set(changes).where(eq(lot.id, l.id));
	await appendAudit(tx, {
		actor,
		action: 'state',
		entityType: LOT_ENTITY,
		entityId: l.id,
		oldValues: { status: l.status },
		newValues: { ...changes, processVersion: pv?.version ?? null },
		reason: 'first run started'
	});
}

export interface Quantities {
	goodQty: number;
	scrapQty: number;
	reworkQty: number;
}

function checkQuantities(q: Quantities): void {
	for (const [field, v] of Object.entries(q)) {
		if (!Number.isInteger(v) || v < 0) {
			throw new ProductionError('invalid', 'Quantities are whole numbers, zero or more.', {
				field
			});
		}
	}
}

async function writeQuantities(
	tx: TxContext,
	l: LotRow,
	q: Quantities,
	actor: Actor,
	reason: string
) {
	if (l.goodQty === q.goodQty && l.scrapQty === q.scrapQty && l.reworkQty === q.reworkQty) return;
	await tx.db
		.update(lot)
		.set({ ...q, revision: l.revision + 1 })
		.where(eq(lot.id, l.id));
	l.revision += 1;
	await appendAudit(tx, {
		actor,
		action: 'update',
		entityType: LOT_ENTITY,
		entityId: l.id,
		oldValues: { goodQty: l.goodQty, scrapQty: l.scrapQty, reworkQty: l.reworkQty },
		newValues: { ...q },
		reason
	});
}

/** Record the running lot's counts so far (every-N-parts inspections fall due from them). */
export async function recordQuantities(
	database: Database,
	person: Person,
	input: { id: number; now?: Date } & Quantities
): Promise<{ newInspections: number[] }> {
	const q = { goodQty: input.goodQty, scrapQty: input.scrapQty, reworkQty: input.reworkQty };
	checkQuantities(q);
	return database.transaction(async (tx) => {
		const l = await lotForUpdate(tx, input.id);
		await ensureOnLotLine(tx, person, l.lineId, 'run:operate');
		if (l.status !== 'running') {
			throw new ProductionError(
				'illegal-transition',
				`Lot ${l.code} is ${STATUS_WORDS[l.status]}: counts are recorded while it runs.`
			);
		}
		await writeQuantities(tx, l, q, actorOf(person), 'counts recorded');
		const newInspections = await ensureDueInspections(
			tx,
			l.id,
			input.now ?? new Date(),
			actorOf(person),
			'quantities'
		);
		return { newInspections };
	});
}

export interface CompleteLotResult {
	waived: { inspectionId: number; deviationCode: string }[];
	summaries: number;
}

/**
 * running → completed with the final quantities. Refused while a run of the lot is open, or an
 * inspection is overdue or missed and no deviation covers it (`inspection-overdue`), or a suspect
 * result waits for confirmation (`inspection-unconfirmed`).
 */
export async function completeLot(
	database: Database,
	person: Person,
	input: { id: number; now?: Date } & Quantities
): Promise<CompleteLotResult> {
	const q = { goodQty: input.goodQty, scrapQty: input.scrapQty, reworkQty: input.reworkQty };
	checkQuantities(q);
	const now = input.now ?? new Date();
	const actor = actorOf(person);
	// First, in its own transaction: the final counts and the inspections they make due. These
	// stand even when completion is refused below, so the station shows what must still be done.
	await database.transaction(async (tx) => {
		const l = await lotForUpdate(tx, input.id);
		await ensureOnLotLine(tx, person, l.lineId, 'run:operate');
		assertLotTransition(l.code, l.status, 'completed');
		await refuseOpenRuns(tx, l);
		await writeQuantities(tx, l, q, actor, 'final counts at completion');
		await ensureDueInspections(tx, l.id, now, actor, 'complete');
	});
	return database.transaction(async (tx) => {
		const l = await lotForUpdate(tx, input.id);
		await ensureOnLotLine(tx, person, l.lineId, 'run:operate');
		assertLotTransition(l.code, l.status, 'completed');
		await refuseOpenRuns(tx, l);
		const blocking = await blockingInspections(tx, l.id);
		const uncovered: string[] = [];
		const unconfirmed: string[] = [];
		const waive: {
			inspectionId: number;
			deviationId: number;
			deviationCode: string;
			status: string;
		}[] = [];
		for (const b of blocking) {
			const label = `${b.planName} #${b.seq} (due ${b.dueAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)`;
			if (b.status === 'suspect') {
				unconfirmed.push(label);
				continue;
			}
			const d = await coveringDeviation(tx, l.id, b.id);
			if (d)
				waive.push({
					inspectionId: b.id,
					deviationId: d.id,
					deviationCode: d.code,
					status: b.status
				});
			else uncovered.push(`${label}, ${b.status === 'missed' ? 'missed' : 'not done'}`);
		}
		if (uncovered.length > 0) {
			throw new ProductionError(
				'inspection-overdue',
				`Lot ${l.code} cannot be completed: ${uncovered.join('; ')}. Record the results, or open a deviation that covers them.`,
				{ details: { inspections: uncovered } }
			);
		}
		if (unconfirmed.length > 0) {
			throw new ProductionError(
				'inspection-unconfirmed',
				`Lot ${l.code} cannot be completed: suspect results wait for a second person's confirmation: ${unconfirmed.join('; ')}.`,
				{ details: { inspections: unconfirmed } }
			);
		}
		for (const w of waive) {
			await tx.db
				.update(inspection)
				.set({ status: 'waived', deviationId: w.deviationId })
				.where(eq(inspection.id, w.inspectionId));
			await appendAudit(tx, {
				actor,
				action: 'state',
				entityType: INSPECTION_ENTITY,
				entityId: w.inspectionId,
				oldValues: { status: w.status },
				newValues: { status: 'waived', deviationId: w.deviationId },
				reason: `covered by deviation ${w.deviationCode}`
			});
		}
		const changes = { status: 'completed' as const, completedAt: now, revision: l.revision + 1 };
		await tx.db.update(lot).set(changes).where(eq(lot.id, l.id));
		await appendAudit(tx, {
			actor,
			action: 'state',
			entityType: LOT_ENTITY,
			entityId: l.id,
			oldValues: { status: l.status },
			newValues: { ...changes, ...q, waived: waive.map((w) => w.inspectionId) },
			reason: 'lot completed'
		});
		const summaries = await computeLotParameterSummary(tx, l.id, now);
		return {
			waived: waive.map((w) => ({ inspectionId: w.inspectionId, deviationCode: w.deviationCode })),
			summaries
		};
	});
}

async function refuseOpenRuns(tx: TxContext, l: LotRow): Promise<void> {
	const open = await tx.db
		.select({ machineName: machine.name })
		.from(run)
		.innerJoin(machine, eq(machine.id, run.machineId))
		.where(and(eq(run.lotId, l.id), isNull(run.endedAt)));
	if (open.length > 0) {
		throw new ProductionError(
			'run-open',
			`Lot ${l.code} still runs on ${open.map((o) => o.machineName).join(', ')}: end the run first.`
		);
	}
}

/** completed → in_review: the lot record goes to QA. */
export async function submitLotForReview(
	database: Database,
	person: Person,
	input: { id: number; now?: Date }
): Promise<void> {
	await database.transaction(async (tx) => {
		const l = await lotForUpdate(tx, input.id);
		await ensureOnLotLine(tx, person, l.lineId, 'lot:manage');
		assertLotTransition(l.code, l.status, 'in_review');
		const now = input.now ?? new Date();
		const changes = {
			status: 'in_review' as const,
			reviewStartedAt: now,
			revision: l.revision + 1
		};
		await tx.db.update(lot).set(changes).where(eq(lot.id, l.id));
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'state',
			entityType: LOT_ENTITY,
			entityId: l.id,
			oldValues: { status: l.status },
			newValues: changes,
			reason: 'submitted for QA review'
		});
	});
}

/**
 * One entry for any requested status change (the API and tests): dispatches the legal ones and
 * refuses the others with the same sentence everywhere.
 */
export async function changeLotStatus(
	database: Database,
	person: Person,
	input: { id: number; to: LotStatus; now?: Date } & Partial<Quantities>
): Promise<void> {
	if (input.to === 'completed') {
		await completeLot(database, person, {
			id: input.id,
			goodQty: input.goodQty ?? 0,
			scrapQty: input.scrapQty ?? 0,
			reworkQty: input.reworkQty ?? 0,
			now: input.now
		});
	} else if (input.to === 'in_review') {
		await submitLotForReview(database, person, input);
	} else {
		const lineId = await lotLine(database, input.id);
		if (lineId === null) throw new ProductionError('not-found', 'No such lot.');
		const [l] = await database.db.select(LOT_COLUMNS).from(lot).where(eq(lot.id, input.id));
		assertLotTransition(l.code, l.status, input.to);
		// Only planned → running passes the table, and that happens through run start alone.
		throw new ProductionError(
			'illegal-transition',
			`Lot ${l.code} starts running when its first run starts.`
		);
	}
}

/**
 * The per-lot parameter summaries: for every characteristic of the machines the lot ran on,
 * count, min, max, mean, SD and a 20-bin histogram of its samples inside the lot's run intervals
 * (suspect samples excluded, as from every statistic), computed in the database by the
 * statement lots/parameter-summary.ts shares with the live view of a running lot;
 * idempotent (recomputing replaces the rows). Characteristics without samples get no row.
 */
export async function computeLotParameterSummary(
	tx: TxContext,
	lotId: number,
	now: Date
): Promise<number> {
	const intervals = await lotIntervals(tx, lotId, now.getTime());
	if (intervals.length === 0) return 0;
	const ctes = summaryCtes(intervals, 3);
	const rows = await tx.query<{ characteristicId: number }>(
		`${ctes.sql}
		INSERT INTO lot_parameter_summary (lot_id, characteristic_id, count, min, max, mean, sd, histogram, computed_at)
		SELECT $1, st.cid, st.n, st.lo, st.hi, st.mean, st.sd, ${HISTOGRAM_JSON},
			${fromEpochMs('$2::float8')}
		FROM st
		ON CONFLICT (lot_id, characteristic_id) DO UPDATE SET count = excluded.count, min = excluded.min,
			max = excluded.max, mean = excluded.mean, sd = excluded.sd, histogram = excluded.histogram,
			computed_at = excluded.computed_at
		RETURNING characteristic_id AS "characteristicId"`,
		[lotId, now.getTime(), ...ctes.params]
	);
	return rows.length;
}

export interface StationLot {
	id: number;
	code: string;
	status: LotStatus;
	productCode: string;
	productName: string;
	plannedQty: number;
	goodQty: number;
	scrapQty: number;
	reworkQty: number;
	plannedStart: Date | null;
	startedAt: Date | null;
	processVersion: number | null;
}

/** Lots of a line that the station works on: planned, running, completed (awaiting review). */
export async function lotsOfLine(
	database: Database,
	lineId: number,
	statuses: LotStatus[] = ['planned', 'running', 'completed'],
	limit = 100
): Promise<StationLot[]> {
	return database.db
		.select({
			id: lot.id,
			code: lot.code,
			status: lot.status,
			productCode: product.code,
			productName: product.name,
			plannedQty: lot.plannedQty,
			goodQty: lot.goodQty,
			scrapQty: lot.scrapQty,
			reworkQty: lot.reworkQty,
			plannedStart: lot.plannedStart,
			startedAt: lot.startedAt,
			processVersion: processVersion.version
		})
		.from(lot)
		.innerJoin(product, eq(product.id, lot.productId))
		.leftJoin(processVersion, eq(processVersion.id, lot.processVersionId))
		.where(and(eq(lot.lineId, lineId), inArray(lot.status, statuses)))
		.orderBy(
			// Running first, then planned in planned order, then completed awaiting review.
			sql`CASE ${lot.status} WHEN 'running' THEN 0 WHEN 'planned' THEN 1 ELSE 2 END`,
			asc(lot.plannedStart),
			asc(lot.id)
		)
		.limit(limit);
}

/** Products made on a line (the plan-a-lot form). */
export async function productsOfLine(database: Database, lineId: number) {
	return database.db
		.select({ id: product.id, code: product.code, name: product.name })
		.from(product)
		.where(eq(product.lineId, lineId))
		.orderBy(asc(product.code));
}

/** The line behind a URL code, or null. */
export async function lineByCode(database: Database, code: string) {
	const [row] = await database.db
		.select({ id: line.id, code: line.code, name: line.name, siteId: line.siteId })
		.from(line)
		.where(eq(line.code, code));
	return row ?? null;
}
