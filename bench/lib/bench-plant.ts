/**
 * The plant the ingest and latency benchmarks' hub is seeded with: I-MR characteristics only,
 * so every sample is a plotted point — the worst case for the fan-out, and independent of how
 * the demo plant charts its data (since its rational-subgroup rework, the demo plots one X̄
 * point per 30-600 samples, which would leave the latency benchmark almost nothing to carry).
 * Same shape as the demo plant (src/lib/demo/plant.ts), seeded by the same seeder.
 */
import type { DemoCharacteristic, DemoMachine, DemoPlant } from '../../src/lib/demo/plant';

/** Line B1 carries the latency benchmark's room: 36 characteristics, like the demo's line 1. */
const LINES = [
	{ code: 'B1', machines: 4, perMachine: 9 },
	{ code: 'B2', machines: 2, perMachine: 8 }
];

function characteristic(code: string, index: number): DemoCharacteristic {
	const mean = 100 + index;
	const sigma = 0.5;
	return {
		code,
		name: `Bench measurement ${code}`,
		unit: 'mm',
		kind: 'variable',
		chart: 'imr',
		subgroupSize: 1,
		samplingIntervalMs: 100,
		decimals: 3,
		spec: { lsl: mean - 6 * sigma, target: mean, usl: mean + 6 * sigma },
		suspect: { physicalMin: 0, physicalMax: 10_000, specWidths: 1 },
		rules: 'nelson-all',
		process: { mean, sigma }
	};
}

export const BENCH_PLANT: DemoPlant = {
	site: { code: 'BENCH', name: 'Benchmark plant' },
	lines: LINES.map((l) => ({
		code: l.code,
		name: `Benchmark line ${l.code}`,
		machines: Array.from({ length: l.machines }, (_, m): DemoMachine => ({
			code: `${l.code}M${m + 1}`,
			name: `Benchmark machine ${l.code}M${m + 1}`,
			characteristics: Array.from({ length: l.perMachine }, (_, c) =>
				characteristic(`${l.code}M${m + 1}.C${c + 1}`, m * l.perMachine + c)
			)
		}))
	}))
};
