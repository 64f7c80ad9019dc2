/**
 * The benchmarks' own environment, validated once with zod (the server's env.ts describes the
 * server's variables; the benchmarks are not the server). Every variable is optional: the
 * defaults reproduce the figures quoted in the closing note of issue 3.
 */
import { z } from 'zod';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DATABASE_KINDS = ['postgres', 'pglite'] as const;
export type BenchDatabaseKind = (typeof DATABASE_KINDS)[number];

const positiveInt = (fallback: number, max: number) =>
	z.coerce.number().int().positive().max(max).default(fallback);

const benchEnvSchema = z.object({
	/** An existing PostgreSQL database to connect through; each run creates and drops its own. */
	TEST_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default(DEFAULT_POSTGRES_URL),
	/** Which databases the ingest and latency benchmarks run on (comma-separated). */
	BENCH_DATABASES: z
		.string()
		.default(DATABASE_KINDS.join(','))
		.transform((s) =>
			s
				.split(',')
				.map((v) => v.trim())
				.filter(Boolean)
		)
		.pipe(z.array(z.enum(DATABASE_KINDS)).min(1)),
	/** Rows per database for the ingest comparison (PGlite gets a quarter: it is ~10× slower). */
	BENCH_INGEST_ROWS: positiveInt(200_000, 5_000_000),
	/** Samples per ingest batch (full path and raw baseline alike). */
	BENCH_INGEST_BATCH: positiveInt(1_000, 50_000),
	/** Batch size of the extra small-batch comparison (≈ the simulator's 200 ms batch); 0 skips it. */
	BENCH_INGEST_SMALL_BATCH: z.coerce.number().int().min(0).max(50_000).default(25),
	/** Batches a worker keeps unacknowledged at once. */
	BENCH_INGEST_WINDOW: positiveInt(4, 256),
	/** Samples per second flowing through /ingest during the latency benchmark. */
	BENCH_LATENCY_RATE: positiveInt(10_000, 200_000),
	BENCH_LATENCY_CLIENTS: positiveInt(50, 1_000),
	/** Measured (steady) window of the latency benchmark, after its warm-up. */
	BENCH_LATENCY_SECONDS: positiveInt(20, 3_600),
	/** Heap sampling duration of the wall benchmark (the fps window is BENCH_WALL_FPS_SECONDS). */
	BENCH_WALL_SECONDS: positiveInt(120, 24 * 3_600),
	BENCH_WALL_FPS_SECONDS: positiveInt(30, 3_600),
	/** Charts the wall benchmark expects on screen. */
	BENCH_WALL_CHARTS: positiveInt(16, 64),
	/**
	 * Who feeds the wall live: the bench feeder (plant sampling rates, one X̄ point per chart per
	 * second so every chart holds 600 points, the issue's case) or the real simulator worker (the
	 * demo as it runs: few points per chart).
	 */
	BENCH_WALL_FEEDER: z.enum(['bench', 'simulator']).default('bench'),
	/** Chromium to drive (Debian's package by default, STACK.md pitfall 8). */
	BENCH_CHROMIUM: z.string().min(1).default('/usr/bin/chromium')
});

export type BenchEnv = z.infer<typeof benchEnvSchema>;

let cached: BenchEnv | undefined;

/** The benchmark environment, parsed on first use; throws naming every bad key. */
export function benchEnv(source: Record<string, string | undefined> = process.env): BenchEnv {
	if (cached && source === process.env) return cached;
	const cleaned = Object.fromEntries(
		Object.entries(source).filter(([, v]) => v !== undefined && v !== '')
	);
	const result = benchEnvSchema.safeParse(cleaned);
	if (!result.success) {
		const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
		throw new Error(`Invalid benchmark environment:\n  ${issues.join('\n  ')}`);
	}
	if (source === process.env) cached = result.data;
	return result.data;
}
