/**
 * Deterministic sample generation for the demo plant: the value of measurement k of a
 * characteristic is a pure function of (seed, characteristic code, k, schedule). Nothing is
 * carried from one sample to the next, so a simulator can restart anywhere, a test can jump to
 * any instant, and the stuck-sensor cause can recompute "the last real reading" exactly.
 *
 * Randomness: a counter-based construction. For each (seed, code, k) a 32-bit key is derived by
 * hashing (FNV-1a of the code, mixed with the seed and k through the murmur3 finaliser); that key
 * seeds a mulberry32 stream, from which normals come by the Box-Muller transform and counts by
 * inversion (Poisson) or Bernoulli sums (binomial). mulberry32 passes gjrand's and PractRand's
 * tests up to moderate lengths, plenty for a demo; it is not for anything security-related.
 *
 * Sample k is taken at simulated time k × samplingIntervalMs (ms since the simulator started).
 */
import type { DemoCharacteristic } from './plant';
import { activeCauses, DEMO_SCHEDULE, type DemoSchedule } from './schedule';

/** mulberry32: a tiny 32-bit PRNG with a 2^32 period; returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** FNV-1a, 32 bit, over the UTF-16 code units of a string. */
export function fnv1a(s: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < s.length; i++) {
		h ^= s.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	h ^= h >>> 16;
	return h >>> 0;
}

/** Key of the random stream behind sample k of a characteristic (k ≥ 0, below 2^53). */
export function sampleKey(seed: number, codeHash: number, k: number): number {
	const lo = k >>> 0;
	const hi = Math.floor(k / 4294967296) >>> 0;
	return fmix32(fmix32(fmix32(codeHash ^ fmix32(seed >>> 0)) ^ lo) ^ fmix32(hi + 0x9e3779b9));
}

/** One standard normal by Box-Muller (the cosine branch; 1 − u keeps the log finite). */
export function standardNormal(rand: () => number): number {
	const u1 = 1 - rand();
	const u2 = rand();
	return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Poisson(λ) by inversion of the CDF; fine for the small λ (< 50) of the demo's counts. */
export function poisson(rand: () => number, lambda: number): number {
	if (!(lambda > 0)) return 0;
	const u = rand();
	let k = 0;
	let p = Math.exp(-lambda);
	let cdf = p;
	while (u > cdf && k < 10_000) {
		k++;
		p *= lambda / k;
		cdf += p;
	}
	return k;
}

/** Binomial(n, p) as a sum of n Bernoulli trials; n is a lot size of a few hundred at most. */
export function binomial(rand: () => number, n: number, p: number): number {
	const q = Math.min(1, Math.max(0, p));
	let k = 0;
	for (let i = 0; i < n; i++) if (rand() < q) k++;
	return k;
}

function roundTo(x: number, resolution: number): number {
	if (!(resolution > 0)) return x;
	// Round through the decimal count where the resolution is a power of ten, so 0.1 steps print
	// as 270.3, not 270.30000000000001.
	const decimals = Math.round(-Math.log10(resolution));
	if (Math.abs(resolution - 10 ** -decimals) < 1e-12 * resolution) {
		return Number((Math.round(x / resolution) * resolution).toFixed(Math.max(0, decimals)));
	}
	return Math.round(x / resolution) * resolution;
}

/** What the generator produced for one sample slot. */
export type GeneratedSample =
	/** A measurement. For attribute characteristics `value` is the count in a lot of `n`. */
	| { kind: 'value'; value: number; n: number; causes: readonly string[] }
	/** No measurement in this slot (a dropout). */
	| { kind: 'none'; causes: readonly string[] };

export interface GeneratorOptions {
	seed: number;
	schedule?: DemoSchedule;
}

/** A deterministic sample source for one characteristic. */
export interface CharacteristicGenerator {
	readonly characteristic: DemoCharacteristic;
	/** Simulated time of sample k, ms since the simulator started. */
	timeOf(k: number): number;
	/** Sample k (k = 0, 1, 2, …). Pure: the same k always gives the same sample. */
	sample(k: number): GeneratedSample;
}

export function createGenerator(
	characteristic: DemoCharacteristic,
	options: GeneratorOptions
): CharacteristicGenerator {
	const schedule = options.schedule ?? DEMO_SCHEDULE;
	const codeHash = fnv1a(characteristic.code);
	/** Keys the population picks of a held mixture apart from the samples' own streams. */
	const mixtureHash = fnv1a(`${characteristic.code}#mixture`);
	const interval = characteristic.samplingIntervalMs;
	const { mean, sigma } = characteristic.process;
	const resolution =
		characteristic.noise?.resolution ??
		(characteristic.kind === 'variable' ? 10 ** -characteristic.decimals : 1);

	const timeOf = (k: number): number => k * interval;

	/** Sample k with every active cause applied, except `stuck` when `ignoreStuck`. */
	function generate(k: number, ignoreStuck: boolean): GeneratedSample {
		const t = timeOf(k);
		const active = activeCauses(characteristic.code, t, schedule);
		const ids = active.map((a) => a.cause.id);
		if (active.some((a) => a.cause.kind === 'dropout')) return { kind: 'none', causes: ids };
		if (!ignoreStuck) {
			const stuck = active.find((a) => a.cause.kind === 'stuck');
			if (stuck) {
				// Frozen at the reading of the first sample of the window (a held input register).
				const k0 = k - Math.floor(stuck.sinceMs / interval);
				const frozen = generate(k0, true);
				return frozen.kind === 'value' ? { ...frozen, causes: ids } : frozen;
			}
		}
		const rand = mulberry32(sampleKey(options.seed, codeHash, k));

		if (characteristic.kind === 'attribute') {
			let rate = mean;
			for (const { cause } of active) if (cause.kind === 'shift') rate *= cause.size;
			const n = characteristic.subgroupSize;
			let count: number;
			if (characteristic.chart === 'p' || characteristic.chart === 'np') {
				count = binomial(rand, n, rate);
			} else if (characteristic.chart === 'u') {
				count = poisson(rand, rate * n);
			} else {
				count = poisson(rand, rate);
			}
			return { kind: 'value', value: count, n, causes: ids };
		}

		let offset = 0;
		let sd = sigma;
		let factor = 1;
		for (const { cause, sinceMs } of active) {
			if (cause.sdFactor !== undefined) sd *= cause.sdFactor;
			switch (cause.kind) {
				case 'shift':
				case 'outlier':
					offset += cause.size * sigma;
					break;
				case 'drift':
					offset += cause.size * sigma * (Math.floor(sinceMs / interval) + 1);
					break;
				case 'cycle': {
					const hold = cause.holdMs ?? interval;
					offset += cause.size * sigma * (Math.floor(sinceMs / hold) % 2 === 0 ? 1 : -1);
					break;
				}
				case 'mixture':
					if (cause.holdMs === undefined) {
						// Draw the population first so the normal below keeps its own two uniforms.
						offset += cause.size * sigma * (rand() < 0.5 ? 1 : -1);
					} else {
						// One population per hold, from a stream of its own keyed by the hold's start
						// (simulated ms), so every sample of the hold agrees and the noise is untouched.
						const holdStart = t - (sinceMs % cause.holdMs);
						const pick = mulberry32(sampleKey(options.seed, mixtureHash, holdStart))();
						offset += cause.size * sigma * (pick < 0.5 ? 1 : -1);
					}
					break;
				case 'gross-error':
					factor *= cause.size;
					break;
				default:
					break;
			}
		}
		const x = roundTo(mean + offset + sd * standardNormal(rand), resolution);
		return {
			kind: 'value',
			value: factor === 1 ? x : roundTo(x * factor, resolution),
			n: 1,
			causes: ids
		};
	}

	return { characteristic, timeOf, sample: (k) => generate(k, false) };
}
