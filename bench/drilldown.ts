/**
 * Drill-down speed (issue 5): server time of the lot history page (`loadLotHistory` and
 * `loadLotCharts`, what /lots/[id] loads) and of trace forward from a material lot (`traceForward`, the recall scope), on
 * PostgreSQL holding a year of demo history and ≥ 50 million samples — against a primary-key
 * lookup of the lot row measured in the same run, interleaved with them (the floor any page
 * pays: one round trip and one index probe).
 *
 * The history database (BENCH_HISTORY_DATABASE, default tracewall_bench_history) is created
 * and filled by scripts/generate-history.ts on the first run (≈ 7 min on 2 cores) and reused
 * afterwards (the generator skips filled days). Lots and material lots are drawn at random
 * (fixed seed) among all of them; the lots running now (live summaries over raw samples) are
 * measured apart, since their record is computed differently.
 *
 * Budgets: lot history p95 < 150 ms, trace forward p95 < 300 ms.
 */
import postgres from 'postgres';
import { z } from 'zod';
import { mulberry32 } from '../src/lib/demo/generator';
import { openDatabase, type Database } from '../src/lib/server/db';
import type { LotViewer } from '../src/lib/server/lots/access';
import { loadLotCharts } from '../src/lib/server/lots/charts';
import { loadLotHistory } from '../src/lib/server/lots/history';
import { traceForward } from '../src/lib/server/lots/trace';
import { DEFAULT_HISTORY_SAMPLES, generateHistory } from '../scripts/generate-history';
import type { Bench, BenchResult } from './index';
import { benchEnv } from './lib/env';
import { redact } from './lib/scratch-postgres';

const LOT_HISTORY_P95_MS = 150;
const TRACE_FORWARD_P95_MS = 300;

const drilldownEnv = z.object({
	BENCH_HISTORY_DATABASE: z
		.string()
		.regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a plain lower-case database name')
		.default('tracewall_bench_history'),
	BENCH_HISTORY_SAMPLES: z.coerce.number().int().positive().default(DEFAULT_HISTORY_SAMPLES),
	/** Measured calls of each function (after WARMUP). */
	BENCH_DRILLDOWN_CALLS: z.coerce.number().int().min(20).max(100_000).default(300)
});

const WARMUP = 30;

interface Stats {
	n: number;
	p50: number;
	p95: number;
	max: number;
	mean: number;
}

function stats(ms: number[]): Stats {
	const sorted = [...ms].sort((a, b) => a - b);
	const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
	return {
		n: sorted.length,
		p50: at(0.5),
		p95: at(0.95),
		max: sorted[sorted.length - 1],
		mean: sorted.reduce((a, b) => a + b, 0) / sorted.length
	};
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
	const t0 = performance.now();
	await fn();
	return performance.now() - t0;
}

/** The history database's URL, created on the configured server when missing. */
async function historyDatabaseUrl(adminUrl: string, name: string): Promise<string> {
	const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
	try {
		const found = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
		if (found.length === 0) await admin.unsafe(`CREATE DATABASE "${name}"`);
	} finally {
		await admin.end({ timeout: 5 });
	}
	const url = new URL(adminUrl);
	url.pathname = `/${name}`;
	return url.toString();
}

/** A quality engineer on every line: sees every lot and may trace (not a customer). */
async function qualityEngineer(database: Database): Promise<LotViewer> {
	const [qe] = await database.query<{ id: number; full_name: string }>(
		`SELECT id, full_name FROM app_user WHERE username = 'qe'`
	);
	if (!qe) throw new Error('drilldown: the demo user qe is missing from the history database');
	return {
		kind: 'user',
		userId: qe.id,
		username: 'qe',
		fullName: qe.full_name,
		sessionId: 'bench',
		canSign: true,
		customerId: null,
		grants: [{ role: 'quality-engineer', siteId: null, lineId: null }]
	} as LotViewer;
}

function draw<T>(rand: () => number, xs: readonly T[], n: number): T[] {
	return Array.from({ length: n }, () => xs[Math.floor(rand() * xs.length)]);
}

async function run(): Promise<BenchResult> {
	const base = benchEnv();
	const env = drilldownEnv.parse(process.env);
	const url = await historyDatabaseUrl(base.TEST_DATABASE_URL, env.BENCH_HISTORY_DATABASE);
	const generated = await generateHistory({
		url,
		samples: env.BENCH_HISTORY_SAMPLES,
		log: (line) => process.stderr.write(`  [history] ${line}\n`)
	});
	const database = await openDatabase({ url, maxConnections: 4 });
	try {
		const viewer = await qualityEngineer(database);
		const lots = (
			await database.query<{ id: number }>(
				`SELECT id FROM lot WHERE started_at IS NOT NULL AND status <> 'running' ORDER BY id`
			)
		).map((r) => r.id);
		const running = (
			await database.query<{ id: number }>(
				`SELECT id FROM lot WHERE status = 'running' ORDER BY id`
			)
		).map((r) => r.id);
		const materialLots = (
			await database.query<{ id: number }>(
				`SELECT DISTINCT material_lot_id AS id FROM lot_material ORDER BY 1`
			)
		).map((r) => r.id);
		const [{ span }] = await database.query<{ span: number }>(
			`SELECT (extract(epoch FROM max(started_at) - min(started_at)) / 86400)::float8 AS span FROM lot`
		);
		const rand = mulberry32(20261204);
		const calls = env.BENCH_DRILLDOWN_CALLS;
		const pk = (id: number) => database.query(`SELECT * FROM lot WHERE id = $1`, [id]);
		// What /lots/[id] loads on the server: the record, then its SPC charts.
		const history = async (id: number) => {
			const record = await loadLotHistory(database, id, viewer);
			if (!record) throw new Error(`drilldown: lot ${id} not found`);
			await loadLotCharts(database, record);
		};
		const trace = async (id: number) => {
			const t = await traceForward(database, id, viewer);
			if (!t) throw new Error(`drilldown: material lot ${id} not found`);
		};

		for (const id of draw(rand, lots, WARMUP)) {
			await history(id);
			await pk(id);
		}
		for (const id of draw(rand, materialLots, WARMUP)) await trace(id);

		const pkMs: number[] = [];
		const historyMs: number[] = [];
		const traceMs: number[] = [];
		const runningMs: number[] = [];
		const lotSample = draw(rand, lots, calls);
		const mlSample = draw(rand, materialLots, calls);
		for (let i = 0; i < calls; i++) {
			// Interleaved, so the baseline sees the same cache and load as what it is compared with.
			pkMs.push(await timed(() => pk(lotSample[i])));
			historyMs.push(await timed(() => history(lotSample[i])));
			traceMs.push(await timed(() => trace(mlSample[i])));
			if (i % 10 === 0 && running.length > 0) {
				runningMs.push(await timed(() => history(running[(i / 10) % running.length])));
			}
		}
		const p = stats(pkMs);
		const h = stats(historyMs);
		const t = stats(traceMs);
		const r = runningMs.length > 0 ? stats(runningMs) : null;
		return {
			figures: [
				{ label: 'samples in the history database', value: generated.samples, unit: '' },
				{ label: 'finished lots drawn from', value: lots.length, unit: '' },
				{ label: 'material lots consumed', value: materialLots.length, unit: '' },
				{ label: 'history span', value: span, unit: 'days' },
				{ label: 'baseline: lot row by primary key p50', value: p.p50, unit: 'ms' },
				{ label: 'baseline: lot row by primary key p95', value: p.p95, unit: 'ms' },
				{ label: `lot page (history + charts) p50 (${h.n} random lots)`, value: h.p50, unit: 'ms' },
				{ label: 'lot page p95', value: h.p95, unit: 'ms' },
				{ label: 'lot page max', value: h.max, unit: 'ms' },
				{ label: 'lot page p95 / baseline p95', value: h.p95 / p.p95, unit: '×' },
				...(r
					? [
							{
								label: `lot page of a running lot p50 (${r.n} calls)`,
								value: r.p50,
								unit: 'ms'
							},
							{ label: 'lot page of a running lot p95', value: r.p95, unit: 'ms' }
						]
					: []),
				{ label: `traceForward p50 (${t.n} random material lots)`, value: t.p50, unit: 'ms' },
				{ label: 'traceForward p95', value: t.p95, unit: 'ms' },
				{ label: 'traceForward max', value: t.max, unit: 'ms' }
			],
			budgets: [
				{
					label: 'history database holds ≥ 50 million samples',
					met: generated.samples >= 50_000_000,
					required: true,
					detail: `${generated.samples.toLocaleString('en')} samples`
				},
				{
					label: `lot history p95 < ${LOT_HISTORY_P95_MS} ms`,
					met: h.p95 < LOT_HISTORY_P95_MS,
					required: true,
					detail: `p95 ${h.p95.toFixed(1)} ms (baseline PK lookup p95 ${p.p95.toFixed(2)} ms)`
				},
				...(r
					? [
							{
								label: `lot history of a running lot p95 < ${LOT_HISTORY_P95_MS} ms`,
								met: r.p95 < LOT_HISTORY_P95_MS,
								required: true,
								detail: `p95 ${r.p95.toFixed(1)} ms over ${r.n} calls (live summaries from raw samples)`
							}
						]
					: []),
				{
					label: `trace forward p95 < ${TRACE_FORWARD_P95_MS} ms`,
					met: t.p95 < TRACE_FORWARD_P95_MS,
					required: true,
					detail: `p95 ${t.p95.toFixed(1)} ms (baseline PK lookup p95 ${p.p95.toFixed(2)} ms)`
				}
			],
			notes: [
				`database ${redact(url)}, reused between runs (generated in ${generated.seconds.toFixed(0)} s this run; ${generated.daysWritten} days written)`,
				'server time = the service functions called in-process on the postgres.js pool, as the route calls them (lot page: loadLotHistory + loadLotCharts)'
			]
		};
	} finally {
		await database.close();
	}
}

export const bench: Bench = {
	name: 'drilldown',
	description: 'lot history and trace forward on a year of history with ≥ 50M samples (PostgreSQL)',
	run
};
