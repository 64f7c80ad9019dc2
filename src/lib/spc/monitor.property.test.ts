/**
 * Two faces, one truth (issue 2 §8): on random series — ties, constant data, values exactly on
 * zone boundaries, sigma 0, unequal subgroup sizes, gaps in the indices, attribute counts —
 * 1. the incremental RuleEngine equals the naive window re-scan (evaluateRulesBatch), also
 *    when its state is serialised to JSON and restored mid-series;
 * 2. the monitor pushed value by value equals the batch computation of the same phase-II chart:
 *    both a plain re-derivation written here (points.ts limits + evaluateRulesBatch over the
 *    whole series) and the batch analyser itself, analyze() with frozen limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, type AnalysisSpec } from './analyze';
import { createMonitor } from './monitor';
import {
	cusumNext,
	dispersionLimits,
	ewmaNext,
	primaryLimits,
	ruleSigma,
	subgroupStats
} from './points';
import {
	DISPERSION_RULE_SET,
	RULE_IDS,
	RuleEngine,
	evaluateRulesBatch,
	rulesForChart,
	type RulePoint
} from './rules';
import type {
	ChartPoint,
	MonitorConfig,
	MonitorInput,
	RuleSet,
	RuleSetSpec,
	Violation
} from './types';

const NUM_RUNS = 300;

/** Values on a half-sigma grid hit zone boundaries and the centre exactly; a few are free. */
const gridValue = fc.oneof(
	{ weight: 4, arbitrary: fc.integer({ min: -9, max: 9 }).map((k) => k / 2) },
	{ weight: 1, arbitrary: fc.double({ min: -5, max: 5, noNaN: true }) }
);

const ruleSetArb: fc.Arbitrary<RuleSetSpec> = fc.oneof(
	fc.constantFrom<RuleSetSpec>('nelson-all', 'western-electric', 'aiag', 'beyond-limits'),
	fc
		.record({
			ids: fc.uniqueArray(fc.constantFrom(...RULE_IDS), { minLength: 1, maxLength: 12 }),
			runLength: fc.integer({ min: 2, max: 12 }),
			trendLength: fc.integer({ min: 2, max: 8 }),
			alternatingLength: fc.integer({ min: 3, max: 10 }),
			window: fc.integer({ min: 1, max: 8 }),
			countFrac: fc.double({ min: 0, max: 1, noNaN: true }),
			sigmaMultiple: fc.constantFrom(0.5, 1, 1.5, 2, 3)
		})
		.map((r): RuleSet => ({
			name: 'random',
			rules: r.ids.map((id) => ({
				id,
				params: {
					runLength: r.runLength,
					trendLength: r.trendLength,
					alternatingLength: r.alternatingLength,
					window: r.window,
					count: Math.max(1, Math.ceil(r.countFrac * r.window)),
					stratificationLength: r.runLength,
					mixtureLength: r.runLength,
					sigmaMultiple: r.sigmaMultiple
				}
			}))
		}))
);

const rulePointsArb = fc
	.record({
		centre: fc.constantFrom(0, 10, -3.5),
		constant: fc.boolean(),
		points: fc.array(
			fc.record({
				z: gridValue,
				sigma: fc.constantFrom(0, 0.5, 1, 1, 1, 2),
				gap: fc.constantFrom(1, 1, 1, 1, 2, 5)
			}),
			{ maxLength: 120 }
		)
	})
	.map(({ centre, constant, points }) => {
		let index = -1;
		return points.map((p): RulePoint => {
			index += p.gap;
			const sigma = constant ? 1 : p.sigma;
			// Constant data: every value equal, on or off the centre.
			const value = constant ? centre + points[0].z : centre + p.z * (sigma === 0 ? 1 : sigma);
			return { value, centre, sigma, index };
		});
	});

describe('RuleEngine equals the naive re-scan', () => {
	it('on random series, with a JSON round trip of the state at a random point', () => {
		fc.assert(
			fc.property(rulePointsArb, ruleSetArb, fc.nat(), (points, rs, splitSeed) => {
				const expected = evaluateRulesBatch(points, rs);
				const split = points.length === 0 ? 0 : splitSeed % (points.length + 1);
				const first = new RuleEngine(rs);
				const got: Violation[] = [];
				for (const p of points.slice(0, split)) got.push(...first.push(p));
				const second = new RuleEngine(rs, JSON.parse(JSON.stringify(first.state())));
				for (const p of points.slice(split)) got.push(...second.push(p));
				expect(got).toEqual(expected);
			}),
			{ numRuns: NUM_RUNS }
		);
	});
});

// ---------------------------------------------------------------------------------------------
// Monitor vs the batch computation of the same phase-II chart
// ---------------------------------------------------------------------------------------------

/** The batch face, written plainly: per-point limits, then every rule over the whole series. */
function batchChart(cfg: MonitorConfig, inputs: MonitorInput[]): ChartPoint[] {
	const chart = cfg.chart;
	const L = cfg.limits;
	const points: ChartPoint[] = [];
	const primary: RulePoint[] = [];
	const dispersion: RulePoint[] = [];
	const values: number[] = [];
	let z = cfg.ewma?.start ?? L.centre;
	let up = (cfg.cusum?.headstart ?? 0) * L.sigma;
	let lo = up;
	inputs.forEach((input, index) => {
		let value: number;
		let n = 1;
		let disp: ChartPoint['dispersion'] = null;
		let pl;
		if (chart === 'imr') {
			const x = input as number;
			values.push(x);
			value = x;
			pl = primaryLimits(chart, L, 1);
			const w = cfg.movingRangeSpan ?? 2;
			if (values.length >= w) {
				const win = values.slice(-w);
				const mr = Math.max(...win) - Math.min(...win);
				const dl = dispersionLimits(chart, L, 1, w);
				disp = { value: mr, centre: dl.centre, ucl: dl.ucl, lcl: dl.lcl };
				dispersion.push({ value: mr, centre: dl.centre, sigma: dl.sigma, index });
			}
		} else if (chart === 'xbar-r' || chart === 'xbar-s') {
			const sg = input as number[];
			const s = subgroupStats(sg);
			n = sg.length;
			value = s.mean;
			pl = primaryLimits(chart, L, n);
			const dl = dispersionLimits(chart, L, n);
			const spread = chart === 'xbar-r' ? s.range : s.sd;
			disp = { value: spread, centre: dl.centre, ucl: dl.ucl, lcl: dl.lcl };
			dispersion.push({ value: spread, centre: dl.centre, sigma: dl.sigma, index });
		} else if (chart === 'ewma') {
			z = ewmaNext(z, input as number, cfg.ewma?.lambda ?? 0.2);
			value = z;
			pl = primaryLimits(chart, L, 1, { ewma: cfg.ewma, index });
		} else if (chart === 'cusum') {
			const next = cusumNext(up, lo, input as number, L.centre, (cfg.cusum?.k ?? 0.5) * L.sigma);
			up = next.upper;
			lo = next.lower;
			value = up;
			pl = primaryLimits(chart, L, 1, { cusum: cfg.cusum });
			disp = { value: -lo, centre: pl.centre, ucl: pl.ucl, lcl: pl.lcl };
			dispersion.push({ value: -lo, centre: pl.centre, sigma: ruleSigma(chart, pl), index });
		} else {
			const a = input as { count: number; n: number };
			n = a.n;
			value = chart === 'p' || chart === 'u' ? a.count / a.n : a.count;
			pl = primaryLimits(chart, L, n);
		}
		primary.push({ value, centre: pl.centre, sigma: ruleSigma(chart, pl), index });
		points.push({
			index,
			value,
			centre: pl.centre,
			ucl: pl.ucl,
			lcl: pl.lcl,
			n,
			dispersion: disp,
			violations: []
		});
	});
	const dispRules = chart === 'cusum' ? rulesForChart(chart, cfg.rules) : DISPERSION_RULE_SET;
	for (const v of evaluateRulesBatch(primary, rulesForChart(chart, cfg.rules))) {
		points[v.index].violations.push(v);
	}
	for (const v of evaluateRulesBatch(dispersion, dispRules, 'dispersion')) {
		points[v.index].violations.push(v);
	}
	return points;
}

/** The same chart as an AnalysisSpec with frozen limits (phase II). */
function analysisSpecFor(cfg: MonitorConfig, inputs: MonitorInput[]): AnalysisSpec {
	const { chart, limits, rules } = cfg;
	switch (chart) {
		case 'imr':
			return {
				chart,
				data: inputs as number[],
				limits,
				rules,
				movingRangeSpan: cfg.movingRangeSpan
			};
		case 'ewma':
		case 'cusum':
			return { chart, data: inputs as number[], limits, rules, ewma: cfg.ewma, cusum: cfg.cusum };
		case 'xbar-r':
		case 'xbar-s':
			return { chart, data: inputs as number[][], limits, rules };
		default:
			return { chart, data: inputs as Array<{ count: number; n: number }>, limits, rules };
	}
}

const sigmaArb = fc.constantFrom(0, 0.5, 1, 2);
const variableArb = fc.record({ centre: fc.constantFrom(0, 10), sigma: sigmaArb });

const imrCase = fc
	.record({
		lim: variableArb,
		span: fc.integer({ min: 2, max: 5 }),
		rules: ruleSetArb,
		z: fc.array(gridValue, { maxLength: 80 })
	})
	.map(({ lim, span, rules, z }) => ({
		cfg: {
			chart: 'imr',
			subgroupSize: 1,
			limits: lim,
			rules,
			movingRangeSpan: span
		} as MonitorConfig,
		inputs: z.map((v) => lim.centre + v * (lim.sigma || 1)) as MonitorInput[]
	}));

const xbarCase = fc
	.record({
		chart: fc.constantFrom('xbar-r' as const, 'xbar-s' as const),
		lim: variableArb,
		rules: ruleSetArb,
		subgroups: fc.array(fc.array(gridValue, { minLength: 2, maxLength: 6 }), { maxLength: 40 })
	})
	.map(({ chart, lim, rules, subgroups }) => ({
		cfg: { chart, subgroupSize: 4, limits: lim, rules } as MonitorConfig,
		inputs: subgroups.map((g) => g.map((v) => lim.centre + v * (lim.sigma || 1))) as MonitorInput[]
	}));

const attributeCase = fc
	.record({
		chart: fc.constantFrom('p' as const, 'np' as const, 'c' as const, 'u' as const),
		pbar: fc.constantFrom(0, 0.02, 0.1, 0.5, 1),
		rules: ruleSetArb,
		samples: fc.array(
			fc.record({
				n: fc.integer({ min: 1, max: 60 }),
				frac: fc.double({ min: 0, max: 1, noNaN: true })
			}),
			{ maxLength: 60 }
		)
	})
	.map(({ chart, pbar, rules, samples }) => ({
		cfg: {
			chart,
			subgroupSize: 20,
			limits: { centre: chart === 'c' || chart === 'u' ? pbar * 8 : pbar, sigma: 0 },
			rules
		} as MonitorConfig,
		inputs: samples.map((s) => ({ count: Math.floor(s.frac * s.n), n: s.n })) as MonitorInput[]
	}));

const timeWeightedCase = fc
	.record({
		chart: fc.constantFrom('ewma' as const, 'cusum' as const),
		lim: variableArb,
		lambda: fc.constantFrom(0.05, 0.2, 1),
		L: fc.constantFrom(2.7, 3),
		start: fc.constantFrom(null, 1),
		k: fc.constantFrom(0, 0.5, 1),
		h: fc.constantFrom(4, 5),
		headstart: fc.constantFrom(0, 2),
		rules: ruleSetArb,
		z: fc.array(gridValue, { maxLength: 80 })
	})
	.map((r) => ({
		cfg: {
			chart: r.chart,
			subgroupSize: 1,
			limits: r.lim,
			rules: r.rules,
			ewma: { lambda: r.lambda, L: r.L, start: r.start },
			cusum: { k: r.k, h: r.h, headstart: r.headstart }
		} as MonitorConfig,
		inputs: r.z.map((v) => r.lim.centre + v * (r.lim.sigma || 1)) as MonitorInput[]
	}));

describe('monitor pushed one by one equals the batch phase-II chart', () => {
	it.each([
		['I-MR', imrCase],
		['X̄-R and X̄-S with unequal subgroup sizes', xbarCase],
		['p, np, c, u with varying n', attributeCase],
		['EWMA and CUSUM', timeWeightedCase]
	])('%s', (_name, arb) => {
		fc.assert(
			fc.property(arb, fc.nat(), ({ cfg, inputs }, splitSeed) => {
				const expected = batchChart(cfg, inputs);
				const split = splitSeed % (inputs.length + 1);
				const first = createMonitor(cfg);
				const got: Array<ChartPoint | null> = inputs
					.slice(0, split)
					.map((x) => first.push(x).point);
				const second = createMonitor(cfg, JSON.parse(JSON.stringify(first.state())));
				got.push(...inputs.slice(split).map((x) => second.push(x).point));
				expect(got).toEqual(expected);
				if (inputs.length > 0) {
					const result = analyze(analysisSpecFor(cfg, inputs));
					expect(result.phase).toBe('phase-2');
					expect(result.points).toEqual(got);
				}
			}),
			{ numRuns: NUM_RUNS }
		);
	});
});
