import { describe, expect, it } from 'vitest';
import { erfc, gaussLegendre, lgamma, mean, normalCdf, range, sd, sum, variance } from './stats';

function expectRel(actual: number, expected: number, rel = 1e-9): void {
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('moments', () => {
	it('sums without losing small terms next to large ones', () => {
		expect(sum([1e16, 1, -1e16, 1])).toBe(2);
	});

	it('computes mean, variance and sd of a textbook sample', () => {
		// 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(x−5)² = 32, s² = 32/7
		const xs = [2, 4, 4, 4, 5, 5, 7, 9];
		expect(mean(xs)).toBe(5);
		expectRel(variance(xs), 32 / 7, 1e-15);
		expectRel(sd(xs), Math.sqrt(32 / 7), 1e-15);
		expect(range(xs)).toBe(7);
	});

	it('keeps the digits of data far from zero', () => {
		// Same deviations as above shifted by 1e9: the variance must not change.
		const xs = [2, 4, 4, 4, 5, 5, 7, 9].map((x) => x + 1e9);
		expectRel(variance(xs), 32 / 7, 1e-12);
	});

	it('gives 0, not NaN, for all-equal data and for fewer than two values', () => {
		expect(variance([3.3, 3.3, 3.3])).toBe(0);
		expect(sd([1])).toBe(0);
		expect(range([1])).toBe(0);
	});
});

describe('normal distribution', () => {
	// Reference values: R 4.x pnorm() (Wichura AS 241 / Cody), printed to 16 digits.
	it.each([
		[-1, 0.15865525393145705],
		[-1.959963984540054, 0.025],
		[-3, 0.0013498980316300946],
		[-5, 2.866515718791939e-7],
		[-10, 7.619853024160527e-24],
		[-20, 2.7536241186062337e-89]
	])('Φ(%d) matches the reference to 1e-12 relative', (x, p) => {
		expectRel(normalCdf(x), p, 1e-12);
	});

	it('is symmetric: Φ(x) + Φ(−x) = 1', () => {
		for (const x of [0, 0.3, 1.1, 2.5, 4.2]) {
			expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
		}
	});

	it('has erfc(0) = 1 and erfc(−z) = 2 − erfc(z)', () => {
		expect(erfc(0)).toBe(1);
		expectRel(erfc(-0.7), 2 - erfc(0.7), 1e-15);
	});
});

describe('lgamma', () => {
	function logFactorial(n: number): number {
		let s = 0;
		for (let k = 2; k <= n; k++) s += Math.log(k);
		return s;
	}

	it('matches ln((n−1)!) at integers', () => {
		for (const n of [1, 2, 3, 10, 50, 171])
			expectRel(lgamma(n) + 1, logFactorial(n - 1) + 1, 1e-14);
	});

	it('matches ln Γ(n + ½) = ln((2n)! √π / (4ⁿ n!)) at half integers', () => {
		for (const n of [0, 1, 5, 40]) {
			const exact =
				logFactorial(2 * n) + 0.5 * Math.log(Math.PI) - n * Math.log(4) - logFactorial(n);
			expectRel(lgamma(n + 0.5), exact, 1e-13);
		}
	});

	it('rejects x ≤ 0', () => {
		expect(() => lgamma(0)).toThrow(RangeError);
	});
});

describe('Gauss-Legendre rule', () => {
	it('integrates polynomials up to degree 2m − 1 exactly', () => {
		const { nodes, weights } = gaussLegendre(8);
		// ∫_{−1}^{1} x^14 dx = 2/15; ∫ x^15 = 0
		const i14 = nodes.reduce((s, x, k) => s + weights[k] * x ** 14, 0);
		const i15 = nodes.reduce((s, x, k) => s + weights[k] * x ** 15, 0);
		expectRel(i14, 2 / 15, 1e-14);
		expect(Math.abs(i15)).toBeLessThan(1e-15);
		expectRel(
			weights.reduce((s, w) => s + w, 0),
			2,
			1e-15
		);
	});
});
