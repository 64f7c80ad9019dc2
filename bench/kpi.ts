/**
 * KPI board speed (issue 6): server time of each board (`loadBoards`, what /kpi?board=… loads:
 * every figure of the board with its trend, plus the filter choices) and of a drill-down list
 * (`kpiDrilldown`), on PostgreSQL holding a year of demo history and ≥ 50 million samples —
 * against a primary-key lookup of a lot row measured in the same run, interleaved (the floor any
 * page pays).
 *
 * Filters are drawn at random (fixed seed) among the last 12 months (half the calls: the
 * heaviest case), 90 days and 30 days, whole plant or one line. Uses the history database of
 * bench/drilldown.ts (BENCH_HISTORY_DATABASE, default tracewall_bench_history), created and
 * filled on the first run by scripts/generate-history.ts.
 *
 * Budget: each board p95 < 300 ms.
 */
import postgres from 'postgres';
import { z } from 'zod';
import { mulberry32 } from '../src/lib/demo/generator';
import { BOARD_KEYS, type BoardKey, type KpiKey } from '../src/lib/kpi/definitions';
import { kpiFilterSchema } from '../src/lib/kpi/filters';
import { openDatabase } from '../src/lib/server/db';
import { kpiContext } from '../src/lib/server/kpi/board';
import { kpiDrilldown } from '../src/lib/server/kpi/drilldown';
import { loadBoards } from '../src/lib/server/kpi/page';
import { DEFAULT_HISTORY_SAMPLES, generateHistory } from '../scripts/generate-history';
import type { Bench, BenchBudget, BenchFigure, BenchResult } from './index';
import { benchEnv } from './lib/env';
import { redact } from './lib/scratch-postgres';

const BOARD_P95_MS = 300;
const KPI_TABLES = [
	'lot',
	'product',
	'customer',
	'line',
	'site',
	'inspection',
	'inspection_plan',
	'lot_parameter_summary',
	'signature',
	'alarm',
	'deviation',
	'capa',
	'change_request',
	'kpi_target'
];
const WARMUP = 10;

const kpiEnv = z.object({
	BENCH_HISTORY_DATABASE: z
		.string()
		.regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a plain lower-case database name')
		.default('tracewall_bench_history'),
	BENCH_HISTORY_SAMPLES: z.coerce.number().int().positive().default(DEFAULT_HISTORY_SAMPLES),
	/** Measured calls of each board (after WARMUP). */
	BENCH_KPI_CALLS: z.coerce.number().int().min(20).max(10_000).default(100)
});

function stats(ms: number[]) {
	const sorted = [...ms].sort((a, b) => a - b);
	const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
	return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
	const t0 = performance.now();
	await fn();
	return performance.now() - t0;
}

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

/**
 * The history as bench/drilldown.ts leaves it. When it is already there (lots seeded and the
 * sample partitions' row estimate at the target) the generator's day-by-day check is skipped:
 * it re-reads every day's subgroups (~15 min) and the KPI boards read no samples.
 */
async function ensureHistory(
	url: string,
	target: number
): Promise<{ samples: number; seconds: number; daysWritten: number }> {
	const check = postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
	try {
		const [{ ready }] = await check<{ ready: boolean }[]>`
			SELECT to_regclass('public.lot') IS NOT NULL AND to_regclass('public.sample') IS NOT NULL AS ready`;
		if (ready) {
			const [row] = await check<{ lots: number; estimate: number }[]>`
				SELECT (SELECT count(*) FROM lot)::float8 AS lots,
				       (SELECT coalesce(sum(c.reltuples), 0) FROM pg_inherits i
				          JOIN pg_class c ON c.oid = i.inhrelid
				          WHERE i.inhparent = 'sample'::regclass)::float8 AS estimate`;
			if (row.lots > 0 && row.estimate >= target) {
				return { samples: row.estimate, seconds: 0, daysWritten: 0 };
			}
		}
	} finally {
		await check.end({ timeout: 5 });
	}
	return generateHistory({
		url,
		samples: target,
		log: (line) => process.stderr.write(`  [history] ${line}\n`)
	});
}

async function run(): Promise<BenchResult> {
	const base = benchEnv();
	const env = kpiEnv.parse(process.env);
	const url = await historyDatabaseUrl(base.TEST_DATABASE_URL, env.BENCH_HISTORY_DATABASE);
	const generated = await ensureHistory(url, env.BENCH_HISTORY_SAMPLES);
	// The pool size of the server (openDatabase's default): a board's statements run side by side.
	const database = await openDatabase({ url });
	try {
		const lines = (
			await database.query<{ code: string }>(`SELECT code FROM line ORDER BY code`)
		).map((r) => r.code);
		const lotIds = (await database.query<{ id: number }>(`SELECT id FROM lot ORDER BY id`)).map(
			(r) => r.id
		);
		const [{ n: lotCount }] = await database.query<{ n: number }>(
			`SELECT count(*)::float8 AS n FROM lot WHERE completed_at > now() - interval '365 days'`
		);
		const rand = mulberry32(20261218);
		const drawUrl = (board: BoardKey | null) => {
			const r = rand();
			const range = r < 0.5 ? '365d' : r < 0.75 ? '90d' : '30d';
			const u = new URL('http://bench/kpi');
			u.searchParams.set('range', range);
			if (rand() < 0.3 && lines.length > 0) {
				u.searchParams.set('line', lines[Math.floor(rand() * lines.length)]);
			}
			if (board) u.searchParams.set('board', board);
			return u;
		};
		const pk = () =>
			database.query(`SELECT * FROM lot WHERE id = $1`, [
				lotIds[Math.floor(rand() * lotIds.length)]
			]);
		const board = (key: BoardKey | null) => {
			const u = drawUrl(key);
			return loadBoards(database, u, key ? [key] : BOARD_KEYS, Date.now());
		};
		const DRILL: KpiKey[] = [
			'batch-yield',
			'release-time',
			'alarms-per-line',
			'record-completeness'
		];
		const drill = (i: number) =>
			kpiDrilldown(
				database,
				DRILL[i % DRILL.length],
				kpiContext(kpiFilterSchema.parse({ range: '365d' }), Date.now())
			);

		for (let i = 0; i < WARMUP; i++) {
			for (const b of BOARD_KEYS) await board(b);
			await board(null);
			await drill(i);
			await pk();
		}
		const pkMs: number[] = [];
		const boardMs = new Map<string, number[]>(
			[...BOARD_KEYS, 'all', 'drill-down'].map((k) => [k, []])
		);
		for (let i = 0; i < env.BENCH_KPI_CALLS; i++) {
			// Interleaved: the baseline sees the same cache and load as the boards.
			pkMs.push(await timed(pk));
			for (const b of BOARD_KEYS) boardMs.get(b)?.push(await timed(() => board(b)));
			boardMs.get('all')?.push(await timed(() => board(null)));
			boardMs.get('drill-down')?.push(await timed(() => drill(i)));
		}
		const p = stats(pkMs);
		const figures: BenchFigure[] = [
			{ label: 'samples in the history database', value: generated.samples, unit: '' },
			{ label: 'lots completed in the last 12 months', value: lotCount, unit: '' },
			{ label: 'baseline: lot row by primary key p50', value: p.p50, unit: 'ms' },
			{ label: 'baseline: lot row by primary key p95', value: p.p95, unit: 'ms' }
		];
		const budgets: BenchBudget[] = [
			{
				label: 'history database holds ≥ 50 million samples',
				met: generated.samples >= 50_000_000,
				required: true,
				detail: `${Math.round(generated.samples).toLocaleString('en')} samples (planner estimate when reused)`
			}
		];
		for (const [name, ms] of boardMs) {
			const s = stats(ms);
			const what = BOARD_KEYS.includes(name as BoardKey) ? `board ${name}` : name;
			figures.push(
				{ label: `${what} p50 (${s.n} calls)`, value: s.p50, unit: 'ms' },
				{ label: `${what} p95`, value: s.p95, unit: 'ms' },
				{ label: `${what} max`, value: s.max, unit: 'ms' }
			);
			if (BOARD_KEYS.includes(name as BoardKey)) {
				budgets.push({
					label: `board ${name} p95 < ${BOARD_P95_MS} ms`,
					met: s.p95 < BOARD_P95_MS,
					required: true,
					detail: `p95 ${s.p95.toFixed(1)} ms (baseline PK lookup p95 ${p.p95.toFixed(2)} ms)`
				});
			} else {
				budgets.push({
					label: `${what} p95 < ${BOARD_P95_MS} ms`,
					met: s.p95 < BOARD_P95_MS,
					required: false,
					detail: `p95 ${s.p95.toFixed(1)} ms`
				});
			}
		}
		return {
			figures,
			budgets,
			notes: [
				`database ${redact(url)}, reused between runs (generated in ${generated.seconds.toFixed(0)} s this run; ${generated.daysWritten} days written)`,
				`tables analysed before measuring (autovacuum is off on the bench server): ${KPI_TABLES.join(', ')}`,
				'server time = loadBoards / kpiDrilldown called in-process on the postgres.js pool, as the routes call them; filters drawn among 12 months (half), 90 and 30 days, whole plant or one line',
				"'all' = /kpi without ?board (every board on one page); drill-down = a year of batch yield, release time, alarms per line or record completeness rows"
			]
		};
	} finally {
		await database.close();
	}
}

export const bench: Bench = {
	name: 'kpi',
	description: 'KPI boards and drill-downs over a year of history with ≥ 50M samples (PostgreSQL)',
	run
};
