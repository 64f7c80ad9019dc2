/**
 * Worked examples of the NIST/SEMATECH e-Handbook of Statistical Methods, run through the batch
 * analyser. Expected numbers are the handbook's printed values, at the handbook's precision.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from './analyze';

/**
 * NIST/SEMATECH e-Handbook §6.3.2.4 "EWMA Control Charts", example: EWMA₀ = 50, s = 2.0539,
 * λ = 0.3, k = 3 — "UCL = 50 + 3(0.4201)(2.0539) = 52.5884, LCL = 47.4115" — and the 20 data
 * points with their printed EWMA values (two decimals).
 */
const NIST_EWMA = {
	data: [
		52.0, 47.0, 53.0, 49.3, 50.1, 47.0, 51.0, 50.1, 51.2, 50.5, 49.6, 47.6, 49.9, 51.3, 47.8, 51.2,
		52.6, 52.4, 53.6, 52.1
	],
	ewma: [
		50.6, 49.52, 50.56, 50.18, 50.16, 49.21, 49.75, 49.85, 50.26, 50.33, 50.11, 49.36, 49.52, 50.05,
		49.38, 49.92, 50.73, 51.23, 51.94, 51.99
	],
	ucl: 52.5884,
	lcl: 47.4115
};

describe('NIST e-Handbook EWMA example (§6.3.2.4)', () => {
	const result = analyze({
		chart: 'ewma',
		data: NIST_EWMA.data,
		limits: { centre: 50, sigma: 2.0539 },
		ewma: { lambda: 0.3, L: 3 }
	});

	it('smooths the 20 points to the printed EWMA values', () => {
		expect(result.points).toHaveLength(20);
		result.points.forEach((p, i) => expect(p.value).toBeCloseTo(NIST_EWMA.ewma[i], 2));
	});

	it('converges to the printed asymptotic limits (the handbook uses the steady-state width)', () => {
		// Exact time-varying limits: the width factor √(1 − (1−λ)^(2i)) is 1 − 4e-7 by i = 20.
		const last = result.points[19];
		expect(last.ucl).toBeCloseTo(NIST_EWMA.ucl, 3);
		expect(last.lcl).toBeCloseTo(NIST_EWMA.lcl, 3);
		// and the first point's limits are narrower, as the exact formula requires
		expect(result.points[0].ucl! - 50).toBeLessThan(NIST_EWMA.ucl - 50);
	});

	it('signals nothing: the largest printed EWMA, 51.99, is inside the printed limits', () => {
		expect(result.violations).toEqual([]);
	});
});
