/**
 * The inspection sweep: as time passes, time-based inspections of running lots fall due, and
 * inspections still not done after their plan's grace period become `missed`, each raising an
 * alarm (kind `inspection`, rule `inspection-missed`) that the walls show like any other.
 *
 * Called by a timer the app starts (`startInspectionSweep`, wired in app.ts) and directly by
 * tests with a chosen `now`. Each missed inspection is marked in its own short transaction with
 * its alarm and audit events, guarded by `status = 'due'`, so two hub nodes sweeping at once
 * mark and alarm it once. Alarms are pushed live only after their transaction committed.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import { publishAlarms } from '../alarms/live';
import { raiseAlarm } from '../alarms/raise';
import { appendAudit, SYSTEM_ACTOR, type Actor } from '../audit/append';
import type { Database } from '../db';
import { inspection, inspectionPlan, lot, run } from '../db/schema';
import type { Hub } from '../realtime/hub';
import type { Log } from '../log';
import { ensureDueInspections, INSPECTION_ENTITY } from './inspections';

export const INSPECTION_MISSED_RULE = 'inspection-missed';
/** Default period of the sweep timer. */
export const INSPECTION_SWEEP_MS = 60_000;
/** At most this many inspections are marked missed per sweep; the next sweep takes the rest. */
const MAX_MISSED_PER_SWEEP = 500;

export interface SweepResult {
	/** Inspections that fell due in this sweep (time-based plans of running lots). */
	created: number;
	missed: { inspectionId: number; alarmId: number }[];
}

export async function sweepInspections(
	database: Database,
	hub: Pick<Hub, 'pushAlarms'> | null,
	options: { now?: Date; actor?: Actor } = {}
): Promise<SweepResult> {
	const now = options.now ?? new Date();
	const actor = options.actor ?? SYSTEM_ACTOR;
	let created = 0;
	const running = await database.db
		.select({ id: lot.id })
		.from(lot)
		.where(eq(lot.status, 'running'));
	for (const l of running) {
		created += (
			await database.transaction((tx) => ensureDueInspections(tx, l.id, now, actor, 'tick'))
		).length;
	}

	const overdue = await database.db
		.select({ id: inspection.id })
		.from(inspection)
		.innerJoin(inspectionPlan, eq(inspectionPlan.id, inspection.planId))
		.where(
			and(
				eq(inspection.status, 'due'),
				// The moment as epoch ms: a bare Date parameter is typed differently by the two drivers.
				lt(
					sql`${inspection.dueAt} + ${inspectionPlan.graceMinutes} * interval '1 minute'`,
					sql`(timestamptz 'epoch' + ${now.getTime()}::float8 * interval '1 millisecond')`
				)
			)
		)
		.orderBy(inspection.dueAt, inspection.id)
		.limit(MAX_MISSED_PER_SWEEP);

	const missed: SweepResult['missed'] = [];
	for (const { id } of overdue) {
		const marked = await database.transaction(async (tx) => {
			const [row] = await tx.db
				.update(inspection)
				.set({ status: 'missed' })
				.where(and(eq(inspection.id, id), eq(inspection.status, 'due')))
				.returning({
					lotId: inspection.lotId,
					runId: inspection.runId,
					seq: inspection.seq,
					dueAt: inspection.dueAt,
					planId: inspection.planId
				});
			if (!row) return null; // done or marked by someone else meanwhile
			const [ctx] = await tx.db
				.select({
					lotCode: lot.code,
					lineId: lot.lineId,
					planName: inspectionPlan.name,
					graceMinutes: inspectionPlan.graceMinutes
				})
				.from(lot)
				.innerJoin(inspectionPlan, eq(inspectionPlan.id, row.planId))
				.where(eq(lot.id, row.lotId));
			let machineId: number | null = null;
			if (row.runId !== null) {
				const [r] = await tx.db
					.select({ machineId: run.machineId })
					.from(run)
					.where(eq(run.id, row.runId));
				machineId = r?.machineId ?? null;
			}
			const due = row.dueAt.toISOString().slice(0, 16).replace('T', ' ');
			await appendAudit(tx, {
				actor,
				action: 'state',
				entityType: INSPECTION_ENTITY,
				entityId: id,
				oldValues: { status: 'due' },
				newValues: { status: 'missed' },
				reason: `not done within ${ctx.graceMinutes} min of its due time`
			});
			const alarm = await raiseAlarm(
				tx,
				{
					kind: 'inspection',
					lineId: ctx.lineId,
					machineId,
					characteristicId: null,
					inspectionId: id,
					rule: INSPECTION_MISSED_RULE,
					message: `Inspection missed: ${ctx.planName} #${row.seq} of lot ${ctx.lotCode} (due ${due} UTC)`,
					ts: now
				},
				actor
			);
			return { inspectionId: id, alarmId: alarm.id };
		});
		if (marked) missed.push(marked);
	}
	if (hub && missed.length > 0) {
		await publishAlarms(
			hub,
			database,
			missed.map((m) => m.alarmId)
		);
	}
	return { created, missed };
}

export interface InspectionSweep {
	/** Stops the timer and waits for a sweep in progress. */
	stop(): Promise<void>;
}

/**
 * Runs the sweep every `intervalMs`, one at a time (a slow sweep delays the next rather than
 * overlapping it). Failures are logged with context and the timer keeps going: a transient
 * database error must not end missed-inspection alarms for good.
 */
export function startInspectionSweep(
	deps: { database: Database; hub: Pick<Hub, 'pushAlarms'>; log: Log },
	intervalMs = INSPECTION_SWEEP_MS
): InspectionSweep {
	let stopped = false;
	let current: Promise<void> = Promise.resolve();
	const tick = () => {
		current = (async () => {
			try {
				const result = await sweepInspections(deps.database, deps.hub);
				if (result.missed.length > 0 || result.created > 0) {
					deps.log.info(
						{ created: result.created, missed: result.missed.length },
						'inspection sweep'
					);
				}
			} catch (error) {
				deps.log.error({ err: error }, 'inspection sweep failed');
			}
		})();
	};
	const timer = setInterval(() => {
		if (!stopped) tick();
	}, intervalMs);
	timer.unref();
	return {
		async stop() {
			stopped = true;
			clearInterval(timer);
			await current;
		}
	};
}
