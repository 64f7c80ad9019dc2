import { describe, expect, it } from 'vitest';
import {
	chiSquareCdf,
	chiSquareQuantile,
	chiSquareSf,
	erf,
	erfc,
	erfcx,
	lnGamma,
	logNormalCdf,
	normalCdf,
	normalQuantile,
	normalSf,
	regularizedGammaP,
	regularizedGammaQ
} from './distributions';

/**
 * Expected values come from published tables:
 * - [AS7]  Abramowitz & Stegun, Handbook of Mathematical Functions (1964), Table 7.1 (erf, 15
 *          decimals) and 7.3 (erfc);
 * - [AS26] A&S Table 26.1 (Φ to 15 decimals), 26.2 (upper-tail Q(x) to 10 significant digits),
 *          26.5 (normal percentage points) and 26.8 (chi-square percentage points, 6 digits);
 * - [AS6]  A&S Table 6.1 / closed forms Γ(½) = √π, Γ(n) = (n−1)!;
 * - [NIST] NIST/SEMATECH e-Handbook §1.3.6.7.4, critical values of the chi-square
 *          distribution (3 decimals);
 * - [MONT] Montgomery, Introduction to Statistical Quality Control, Appendix III (2 decimals).
 * Every value was cross-checked with mpmath 1.3.0 at 30 significant digits and is written as the
 * double nearest to it; where a table
 * rounds, the tolerance is that table's precision, otherwise relative 1e-9 or tighter.
 */

function expectRel(actual: number, expected: number, rel: number): void {
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('erf, erfc and erfcx (Cody)', () => {
	it.each([
		[0.5, 0.5204998778130465],
		[1, 0.8427007929497149],
		[2, 0.9953222650189527]
	])('erf(%s) matches A&S Table 7.1 [AS7]', (x, expected) => {
		expectRel(erf(x), expected, 1e-14);
		expectRel(erf(-x), -expected, 1e-14);
	});

	it.each([
		[3, 0.00002209049699858544],
		[5, 1.537459794428035e-12],
		[10, 2.088487583762545e-45]
	])('erfc(%s) keeps its relative accuracy in the far tail [AS7]', (x, expected) => {
		expectRel(erfc(x), expected, 1e-14);
		expectRel(erfc(-x), 2 - expected, 1e-15);
	});

	it('erfcx(100) = exp(10⁴)·erfc(100) without overflow or underflow', () => {
		// exp(x²)erfc(x) ~ 1/(x√π)(1 − 1/(2x²) + …) = 0.005641613782989433 (mpmath).
		expectRel(erfcx(100), 0.005641613782989433, 1e-14);
	});

	it('returns exact values at 0 and the limits', () => {
		expect(erf(0)).toBe(0);
		expect(erfc(0)).toBe(1);
		expect(erfc(30)).toBe(0);
		expect(erfc(-30)).toBe(2);
		expect(Number.isNaN(erfc(Number.NaN))).toBe(true);
	});
});

describe('normal distribution', () => {
	it.each([
		[1, 0.8413447460685429],
		[2, 0.9772498680518208],
		[3, 0.9986501019683699]
	])('Φ(%s) matches A&S Table 26.1 to 15 decimals [AS26]', (z, expected) => {
		expectRel(normalCdf(z), expected, 1e-15);
	});

	it.each([
		[5, 2.866515718791939e-7],
		[6, 9.86587645037698e-10],
		[10, 7.619853024160525e-24]
	])('upper tail Q(%s) matches A&S Table 26.2 in relative terms [AS26]', (z, expected) => {
		expectRel(normalSf(z), expected, 1e-13);
		expectRel(normalCdf(-z), expected, 1e-13);
	});

	it('ln Φ stays finite and exact where Φ underflows', () => {
		// ln Φ(−40) = −804.6084420137538 (mpmath); Φ(−40) ≈ 3.7e-350 is below the double range.
		expectRel(logNormalCdf(-40), -804.6084420137538, 1e-14);
		expectRel(logNormalCdf(1), Math.log(0.8413447460685429), 1e-15);
	});

	it.each([
		[0.95, 1.6448536269514722],
		[0.975, 1.9599639845400538],
		[0.995, 2.5758293035489004],
		[0.999, 3.090232306167813],
		[0.9999, 3.7190164854557084],
		[1e-10, -6.361340902404057]
	])('Φ⁻¹(%s) matches the A&S Table 26.5 percentage point [AS26]', (p, expected) => {
		expectRel(normalQuantile(p), expected, 1e-15);
	});

	it('Φ⁻¹ is symmetric, exact at ½ and infinite at 0 and 1', () => {
		expect(normalQuantile(0.5)).toBe(0);
		// 0.25 and 0.75 are exact binary fractions, so symmetry must hold bit for bit.
		expect(normalQuantile(0.25)).toBe(-normalQuantile(0.75));
		expect(normalQuantile(0.0625)).toBe(-normalQuantile(0.9375));
		expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
		expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
	});

	it('rejects probabilities outside [0, 1]', () => {
		expect(() => normalQuantile(1.5)).toThrow(RangeError);
		expect(() => normalQuantile(Number.NaN)).toThrow(RangeError);
	});
});

describe('lnGamma and the regularised incomplete gamma function', () => {
	it.each([
		[0.5, 0.5723649429247001], // ln √π
		[10, 12.801827480081469], // ln 9!
		[100, 359.1342053695754], // ln 99!
		[1 / 3, 0.9854206469277671]
	])('lnΓ(%s) matches its closed form [AS6]', (x, expected) => {
		expectRel(lnGamma(x), expected, 1e-14);
	});

	it('P(1, x) = 1 − e^(−x) and Q(1, x) = e^(−x) (exponential distribution)', () => {
		expectRel(regularizedGammaP(1, 0.5), -Math.expm1(-0.5), 1e-14);
		expectRel(regularizedGammaQ(1, 30), Math.exp(-30), 1e-13);
	});

	it('P(½, x) = erf(√x) links the gamma and error functions (A&S 6.5.17)', () => {
		expectRel(regularizedGammaP(0.5, 2), erf(Math.SQRT2), 1e-14);
		expectRel(regularizedGammaQ(0.5, 9), erfc(3), 1e-13);
	});

	it('keeps P + Q = 1 for a large shape near its mean', () => {
		const a = 20000;
		const p = regularizedGammaP(a, a);
		const q = regularizedGammaQ(a, a);
		expect(Math.abs(p + q - 1)).toBeLessThan(1e-13);
		// P(a, a) → ½ + 1/(3√(2πa)) for large a (Temme): 0.5009403… at a = 20000.
		expect(Math.abs(p - (0.5 + 1 / (3 * Math.sqrt(2 * Math.PI * a))))).toBeLessThan(1e-6);
	});
});

describe('chi-square distribution', () => {
	it.each([
		// [A&S 26.8] (6 significant digits): ν, lower-tail probability, quantile
		[1, 0.95, 3.84146],
		[1, 0.05, 3.93214e-3],
		[10, 0.95, 18.307],
		[10, 0.05, 3.9403],
		[50, 0.995, 79.49],
		[50, 0.005, 27.9907]
	])('ν = %s, F = %s gives the A&S Table 26.8 point %s', (df, p, expected) => {
		expectRel(chiSquareQuantile(p, df), expected, 5e-6);
	});

	it('reproduces the NIST e-Handbook table for ν = 10 to its 3 decimals [NIST]', () => {
		expect(chiSquareQuantile(0.95, 10)).toBeCloseTo(18.307, 3);
		expect(chiSquareQuantile(0.05, 10)).toBeCloseTo(3.94, 3);
	});

	it("reproduces Montgomery's ν = 19 points used for the Cp interval [MONT]", () => {
		expect(chiSquareQuantile(0.025, 19)).toBeCloseTo(8.91, 2);
		expect(chiSquareQuantile(0.975, 19)).toBeCloseTo(32.85, 2);
	});

	it.each([
		// Independent double-precision reference: scipy 1.17.1 chi2.ppf (cross-checked in mpmath).
		[0.025, 19, 8.906516481987971],
		[0.975, 19, 32.85232686172969],
		[0.025, 7.37, 1.8671584132061767],
		[0.975, 7.37, 16.580181721262473],
		[0.001, 0.5, 1.3499395786230753e-12],
		[0.5, 100000, 99999.33333412347]
	])('F = %s, ν = %s (fractional and large ν) → %s to 1e-12', (p, df, expected) => {
		expectRel(chiSquareQuantile(p, df), expected, 1e-12);
	});

	it('inverts its own CDF across tails and degrees of freedom', () => {
		for (const df of [0.3, 1, 2, 5.5, 19, 240, 5000]) {
			for (const p of [1e-8, 0.001, 0.025, 0.5, 0.975, 0.999, 1 - 1e-8]) {
				const x = chiSquareQuantile(p, df);
				if (p < 0.5) expectRel(chiSquareCdf(x, df), p, 1e-11);
				else expectRel(chiSquareSf(x, df), 1 - p, 1e-7);
			}
		}
	});

	it('rejects impossible arguments', () => {
		expect(() => chiSquareQuantile(0, 3)).toThrow(RangeError);
		expect(() => chiSquareQuantile(0.5, 0)).toThrow(RangeError);
		expect(() => chiSquareCdf(1, Number.NaN)).toThrow(RangeError);
	});
});
