/**
 * `npm run history:generate` — a large history on PostgreSQL for the drill-down benchmark:
 * the demo plant, its demo users and its year of production history (the same seeding as the
 * demo's first start), then raw samples over every run interval of that year — ≥ 50 million
 * by default — so lot history and trace-forward are measured against a realistic sample table.
 *
 *   DATABASE_URL      PostgreSQL database to fill (required; never PGlite: a year of samples
 *                     is tens of GB of WASM heap)
 *   HISTORY_SAMPLES   target number of samples (default 50 000 000)
 *   HISTORY_SEED      seed of the demo history (default 1)
 *
 * Samples are generated inside PostgreSQL: one `INSERT … SELECT … generate_series` per day,
 * straight into that day's partition (created first for the whole year), far faster than
 * sending rows from a client. Each characteristic gets the same share of the target, so its
 * sampling step over its machine's run time is max(its real sampling interval, run time /
 * share). Values are normal draws around the lot's parameter summary (its mean and SD), so the
 * raw data agrees with the lot record.
 *
 * Idempotent and resumable: the history is seeded once (seedDemoHistory's marker); a day whose
 * partition already holds samples is skipped, and each day commits on its own, so an
 * interrupted run resumes at the first day it had not finished.
 */
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { DEMO_PLANT } from '../src/lib/demo/plant';
import { seedDemoUsers } from '../src/lib/server/auth/users';
import { openDatabase, type Database } from '../src/lib/server/db';
import { ensurePartitionRange, partitionName } from '../src/lib/server/db/partitions';
import { fromEpochMs } from '../src/lib/server/db/raw';
import { seedDemoPlant } from '../src/lib/server/plant/service';
import { seedDemoHistory } from '../src/lib/server/production/demo-history';

const DAY_MS = 86_400_000;
export const DEFAULT_HISTORY_SAMPLES = 50_000_000;
const DEFAULT_DEMO_PASSWORD = 'wall-demo-Tracewall';

export interface GenerateHistoryOptions {
	url: string;
	samples?: number;
	seed?: number;
	/** Progress lines (default: stdout). */
	log?: (line: string) => void;
}

export interface GenerateHistoryResult {
	lots: number;
	runs: number;
	/** Samples in the database after the run (exact count). */
	samples: number;
	daysWritten: number;
	daysSkipped: number;
	seconds: number;
}

interface StepRow {
	id: number;
	step: number;
	decimals: number;
	attribute: boolean;
	centre: number;
	sigma: number;
}

export async function generateHistory(
	options: GenerateHistoryOptions
): Promise<GenerateHistoryResult> {
	const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
	const target = options.samples ?? DEFAULT_HISTORY_SAMPLES;
	const t0 = performance.now();
	const database = await openDatabase({ url: options.url, maxConnections: 2 });
	try {
		await seedDemoPlant(database, DEMO_PLANT);
		await seedDemoUsers(database, process.env.TRACEWALL_DEMO_PASSWORD ?? DEFAULT_DEMO_PASSWORD);
		const seeded = await seedDemoHistory(database, { seed: options.seed ?? 1 });
		log(
			seeded.seeded
				? `history seeded in ${(seeded.ms / 1000).toFixed(1)} s: ${seeded.counts.lots} lots, ${seeded.counts.runs} runs`
				: 'history already seeded'
		);
		const now = Date.now();
		const [span] = await database.query<{ first: number | null; lots: number; runs: number }>(
			`SELECT (extract(epoch FROM min(started_at)) * 1000)::float8 AS first,
			        (SELECT count(*) FROM lot)::float8 AS lots, count(*)::float8 AS runs FROM run`
		);
		if (span.first === null) throw new Error('generateHistory: no runs to fill with samples');
		await ensurePartitionRange(database, new Date(span.first), new Date(now + DAY_MS));
		const steps = await stepsFor(database, target, now);
		const firstDay = Math.floor(span.first / DAY_MS) * DAY_MS;
		const days: number[] = [];
		for (let d = firstDay; d <= now; d += DAY_MS) days.push(d);
		log(
			`${days.length} days, ${steps.length} characteristics, target ${target.toLocaleString('en')} samples`
		);
		await prepareFill(database, steps, now);
		let written = 0;
		let skipped = 0;
		let rows = 0;
		const tDays = performance.now();
		for (const [i, day] of days.entries()) {
			const name = partitionName(day);
			const any = await database.query(`SELECT 1 AS one FROM "${name}" LIMIT 1`);
			if (any.length > 0) {
				skipped++;
				continue;
			}
			const inserted = await fillDay(database, name, day, Math.min(day + DAY_MS, now));
			rows += inserted;
			written++;
			if (written % 10 === 0 || i === days.length - 1) {
				const s = (performance.now() - tDays) / 1000;
				log(
					`  day ${i + 1}/${days.length} ${new Date(day).toISOString().slice(0, 10)}: ${rows.toLocaleString('en')} samples in ${s.toFixed(0)} s (${Math.round(rows / s).toLocaleString('en')}/s)`
				);
			}
		}
		await database.query(`DROP TABLE IF EXISTS ${FILL_TABLE}`);
		const subgroups = await fillSubgroups(database, days, now, log);
		const [{ n }] = await database.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM sample`);
		if (written > 0) await database.query('ANALYZE sample');
		const seconds = (performance.now() - t0) / 1000;
		log(
			`done: ${n.toLocaleString('en')} samples (${written} days written, ${skipped} skipped), ${subgroups.toLocaleString('en')} subgroups added, in ${seconds.toFixed(0)} s`
		);
		return {
			lots: span.lots,
			runs: span.runs,
			samples: n,
			daysWritten: written,
			daysSkipped: skipped,
			seconds
		};
	} finally {
		await database.close();
	}
}

/**
 * Sampling step per characteristic: an equal share of the target over its machine's run
 * time, never denser than its real sampling interval.
 */
async function stepsFor(database: Database, target: number, now: number): Promise<StepRow[]> {
	const rows = await database.query<{
		id: number;
		interval: number;
		decimals: number;
		kind: string;
		centre: number | null;
		sigma: number | null;
		covered: number | null;
	}>(
		`SELECT c.id, c.sampling_interval_ms AS interval, c.decimals, c.kind,
		        v.centre, v.sigma, cov.ms AS covered
		 FROM characteristic c
		 LEFT JOIN control_limit_version v ON v.characteristic_id = c.id AND v.version = 1
		 LEFT JOIN (
			SELECT machine_id, sum(extract(epoch FROM (coalesce(ended_at, ${fromEpochMs('$1::float8')}) - started_at)) * 1000)::float8 AS ms
			FROM run GROUP BY machine_id
		 ) cov ON cov.machine_id = c.machine_id
		 WHERE cov.ms > 0
		 ORDER BY c.id`,
		[now]
	);
	// Water-filling: a characteristic sampled too slowly to reach an equal share (the attribute
	// ones, one lot a minute) gives all it can; the others share the rest equally.
	const covered = (r: (typeof rows)[number]) => r.covered as number;
	const capacity = (r: (typeof rows)[number]) => covered(r) / r.interval;
	const byCapacity = [...rows].sort((a, b) => capacity(a) - capacity(b));
	const quota = new Map<number, number>();
	let left = target;
	byCapacity.forEach((r, i) => {
		const fair = left / (byCapacity.length - i);
		const q = Math.min(fair, capacity(r));
		quota.set(r.id, q);
		left -= q;
	});
	return rows.map((r) => ({
		id: r.id,
		step: Math.max(r.interval, Math.floor(covered(r) / (quota.get(r.id) as number))),
		decimals: r.decimals,
		attribute: r.kind === 'attribute',
		centre: r.centre ?? 0,
		sigma: r.sigma ?? 0
	}));
}

/** Scratch table of what every day's fill reads: one row per run × characteristic. */
const FILL_TABLE = 'history_fill_scratch';

/**
 * Every (run, characteristic) interval with its step and distribution, built once: each day's
 * statement then reads a few hundred indexed rows instead of joining runs, characteristics
 * and 70 000 summaries again. A plain (unlogged) table, not a temporary one: the pool may run
 * the days on different connections.
 */
async function prepareFill(database: Database, steps: StepRow[], now: number): Promise<void> {
	await database.query(`DROP TABLE IF EXISTS ${FILL_TABLE}`);
	await database.query(
		`CREATE UNLOGGED TABLE ${FILL_TABLE} AS
		 WITH st AS (
			SELECT * FROM jsonb_to_recordset($1::jsonb)
			  AS s(id int, step float8, decimals int, attribute boolean, centre float8, sigma float8)
		 )
		 SELECT st.id AS characteristic_id, r.started_at,
		        coalesce(r.ended_at, ${fromEpochMs('$2::float8')}) AS ended_at,
		        st.step, st.decimals, st.attribute,
		        coalesce(ps.mean, st.centre) AS mean, coalesce(ps.sd, st.sigma) AS sd
		 FROM run r
		 JOIN characteristic c ON c.machine_id = r.machine_id
		 JOIN st ON st.id = c.id
		 LEFT JOIN lot_parameter_summary ps ON ps.lot_id = r.lot_id AND ps.characteristic_id = c.id`,
		[JSON.stringify(steps), now]
	);
	await database.query(`CREATE INDEX ON ${FILL_TABLE} (started_at)`);
	await database.query(`ANALYZE ${FILL_TABLE}`);
}

/** One day of samples over every run interval overlapping it, in one statement. */
async function fillDay(
	database: Database,
	partition: string,
	dayStart: number,
	dayEnd: number
): Promise<number> {
	const start = fromEpochMs('$1::float8');
	const end = fromEpochMs('$2::float8');
	// Normal draw (Box-Muller) around the lot's summary; attribute counts are whole and ≥ 0.
	const draw = `f.mean + f.sd * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())`;
	const rows = await database.query<{ n: number }>(
		`WITH ins AS (
			INSERT INTO "${partition}" (characteristic_id, ts, seq, value, flags, received_at)
			SELECT f.characteristic_id, g.ts, 0,
			       CASE WHEN f.attribute THEN greatest(0, round((${draw})::numeric, 0))::float8
			            ELSE round((${draw})::numeric, f.decimals)::float8 END,
			       0, g.ts
			FROM ${FILL_TABLE} f
			CROSS JOIN LATERAL generate_series(
				greatest(f.started_at, ${start}),
				least(f.ended_at, ${end}) - interval '1 microsecond',
				f.step * interval '1 millisecond'
			) AS g(ts)
			WHERE f.started_at < ${end} AND f.ended_at > ${start}
			  AND f.started_at > ${start} - interval '3 days'
			RETURNING 1
		)
		SELECT count(*)::float8 AS n FROM ins`,
		[dayStart, dayEnd]
	);
	return rows[0]?.n ?? 0;
}

/**
 * Subgroups of the generated samples, as the SPC monitor would have stored them: one per
 * characteristic per subgroup duration (subgroup size × sampling interval), its mean and range,
 * for the days that have samples and no subgroups yet (resumable like the samples). The lot
 * page draws X̄ and attribute charts from `subgroup`, so without them the drill-down benchmark
 * would measure empty charts.
 */
async function fillSubgroups(
	database: Database,
	days: readonly number[],
	now: number,
	log: (line: string) => void
): Promise<number> {
	const chars = await database.query<{ id: number }>(
		`SELECT id FROM characteristic WHERE chart NOT IN ('imr', 'ewma', 'cusum') ORDER BY id`
	);
	const ids = chars.map((c) => c.id);
	if (ids.length === 0) return 0;
	const t0 = performance.now();
	let rows = 0;
	let written = 0;
	for (const [i, day] of days.entries()) {
		const a = new Date(day).toISOString();
		const b = new Date(Math.min(day + DAY_MS, now)).toISOString();
		const any = await database.query(
			`SELECT 1 AS one FROM subgroup WHERE characteristic_id = ANY($1::int[])
			   AND ts >= $2::timestamptz AND ts < $3::timestamptz LIMIT 1`,
			[ids, a, b]
		);
		if (any.length > 0) continue;
		const [{ n }] = await database.query<{ n: number }>(
			`WITH ins AS (
				INSERT INTO subgroup (characteristic_id, ts, n, value, dispersion, received_at)
				SELECT s.characteristic_id, min(s.ts), count(*)::int, avg(s.value),
				       max(s.value) - min(s.value), min(s.ts)
				FROM sample s
				JOIN characteristic c ON c.id = s.characteristic_id
				WHERE s.characteristic_id = ANY($1::int[])
				  AND s.ts >= $2::timestamptz AND s.ts < $3::timestamptz
				GROUP BY s.characteristic_id,
				         date_bin(c.subgroup_size * c.sampling_interval_ms * interval '1 millisecond',
				                  s.ts, timestamptz '2000-01-01')
				ON CONFLICT DO NOTHING
				RETURNING 1
			)
			SELECT count(*)::float8 AS n FROM ins`,
			[ids, a, b]
		);
		rows += n;
		written++;
		if (written % 50 === 0 || i === days.length - 1) {
			const sec = (performance.now() - t0) / 1000;
			log(`  subgroups to ${a.slice(0, 10)}: ${rows.toLocaleString('en')} in ${sec.toFixed(0)} s`);
		}
	}
	if (written > 0) await database.query('ANALYZE subgroup');
	return rows;
}

async function main(): Promise<number> {
	const url = process.env.DATABASE_URL;
	if (!url || !/^postgres(ql)?:\/\//.test(url)) {
		console.error('DATABASE_URL must name a PostgreSQL database (postgres://…)');
		return 2;
	}
	const samples = Number(process.env.HISTORY_SAMPLES ?? DEFAULT_HISTORY_SAMPLES);
	const seed = Number(process.env.HISTORY_SEED ?? 1);
	if (!Number.isInteger(samples) || samples <= 0 || !Number.isInteger(seed)) {
		console.error('HISTORY_SAMPLES must be a positive integer, HISTORY_SEED an integer');
		return 2;
	}
	await generateHistory({ url, samples, seed });
	return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	main().then(
		(code) => process.exit(code),
		(error: unknown) => {
			console.error(error);
			process.exit(1);
		}
	);
}
