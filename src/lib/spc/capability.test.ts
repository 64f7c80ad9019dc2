import { describe, expect, it } from 'vitest';
import {
	bissellInterval,
	boylesInterval,
	capability,
	chiSquareInterval,
	MIN_CAPABILITY_N,
	type CapabilityResult
} from './capability';

/**
 * References:
 * - [NIST]  NIST/SEMATECH e-Handbook of Statistical Methods §6.1.6 "What is process
 *           capability?", worked example: USL 20, LSL 8, x̄ 16, s 2 → Cp 1, Cpk 0.6667.
 * - [MONT]  D. C. Montgomery, Introduction to Statistical Quality Control, §8.3.5 (Examples
 *           "confidence interval on Cp": USL 62, LSL 38, n 20, s 1.75, Ĉp 2.29 →
 *           1.57 ≤ Cp ≤ 3.01; "confidence interval on Cpk": n 20, Ĉpk 1.33 → 0.88 ≤ Cpk ≤ 1.78).
 * - [SAS]   The 50 measurements of the SAS/QC sample library program CPCON (LSL 0.8, USL 2.4).
 *           SAS documents the same chi-square (Cp), Bissell (Cpk) and Boyles (Cpm) formulas;
 *           the expected numbers below were computed independently in Python with
 *           numpy 2.4.6 / scipy 1.17.1 (chi2.ppf, norm.ppf/cdf/sf), not with this code.
 * - [AS26]  Abramowitz & Stegun Table 26.2: Q(3) = 1.349898e-3, so a centred Cp = 1 process
 *           has 2·10⁶·Q(3) = 2699.796 ppm out of spec.
 */
const SAS_CPCON = [
	1.38, 1.49, 1.43, 1.6, 1.59, 1.34, 1.44, 1.64, 1.83, 1.57, 1.45, 1.74, 1.61, 1.39, 1.63, 1.73,
	1.61, 1.35, 1.51, 1.47, 1.46, 1.41, 1.56, 1.4, 1.58, 1.43, 1.53, 1.53, 1.58, 1.62, 1.58, 1.46,
	1.26, 1.57, 1.41, 1.53, 1.36, 1.63, 1.36, 1.66, 1.49, 1.55, 1.67, 1.41, 1.39, 1.75, 1.37, 1.36,
	1.86, 1.49
];

function expectRel(actual: number | null | undefined, expected: number, rel = 1e-9): void {
	expect(actual).not.toBeNull();
	expect(actual).toBeDefined();
	expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

/** No NaN or Infinity anywhere: results travel as JSON. */
function expectJsonSafe(r: CapabilityResult): void {
	const walk = (v: unknown): void => {
		if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
		else if (Array.isArray(v)) v.forEach(walk);
		else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
	};
	walk(r);
	expect(JSON.parse(JSON.stringify(r))).toEqual(r);
}

describe('capability indices against the NIST e-Handbook example [NIST]', () => {
	// 14, 16, 18: x̄ = 16 and s = 2 exactly, the handbook's process.
	const r = capability([14, 16, 18], { spec: { lsl: 8, usl: 20 }, withinSigma: 2 });

	it('computes Cp, Cpu, Cpl and Cpk', () => {
		expectRel(r.cp, 1);
		expectRel(r.cpu, 4 / 6);
		expectRel(r.cpl, 8 / 6);
		expectRel(r.cpk, 4 / 6);
	});

	it('computes the P indices from the overall sample SD', () => {
		expectRel(r.overallSigma, 2);
		expectRel(r.pp, 1);
		expectRel(r.ppk, 4 / 6);
	});

	it('uses the spec midpoint as the Cpm target when none is given', () => {
		// τ = √(2² + (16 − 14)²) = √8 → Cpm = 12/(6√8) = 0.7071…
		expect(r.cpmTarget).toBe(14);
		expectRel(r.cpm, 12 / (6 * Math.sqrt(8)));
	});

	it('is flagged as not meaningful with 3 values', () => {
		expect(r.meaningful).toBe(false);
		expect(r.reasons.join(' ')).toContain(`at least ${MIN_CAPABILITY_N}`);
	});
});

describe('confidence intervals against Montgomery’s examples [MONT]', () => {
	it('chi-square interval for Cp: Ĉp = 2.29, n = 20 → 1.57 ≤ Cp ≤ 3.01', () => {
		const ci = chiSquareInterval(2.29, 19, 0.95);
		expect(ci.lower).toBeCloseTo(1.57, 2);
		expect(ci.upper).toBeCloseTo(3.01, 2);
		expect(ci.method).toBe('chi-square');
	});

	it('Bissell interval for Cpk: Ĉpk = 1.33, n = 20 → 0.88 ≤ Cpk ≤ 1.78', () => {
		const ci = bissellInterval(1.33, 20, 19, 0.95);
		expect(ci.lower).toBeCloseTo(0.88, 2);
		expect(ci.upper).toBeCloseTo(1.78, 2);
		// Unrounded (scipy): 1.33 ∓ 1.959964·√(1/180 + 1.33²/38).
		expectRel(ci.lower, 0.8826060505594018);
		expectRel(ci.upper, 1.7773939494405984);
	});

	it('gives Pp and its interval for data with Montgomery’s n, mean and s', () => {
		// 10 pairs 50 ± c with c = 1.75·√(19/20): x̄ = 50, s = 1.75, so Pp = 24/10.5.
		const c = 1.75 * Math.sqrt(19 / 20);
		const values = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 50 - c : 50 + c));
		const r = capability(values, { spec: { lsl: 38, usl: 62 } });
		expectRel(r.overallSigma, 1.75, 1e-12);
		expectRel(r.pp, 24 / 10.5, 1e-12);
		// Independent (scipy): 2.285714·√(χ²(0.025;19)/19), 2.285714·√(χ²(0.975;19)/19).
		expectRel(r.intervals.pp?.lower, 1.5649450045377398, 1e-12);
		expectRel(r.intervals.pp?.upper, 3.0055794297420433, 1e-12);
	});
});

describe('full capability study of the SAS CPCON data [SAS]', () => {
	const r = capability(SAS_CPCON, { spec: { lsl: 0.8, usl: 2.4 } });

	it('estimates the mean, overall s and within sigma M̄R/d2', () => {
		expect(r.n).toBe(50);
		expectRel(r.mean, 1.5212);
		expectRel(r.overallSigma, 0.13295142583911262);
		expectRel(r.withinSigma, 0.14704132457001884);
		expect(r.withinSigmaSource).toBe('mr-d2');
	});

	it('computes every index', () => {
		expectRel(r.cp, 1.813549132847236);
		expectRel(r.cpl, 1.6349145432617835);
		expectRel(r.cpu, 1.9921837224326884);
		expectRel(r.cpk, 1.6349145432617835);
		expectRel(r.pp, 2.0057450680473763);
		expectRel(r.ppl, 1.80817917884471);
		expectRel(r.ppu, 2.2033109572500424);
		expectRel(r.ppk, 1.80817917884471);
		expectRel(r.cpm, 1.7254459805838709);
	});

	it('computes the 95 % intervals with the documented methods', () => {
		expectRel(r.intervals.cp?.lower, 1.455341130341847);
		expectRel(r.intervals.cp?.upper, 2.1710466836778766);
		expectRel(r.intervals.pp?.lower, 1.6095749718822416);
		expectRel(r.intervals.pp?.upper, 2.401129420437003);
		expectRel(r.intervals.cpk?.lower, 1.2982957817560388);
		expectRel(r.intervals.cpk?.upper, 1.9715333047675283);
		expectRel(r.intervals.cpl?.lower, 1.2982957817560388);
		expectRel(r.intervals.ppk?.lower, 1.438453965693955);
		expectRel(r.intervals.ppk?.upper, 2.177904391995465);
		expectRel(r.intervals.ppu?.lower, 1.7574084059461352);
		expectRel(r.intervals.ppu?.upper, 2.6492135085539497);
		expect(r.intervals.cpm?.method).toBe('boyles');
		expectRel(r.intervals.cpm?.df, 53.62405751724968);
		expectRel(r.intervals.cpm?.lower, 1.399573625747891);
		expectRel(r.intervals.cpm?.upper, 2.0506804564036476);
	});

	it('honours another confidence level', () => {
		const r90 = capability(SAS_CPCON, { spec: { lsl: 0.8, usl: 2.4 }, confidence: 0.9 });
		expectRel(r90.intervals.cp?.lower, 1.5091248543969906);
		expectRel(r90.intervals.cp?.upper, 2.110156164536126);
	});

	it('uses a given target for Cpm and its Boyles interval', () => {
		const t = capability(SAS_CPCON, { spec: { lsl: 0.8, usl: 2.4, target: 1.5 } });
		expect(t.cpmTarget).toBe(1.5);
		expectRel(t.cpm, 1.9807217717721657);
		expectRel(t.intervals.cpm?.df, 50.030760934439044);
		expectRel(t.intervals.cpm?.lower, 1.5935191519122662);
		expectRel(t.intervals.cpm?.upper, 2.3671584869443554);
	});

	it('computes expected ppm below and above from the normal model', () => {
		expectRel(r.expectedPpm.within?.below, 0.46774721643431966, 1e-9);
		expectRel(r.expectedPpm.within?.above, 0.001139554961046004, 1e-9);
		expectRel(r.expectedPpm.overall?.below, 0.029052389636307525, 1e-9);
		expectRel(r.expectedPpm.overall?.above, 1.9224716710250905e-5, 1e-9);
		expectRel(r.expectedPpm.overall?.total, 0.029052389636307525 + 1.9224716710250905e-5, 1e-9);
	});

	it('is meaningful: enough values, normal, no instability reported', () => {
		expect(r.normality?.pValue).toBeGreaterThan(0.05);
		expect(r.reasons).toEqual([]);
		expect(r.meaningful).toBe(true);
		expectJsonSafe(r);
	});

	it('uses a supplied within sigma and degrees of freedom for the C indices', () => {
		const g = capability(SAS_CPCON, {
			spec: { lsl: 0.8, usl: 2.4 },
			withinSigma: 0.16,
			withinDf: 40
		});
		expect(g.withinSigmaSource).toBe('given');
		expectRel(g.cp, 1.6 / 0.96);
		expect(g.intervals.cp?.df).toBe(40);
		expect(g.intervals.pp?.df).toBe(49);
	});
});

describe('expected ppm of a centred Cp = 1 process [AS26]', () => {
	it('is 2699.796 ppm, split evenly', () => {
		const r = capability([14, 16, 18], { spec: { lsl: 10, usl: 22 }, withinSigma: 2 });
		expectRel(r.expectedPpm.within?.total, 2699.7960632601867, 1e-12);
		expectRel(r.expectedPpm.within?.below, 2699.7960632601867 / 2, 1e-12);
	});
});

describe('one-sided specifications', () => {
	it('reports only the upper indices for a USL-only spec', () => {
		const r = capability(SAS_CPCON, { spec: { usl: 2.4 } });
		expect(r.cp).toBeNull();
		expect(r.pp).toBeNull();
		expect(r.cpm).toBeNull();
		expect(r.cpl).toBeNull();
		expect(r.ppl).toBeNull();
		expectRel(r.cpu, 1.9921837224326884);
		expectRel(r.cpk, 1.9921837224326884);
		expectRel(r.ppk, 2.2033109572500424);
		expect(r.intervals.cp).toBeNull();
		expect(r.intervals.cpm).toBeNull();
		expectRel(r.intervals.ppk?.lower, 1.7574084059461352);
		expect(r.expectedPpm.overall?.below).toBeNull();
		expectRel(r.expectedPpm.overall?.total, 1.9224716710250905e-5);
		expect(r.meaningful).toBe(true);
		expectJsonSafe(r);
	});

	it('reports only the lower indices for an LSL-only spec', () => {
		const r = capability(SAS_CPCON, { spec: { lsl: 0.8, target: 1.5 } });
		expect(r.cpu).toBeNull();
		expect(r.cp).toBeNull();
		expectRel(r.cpk, 1.6349145432617835);
		expectRel(r.ppk, 1.80817917884471);
		expect(r.expectedPpm.within?.above).toBeNull();
	});
});

describe('when capability is not meaningful', () => {
	it('says so without spec limits and returns no indices', () => {
		const r = capability(SAS_CPCON, { spec: {} });
		expect(r.meaningful).toBe(false);
		expect(r.reasons[0]).toMatch(/no specification limits/);
		expect(r.cpk).toBeNull();
		expect(r.ppk).toBeNull();
		expect(r.expectedPpm).toEqual({ within: null, overall: null });
		expectJsonSafe(r);
	});

	it('flags a process that is not in control', () => {
		const r = capability(SAS_CPCON, { spec: { lsl: 0.8, usl: 2.4 }, inControl: false });
		expect(r.meaningful).toBe(false);
		expect(r.reasons).toEqual([expect.stringMatching(/not in statistical control/)]);
		expectRel(r.cpk, 1.6349145432617835);
	});

	it('does not flag an unknown control state', () => {
		expect(
			capability(SAS_CPCON, { spec: { lsl: 0.8, usl: 2.4 }, inControl: null }).meaningful
		).toBe(true);
	});

	it('flags non-normal data with the Anderson-Darling numbers', () => {
		// Exponential quantiles: A²* = 1.8584, p = 9.59e-5 (see normality.test.ts).
		const x = Array.from({ length: 40 }, (_, i) => -Math.log(1 - (i + 0.5) / 40));
		const r = capability(x, { spec: { lsl: 0, usl: 6 } });
		expect(r.meaningful).toBe(false);
		expect(r.reasons).toHaveLength(1);
		expect(r.reasons[0]).toContain('A²* = 1.858');
		expect(r.reasons[0]).toContain('p = 9.594e-5');
	});

	it('gives null indices and a clear reason when all values are equal (sigma 0)', () => {
		const r = capability(
			Array.from({ length: 40 }, () => 4.2),
			{ spec: { lsl: 4, usl: 4.4 } }
		);
		expect(r.overallSigma).toBe(0);
		expect(r.withinSigma).toBe(0);
		expect(r.cp).toBeNull();
		expect(r.cpk).toBeNull();
		expect(r.pp).toBeNull();
		expect(r.cpm).toBeNull();
		expect(r.normality).toBeNull();
		expect(r.expectedPpm).toEqual({ within: null, overall: null });
		expect(r.meaningful).toBe(false);
		expect(r.reasons).toEqual([expect.stringMatching(/all values are equal \(sigma = 0\)/)]);
		expectJsonSafe(r);
	});

	it('handles a caller-supplied within sigma of 0 without NaN', () => {
		const r = capability(SAS_CPCON, { spec: { lsl: 0.8, usl: 2.4 }, withinSigma: 0 });
		expect(r.cp).toBeNull();
		expect(r.pp).not.toBeNull();
		expect(r.reasons).toEqual([expect.stringMatching(/within sigma is 0/)]);
		expectJsonSafe(r);
	});

	it('handles no values at all', () => {
		const r = capability([], { spec: { lsl: 0, usl: 1 } });
		expect(r.n).toBe(0);
		expect(r.mean).toBeNull();
		expect(r.cpk).toBeNull();
		expect(r.meaningful).toBe(false);
		expect(r.reasons).toContain('fewer than 2 values: the process sigma cannot be estimated');
		expectJsonSafe(r);
	});

	it('handles a single value, with and without a known sigma', () => {
		const r = capability([0.5], { spec: { lsl: 0, usl: 1 } });
		expect(r.withinSigma).toBeNull();
		expect(r.cp).toBeNull();
		expect(r.reasons[0]).toBe('only 1 value: capability indices need at least 30 to be meaningful');
		const k = capability([0.5], { spec: { lsl: 0, usl: 1 }, withinSigma: 0.1 });
		expectRel(k.cp, 1 / 0.6);
		expect(k.intervals.cp).toBeNull();
		expectJsonSafe(k);
	});

	it('computes but flags a tiny sample, whose intervals are wide', () => {
		const r = capability([9.8, 10.1, 10.0, 9.9, 10.2], { spec: { lsl: 9, usl: 11 } });
		expect(r.normality).toBeNull();
		expect(r.cpk).not.toBeNull();
		expect(r.intervals.cpk!.upper - r.intervals.cpk!.lower).toBeGreaterThan(1);
		expect(r.meaningful).toBe(false);
		expect(r.reasons).toHaveLength(1);
	});

	it('respects a stricter minimum sample size', () => {
		const r = capability(SAS_CPCON, { spec: { lsl: 0.8, usl: 2.4 }, minN: 100 });
		expect(r.reasons).toEqual([
			'only 50 values: capability indices need at least 100 to be meaningful'
		]);
	});
});

describe('capability input validation', () => {
	it.each([
		[{ spec: { lsl: 2, usl: 1 } }, /lsl/],
		[{ spec: { lsl: 0, usl: 1 }, confidence: 1 }, /confidence/],
		[{ spec: { lsl: 0, usl: 1 }, withinSigma: -1 }, /withinSigma/],
		[{ spec: { lsl: 0, usl: 1 }, withinDf: 0 }, /withinDf/],
		[{ spec: { lsl: 0, usl: 1 }, minN: 1 }, /minN/]
	])('rejects options %o', (opts, message) => {
		expect(() => capability([1, 2, 3], opts)).toThrow(message);
	});

	it('rejects non-finite values', () => {
		expect(() => capability([1, Number.NaN], { spec: { usl: 3 } })).toThrow(/position 1/);
	});

	it('boylesInterval reduces to the chi-square interval on target (a = 0)', () => {
		const b = boylesInterval(1.2, 25, 0, 0.95);
		const c = chiSquareInterval(1.2, 25, 0.95);
		expect(b.df).toBe(25);
		expect(b.lower).toBe(c.lower);
		expect(b.upper).toBe(c.upper);
	});
});
