/**
 * Per-point phase-II limits. Expected numbers come from published worked examples and printed
 * factor tables (tolerance = the source's rounding) or from the textbook formula evaluated
 * independently in the test (tolerance 1e-9 relative):
 * - Montgomery, Introduction to Statistical Quality Control (ISQC), 6th ed.: piston-ring X̄-R
 *   (Example 6.1: x̄̄ = 74.001, R̄ = 0.023, n = 5 → X̄ limits 73.988/74.014, R limits 0/0.049);
 *   tabular CUSUM Example 9.1 (μ0 = 10, σ = 1, k = 0.5, h = 5; C+ = 5.28 at period 29);
 *   EWMA Example 9.2 (λ = 0.1, L = 2.7: limits 9.73/10.27 at period 1, 9.64/10.36 at period 2,
 *   asymptotically 9.38/10.62).
 * - Printed factors (Montgomery Appendix VI): D4(2) = 3.267, B5/B6(10) = 0.276/1.669,
 *   B6(5) = 1.964.
 */
import { describe, expect, it } from 'vitest';
import { d2 } from './constants';
import {
	cusumNext,
	dispersionLimits,
	ewmaNext,
	ewmaSigmaFactor,
	primaryLimits,
	ruleSigma,
	subgroupStats
} from './points';

const close = (actual: number | null, expected: number, decimals: number) =>
	expect(actual).toBeCloseTo(expected, decimals);
const rel = (actual: number | null, expected: number) => {
	expect(actual).not.toBeNull();
	expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
};

describe('X̄-R limits (Montgomery piston rings)', () => {
	const limits = { centre: 74.001, sigma: 0.023 / d2(5) };
	it('X̄ chart at 74.001 ± A2·R̄', () => {
		const pl = primaryLimits('xbar-r', limits, 5);
		close(pl.ucl, 74.014, 3);
		close(pl.lcl, 73.988, 3);
		rel(pl.sigma, limits.sigma / Math.sqrt(5));
	});
	it('R chart at D3·R̄ = 0 and D4·R̄ = 0.049', () => {
		const dl = dispersionLimits('xbar-r', limits, 5);
		rel(dl.centre, 0.023);
		close(dl.ucl, 0.049, 3);
		expect(dl.lcl).toBe(0);
	});
	it('the dispersionCentre override gives the same limits as the sigma it implies', () => {
		const dl = dispersionLimits(
			'xbar-r',
			{ centre: 74.001, sigma: 99, dispersionCentre: 0.023 },
			5
		);
		close(dl.ucl, 0.049, 3);
		rel(dl.centre, 0.023);
	});
	it('per-point limits follow the subgroup size', () => {
		const sigma = 2;
		for (const n of [2, 3, 7]) {
			rel(primaryLimits('xbar-s', { centre: 1, sigma }, n).ucl, 1 + (3 * sigma) / Math.sqrt(n));
		}
	});
});

describe('S chart limits', () => {
	it('B5σ and B6σ match the printed factors', () => {
		const s10 = dispersionLimits('xbar-s', { centre: 0, sigma: 1 }, 10);
		close(s10.lcl, 0.276, 3);
		close(s10.ucl, 1.669, 3);
		const s5 = dispersionLimits('xbar-s', { centre: 0, sigma: 1 }, 5);
		close(s5.ucl, 1.964, 3);
		expect(s5.lcl).toBe(0);
	});
});

describe('moving range limits', () => {
	it('span 2: centre d2σ, UCL D4·M̄R = 3.267·M̄R, LCL 0', () => {
		const dl = dispersionLimits('imr', { centre: 0, sigma: 1.5 }, 1);
		rel(dl.centre, (2 / Math.sqrt(Math.PI)) * 1.5);
		close((dl.ucl as number) / dl.centre, 3.267, 3);
		expect(dl.lcl).toBe(0);
	});
	it('span 3 uses d2(3) = 3/√π', () => {
		rel(dispersionLimits('imr', { centre: 0, sigma: 1 }, 1, 3).centre, 3 / Math.sqrt(Math.PI));
	});
	it('rejects a span of 1', () => {
		expect(() => dispersionLimits('imr', { centre: 0, sigma: 1 }, 1, 1)).toThrow(RangeError);
	});
});

describe('attribute limits', () => {
	it('p chart: p̄ ± 3√(p̄(1−p̄)/n), clamped at 0', () => {
		const pl = primaryLimits('p', { centre: 0.1, sigma: 0 }, 50);
		const s = Math.sqrt((0.1 * 0.9) / 50);
		rel(pl.ucl, 0.1 + 3 * s);
		expect(pl.lcl).toBe(0);
		rel(pl.sigma, s);
	});
	it('p chart: the upper limit is clamped at 1', () => {
		expect(primaryLimits('p', { centre: 0.9, sigma: 0 }, 4).ucl).toBe(1);
	});
	it('np chart: n·p̄ ± 3√(n·p̄(1−p̄)), clamped at 0 and n', () => {
		const pl = primaryLimits('np', { centre: 0.2, sigma: 0 }, 100);
		rel(pl.centre, 20);
		rel(pl.ucl, 20 + 3 * 4);
		rel(pl.lcl, 20 - 3 * 4);
		expect(primaryLimits('np', { centre: 0.9, sigma: 0 }, 4).ucl).toBe(4);
	});
	it('c chart: c̄ ± 3√c̄, lower clamped at 0', () => {
		const pl = primaryLimits('c', { centre: 4, sigma: 0 }, 1);
		rel(pl.ucl, 10);
		expect(pl.lcl).toBe(0);
	});
	it('u chart: ū ± 3√(ū/n)', () => {
		const pl = primaryLimits('u', { centre: 2, sigma: 0 }, 8);
		rel(pl.ucl, 3.5);
		rel(pl.lcl, 0.5);
	});
	it('p̄ = 0 gives limits on the centre and sigma 0, no NaN', () => {
		expect(primaryLimits('p', { centre: 0, sigma: 0 }, 10)).toEqual({
			centre: 0,
			ucl: 0,
			lcl: 0,
			sigma: 0
		});
	});
});

describe('sigma 0', () => {
	it('variable charts put both limits on the centre', () => {
		for (const chart of ['imr', 'xbar-r', 'xbar-s', 'ewma', 'cusum'] as const) {
			const pl = primaryLimits(
				chart,
				{ centre: 5, sigma: 0 },
				chart === 'xbar-r' || chart === 'xbar-s' ? 4 : 1
			);
			expect(pl.sigma).toBe(0);
			expect(pl.ucl).toBe(pl.centre);
			expect(pl.lcl).toBe(pl.centre);
		}
		expect(dispersionLimits('xbar-s', { centre: 5, sigma: 0 }, 4)).toEqual({
			centre: 0,
			ucl: 0,
			lcl: 0,
			sigma: 0
		});
	});
});

describe('EWMA (Montgomery Example 9.2, λ = 0.1, L = 2.7)', () => {
	const limits = { centre: 10, sigma: 1 };
	const ewma = { lambda: 0.1, L: 2.7 };
	it('exact time-varying limits at periods 1 and 2 and the asymptote', () => {
		const p1 = primaryLimits('ewma', limits, 1, { ewma, index: 0 });
		close(p1.ucl, 10.27, 2);
		close(p1.lcl, 9.73, 2);
		const p2 = primaryLimits('ewma', limits, 1, { ewma, index: 1 });
		close(p2.ucl, 10.36, 2);
		close(p2.lcl, 9.64, 2);
		const far = primaryLimits('ewma', limits, 1, { ewma, index: 500 });
		close(far.ucl, 10.62, 2);
	});
	it('the sigma factor is √(λ/(2−λ)(1−(1−λ)^2i))', () => {
		rel(ewmaSigmaFactor(0.2, 2), Math.sqrt((0.2 / 1.8) * (1 - 0.8 ** 6)));
	});
	it('z1 = 9.945 and z2 = 9.7495 from x1 = 9.45, x2 = 7.99', () => {
		const z1 = ewmaNext(10, 9.45, 0.1);
		close(z1, 9.945, 6);
		close(ewmaNext(z1, 7.99, 0.1), 9.7495, 6);
	});
	it('rule sigma maps the L·σ_z limit to 3 zone units', () => {
		const p1 = primaryLimits('ewma', limits, 1, { ewma, index: 0 });
		rel(ruleSigma('ewma', p1) * 3, (p1.ucl as number) - p1.centre);
	});
});

describe('tabular CUSUM (Montgomery Example 9.1)', () => {
	// Table 9.1: 20 observations from N(10, 1), then 10 from N(11, 1).
	const x = [
		9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47, 10.51, 9.4, 10.08,
		9.37, 10.62, 10.31, 8.52, 10.84, 10.9, 9.33, 12.29, 11.5, 10.6, 11.08, 10.38, 11.62, 11.31,
		10.52
	];
	it('C+ first exceeds H = 5 at period 29 with 5.28', () => {
		let upper = 0;
		let lower = 0;
		const sums: number[] = [];
		for (const v of x) {
			({ upper, lower } = cusumNext(upper, lower, v, 10, 0.5));
			sums.push(upper);
		}
		const first = sums.findIndex((c) => c > 5);
		expect(first + 1).toBe(29);
		close(sums[28], 5.28, 2);
		close(sums[29], 5.3, 2);
	});
	it('limits are ±hσ around 0', () => {
		expect(primaryLimits('cusum', { centre: 10, sigma: 2 }, 1, { cusum: { h: 4 } })).toEqual({
			centre: 0,
			ucl: 8,
			lcl: -8,
			sigma: 2
		});
	});
});

describe('subgroupStats', () => {
	it('mean, range and n−1 standard deviation', () => {
		const s = subgroupStats([2, 4, 4, 4, 5, 5, 7, 9]);
		rel(s.mean, 5);
		rel(s.range, 7);
		rel(s.sd, Math.sqrt(32 / 7));
	});
	it('sd of one value is 0', () => {
		expect(subgroupStats([3]).sd).toBe(0);
	});
});
