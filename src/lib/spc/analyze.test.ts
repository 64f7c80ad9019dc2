/**
 * The batch analyser against published worked examples. Every fixture file names its source;
 * expected numbers are the book's printed values, compared at the book's precision (half a
 * unit in the last printed decimal), or independent re-computations of a printed formula
 * (relative 1e-9) where the book prints per-point limits only for some points.
 *
 * Sources: Montgomery, D. C., Introduction to Statistical Quality Control, 7th ed. (Wiley,
 * 2013): Table 6.3 / Examples 6.1 and 6.3 (piston rings), Tables 6.6-6.7 / Example 6.5
 * (mortgage loan cost, I-MR), Table 7.1 / Example 7.1 (orange juice, p and np), Table 7.4
 * (p with variable n), Table 7.8 / Example 7.3 (circuit boards, c), dyed cloth (u with
 * variable n), Tables 9.1-9.2 / Example 9.1 (tabular CUSUM) and Table 9.11 / Example 9.2 (EWMA).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze, type AnalysisResult } from './analyze';
import { c4, d2, d3 } from './constants';
import { createMonitor } from './monitor';

function fixture<T = Record<string, unknown>>(name: string): T {
	return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** |actual − printed| ≤ half a unit of the printed precision. */
function expectPrinted(actual: number | null, printed: number, decimals: number): void {
	expect(actual).not.toBeNull();
	expect(Math.abs((actual as number) - printed)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12);
}

/**
 * Printed control limits were computed by hand from the ROUNDED statistic and 3-decimal table
 * constants (e.g. 300.5 + 2.66 · 7.79 = 321.22 where the exact value is 321.21), so they can
 * differ from the exact limit by the propagated rounding: allow `units` units of the last
 * printed decimal (the statistics themselves are checked at half a unit).
 */
function expectPrintedLimit(
	actual: number | null,
	printed: number,
	decimals: number,
	units = 2
): void {
	expect(actual).not.toBeNull();
	expect(Math.abs((actual as number) - printed)).toBeLessThanOrEqual(
		units * 10 ** -decimals + 1e-12
	);
}

function expectRel(actual: number | null, expected: number, rel = 1e-9): void {
	expect(actual).not.toBeNull();
	expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

function violationIndices(
	r: AnalysisResult,
	chart: 'primary' | 'dispersion' = 'primary'
): number[] {
	return r.violations.filter((v) => v.chart === chart).map((v) => v.index);
}

const pistons = fixture<{ data: number[][] }>('montgomery-piston-rings.json');

describe('X̄-R and X̄-S charts: Montgomery piston rings (Table 6.3, Examples 6.1 and 6.3)', () => {
	it('reproduces x̿ = 74.001, R̄ = 0.023 and the X̄ and R limits', () => {
		const r = analyze({ chart: 'xbar-r', data: pistons.data });
		expectPrinted(r.limits.centre, 74.001, 3);
		expect(r.sigma.estimator).toBe('rbar-d2');
		expectPrinted(r.sigma.statistic, 0.023, 3);
		const p = r.points[0];
		expectPrintedLimit(p.ucl, 74.014, 3);
		expectPrintedLimit(p.lcl, 73.988, 3);
		expectPrintedLimit(p.dispersion?.ucl ?? null, 0.049, 3);
		expect(p.dispersion?.lcl).toBe(0);
		// ΣRᵢ = 0.581 printed in Table 6.3 (exact from 3-decimal data)
		expectRel(
			r.points.reduce((s, q) => s + (q.dispersion?.value ?? 0), 0),
			0.581,
			1e-9
		);
		expect(r.violations).toEqual([]);
	});

	it('reproduces S̄ = 0.0094 and the X̄ and S limits', () => {
		const r = analyze({ chart: 'xbar-s', data: pistons.data });
		expect(r.sigma.estimator).toBe('sbar-c4');
		expectPrinted(r.sigma.statistic, 0.0094, 4);
		expectPrintedLimit(r.points[0].ucl, 74.014, 3);
		expectPrintedLimit(r.points[0].lcl, 73.988, 3);
		expectPrintedLimit(r.points[0].dispersion?.ucl ?? null, 0.0196, 4);
		expect(r.points[0].dispersion?.lcl).toBe(0);
		expect(r.violations).toEqual([]);
	});

	it('gives R̄/d2 and S̄/c4 exactly as the classical formulas with equal n', () => {
		const rbar = analyze({ chart: 'xbar-r', data: pistons.data });
		expectRel(rbar.limits.sigma, (rbar.sigma.statistic as number) / d2(5), 1e-12);
		const sbar = analyze({ chart: 'xbar-s', data: pistons.data });
		expectRel(sbar.limits.sigma, (sbar.sigma.statistic as number) / c4(5), 1e-12);
	});
});

describe('p and np charts: Montgomery orange juice cans (Table 7.1, Example 7.1)', () => {
	const oj = fixture<{ data: number[] }>('montgomery-orange-juice.json');

	it('reproduces p̄ = 0.2313, UCL 0.4102, LCL 0.0524 and flags samples 15 and 23', () => {
		const r = analyze({ chart: 'p', n: 50, data: oj.data });
		expectPrinted(r.limits.centre, 0.2313, 4);
		expectPrinted(r.points[0].ucl, 0.4102, 4);
		expectPrinted(r.points[0].lcl, 0.0524, 4);
		expect(violationIndices(r).map((i) => i + 1)).toEqual([15, 23]);
		expect(r.violations.every((v) => v.rule === 'nelson1' && v.side === 'upper')).toBe(true);
	});

	it('revises to p̄ = 0.2150, UCL 0.3893, LCL 0.0407 without samples 15 and 23', () => {
		const r = analyze({ chart: 'p', n: 50, data: oj.data, phase1: { exclude: [14, 22] } });
		expectPrinted(r.limits.centre, 0.215, 4);
		expectPrinted(r.points[0].ucl, 0.3893, 4);
		expectPrinted(r.points[0].lcl, 0.0407, 4);
		expect(r.exclusions.map((e) => [e.position, e.reason])).toEqual([
			[14, 'requested'],
			[22, 'requested']
		]);
		// the excluded samples stay on the chart, beyond the revised limit
		expect(r.points).toHaveLength(30);
	});

	it('iterates: sample 21 (0.40) exceeds the revised UCL 0.3893 and goes in the second pass', () => {
		const r = analyze({ chart: 'p', n: 50, data: oj.data, phase1: { iterate: true } });
		expect(r.exclusions.map((e) => [e.position + 1, e.iteration])).toEqual([
			[15, 1],
			[23, 1],
			[21, 2]
		]);
		expect(r.iterations).toBe(3);
		expect(r.converged).toBe(true);
		// p̄ = (347 − 22 − 24 − 20) / (27·50)
		expectRel(r.limits.centre, 281 / 1350, 1e-12);
	});

	it('gives the np chart 11.565 / 20.510 / 2.620 (printed from p̄ rounded to 0.2313)', () => {
		const r = analyze({ chart: 'np', n: 50, data: oj.data });
		expect(Math.abs(r.points[0].centre - 11.565)).toBeLessThan(0.002);
		expect(Math.abs((r.points[0].ucl as number) - 20.51)).toBeLessThan(0.005);
		expect(Math.abs((r.points[0].lcl as number) - 2.62)).toBeLessThan(0.005);
		expect(violationIndices(r).map((i) => i + 1)).toEqual([15, 23]);
	});
});

describe('c chart: Montgomery printed circuit boards (Table 7.8, Example 7.3)', () => {
	const cb = fixture<{ data: number[] }>('montgomery-circuit-boards.json');

	it('reproduces c̄ = 19.85, UCL 33.22, LCL 6.48 with sample 6 low and sample 20 high', () => {
		const r = analyze({ chart: 'c', data: cb.data });
		expectPrinted(r.limits.centre, 19.85, 2);
		expectPrintedLimit(r.points[0].ucl, 33.22, 2);
		expectPrintedLimit(r.points[0].lcl, 6.48, 2);
		expect(r.violations.map((v) => [v.index + 1, v.side])).toEqual([
			[6, 'lower'],
			[20, 'upper']
		]);
	});

	it('revises to c̄ = 19.67, UCL 32.97, LCL 6.36 without samples 6 and 20', () => {
		const r = analyze({ chart: 'c', data: cb.data, phase1: { exclude: [5, 19] } });
		expectPrinted(r.limits.centre, 19.67, 2);
		expectPrintedLimit(r.points[0].ucl, 32.97, 2);
		expectPrintedLimit(r.points[0].lcl, 6.36, 2);
	});
});

describe('attribute charts with variable sample sizes', () => {
	it('p chart, Montgomery Table 7.4: p̄ = 0.096 and limits from each sample’s own n', () => {
		const fx = fixture<{ data: Array<{ count: number; n: number }> }>(
			'montgomery-p-variable-n.json'
		);
		const r = analyze({ chart: 'p', data: fx.data });
		expectPrinted(r.limits.centre, 0.096, 3);
		const pbar = 234 / 2450;
		r.points.forEach((p, i) => {
			const n = fx.data[i].n;
			const s = Math.sqrt((pbar * (1 - pbar)) / n);
			expect(p.n).toBe(n);
			expectRel(p.ucl, pbar + 3 * s, 1e-12);
			expect(p.lcl).toBeCloseTo(Math.max(0, pbar - 3 * s), 14);
		});
		// n = 80: p̄ − 3σ < 0, clamped at 0; n = 120 keeps a positive LCL
		expect(r.points[1].lcl).toBe(0);
		expect(r.points[11].lcl).toBeGreaterThan(0);
	});

	it('u chart, dyed cloth: ū = 153/107.5 = 1.42 and limits ū ± 3√(ū/nᵢ)', () => {
		const fx = fixture<{ data: Array<{ count: number; n: number }> }>('montgomery-dyed-cloth.json');
		const r = analyze({ chart: 'u', data: fx.data });
		expectPrinted(r.limits.centre, 1.42, 2);
		const ubar = 153 / 107.5;
		r.points.forEach((p, i) => {
			const n = fx.data[i].n;
			expectRel(p.value, fx.data[i].count / n, 1e-15);
			expectRel(p.ucl, ubar + 3 * Math.sqrt(ubar / n), 1e-12);
			expectRel(p.lcl, ubar - 3 * Math.sqrt(ubar / n), 1e-12);
		});
		expect(r.violations).toEqual([]);
	});
});

describe('I-MR chart: Montgomery mortgage loan cost (Tables 6.6 and 6.7, Example 6.5)', () => {
	const loan = fixture<{ phase1: number[]; phase2: number[] }>('montgomery-loan-cost.json');

	it('reproduces x̄ = 300.5, M̄R = 7.79, limits 279.78 / 321.22 and MR UCL 25.45', () => {
		const r = analyze({ chart: 'imr', data: loan.phase1 });
		expectPrinted(r.limits.centre, 300.5, 1);
		expect(r.sigma.estimator).toBe('mr-d2');
		expectPrinted(r.sigma.statistic, 7.79, 2);
		expectPrintedLimit(r.points[0].ucl, 321.22, 2);
		expectPrintedLimit(r.points[0].lcl, 279.78, 2);
		expect(r.points[0].dispersion).toBeNull();
		expectPrintedLimit(r.points[1].dispersion?.ucl ?? null, 25.45, 2);
		expect(r.violations).toEqual([]);
	});

	it('monitors Table 6.7 against the frozen limits: weeks 39, 40 high, MR high at 39', () => {
		const p1 = analyze({ chart: 'imr', data: loan.phase1 });
		const r = analyze({ chart: 'imr', data: loan.phase2, limits: p1.limits });
		expect(r.phase).toBe('phase-2');
		expect(violationIndices(r).map((i) => i + 21)).toEqual([39, 40]);
		expect(violationIndices(r, 'dispersion').map((i) => i + 21)).toEqual([39]);
	});

	it('returns the same points and violations as the incremental monitor in phase II', () => {
		const p1 = analyze({ chart: 'imr', data: loan.phase1 });
		const r = analyze({ chart: 'imr', data: loan.phase2, limits: p1.limits, rules: 'nelson-all' });
		const m = createMonitor({
			chart: 'imr',
			subgroupSize: 1,
			limits: p1.limits,
			rules: 'nelson-all'
		});
		const pushed = loan.phase2.map((x) => m.push(x).point);
		expect(r.points).toEqual(pushed);
	});
});

describe('CUSUM and EWMA: Montgomery Table 9.1 (Examples 9.1 and 9.2)', () => {
	const t = fixture<{
		data: number[];
		expected: {
			cusum: { printedCPlus: Record<string, number>; printedCMinus: Record<string, number> };
			ewma: { values: number[] };
		};
	}>('montgomery-table-9-1.json');

	it('tabular CUSUM (k = 0.5, h = 5): printed C+ and C−, first signal at period 29 with N+ = 7', () => {
		const r = analyze({
			chart: 'cusum',
			data: t.data,
			limits: { centre: 10, sigma: 1 },
			cusum: { k: 0.5, h: 5 }
		});
		for (const [period, v] of Object.entries(t.expected.cusum.printedCPlus)) {
			expectPrinted(r.points[Number(period) - 1].value, v, 2);
		}
		for (const [period, v] of Object.entries(t.expected.cusum.printedCMinus)) {
			// C− is carried as −C− on the dispersion side (drawn below zero)
			expectPrinted(-(r.points[Number(period) - 1].dispersion?.value ?? NaN), v, 2);
		}
		const signals = violationIndices(r).map((i) => i + 1);
		expect(signals[0]).toBe(29);
		expect(r.points[28].ucl).toBe(5);
		// N+ = 7: C+ has been positive since period 23
		const firstPositive = r.points.findIndex((p, i) => i > 21 && p.value > 0) + 1;
		expect(29 - firstPositive + 1).toBe(7);
	});

	it('EWMA (λ = 0.1, L = 2.7): Table 9.11 values, exact first limits 10.27 / 9.73, signals at 29 and 30', () => {
		const r = analyze({
			chart: 'ewma',
			data: t.data,
			limits: { centre: 10, sigma: 1 },
			ewma: { lambda: 0.1, L: 2.7 }
		});
		t.expected.ewma.values.forEach((v, i) => expectRel(r.points[i].value, v, 5e-6));
		expectPrinted(r.points[0].ucl, 10.27, 2);
		expectPrinted(r.points[0].lcl, 9.73, 2);
		// steady-state limit 10 + 2.7·√(0.1/1.9) is approached from below
		expect(r.points[29].ucl as number).toBeLessThan(10 + 2.7 * Math.sqrt(0.1 / 1.9));
		expect(violationIndices(r).map((i) => i + 1)).toEqual([29, 30]);
	});

	it('phase I of an EWMA starts z at the estimated mean unless a start is given', () => {
		const r = analyze({ chart: 'ewma', data: t.data, ewma: { lambda: 0.1 } });
		expect(r.params.ewma?.start).toBe(r.limits.centre);
		const s = analyze({ chart: 'ewma', data: t.data, ewma: { lambda: 0.1, start: 9 } });
		expectRel(s.points[0].value, 0.1 * 9.45 + 0.9 * 9, 1e-15);
	});
});

describe('unequal subgroup sizes', () => {
	const groups = [
		[10.1, 9.8, 10.3, 10.0, 9.9],
		[10.2, 9.7, 10.1],
		[9.9, 10.4, 10.0, 10.2],
		[10.0, 10.1, 9.6, 10.3, 10.2]
	];

	it('gives each point limits from its own n: centre ± 3σ/√n, R centre d2(n)σ and sd d3(n)σ', () => {
		const r = analyze({ chart: 'xbar-r', data: groups });
		const s = r.limits.sigma;
		// σ̂ = mean of Rᵢ/d2(nᵢ) (types.ts)
		const ranges = groups.map((g) => Math.max(...g) - Math.min(...g));
		expectRel(
			s,
			ranges.reduce((a, R, i) => a + R / d2(groups[i].length), 0) / groups.length,
			1e-12
		);
		// x̿ = Σnᵢx̄ᵢ / Σnᵢ = mean of all values
		expectRel(r.limits.centre, groups.flat().reduce((a, b) => a + b, 0) / 17, 1e-12);
		r.points.forEach((p, i) => {
			const n = groups[i].length;
			expect(p.n).toBe(n);
			expectRel((p.ucl as number) - p.centre, (3 * s) / Math.sqrt(n), 1e-12);
			expectRel(p.dispersion?.centre ?? null, d2(n) * s, 1e-12);
			expectRel(p.dispersion?.ucl ?? null, (d2(n) + 3 * d3(n)) * s, 1e-12);
		});
		expect(r.points[1].ucl).not.toBe(r.points[0].ucl);
	});

	it('pools variances with Σ(nᵢ − 1) degrees of freedom and c4(Σ(nᵢ − 1) + 1)', () => {
		const r = analyze({ chart: 'xbar-s', data: groups, phase1: { estimator: 'pooled-sd' } });
		let ss = 0;
		for (const g of groups) {
			const m = g.reduce((a, b) => a + b, 0) / g.length;
			ss += g.reduce((a, x) => a + (x - m) ** 2, 0);
		}
		const df = 17 - 4;
		expectRel(r.limits.sigma, Math.sqrt(ss / df) / c4(df + 1), 1e-12);
	});
});

describe('all-equal data (sigma 0)', () => {
	it.each([
		['imr', [5, 5, 5, 5, 5]],
		[
			'xbar-r',
			[
				[2, 2],
				[2, 2],
				[2, 2]
			]
		],
		[
			'xbar-s',
			[
				[2, 2, 2],
				[2, 2, 2]
			]
		],
		['ewma', [1, 1, 1]],
		['cusum', [1, 1, 1]]
	] as const)('%s: limits equal the centre, a clear flag, no NaN anywhere', (chart, data) => {
		const r = analyze({ chart, data: data as never });
		expect(r.sigmaZero).toBe(true);
		expect(r.limits.sigma).toBe(0);
		expect(r.warnings.join(' ')).toMatch(/sigma is 0/);
		for (const p of r.points) {
			if (chart !== 'cusum') expect(p.ucl).toBe(p.centre);
			expect(p.lcl).toBe(p.centre);
		}
		expect(r.violations).toEqual([]);
		expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
	});

	it('p chart with no nonconforming at all: centre 0, limits 0, flagged', () => {
		const r = analyze({ chart: 'p', n: 20, data: [0, 0, 0] });
		expect(r.sigmaZero).toBe(true);
		expect(r.points.every((p) => p.ucl === 0 && p.lcl === 0)).toBe(true);
		expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
	});
});

describe('missing values', () => {
	it('skips a missing individual, keeps positions, and spans the gap with the moving range', () => {
		const r = analyze({ chart: 'imr', data: [1, null, 4, 2] });
		expect(r.skipped).toEqual([{ position: 1, reason: 'missing', message: 'missing value' }]);
		expect(r.pointSource).toEqual([0, 2, 3]);
		expect(r.points.map((p) => p.dispersion?.value ?? null)).toEqual([null, 3, 2]);
		expectRel(r.limits.centre, 7 / 3, 1e-15);
	});

	it('drops a missing value inside a subgroup (smaller n) and skips a subgroup left with one value', () => {
		const r = analyze({
			chart: 'xbar-r',
			data: [
				[1, 2, 3],
				[2, null, 4],
				[3, null, null],
				[null, null]
			]
		});
		expect(r.points.map((p) => p.n)).toEqual([3, 2]);
		expect(r.skipped.map((s) => [s.position, s.reason])).toEqual([
			[2, 'too-few-values'],
			[3, 'missing']
		]);
	});

	it('skips a missing attribute sample, which needs no sample size', () => {
		const r = analyze({
			chart: 'p',
			limits: { centre: 0.096, sigma: 0 },
			data: [{ count: 12, n: 100 }, null, { count: 20, n: 110 }]
		});
		expect(r.pointSource).toEqual([0, 2]);
		expect(r.skipped).toEqual([{ position: 1, reason: 'missing', message: 'missing count' }]);
	});

	it('refuses a phase-I exclusion of a position that has no point', () => {
		expect(() => analyze({ chart: 'imr', data: [1, null, 3], phase1: { exclude: [1] } })).toThrow(
			/no plotted point/
		);
	});

	it('keeps suspect values out of the statistics and reports them', () => {
		const r = analyze({ chart: 'imr', data: [10, 10.2, 99, 9.9], spec: { lsl: 9, usl: 11 } });
		expect(r.skipped.map((s) => [s.position, s.reason])).toEqual([[2, 'suspect']]);
		expect(r.pointSource).toEqual([0, 1, 3]);
	});
});

describe('points exactly on a limit or on the centre line', () => {
	// centre 0, σ = 1: the individuals limits are exactly ±3 in binary floating point
	const limits = { centre: 0, sigma: 1 };

	it('a point exactly on the UCL or LCL is not beyond it; just past it is', () => {
		const r = analyze({ chart: 'imr', data: [3, -3, 3.000001, 0], limits });
		expect(r.points[0].ucl).toBe(3);
		expect(violationIndices(r)).toEqual([2]);
	});

	it('a point exactly on the centre line breaks a run on one side', () => {
		const above = [1, 1, 1, 1, 1, 1, 1, 1];
		const broken = analyze({ chart: 'imr', data: [...above, 0, 1], limits, rules: 'nelson-all' });
		expect(broken.violations.filter((v) => v.rule === 'nelson2')).toEqual([]);
		const run = analyze({ chart: 'imr', data: [...above, 1], limits, rules: 'nelson-all' });
		expect(run.violations.filter((v) => v.rule === 'nelson2').map((v) => v.index)).toEqual([8]);
	});
});

describe('known standards and frozen limits', () => {
	it('uses a known mean and sigma instead of estimates', () => {
		const r = analyze({
			chart: 'xbar-r',
			data: pistons.data,
			phase1: { known: { centre: 74, sigma: 0.01 } }
		});
		expect(r.limits.source).toBe('known-standard');
		expect(r.sigma.estimator).toBe('known');
		expectRel(r.points[0].ucl, 74 + (3 * 0.01) / Math.sqrt(5), 1e-15);
	});

	it('estimates only what is not known', () => {
		const r = analyze({ chart: 'imr', data: [1, 2, 3, 4], phase1: { known: { centre: 0 } } });
		expect(r.limits.centre).toBe(0);
		expectRel(r.limits.sigma, 1 / d2(2), 1e-15);
	});
});

describe('input errors', () => {
	it.each([
		[{ chart: 'pie', data: [1] }, /unknown chart "pie"/],
		[{ chart: 'xbar-r', data: [[1, 2], [3]] }, /data\[1\]: .*at least 2 values/],
		[{ chart: 'imr', data: [1, 'two', 3] }, /data\[1\]: expected a number/],
		[{ chart: 'imr', data: 'abc' }, /data/],
		[
			{ chart: 'imr', data: [1, 2], limits: { centre: 0, sigma: 1 }, phase1: {} },
			/either "limits"/
		],
		[{ chart: 'imr', data: [null, null] }, /no usable data/],
		[{ chart: 'p', data: [1, 2] }, /needs the sample size/],
		[{ chart: 'imr', data: [1, 2], rules: 'nelson-some' }, /nelson-some/],
		[
			{ chart: 'xbar-r', data: [[1, 2]], phase1: { estimator: 'mr-d2' } },
			/mr-d2 needs individual values/
		]
	])('rejects %j with a clear RangeError', (spec, message) => {
		expect(() => analyze(spec)).toThrow(RangeError);
		expect(() => analyze(spec)).toThrow(message);
	});
});
