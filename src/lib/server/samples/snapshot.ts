/**
 * Reads for live views: the recent window of points per characteristic, the recent raw
 * readings of subgroup/attribute characteristics (for tiles and sparklines) and the open alarms,
 * used by the hub when a client subscribes (snapshot) or re-subscribes after a gap.
 *
 * The window query is the hot read of the wall: per characteristic, newest first, LIMIT n,
 * served by walking the primary key (characteristic_id, ts, seq) backwards on each partition;
 * a time bound lets PostgreSQL prune the partitions outside the window. An EXPLAIN test
 * (tests/integration/db-snapshot.test.ts) keeps that true.
 */
import { inArray } from 'drizzle-orm';
import {
	SAMPLE_FLAGS,
	type LiveAlarm,
	type LivePoint,
	type LiveReading
} from '../../realtime/events';
import type { ChartType } from '../../spc/types';
import type { Database } from '../db';
import { epochMs, fromEpochMs } from '../db/raw';
import { characteristic } from '../db/schema';
import { LIVE_ALARM_FROM, liveAlarmsByIds, toLiveAlarm, type LiveAlarmRow } from '../alarms/read';
import { appendAudit, type Actor } from '../audit/append';
import type { AlarmState } from '../db/schema/quality';

export interface RecentWindow {
	/** At most this many points per characteristic (the newest ones). */
	maxPoints: number;
	/** Only points at or after this time (epoch ms); also enables partition pruning. */
	sinceMs?: number;
}

/** Charts plotted from individual samples; every other chart plots stored subgroups. */
const SAMPLE_CHARTS: ReadonlySet<ChartType> = new Set(['imr', 'ewma', 'cusum']);

/** Hard ceiling whatever the caller asks: a snapshot is a window, never a history export. */
export const MAX_WINDOW_POINTS = 10_000;

/**
 * The snapshot query over samples. `$1` ids (int[]), `$2` since (epoch ms, float8, may be null),
 * `$3` limit per characteristic. Exported so the EXPLAIN test checks exactly what runs.
 */
export function recentSamplesSql(withTimeBound: boolean): string {
	return `SELECT k.id AS characteristic_id, ${epochMs('p.ts')} AS ts, p.seq::float8 AS seq,
		p.value, p.flags::int AS flags
	FROM unnest($1::int[]) AS k(id)
	CROSS JOIN LATERAL (
		SELECT s.ts, s.seq, s.value, s.flags FROM sample s
		WHERE s.characteristic_id = k.id${withTimeBound ? ` AND s.ts >= ${fromEpochMs('$2::float8')}` : ''}
		ORDER BY s.ts DESC, s.seq DESC
		LIMIT $3
	) AS p`;
}

export function recentSubgroupsSql(withTimeBound: boolean): string {
	return `SELECT k.id AS characteristic_id, ${epochMs('p.ts')} AS ts, p.value, p.dispersion
	FROM unnest($1::int[]) AS k(id)
	CROSS JOIN LATERAL (
		SELECT g.ts, g.value, g.dispersion FROM subgroup g
		WHERE g.characteristic_id = k.id${withTimeBound ? ` AND g.ts >= ${fromEpochMs('$2::float8')}` : ''}
		ORDER BY g.ts DESC
		LIMIT $3
	) AS p`;
}

function clampWindow(maxPoints: number): number {
	return Math.min(Math.max(0, Math.floor(maxPoints)), MAX_WINDOW_POINTS);
}

interface SampleRow {
	characteristic_id: number;
	ts: number;
	seq: number;
	value: number;
	flags: number;
}

/**
 * The newest `limit` samples of each characteristic (at or after `sinceMs` when given), grouped
 * per characteristic, oldest first. The one path to the sample window for points and readings
 * alike: `recentSamplesSql`, whose plan the EXPLAIN test holds to the primary key.
 */
async function newestSamples(
	database: Database,
	ids: readonly number[],
	sinceMs: number | undefined,
	limit: number
): Promise<Map<number, SampleRow[]>> {
	const rows = await database.query<SampleRow>(recentSamplesSql(sinceMs !== undefined), [
		ids,
		sinceMs ?? null,
		limit
	]);
	const byId = new Map<number, SampleRow[]>();
	for (const r of rows) {
		let list = byId.get(r.characteristic_id);
		if (!list) byId.set(r.characteristic_id, (list = []));
		list.push(r);
	}
	// Newest first from the index → oldest first.
	for (const list of byId.values()) list.reverse();
	return byId;
}

/**
 * The newest points of each characteristic, oldest first, at most `maxPoints` each.
 * I-MR (and EWMA/CUSUM) points come from samples, with the moving range as `dispersion`
 * (suspect samples are shown but skipped by the moving range, as the monitor skips them);
 * subgroup charts' points come from `subgroup` (their `seq` is 0: subgroups are keyed by time).
 * Every requested id is present in the result (empty when it has no data or does not exist).
 */
export async function recentPoints(
	database: Database,
	characteristicIds: readonly number[],
	window: RecentWindow
): Promise<Record<number, LivePoint[]>> {
	const result: Record<number, LivePoint[]> = {};
	const ids = [...new Set(characteristicIds)];
	for (const id of ids) result[id] = [];
	const maxPoints = clampWindow(window.maxPoints);
	if (ids.length === 0 || maxPoints === 0) return result;

	const charts = await database.db
		.select({ id: characteristic.id, chart: characteristic.chart })
		.from(characteristic)
		.where(inArray(characteristic.id, ids));
	const sampleIds = charts.filter((c) => SAMPLE_CHARTS.has(c.chart)).map((c) => c.id);
	const subgroupIds = charts.filter((c) => !SAMPLE_CHARTS.has(c.chart)).map((c) => c.id);

	if (sampleIds.length > 0) {
		// One extra (older) point so the first point of the window has its moving range.
		const byId = await newestSamples(database, sampleIds, window.sinceMs, maxPoints + 1);
		for (const [id, list] of byId) {
			const points: LivePoint[] = [];
			let previous: number | null = null;
			for (const r of list) {
				const suspect = (r.flags & SAMPLE_FLAGS.SUSPECT) !== 0;
				const dispersion = suspect || previous === null ? null : Math.abs(r.value - previous);
				if (!suspect) previous = r.value;
				points.push({ ts: r.ts, seq: r.seq, value: r.value, dispersion, flags: r.flags });
			}
			result[id] = points.length > maxPoints ? points.slice(points.length - maxPoints) : points;
		}
	}

	if (subgroupIds.length > 0) {
		const rows = await database.query<{
			characteristic_id: number;
			ts: number;
			value: number;
			dispersion: number | null;
		}>(recentSubgroupsSql(window.sinceMs !== undefined), [
			subgroupIds,
			window.sinceMs ?? null,
			maxPoints
		]);
		for (let i = rows.length - 1; i >= 0; i--) {
			const r = rows[i];
			result[r.characteristic_id].push({
				ts: r.ts,
				seq: 0,
				value: r.value,
				dispersion: r.dispersion,
				flags: 0
			});
		}
	}
	return result;
}

/**
 * A raw reading with the `seq` of its sample key. The wire form (LiveReading) has no seq, but
 * the hub needs the full key to subtract a pending delta's readings from a snapshot exactly —
 * two samples may share a timestamp — so it strips the seq only when it sends.
 */
export interface StoredReading extends LiveReading {
	seq: number;
}

/** The wire form: the seq stays on the server. */
export function toLiveReading(r: StoredReading): LiveReading {
	return { ts: r.ts, value: r.value, flags: r.flags };
}

/**
 * The newest raw samples of each characteristic as readings, oldest first, at most `maxPoints`
 * each (clamped to MAX_WINDOW_POINTS), at or after `sinceMs` when given — whatever the chart:
 * the caller asks only for the characteristics whose chart does not plot the samples
 * themselves. Suspect samples are included with their flags (the tile shows them as such).
 * Every requested id is present in the result (empty when it has no data or does not exist).
 */
export async function recentReadings(
	database: Database,
	characteristicIds: readonly number[],
	window: RecentWindow
): Promise<Record<number, StoredReading[]>> {
	const result: Record<number, StoredReading[]> = {};
	const ids = [...new Set(characteristicIds)];
	for (const id of ids) result[id] = [];
	const maxPoints = clampWindow(window.maxPoints);
	if (ids.length === 0 || maxPoints === 0) return result;
	const byId = await newestSamples(database, ids, window.sinceMs, maxPoints);
	for (const [id, list] of byId) {
		result[id] = list.map((r) => ({ ts: r.ts, seq: r.seq, value: r.value, flags: r.flags }));
	}
	return result;
}

export interface OpenAlarmsQuery {
	lineId?: number;
	/** Most alarms returned. */
	limit: number;
}

/**
 * Alarms not cleared, optionally of one line only: those a wall's banner shows (unacknowledged,
 * then returned) first, then acknowledged, then the set-aside ones (shelved, suppressed, out of
 * service — desks list them, walls do not); most recently active first within each, so the limit
 * never pushes an alarm the wall must show out of the snapshot.
 */
export async function openAlarms(database: Database, query: OpenAlarmsQuery): Promise<LiveAlarm[]> {
	const limit = Math.min(Math.max(0, Math.floor(query.limit)), 1000);
	if (limit === 0) return [];
	const rows = await database.query<LiveAlarmRow>(
		`${LIVE_ALARM_FROM}
		WHERE a.state <> 'cleared'${query.lineId === undefined ? '' : ' AND a.line_id = $2'}
		ORDER BY CASE a.state WHEN 'unacknowledged' THEN 0 WHEN 'returned' THEN 1
			WHEN 'acknowledged' THEN 2 ELSE 3 END, a.last_ts DESC, a.id DESC
		LIMIT $1`,
		query.lineId === undefined ? [limit] : [limit, query.lineId]
	);
	return rows.map(toLiveAlarm);
}

/** Who moves quiet alarms to normal: the hub's sweep, not a person. */
const SWEEP_ACTOR: Actor = { userId: null, label: 'system' };

/**
 * Return to normal (ISA-18.2, event `return-to-normal` in src/lib/alarms/lifecycle.ts): open
 * alarms whose condition has had no violation for `quietMs` (server clock) move on —
 * `unacknowledged` → `returned` (still awaiting acknowledgement), `acknowledged` → `cleared`.
 * A shelved, suppressed or out-of-service alarm keeps its state; the state it returns to moves
 * the same way. Only conditions judged from data (spc, spec, stale): a missed inspection returns
 * to normal when the inspection is done, not when time passes. Each move is audited; returns the
 * alarms that changed, for the hub to fan out.
 */
export async function returnQuietAlarms(
	database: Database,
	options: { quietMs: number; now?: number }
): Promise<LiveAlarm[]> {
	const now = options.now ?? Date.now();
	return database.transaction(async (tx) => {
		const moved = await tx.query<{
			id: number;
			old_state: AlarmState;
			old_before: AlarmState | null;
			state: AlarmState;
			state_before: AlarmState | null;
		}>(
			`WITH quiet AS (
				SELECT a.id, a.state AS old_state, a.state_before AS old_before FROM alarm a
				WHERE a.kind <> 'inspection'
					AND (a.state IN ('unacknowledged', 'acknowledged')
						OR (a.state IN ('shelved', 'suppressed', 'out_of_service')
							AND a.state_before IN ('unacknowledged', 'acknowledged')))
					AND a.last_ts < ${fromEpochMs('$1::float8')} - $2::float8 * interval '1 millisecond'
				FOR UPDATE
			)
			UPDATE alarm a SET
				state = CASE a.state WHEN 'acknowledged' THEN 'cleared'
					WHEN 'unacknowledged' THEN 'returned' ELSE a.state END,
				state_before = CASE WHEN a.state IN ('shelved', 'suppressed', 'out_of_service')
					THEN CASE a.state_before WHEN 'acknowledged' THEN 'cleared' ELSE 'returned' END
					ELSE a.state_before END,
				cleared_at = CASE WHEN a.state = 'acknowledged' THEN ${fromEpochMs('$1::float8')}
					ELSE a.cleared_at END,
				returned_at = ${fromEpochMs('$1::float8')},
				revision = a.revision + 1
			FROM quiet q
			WHERE a.id = q.id
			RETURNING a.id, q.old_state, q.old_before, a.state, a.state_before`,
			[now, options.quietMs]
		);
		for (const r of moved) {
			await appendAudit(tx, {
				actor: SWEEP_ACTOR,
				action: 'state',
				entityType: 'alarm',
				entityId: r.id,
				oldValues: { state: r.old_state, stateBefore: r.old_before },
				newValues: { state: r.state, stateBefore: r.state_before },
				reason: 'return to normal'
			});
		}
		return liveAlarmsByIds(
			tx,
			moved.map((r) => r.id)
		);
	});
}
