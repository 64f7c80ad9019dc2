/**
 * Samples at plant rate for a set of characteristics: each at its own sampling interval, values
 * around its centre line with its sigma, and — for charts that plot subgroups (X̄-R, X̄-S,
 * attribute charts) — one subgroup per `subgroupSize` samples, as a worker sends them. Used by
 * the wall benchmark to backfill a full chart window and, optionally, to feed live data.
 */
import type {
	CharacteristicConfig,
	IngestBatch,
	IngestSubgroup,
	SampleTuple
} from '../../src/lib/realtime/events';
import { samplesBatch } from './rows';

const PLOTS_SAMPLES = new Set(['imr', 'ewma', 'cusum']);

interface Stream {
	config: CharacteristicConfig;
	nextTs: number;
	seq: number;
	group: number[];
}

export interface PlantFeed {
	/** Everything due in (last call, untilMs], as batches of at most `maxSamples` samples. */
	until(untilMs: number, maxSamples: number): IngestBatch[];
}

/** Seeded standard normal (mulberry32 + Box-Muller). */
function normal(seed: number): () => number {
	let s = seed >>> 0;
	const uniform = () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
	};
	return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function round(value: number, decimals: number): number {
	const f = 10 ** Math.min(decimals + 1, 12);
	return Math.round(value * f) / f;
}

/**
 * Each characteristic's stream starts one interval after `fromMs(config)` and continues
 * seamlessly across calls.
 */
export function createPlantFeed(
	characteristics: readonly CharacteristicConfig[],
	fromMs: (config: CharacteristicConfig) => number,
	options: { seed?: number; pointEveryMs?: number } = {}
): PlantFeed {
	const seed = options.seed ?? 7;
	// Samples per plotted subgroup: the configured size, or — to put a given number of points
	// on every chart — as many samples as fall into `pointEveryMs` (at least one).
	// With a point cadence, slower characteristics (attribute lots every minute) are sampled at
	// that cadence instead, so every chart gets its points.
	const intervalOf = (c: CharacteristicConfig) =>
		options.pointEveryMs === undefined
			? c.samplingIntervalMs
			: Math.min(c.samplingIntervalMs, options.pointEveryMs);
	const groupSize = (c: CharacteristicConfig) =>
		options.pointEveryMs === undefined
			? c.subgroupSize
			: Math.max(1, Math.round(options.pointEveryMs / intervalOf(c)));
	const z = normal(seed);
	const streams: Stream[] = characteristics.map((config) => ({
		config,
		nextTs: Math.round(fromMs(config)) + intervalOf(config),
		seq: 0,
		group: []
	}));
	return {
		until(untilMs, maxSamples) {
			const samples: SampleTuple[] = [];
			const subgroups: IngestSubgroup[] = [];
			for (const s of streams) {
				const c = s.config;
				const centre = c.limits?.centre ?? c.spec.target ?? 0;
				const sigma = c.limits?.sigma ?? 1;
				for (const every = intervalOf(c); s.nextTs <= untilMs; s.nextTs += every) {
					const value =
						c.kind === 'attribute'
							? Math.max(0, Math.round(centre + Math.sqrt(Math.max(centre, 0.25)) * z()))
							: round(centre + sigma * z(), c.decimals);
					samples.push([c.id, s.nextTs, s.seq++, value, 0]);
					if (PLOTS_SAMPLES.has(c.chart)) continue;
					s.group.push(value);
					if (s.group.length < groupSize(c)) continue;
					const mean = s.group.reduce((a, b) => a + b, 0) / s.group.length;
					const n = s.group.length;
					const sd =
						n > 1 ? Math.sqrt(s.group.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : null;
					const range = n > 1 ? Math.max(...s.group) - Math.min(...s.group) : null;
					subgroups.push({
						characteristicId: c.id,
						ts: s.nextTs,
						n: s.group.length,
						value: mean,
						dispersion: c.kind === 'attribute' ? null : c.chart === 'xbar-r' ? range : sd
					});
					s.group = [];
				}
			}
			// Each subgroup travels in the batch of the sample that closes it (the hub plots a
			// subgroup only when its closing sample was accepted in the same batch).
			samples.sort((a, b) => a[1] - b[1]);
			const closing = new Map(subgroups.map((g) => [`${g.characteristicId}:${g.ts}`, g]));
			const batches: IngestBatch[] = [];
			for (let i = 0; i < samples.length; i += maxSamples) {
				const batch = samplesBatch(samples.slice(i, i + maxSamples));
				for (const [id, ts] of batch.samples) {
					const group = closing.get(`${id}:${ts}`);
					if (group) batch.subgroups.push(group);
				}
				batches.push(batch);
			}
			return batches;
		}
	};
}
