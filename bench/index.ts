/**
 * `npm run bench` (= `tsx bench/index.ts`): runs every registered benchmark module in order and
 * prints its figures. Benchmarks are never timed tests: budgets (docs, DESIGN.md §7) are checked
 * by a person reading this output, because timings on a shared machine are noisy.
 *
 * Registering a benchmark:
 * 1. Create `bench/<area>.ts` exporting `const bench: Bench` — a name, a one-line description
 *    and an async-or-sync `run()` returning `BenchResult` (figures and a pass/fail per budget).
 *    `run()` owns its warm-up; print nothing there, return the figures.
 * 2. Add one line `() => import('./<area>')` to `BENCH_MODULES` below.
 * `npm run bench -- <name> [<name> …]` runs only the named benchmarks. The process exits
 * non-zero when a benchmark throws or misses a budget it declares as `required`.
 */

/** One printed figure, e.g. { label: 'monitor', value: 1.2e7, unit: 'samples/s' }. */
export interface BenchFigure {
	label: string;
	value: number;
	unit: string;
}

/** A budget checked on this run; `required: false` reports without failing the process. */
export interface BenchBudget {
	label: string;
	met: boolean;
	required: boolean;
	detail: string;
}

export interface BenchResult {
	figures: BenchFigure[];
	budgets: BenchBudget[];
	notes?: string[];
}

export interface Bench {
	name: string;
	description: string;
	run(): BenchResult | Promise<BenchResult>;
}

type BenchModule = { bench: Bench };

const BENCH_MODULES: Array<() => Promise<BenchModule>> = [
	() => import('./spc'),
	() => import('./ingest'),
	() => import('./latency'),
	() => import('./wall'),
	() => import('./drilldown'),
	() => import('./kpi')
];

/** Counts and rates per second get k/M prefixes; durations, sizes, ratios and shares stay as they are. */
function formatFigure(v: number, unit: string): string {
	const scalable = unit === '' || unit.endsWith('/s');
	if (scalable && Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)} M${unit}`;
	if (scalable && Math.abs(v) >= 1e3) return `${(v / 1e3).toFixed(1)} k${unit}`;
	const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
	return `${v.toFixed(digits)} ${unit}`;
}

async function main(): Promise<number> {
	const only = process.argv.slice(2);
	let failed = false;
	for (const load of BENCH_MODULES) {
		const { bench } = await load();
		if (only.length > 0 && !only.includes(bench.name)) continue;
		console.log(`\n== ${bench.name}: ${bench.description}`);
		try {
			const result = await bench.run();
			for (const f of result.figures) {
				console.log(`  ${f.label.padEnd(52)} ${formatFigure(f.value, f.unit)}`);
			}
			for (const b of result.budgets) {
				const mark = b.met ? 'ok  ' : b.required ? 'FAIL' : 'miss';
				console.log(`  [${mark}] ${b.label}: ${b.detail}`);
				if (!b.met && b.required) failed = true;
			}
			for (const n of result.notes ?? []) console.log(`  note: ${n}`);
		} catch (e) {
			failed = true;
			console.error(`  benchmark ${bench.name} threw:`, e);
		}
	}
	return failed ? 1 : 0;
}

main().then(
	(code) => process.exit(code),
	(e: unknown) => {
		console.error(e);
		process.exit(1);
	}
);
