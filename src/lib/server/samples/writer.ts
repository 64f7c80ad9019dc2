/**
 * Persisting one ingest batch: samples, subgroups and alarms in ONE transaction, idempotently.
 *
 * Samples go through the driver's bulk path — one `INSERT … SELECT FROM unnest(arrays)` — never
 * through Drizzle's insert builder, which costs ~27 µs of CPU per row (STACK.md).
 *
 * Idempotency by natural key (characteristic_id, ts, seq):
 * - a new key is stored (accepted);
 * - a known key with the same value and flags is a no-op (duplicate: a re-sent batch);
 * - a known key with a different value or flags is quarantined (both versions kept in
 *   `sample_quarantine`), never overwritten.
 * The same rules apply to a key repeated inside one batch: the first occurrence is written, the
 * others are judged against it.
 */
import type { IngestBatch, LiveAlarm, SampleTuple } from '../../realtime/events';
import { liveAlarmsByIds } from '../alarms/read';
import { appendAudit, type Actor } from '../audit/append';
import type { Database, TxContext } from '../db';
import { fromEpochMs, type RawQuery } from '../db/raw';
import type { AlarmState } from '../db/schema/quality';

export interface WriteResult {
	accepted: number;
	duplicates: number;
	quarantined: number;
	/** Alarms raised or extended by this batch (a re-sent batch returns none). */
	newAlarms: LiveAlarm[];
	/** The samples actually stored, in batch order (what to fan out). */
	acceptedSamples: SampleTuple[];
}

/**
 * Write a validated batch (only known characteristic ids, finite values, whole-millisecond
 * timestamps — see src/lib/server/realtime/schemas.ts). Throws when the
 * transaction fails; nothing of the batch is then stored, and the worker re-sends it.
 */
export async function writeBatch(database: Database, batch: IngestBatch): Promise<WriteResult> {
	return database.transaction(async (tx) => {
		const samples = await writeSamples(tx, batch);
		await writeSubgroups(tx, batch);
		const newAlarms = await writeAlarms(tx, batch);
		return { ...samples, newAlarms };
	});
}

type SampleOutcome = Omit<WriteResult, 'newAlarms'>;

const C = 0;
const TS = 1;
const SEQ = 2;
const VALUE = 3;
const FLAGS = 4;

function keyOf(s: SampleTuple): string {
	return `${s[C]}:${s[TS]}:${s[SEQ]}`;
}

/**
 * A PostgreSQL array literal of numbers, e.g. `{1,2.5,null}`, sent as the text of an array
 * parameter. Both drivers pass a string for an array-typed parameter through unchanged
 * (postgres.js and PGlite `arraySerializer` return non-arrays as they are); given a JS array
 * they quote and regex-escape every element instead, which was the largest share of the hub's
 * CPU per batch (the latency benchmark's profile).
 *
 * The element text is what JSON.stringify writes — the shortest representation that
 * round-trips, the same as `String(x)` the drivers use, which PostgreSQL's float8 input reads
 * back exactly — so the stored values are identical; JSON.stringify formats a number array in
 * one native pass, 2-3× faster than joining in JavaScript. `null` is PostgreSQL's unquoted NULL.
 * NaN and ±Infinity would silently become null there: refused, as validation already does.
 */
export function numberArrayLiteral(xs: readonly (number | null)[]): string {
	for (let i = 0; i < xs.length; i++) {
		const x = xs[i];
		if (x !== null && !Number.isFinite(x)) {
			throw new RangeError(`numberArrayLiteral: ${x} at index ${i} is not a finite number`);
		}
	}
	const json = JSON.stringify(xs);
	return `{${json.slice(1, -1)}}`;
}

/** Columns of `samples` as the array-literal parameters of the unnest statements. */
function columns(samples: readonly SampleTuple[]): [string, string, string, string, string] {
	const n = samples.length;
	const c = new Array<number>(n);
	const ts = new Array<number>(n);
	const seq = new Array<number>(n);
	const value = new Array<number>(n);
	const flags = new Array<number>(n);
	for (let i = 0; i < n; i++) {
		const s = samples[i];
		c[i] = s[C];
		ts[i] = s[TS];
		seq[i] = s[SEQ];
		value[i] = s[VALUE];
		flags[i] = s[FLAGS];
	}
	return [
		numberArrayLiteral(c),
		numberArrayLiteral(ts),
		numberArrayLiteral(seq),
		numberArrayLiteral(value),
		numberArrayLiteral(flags)
	];
}

// Inserts the distinct keys and answers only how many were new: on a clean batch (the normal
// case) that settles everything in one statement with a one-row result. Measured on PostgreSQL
// 15 here, answering with the keys (RETURNING) or an anti-join cost 10-20% of the throughput.
const INSERT_SAMPLES = `
WITH ins AS (
	INSERT INTO sample (characteristic_id, ts, seq, value, flags)
	SELECT u.c, ${fromEpochMs('u.ms')}, u.s, u.v, u.f
	FROM unnest($1::int[], $2::float8[], $3::bigint[], $4::float8[], $5::smallint[]) AS u(c, ms, s, v, f)
	ON CONFLICT DO NOTHING
	RETURNING 1
)
SELECT count(*)::int AS inserted FROM ins`;

// Only when some rows were not new: what the table now holds for every sample of the batch, and
// whether this transaction wrote it (xmin is our transaction id; writeBatch never uses
// savepoints, whose rows would carry a subtransaction id instead).
const STORED_SAMPLES = `
SELECT u.i::int AS i, s.value AS value, s.flags::int AS flags,
	(s.xmin = pg_current_xact_id()::xid) AS mine
FROM unnest($1::int[], $2::float8[], $3::bigint[]) WITH ORDINALITY AS u(c, ms, q, i)
JOIN sample s ON s.characteristic_id = u.c AND s.ts = ${fromEpochMs('u.ms')} AND s.seq = u.q`;

const INSERT_QUARANTINE = `
INSERT INTO sample_quarantine
	(characteristic_id, ts, seq, stored_value, stored_flags, received_value, received_flags, batch_id)
SELECT u.c, ${fromEpochMs('u.ms')}, u.q, u.sv, u.sf, u.rv, u.rf, $8
FROM unnest($1::int[], $2::float8[], $3::bigint[], $4::float8[], $5::smallint[], $6::float8[], $7::smallint[])
	AS u(c, ms, q, sv, sf, rv, rf)
ON CONFLICT DO NOTHING`;

async function writeSamples(tx: RawQuery, batch: IngestBatch): Promise<SampleOutcome> {
	const samples = batch.samples;
	const outcome: SampleOutcome = {
		accepted: 0,
		duplicates: 0,
		quarantined: 0,
		acceptedSamples: []
	};
	if (samples.length === 0) return outcome;

	const [c, ts, seq, value, flags] = columns(samples);
	const [{ inserted }] = await tx.query<{ inserted: number }>(INSERT_SAMPLES, [
		c,
		ts,
		seq,
		value,
		flags
	]);
	if (inserted === samples.length) {
		// Every row was new, so no key was repeated either: the common case, settled.
		outcome.accepted = inserted;
		outcome.acceptedSamples = samples;
		return outcome;
	}

	// Some keys existed already (or repeat inside the batch): look at what the table holds now.
	const rows = await tx.query<{ i: number; value: number; flags: number; mine: boolean }>(
		STORED_SAMPLES,
		[c, ts, seq]
	);
	if (rows.length !== samples.length) {
		// ON CONFLICT skipped a row we cannot see: only possible if the schema changed under us.
		throw new Error('writeBatch: a sample key has no stored row after the insert');
	}
	rows.sort((a, b) => a.i - b.i);
	/** Keys whose row this transaction wrote and whose sample was already counted as accepted. */
	const acceptedKeys = new Set<string>();
	const quarantine: { sample: SampleTuple; value: number; flags: number }[] = [];
	for (const r of rows) {
		const sample = samples[r.i - 1];
		const same = r.value === sample[VALUE] && r.flags === sample[FLAGS];
		if (r.mine && same && !acceptedKeys.has(keyOf(sample))) {
			// The first occurrence of a key new to the table: the one written.
			acceptedKeys.add(keyOf(sample));
			outcome.accepted++;
			outcome.acceptedSamples.push(sample);
		} else if (same) {
			outcome.duplicates++;
		} else {
			outcome.quarantined++;
			quarantine.push({ sample, value: r.value, flags: r.flags });
		}
	}
	if (outcome.accepted !== inserted) {
		throw new Error('writeBatch: inserted count and row ownership disagree');
	}

	if (quarantine.length > 0) {
		const q = columns(quarantine.map((x) => x.sample));
		await tx.query(INSERT_QUARANTINE, [
			q[0],
			q[1],
			q[2],
			numberArrayLiteral(quarantine.map((x) => x.value)),
			numberArrayLiteral(quarantine.map((x) => x.flags)),
			q[3],
			q[4],
			batch.batchId
		]);
	}
	return outcome;
}

const INSERT_SUBGROUPS = `
INSERT INTO subgroup (characteristic_id, ts, n, value, dispersion)
SELECT u.c, ${fromEpochMs('u.ms')}, u.n, u.v, u.d
FROM unnest($1::int[], $2::float8[], $3::int[], $4::float8[], $5::float8[]) AS u(c, ms, n, v, d)
ON CONFLICT DO NOTHING`;

async function writeSubgroups(tx: RawQuery, batch: IngestBatch): Promise<void> {
	const groups = batch.subgroups;
	if (groups.length === 0) return;
	await tx.query(INSERT_SUBGROUPS, [
		numberArrayLiteral(groups.map((g) => g.characteristicId)),
		numberArrayLiteral(groups.map((g) => g.ts)),
		numberArrayLiteral(groups.map((g) => g.n)),
		numberArrayLiteral(groups.map((g) => g.value)),
		numberArrayLiteral(groups.map((g) => g.dispersion))
	]);
}

/*
 * Violations become alarm CONDITIONS (one open alarm per characteristic × rule, see
 * schema/quality.ts: open = any state but `cleared`). Two data-modifying CTEs over the batch's
 * violations, one statement:
 * - `upd`: violations newer than an open alarm's last_ts extend it (last_ts, occurrences, latest
 *   message/value/points). ISA-18.2 (src/lib/alarms/lifecycle.ts, event `violation`): a
 *   `returned` alarm becomes `unacknowledged` again; a shelved, suppressed or out-of-service
 *   alarm keeps its state and absorbs the violation, and the state it returns to (`state_before`)
 *   becomes `unacknowledged` if it had returned or cleared meanwhile;
 * - `ins`: conditions with no open alarm, whose violations no alarm already covers
 *   (last_ts ≥ ts), raise a new alarm spanning their first to last violation, with the machine
 *   and line it is on — `suppressed` by design when that machine is not running.
 * Both CTEs read the snapshot from before the statement, so a condition is either extended or
 * raised, never both. A re-sent batch is covered already and changes nothing.
 */
const UPSERT_ALARMS = `
WITH v AS (
	SELECT u.c, u.rule, ${fromEpochMs('u.ms')} AS ts, u.message, u.side, u.chart, u.v, u.points
	FROM unnest($1::int[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[])
		AS u(c, rule, ms, message, side, chart, v, points)
),
ext AS (
	SELECT a.id, a.state AS old_state, a.state_before AS old_before,
		max(v.ts) AS last_ts, count(*)::int AS cnt,
		(array_agg(v.message ORDER BY v.ts DESC))[1] AS message,
		(array_agg(v.side ORDER BY v.ts DESC))[1] AS side,
		(array_agg(v.v ORDER BY v.ts DESC))[1] AS value,
		(array_agg(v.points ORDER BY v.ts DESC))[1] AS points
	FROM v
	JOIN alarm a ON a.characteristic_id = v.c AND a.rule = v.rule
		AND a.state <> 'cleared' AND v.ts > a.last_ts
	GROUP BY a.id, a.state, a.state_before
),
upd AS (
	UPDATE alarm a SET
		last_ts = ext.last_ts,
		occurrences = a.occurrences + ext.cnt,
		message = ext.message,
		side = ext.side,
		value = ext.value,
		point_ts = ext.points::jsonb,
		state = CASE WHEN a.state = 'returned' THEN 'unacknowledged' ELSE a.state END,
		state_before = CASE WHEN a.state IN ('shelved', 'suppressed', 'out_of_service')
			AND a.state_before IN ('returned', 'cleared') THEN 'unacknowledged' ELSE a.state_before END,
		returned_at = CASE WHEN a.state = 'returned'
			OR (a.state IN ('shelved', 'suppressed', 'out_of_service')
				AND a.state_before IN ('returned', 'cleared')) THEN NULL ELSE a.returned_at END,
		revision = a.revision + CASE WHEN a.state = 'returned'
			OR (a.state IN ('shelved', 'suppressed', 'out_of_service')
				AND a.state_before IN ('returned', 'cleared')) THEN 1 ELSE 0 END
	FROM ext
	WHERE a.id = ext.id
	RETURNING a.id, a.last_ts, 'extend'::text AS op, ext.old_state, ext.old_before, a.state,
		a.state_before
),
fresh AS (
	SELECT v.c, v.rule, min(v.ts) AS ts, max(v.ts) AS last_ts, count(*)::int AS cnt,
		(array_agg(v.message ORDER BY v.ts DESC))[1] AS message,
		(array_agg(v.side ORDER BY v.ts DESC))[1] AS side,
		(array_agg(v.chart ORDER BY v.ts DESC))[1] AS chart,
		(array_agg(v.v ORDER BY v.ts DESC))[1] AS value,
		(array_agg(v.points ORDER BY v.ts DESC))[1] AS points
	FROM v
	WHERE NOT EXISTS (
		SELECT 1 FROM alarm a
		WHERE a.characteristic_id = v.c AND a.rule = v.rule
			AND (a.state <> 'cleared' OR a.last_ts >= v.ts)
	)
	GROUP BY v.c, v.rule
),
ins AS (
	INSERT INTO alarm (characteristic_id, kind, machine_id, line_id, rule, ts, last_ts, occurrences,
		message, side, chart, value, point_ts, state, state_before, set_aside_reason)
	SELECT f.c,
		CASE WHEN f.rule IN ('spec', 'suspect') THEN 'spec' WHEN f.rule = 'stale' THEN 'stale'
			ELSE 'spc' END,
		m.id, m.line_id, f.rule, f.ts, f.last_ts, f.cnt, f.message, f.side, f.chart, f.value,
		f.points::jsonb,
		CASE WHEN coalesce(m.mode, 'running') = 'running' THEN 'unacknowledged' ELSE 'suppressed' END,
		CASE WHEN coalesce(m.mode, 'running') = 'running' THEN NULL ELSE 'unacknowledged' END,
		CASE WHEN coalesce(m.mode, 'running') = 'running' THEN NULL ELSE 'machine ' || m.mode END
	FROM fresh f
	-- LEFT: an unknown characteristic must fail the batch on the foreign key, not vanish.
	LEFT JOIN characteristic c ON c.id = f.c
	LEFT JOIN machine m ON m.id = c.machine_id
	ON CONFLICT DO NOTHING
	RETURNING id, last_ts, 'raise'::text AS op, NULL::text AS old_state, NULL::text AS old_before,
		state, state_before
)
SELECT id, op, old_state, old_before, state, state_before FROM upd
UNION ALL
SELECT id, op, old_state, old_before, state, state_before FROM ins`;

interface UpsertedAlarm {
	id: number;
	op: 'extend' | 'raise';
	old_state: AlarmState | null;
	old_before: AlarmState | null;
	state: AlarmState;
	state_before: AlarmState | null;
}

/** Who raises and re-activates alarms from the ingest path (the SPC engine, not a person). */
const SPC_ACTOR: Actor = { userId: null, label: 'system' };

/**
 * SPC violations and suspect (gross-error) samples raise or extend alarm conditions; returns
 * every alarm the batch raised or changed (a re-sent batch returns none).
 */
async function writeAlarms(tx: TxContext, batch: IngestBatch): Promise<LiveAlarm[]> {
	const c: number[] = [];
	const rule: string[] = [];
	const ms: number[] = [];
	const message: string[] = [];
	const side: (string | null)[] = [];
	const chart: string[] = [];
	const value: (number | null)[] = [];
	const points: string[] = [];
	for (const v of batch.violations) {
		c.push(v.characteristicId);
		rule.push(v.rule);
		ms.push(v.ts);
		message.push(v.message);
		side.push(v.side);
		chart.push(v.chart);
		value.push(v.value);
		points.push(JSON.stringify(v.pointTs));
	}
	if (batch.suspects.length > 0) {
		const sampleValue = new Map(batch.samples.map((s) => [keyOf(s), s[VALUE]]));
		for (const s of batch.suspects) {
			c.push(s.characteristicId);
			rule.push('suspect');
			ms.push(s.ts);
			message.push(s.reason);
			side.push(null);
			chart.push('primary');
			value.push(sampleValue.get(`${s.characteristicId}:${s.ts}:${s.seq}`) ?? null);
			points.push(JSON.stringify([s.ts]));
		}
	}
	if (c.length === 0) return [];
	const rows = await tx.query<UpsertedAlarm>(UPSERT_ALARMS, [
		c,
		rule,
		ms,
		message,
		side,
		chart,
		value,
		points
	]);
	// Raising and re-activating are transitions: audited. Absorbing a further violation into an
	// alarm whose state does not change is not (it would write one audit event per point).
	for (const r of rows) {
		if (r.op === 'raise') {
			await appendAudit(tx, {
				actor: SPC_ACTOR,
				action: 'create',
				entityType: 'alarm',
				entityId: r.id,
				newValues: { state: r.state, stateBefore: r.state_before }
			});
		} else if (r.old_state !== r.state || r.old_before !== r.state_before) {
			await appendAudit(tx, {
				actor: SPC_ACTOR,
				action: 'state',
				entityType: 'alarm',
				entityId: r.id,
				oldValues: { state: r.old_state, stateBefore: r.old_before },
				newValues: { state: r.state, stateBefore: r.state_before },
				reason: 'violation'
			});
		}
	}
	return liveAlarmsByIds(
		tx,
		rows.map((r) => r.id)
	);
}
