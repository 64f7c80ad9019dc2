import { describe, expect, it } from 'vitest';
import { AD_MIN_N, andersonDarling, andersonDarlingPValue } from './normality';

/**
 * References:
 * - A² from scipy 1.17.1 `scipy.stats.anderson(x, 'norm')` (an independent implementation of
 *   the same statistic, mean and n−1 standard deviation estimated from the sample);
 * - A²* and p from the published formulas of D'Agostino & Stephens (1986), Table 4.9, evaluated
 *   by hand in Python (the same piecewise fit R's nortest::ad.test uses).
 * Data set "SAS CPCON": the 50 measurements of the SAS/QC sample library program CPCON
 * ("Two-sided confidence limits for Cp", SAS Institute).
 */
const SAS_CPCON = [
	1.38, 1.49, 1.43, 1.6, 1.59, 1.34, 1.44, 1.64, 1.83, 1.57, 1.45, 1.74, 1.61, 1.39, 1.63, 1.73,
	1.61, 1.35, 1.51, 1.47, 1.46, 1.41, 1.56, 1.4, 1.58, 1.43, 1.53, 1.53, 1.58, 1.62, 1.58, 1.46,
	1.26, 1.57, 1.41, 1.53, 1.36, 1.63, 1.36, 1.66, 1.49, 1.55, 1.67, 1.41, 1.39, 1.75, 1.37, 1.36,
	1.86, 1.49
];

function expectRel(actual: number, expected: number, rel: number): void {
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('andersonDarlingPValue (D’Agostino & Stephens 1986, Table 4.9)', () => {
	it.each([
		[0.1, 0.9961485285157409], // 1 − exp(−13.436 + 10.114 − 2.2373)
		[0.25, 0.7446512446013425], // 1 − exp(−8.318 + 10.699 − 3.746125)
		[0.5, 0.20871199326901024], // exp(0.9177 − 2.1395 − 0.345)
		[1.0, 0.012317922048460184] // exp(1.2937 − 5.709 + 0.0186)
	])('A²* = %s gives p = %s', (a, p) => {
		expectRel(andersonDarlingPValue(a), p, 1e-12);
	});

	it('caps the last parabola at A²* = 10 instead of letting it turn upwards', () => {
		const atCap = Math.exp(1.2937 - 57.09 + 1.86);
		expectRel(andersonDarlingPValue(20), atCap, 1e-12);
		expectRel(andersonDarlingPValue(400), atCap, 1e-12);
	});

	it('stays within [0, 1] and falls as A²* grows', () => {
		let previous = 1;
		for (let a = 0; a <= 12; a += 0.01) {
			const p = andersonDarlingPValue(a);
			expect(p).toBeGreaterThanOrEqual(0);
			expect(p).toBeLessThanOrEqual(previous + 1e-12);
			previous = p;
		}
	});
});

describe('andersonDarling on reference data', () => {
	it('does not reject normality for the SAS CPCON measurements', () => {
		const r = andersonDarling(SAS_CPCON);
		expect(r).not.toBeNull();
		expectRel(r!.a2, 0.43785399484892906, 1e-9);
		expectRel(r!.a2Adjusted, 0.44481587336702694, 1e-9);
		expectRel(r!.pValue, 0.28401860721840455, 1e-9);
		expect(r!.n).toBe(50);
	});

	it('rejects normality for exponential quantiles', () => {
		// x_i = −ln(1 − (i − ½)/40), i = 1..40: a perfectly exponential sample.
		const x = Array.from({ length: 40 }, (_, i) => -Math.log(1 - (i + 0.5) / 40));
		const r = andersonDarling(x)!;
		expectRel(r.a2, 1.8217096768376422, 1e-9);
		expectRel(r.a2Adjusted, 1.858428512511401, 1e-9);
		expectRel(r.pValue, 9.593607186839926e-5, 1e-9);
	});

	it('gives a finite statistic for a gross outlier', () => {
		const x = [1, 2, 3, 2.5, 1.5, 2.2, 1.8, 2.7, 2.1, 1.9, 60];
		const r = andersonDarling(x)!;
		expectRel(r.a2, 3.3550474003690933, 1e-9);
		expectRel(r.pValue, 4.25527932402624e-9, 1e-9);
	});

	it('does not depend on the order of the values', () => {
		const reversed = [...SAS_CPCON].reverse();
		expect(andersonDarling(reversed)!.a2).toBeCloseTo(andersonDarling(SAS_CPCON)!.a2, 12);
	});
});

describe('andersonDarling edge cases', () => {
	it(`returns null below ${AD_MIN_N} values`, () => {
		expect(andersonDarling([1, 2, 3, 4, 5, 6, 7])).toBeNull();
		expect(andersonDarling([])).toBeNull();
		expect(andersonDarling([1, 2, 3, 4, 5, 6, 7, 9])).not.toBeNull();
	});

	it('returns null when all values are equal (nothing to standardise)', () => {
		expect(andersonDarling(Array.from({ length: 20 }, () => 4.2))).toBeNull();
	});

	it('rejects non-finite values instead of returning NaN', () => {
		expect(() => andersonDarling([1, 2, 3, 4, 5, 6, 7, Number.NaN])).toThrow(RangeError);
	});
});
