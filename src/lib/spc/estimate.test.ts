/**
 * Sigma estimators on small hand-checkable data. Expected values are written out from the
 * defining formulas (Montgomery, ISQC 7th ed., §6.2-6.4) with the constants from their closed
 * forms (d2(2) = 2/√π, d2(3) = 3/√π, c4(2) = √(2/π), c4(3) = √π/2), not from the code.
 */
import { describe, expect, it } from 'vitest';
import { attributeCentre, estimateSigma, movingRanges, phaseOne } from './estimate';

const D2_2 = 2 / Math.sqrt(Math.PI);
const D2_3 = 3 / Math.sqrt(Math.PI);
const C4_2 = Math.sqrt(2 / Math.PI);
const C4_3 = Math.sqrt(Math.PI) / 2;

function expectRel(actual: number, expected: number, rel = 1e-12): void {
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

// subgroups [1, 3] (R 2, s √2) and [2, 5, 8] (R 6, s 3)
const subgroups = {
	kind: 'subgroups' as const,
	subgroups: [
		[1, 3],
		[2, 5, 8]
	]
};

describe('sigma estimators with unequal subgroup sizes', () => {
	it('rbar-d2 averages Rᵢ/d2(nᵢ)', () => {
		const e = estimateSigma('rbar-d2', subgroups);
		expectRel(e.sigma, (2 / D2_2 + 6 / D2_3) / 2);
		expectRel(e.statistic, 4);
	});

	it('sbar-c4 averages sᵢ/c4(nᵢ)', () => {
		const e = estimateSigma('sbar-c4', subgroups);
		expectRel(e.sigma, (Math.SQRT2 / C4_2 + 3 / C4_3) / 2);
	});

	it('pooled-sd is √(Σ(nᵢ−1)sᵢ²/Σ(nᵢ−1)) / c4(Σ(nᵢ−1)+1)', () => {
		const e = estimateSigma('pooled-sd', subgroups);
		// (1·2 + 2·9) / 3 = 20/3; c4(4) = 2√(2/3)/√π
		const c4of4 = (2 * Math.sqrt(2 / 3)) / Math.sqrt(Math.PI);
		expectRel(e.sigma, Math.sqrt(20 / 3) / c4of4);
		expect(e.df).toBe(3);
	});

	it('overall-sd is the sample sd of all values, without c4', () => {
		// 1, 3, 2, 5, 8: mean 3.8, Σ(x − x̄)² = 30.8, s² = 7.7
		expectRel(estimateSigma('overall-sd', subgroups).sigma, Math.sqrt(7.7));
	});

	it('mr-d2 is M̄R/d2(w) for any span w', () => {
		const values = [1, 4, 2, 7];
		expect(movingRanges(values)).toEqual([3, 2, 5]);
		expect(movingRanges(values, 3)).toEqual([3, 5]);
		expectRel(estimateSigma('mr-d2', { kind: 'individuals', values }).sigma, 10 / 3 / D2_2);
		expectRel(
			estimateSigma('mr-d2', { kind: 'individuals', values }, { movingRangeSpan: 3 }).sigma,
			4 / D2_3
		);
	});

	it('refuses an estimator that does not fit the data', () => {
		expect(() => estimateSigma('mr-d2', subgroups)).toThrow(/individual values/);
		expect(() => estimateSigma('rbar-d2', { kind: 'individuals', values: [1, 2] })).toThrow(
			/subgroups/
		);
		expect(() => estimateSigma('sbar-c4', { kind: 'subgroups', subgroups: [[1]] })).toThrow(
			/at least 2/
		);
	});
});

describe('attribute centres', () => {
	const samples = [
		{ count: 2, n: 10 },
		{ count: 6, n: 30 }
	];
	it('weights p̄ and ū by sample size and averages c̄ per sample', () => {
		expect(attributeCentre('p', samples)).toBe(8 / 40);
		expect(attributeCentre('u', samples)).toBe(8 / 40);
		expect(attributeCentre('c', samples)).toBe(4);
	});
});

describe('phase I exclusion', () => {
	it('drops the moving ranges that touch an excluded individual', () => {
		// 10, 11, 30, 12: excluding 30 leaves only MR(10, 11) = 1
		const r = phaseOne('imr', { kind: 'individuals', values: [10, 11, 30, 12] }, { exclude: [2] });
		expectRel(r.limits.centre, 11);
		expectRel(r.limits.sigma, 1 / D2_2);
		expect(r.exclusions).toEqual([
			{
				item: 2,
				iteration: 0,
				reason: 'requested',
				message: 'excluded by request (assignable cause)'
			}
		]);
	});

	it('stops at maxIterations and says it did not converge', () => {
		// a slow drift keeps pushing the newest extreme point out
		const values = [0, 0.1, -0.1, 0.05, 5, 9, 14, 20, 27];
		const r = phaseOne('imr', { kind: 'individuals', values }, { iterate: true, maxIterations: 2 });
		expect(r.iterations).toBe(2);
		expect(r.converged).toBe(false);
	});

	it('never excludes the whole baseline', () => {
		const r = phaseOne('imr', { kind: 'individuals', values: [1, 1, 1] }, { iterate: true });
		expect(r.exclusions).toEqual([]);
		expect(r.sigmaZero).toBe(true);
	});
});
