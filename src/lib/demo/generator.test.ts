import { describe, expect, it } from 'vitest';
import { DEMO_PLANT, demoCharacteristics, type DemoCharacteristic } from './plant';
import { binomial, createGenerator, fnv1a, mulberry32, poisson, standardNormal } from './generator';
import { DEMO_SCHEDULE, type DemoSchedule } from './schedule';

const NO_CAUSES: DemoSchedule = { cycleMs: 3_600_000, causes: [] };

function characteristic(code: string): DemoCharacteristic {
	const found = demoCharacteristics(DEMO_PLANT).find((c) => c.characteristic.code === code);
	if (!found) throw new Error(`no characteristic ${code}`);
	return found.characteristic;
}

function valueOf(s: ReturnType<ReturnType<typeof createGenerator>['sample']>): number {
	if (s.kind !== 'value') throw new Error('expected a value');
	return s.value;
}

function meanSd(xs: number[]): { mean: number; sd: number } {
	const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
	const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
	return { mean, sd: Math.sqrt(v) };
}

describe('mulberry32 and FNV-1a', () => {
	it('reproduces the reference mulberry32 stream', () => {
		// Expected values from an independent Python port of Tommy Ettinger's mulberry32
		// (the version in bryc/code, jshash/PRNGs.md).
		const r42 = mulberry32(42);
		expect([r42(), r42(), r42()]).toEqual([
			0.6011037519201636, 0.44829055899754167, 0.8524657934904099
		]);
		const r0 = mulberry32(0);
		expect([r0(), r0(), r0()]).toEqual([
			0.26642920868471265, 0.0003297457005828619, 0.2232720274478197
		]);
	});

	it('hashes the published FNV-1a 32-bit test vectors', () => {
		// Test vectors from the FNV reference (draft-eastlake-fnv, "FNV-1a 32" of "", "a", "foobar").
		expect(fnv1a('')).toBe(0x811c9dc5);
		expect(fnv1a('a')).toBe(0xe40c292c);
		expect(fnv1a('foobar')).toBe(0xbf9cf968);
	});
});

describe('random variates', () => {
	it('draws standard normals with mean 0 and variance 1', () => {
		const rand = mulberry32(7);
		const xs = Array.from({ length: 100_000 }, () => standardNormal(rand));
		const { mean, sd } = meanSd(xs);
		// 5 standard errors: sd of the mean 1/√n ≈ 0.0032, of the sd ≈ 1/√(2n) ≈ 0.0022.
		expect(Math.abs(mean)).toBeLessThan(0.016);
		expect(Math.abs(sd - 1)).toBeLessThan(0.011);
		const beyond3 = xs.filter((x) => Math.abs(x) > 3).length / xs.length;
		// P(|Z| > 3) = 0.0027 (normal table); ± 5 binomial standard errors.
		expect(Math.abs(beyond3 - 0.0027)).toBeLessThan(5 * Math.sqrt(0.0027 / 100_000));
	});

	it('draws Poisson counts whose mean and variance equal λ', () => {
		const rand = mulberry32(11);
		const xs = Array.from({ length: 50_000 }, () => poisson(rand, 4));
		const { mean, sd } = meanSd(xs);
		expect(Math.abs(mean - 4)).toBeLessThan(5 * Math.sqrt(4 / 50_000));
		expect(Math.abs(sd * sd - 4)).toBeLessThan(0.15);
		expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
	});

	it('draws binomial counts with mean np', () => {
		const rand = mulberry32(13);
		const xs = Array.from({ length: 5_000 }, () => binomial(rand, 200, 0.01));
		const { mean } = meanSd(xs);
		expect(Math.abs(mean - 2)).toBeLessThan(5 * Math.sqrt((200 * 0.01 * 0.99) / 5_000));
		expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x <= 200)).toBe(true);
	});
});

describe('createGenerator determinism', () => {
	const ch = characteristic('IM1.BZ1.TEMP');

	it('gives the same samples for the same seed, whatever the order of the calls', () => {
		const a = createGenerator(ch, { seed: 1 });
		const b = createGenerator(ch, { seed: 1 });
		const forward = Array.from({ length: 50 }, (_, k) => a.sample(k));
		const backward = Array.from({ length: 50 }, (_, k) => b.sample(49 - k)).reverse();
		expect(backward).toEqual(forward);
	});

	it('gives different samples for a different seed or characteristic', () => {
		const a = Array.from({ length: 20 }, (_, k) =>
			valueOf(createGenerator(ch, { seed: 1 }).sample(k))
		);
		const b = Array.from({ length: 20 }, (_, k) =>
			valueOf(createGenerator(ch, { seed: 2 }).sample(k))
		);
		const other = characteristic('IM2.BZ1.TEMP');
		const c = Array.from({ length: 20 }, (_, k) =>
			valueOf(createGenerator(other, { seed: 1 }).sample(k))
		);
		expect(a).not.toEqual(b);
		expect(a).not.toEqual(c);
	});

	it('stamps sample k at k sampling intervals', () => {
		const g = createGenerator(characteristic('IM2.INJ.PRESS'), { seed: 1 });
		expect(g.timeOf(0)).toBe(0);
		expect(g.timeOf(25)).toBe(2500);
	});
});

describe('in-control process', () => {
	it.each(['IM1.BZ1.TEMP', 'LT1.LEAK.RATE', 'IM2.HUB.LEN', 'SP1.SEAL.STR'])(
		'%s matches its process mean and sigma and its instrument resolution',
		(code) => {
			const ch = characteristic(code);
			const g = createGenerator(ch, { seed: 3, schedule: NO_CAUSES });
			const xs = Array.from({ length: 20_000 }, (_, k) => valueOf(g.sample(k)));
			const { mean, sd } = meanSd(xs);
			const { mean: mu, sigma } = ch.process;
			expect(Math.abs(mean - mu)).toBeLessThan((5 * sigma) / Math.sqrt(xs.length));
			// Rounding to the resolution r adds r²/12 of variance (Sheppard); negligible here.
			expect(Math.abs(sd / sigma - 1)).toBeLessThan(0.03);
			const r = 10 ** -ch.decimals;
			for (const x of xs.slice(0, 200)) {
				expect(Math.abs(x / r - Math.round(x / r))).toBeLessThan(1e-6);
			}
		}
	);

	it('produces whole counts for attribute characteristics, with the lot size as n', () => {
		const ch = characteristic('VI1.DEFECTIVE');
		const g = createGenerator(ch, { seed: 1, schedule: NO_CAUSES });
		const samples = Array.from({ length: 2000 }, (_, k) => g.sample(k));
		const counts = samples.map(valueOf);
		expect(samples.every((s) => s.kind === 'value' && s.n === 200)).toBe(true);
		expect(counts.every((c) => Number.isInteger(c) && c >= 0)).toBe(true);
		const { mean } = meanSd(counts);
		expect(Math.abs(mean - 200 * 0.01)).toBeLessThan(5 * Math.sqrt(1.98 / 2000));
	});
});

describe('special causes applied to samples', () => {
	function pair(
		code: string,
		k: number,
		seed = 1
	): { base: number; withCause: ReturnType<ReturnType<typeof createGenerator>['sample']> } {
		const ch = characteristic(code);
		return {
			base: valueOf(createGenerator(ch, { seed, schedule: NO_CAUSES }).sample(k)),
			withCause: createGenerator(ch, { seed, schedule: DEMO_SCHEDULE }).sample(k)
		};
	}

	it('shifts the first-signal characteristic by 6 sigma from 5 s', () => {
		// IM1.INJ.PRESS: 200 ms interval, so sample 25 is at 5 s; sigma 8 bar.
		const { base, withCause } = pair('IM1.INJ.PRESS', 25);
		expect(valueOf(withCause) - base).toBeCloseTo(48, 6);
		expect(withCause.causes).toEqual(['first-signal']);
		const before = pair('IM1.INJ.PRESS', 24);
		expect(valueOf(before.withCause)).toBe(before.base);
	});

	it('slips the decimal point of one shot weight by a factor 10', () => {
		// IM2.SHOT.WT: 1 s interval; the gross error sits at 270 s.
		const { base, withCause } = pair('IM2.SHOT.WT', 270);
		expect(valueOf(withCause)).toBeCloseTo(base * 10, 6);
		const next = pair('IM2.SHOT.WT', 271);
		expect(valueOf(next.withCause)).toBe(next.base);
	});

	it('freezes a stuck thermocouple at the reading of the first sample of the window', () => {
		// IM2.BZ2.TEMP: 1 s interval, stuck from 180 s for 60 s.
		const first = pair('IM2.BZ2.TEMP', 180);
		expect(valueOf(first.withCause)).toBe(first.base);
		for (const k of [181, 200, 239]) {
			expect(valueOf(pair('IM2.BZ2.TEMP', k).withCause)).toBe(first.base);
		}
		const after = pair('IM2.BZ2.TEMP', 240);
		expect(valueOf(after.withCause)).toBe(after.base);
	});

	it('produces no samples from IM3 during its comms loss', () => {
		// Dropout 210 s to 255 s. IM3.INJ.PRESS samples every 200 ms.
		const g = createGenerator(characteristic('IM3.INJ.PRESS'), { seed: 1 });
		expect(g.sample(210 * 5 - 1).kind).toBe('value');
		expect(g.sample(210 * 5).kind).toBe('none');
		expect(g.sample(255 * 5 - 1).kind).toBe('none');
		expect(g.sample(255 * 5).kind).toBe('value');
	});

	it('holds each population of a held mixture for its whole hold, both populations appearing', () => {
		// SP1.SEAL.PRESS: 200 ms, σ 0.04 bar, resolution 0.01 bar; ±5σ = ±0.2 bar, held 30 s.
		const mixture: DemoSchedule = {
			cycleMs: 3_600_000,
			causes: [
				{
					id: 'held-mixture',
					kind: 'mixture',
					characteristics: ['SP1.SEAL.PRESS'],
					startMs: 60_000,
					durationMs: 300_000,
					size: 5,
					holdMs: 30_000,
					expect: { rules: [] },
					what: 'test'
				}
			]
		};
		const ch = characteristic('SP1.SEAL.PRESS');
		const base = createGenerator(ch, { seed: 4, schedule: NO_CAUSES });
		const held = createGenerator(ch, { seed: 4, schedule: mixture });
		const signs: number[] = [];
		for (let hold = 0; hold < 10; hold++) {
			const first = 300 + hold * 150; // 60 s / 200 ms + 150 samples per hold
			const offsets = Array.from({ length: 150 }, (_, i) => {
				const k = first + i;
				return valueOf(held.sample(k)) - valueOf(base.sample(k));
			});
			// The noise is the sample's own: only the population offset differs (20 resolution steps,
			// so rounding keeps it exact).
			for (const d of offsets) expect(Math.abs(d)).toBeCloseTo(0.2, 9);
			expect(new Set(offsets.map(Math.sign)).size).toBe(1);
			signs.push(Math.sign(offsets[0]));
		}
		expect(new Set(signs)).toEqual(new Set([1, -1]));
		// Outside the window, untouched.
		expect(valueOf(held.sample(299))).toBe(valueOf(base.sample(299)));
	});

	it('alternates a held cycle once per hold', () => {
		// IM2.MOULD.TEMP: 1 s, σ 0.4 °C; mould-temp-hunting holds ±0.5σ = ±0.2 °C for 30 s (two
		// resolution steps, so rounding keeps the offset exact).
		const ch = characteristic('IM2.MOULD.TEMP');
		const base = createGenerator(ch, { seed: 2, schedule: NO_CAUSES });
		const hunting = createGenerator(ch, { seed: 2 });
		const cause = DEMO_SCHEDULE.causes.find((c) => c.id === 'mould-temp-hunting');
		const start = (cause?.startMs ?? NaN) / 1000;
		const offset = (k: number) => valueOf(hunting.sample(k)) - valueOf(base.sample(k));
		for (const k of [start, start + 29, start + 60, start + 89])
			expect(offset(k)).toBeCloseTo(0.2, 6);
		for (const k of [start + 30, start + 59, start + 90]) expect(offset(k)).toBeCloseTo(-0.2, 6);
	});

	it('repeats the schedule every cycle', () => {
		const ch = characteristic('IM1.INJ.PRESS');
		const g = createGenerator(ch, { seed: 1 });
		const base = createGenerator(ch, { seed: 1, schedule: NO_CAUSES });
		const k = (DEMO_SCHEDULE.cycleMs + 5000) / ch.samplingIntervalMs;
		expect(valueOf(g.sample(k)) - valueOf(base.sample(k))).toBeCloseTo(48, 6);
	});
});
