/**
 * Phase I: estimate a chart's centre and process sigma from a baseline, optionally excluding
 * out-of-control subgroups (iteratively, each exclusion reported), or take them from known
 * standards. The result is a FrozenLimits that phase II (points.ts, monitor.ts) uses as is.
 *
 * Formulas (docs/spc.md §Estimation; Montgomery, Introduction to SQC, 7th ed., §6.2-6.4, §7):
 * - centre of variable charts: x̿ = Σ nᵢ x̄ᵢ / Σ nᵢ (the grand mean of all values; with equal n
 *   the mean of the subgroup means);
 * - sigma estimators (types.ts SigmaEstimator):
 *   'rbar-d2'    σ̂ = (1/m) Σ Rᵢ / d2(nᵢ)                 (= R̄/d2 for equal n)
 *   'sbar-c4'    σ̂ = (1/m) Σ sᵢ / c4(nᵢ)                 (= S̄/c4 for equal n)
 *   'pooled-sd'  σ̂ = s_p / c4(d + 1), s_p² = Σ (nᵢ−1) sᵢ² / d, d = Σ (nᵢ−1)
 *   'mr-d2'      σ̂ = M̄R / d2(w), MRⱼ = max − min of w consecutive values (w = 2: |xⱼ − xⱼ₋₁|)
 *   'overall-sd' σ̂ = s of all values (n − 1 divisor, no c4: the long-term "Pp" sigma)
 * - attribute centres: p̄ = Σ dᵢ / Σ nᵢ (p and np; np's centre line is then nᵢ p̄),
 *   c̄ = Σ cᵢ / m, ū = Σ cᵢ / Σ nᵢ.
 *
 * Iterative exclusion ('beyond-limits'): compute limits from the included items, exclude every
 * item whose primary point lies strictly beyond its limits (X̄, R/S, p, …; for I-MR, EWMA and
 * CUSUM baselines the individuals chart only — a large moving range does not say which of its
 * two values is wrong), recompute, repeat until nothing new is excluded or maxIterations passes
 * ran. Excluded items stay in the chart (plotted against the final limits) and are reported.
 */
import { c4, d2, MAX_RANGE_N } from './constants';
import { dispersionLimits, primaryLimits, subgroupStats } from './points';
import { mean, sd } from './stats';
import type { ChartType, FrozenLimits, SigmaEstimator } from './types';

export const SIGMA_ESTIMATORS: readonly SigmaEstimator[] = [
	'rbar-d2',
	'sbar-c4',
	'pooled-sd',
	'mr-d2',
	'overall-sd'
] as const;

/** The estimator each variable chart uses unless told otherwise. */
export const DEFAULT_ESTIMATOR: Record<
	'imr' | 'xbar-r' | 'xbar-s' | 'ewma' | 'cusum',
	SigmaEstimator
> = {
	imr: 'mr-d2',
	'xbar-r': 'rbar-d2',
	'xbar-s': 'sbar-c4',
	ewma: 'mr-d2',
	cusum: 'mr-d2'
};

export const DEFAULT_MAX_ITERATIONS = 10;

/** The cleaned baseline of one chart (missing and suspect values already removed). */
export type Baseline =
	| { kind: 'individuals'; values: number[] }
	| { kind: 'subgroups'; subgroups: number[][] }
	| { kind: 'attribute'; samples: Array<{ count: number; n: number }> };

export interface SigmaEstimate {
	sigma: number;
	estimator: SigmaEstimator;
	/** The averaged statistic behind σ̂: R̄, S̄, s_p, M̄R or s (equal n: the classical value). */
	statistic: number;
	/** Number of ranges, standard deviations, moving ranges or values averaged. */
	count: number;
	/** Degrees of freedom of a pooled estimate (pooled-sd: Σ(nᵢ−1); overall-sd: N − 1), else null. */
	df: number | null;
}

function fail(message: string): never {
	throw new RangeError(message);
}

/** Moving ranges of span w over consecutive values: MRⱼ = max − min of xⱼ₋w₊₁..xⱼ. */
export function movingRanges(values: readonly number[], span = 2): number[] {
	if (!Number.isInteger(span) || span < 2 || span > MAX_RANGE_N) {
		fail(`moving-range span must be an integer from 2 to ${MAX_RANGE_N}, got ${span}`);
	}
	const out: number[] = [];
	for (let j = span - 1; j < values.length; j++) {
		let lo = values[j];
		let hi = values[j];
		for (let k = j - span + 1; k < j; k++) {
			if (values[k] < lo) lo = values[k];
			if (values[k] > hi) hi = values[k];
		}
		out.push(hi - lo);
	}
	return out;
}

/**
 * σ̂ by the named estimator. Individuals (I-MR, EWMA, CUSUM baselines) support 'mr-d2' and
 * 'overall-sd'; subgroups support all but 'mr-d2'. `movingRanges` lets the caller pass ranges
 * already restricted to included values (phase I exclusion).
 */
export function estimateSigma(
	estimator: SigmaEstimator,
	baseline: Exclude<Baseline, { kind: 'attribute' }>,
	opts: { movingRangeSpan?: number; movingRanges?: number[] } = {}
): SigmaEstimate {
	if (baseline.kind === 'individuals') {
		const values = baseline.values;
		if (estimator === 'overall-sd') {
			if (values.length < 2) fail('overall-sd needs at least 2 values');
			return {
				sigma: sd(values),
				estimator,
				statistic: sd(values),
				count: values.length,
				df: values.length - 1
			};
		}
		if (estimator !== 'mr-d2') {
			fail(`estimator ${estimator} needs subgroups; individual values use mr-d2 or overall-sd`);
		}
		const span = opts.movingRangeSpan ?? 2;
		const mrs = opts.movingRanges ?? movingRanges(values, span);
		if (mrs.length === 0) fail(`mr-d2 needs at least ${span} consecutive values`);
		const mrBar = mean(mrs);
		return { sigma: mrBar / d2(span), estimator, statistic: mrBar, count: mrs.length, df: null };
	}
	const groups = baseline.subgroups;
	if (groups.length === 0) fail('no subgroups to estimate sigma from');
	for (const g of groups) {
		if (g.length < 2)
			fail(`every subgroup needs at least 2 values to estimate sigma, got ${g.length}`);
	}
	switch (estimator) {
		case 'rbar-d2': {
			let total = 0;
			const ranges: number[] = [];
			for (const g of groups) {
				if (g.length > MAX_RANGE_N) {
					fail(`rbar-d2 supports subgroups up to ${MAX_RANGE_N}; use sbar-c4 or pooled-sd`);
				}
				const r = subgroupStats(g).range;
				ranges.push(r);
				total += r / d2(g.length);
			}
			return {
				sigma: total / groups.length,
				estimator,
				statistic: mean(ranges),
				count: groups.length,
				df: null
			};
		}
		case 'sbar-c4': {
			let total = 0;
			const sds: number[] = [];
			for (const g of groups) {
				const s = subgroupStats(g).sd;
				sds.push(s);
				total += s / c4(g.length);
			}
			return {
				sigma: total / groups.length,
				estimator,
				statistic: mean(sds),
				count: groups.length,
				df: null
			};
		}
		case 'pooled-sd': {
			let ss = 0;
			let df = 0;
			for (const g of groups) {
				const s = subgroupStats(g).sd;
				ss += (g.length - 1) * s * s;
				df += g.length - 1;
			}
			const sp = Math.sqrt(ss / df);
			return { sigma: sp / c4(df + 1), estimator, statistic: sp, count: groups.length, df };
		}
		case 'overall-sd': {
			const all = groups.flat();
			const s = sd(all);
			return { sigma: s, estimator, statistic: s, count: all.length, df: all.length - 1 };
		}
		case 'mr-d2':
			return fail('mr-d2 needs individual values (an I-MR, EWMA or CUSUM chart), not subgroups');
	}
}

/** x̿ = Σ nᵢ x̄ᵢ / Σ nᵢ, computed as the mean of all values. */
export function grandMean(subgroups: readonly number[][]): number {
	return mean(subgroups.flat());
}

/** p̄ (p, np), c̄ or ū of a set of samples. */
export function attributeCentre(
	chart: 'p' | 'np' | 'c' | 'u',
	samples: ReadonlyArray<{ count: number; n: number }>
): number {
	if (samples.length === 0) fail(`no samples to estimate the ${chart} chart centre from`);
	let counts = 0;
	let units = 0;
	for (const s of samples) {
		counts += s.count;
		units += s.n;
	}
	return chart === 'c' ? counts / samples.length : counts / units;
}

export interface PhaseOneOptions {
	estimator?: SigmaEstimator;
	/** Baseline items (0-based, in baseline order) with known assignable causes: excluded first. */
	exclude?: number[];
	/** Exclude items beyond the limits and re-estimate until stable (default false). */
	iterate?: boolean;
	maxIterations?: number;
	/** Known standards: a given centre and/or sigma replaces the estimate. */
	known?: { centre?: number | null; sigma?: number | null };
	movingRangeSpan?: number;
}

export interface Exclusion {
	/** Item (baseline order, 0-based). */
	item: number;
	/** 0 = requested by the caller; k ≥ 1 = excluded after the kth estimation pass. */
	iteration: number;
	reason: 'requested' | 'beyond-limits';
	message: string;
}

export interface PhaseOneResult {
	limits: FrozenLimits;
	/** null for attribute charts (their sigma follows from the centre) and for a known sigma. */
	sigma: SigmaEstimate | null;
	exclusions: Exclusion[];
	/** Estimation passes run (1 without iteration). */
	iterations: number;
	/** False when iteration stopped at maxIterations (or would have excluded everything). */
	converged: boolean;
	/**
	 * The limits collapse onto the centre: process sigma 0 (all-equal baseline) or an attribute
	 * centre of 0 (or p̄ = 1). No NaN follows; every point off the centre is then beyond limits.
	 */
	sigmaZero: boolean;
}

function itemCount(b: Baseline): number {
	return b.kind === 'individuals'
		? b.values.length
		: b.kind === 'subgroups'
			? b.subgroups.length
			: b.samples.length;
}

/** Limits from the items still included (one estimation pass). */
function estimatePass(
	chart: ChartType,
	baseline: Baseline,
	included: boolean[],
	opts: PhaseOneOptions
): { limits: FrozenLimits; sigma: SigmaEstimate | null } {
	const known = opts.known ?? {};
	const knownCentre = known.centre ?? null;
	const knownSigma = known.sigma ?? null;
	if (baseline.kind === 'attribute') {
		if (chart !== 'p' && chart !== 'np' && chart !== 'c' && chart !== 'u') {
			fail(`${chart} chart cannot take attribute counts`);
		}
		const samples = baseline.samples.filter((_, i) => included[i]);
		const centre = knownCentre ?? attributeCentre(chart, samples);
		return {
			limits: { centre, sigma: 0, source: knownCentre === null ? 'phase-1' : 'known-standard' },
			sigma: null
		};
	}
	const variableChart = chart as keyof typeof DEFAULT_ESTIMATOR;
	const estimator = opts.estimator ?? DEFAULT_ESTIMATOR[variableChart];
	let centre: number;
	let sigma: SigmaEstimate | null = null;
	if (baseline.kind === 'individuals') {
		const values = baseline.values.filter((_, i) => included[i]);
		if (values.length === 0)
			fail('every baseline value is excluded: nothing left to estimate from');
		centre = knownCentre ?? mean(values);
		if (knownSigma === null) {
			const span = opts.movingRangeSpan ?? 2;
			// A moving range counts only if every value in its window is included, so an excluded
			// outlier does not inflate M̄R through its neighbours' ranges.
			const mrs: number[] = [];
			const all = movingRanges(baseline.values, span);
			for (let j = 0; j < all.length; j++) {
				let ok = true;
				for (let k = j; k < j + span; k++) ok &&= included[k];
				if (ok) mrs.push(all[j]);
			}
			sigma = estimateSigma(
				estimator,
				{ kind: 'individuals', values },
				{ movingRangeSpan: span, movingRanges: mrs }
			);
		}
	} else {
		const groups = baseline.subgroups.filter((_, i) => included[i]);
		if (groups.length === 0)
			fail('every baseline subgroup is excluded: nothing left to estimate from');
		centre = knownCentre ?? grandMean(groups);
		if (knownSigma === null)
			sigma = estimateSigma(estimator, { kind: 'subgroups', subgroups: groups });
	}
	const source =
		knownCentre === null && knownSigma === null
			? 'phase-1'
			: knownCentre !== null && knownSigma !== null
				? 'known-standard'
				: 'phase-1 with known standard';
	return { limits: { centre, sigma: knownSigma ?? (sigma as SigmaEstimate).sigma, source }, sigma };
}

/** Is item i beyond its limits on the chart phase I excludes on? Returns a message or null. */
function beyondMessage(
	chart: ChartType,
	baseline: Baseline,
	i: number,
	limits: FrozenLimits
): string | null {
	let value: number;
	let n = 1;
	if (baseline.kind === 'individuals') {
		value = baseline.values[i];
	} else if (baseline.kind === 'subgroups') {
		const g = baseline.subgroups[i];
		n = g.length;
		const st = subgroupStats(g);
		value = st.mean;
		if (chart === 'xbar-r' || chart === 'xbar-s') {
			const dl = dispersionLimits(chart, limits, n);
			const spread = chart === 'xbar-r' ? st.range : st.sd;
			const name = chart === 'xbar-r' ? 'range' : 'standard deviation';
			if (dl.ucl !== null && spread > dl.ucl) return `${name} ${spread} above UCL ${dl.ucl}`;
			if (dl.lcl !== null && spread < dl.lcl) return `${name} ${spread} below LCL ${dl.lcl}`;
		}
	} else {
		const s = baseline.samples[i];
		n = s.n;
		value = chart === 'p' || chart === 'u' ? s.count / s.n : s.count;
	}
	// EWMA/CUSUM baselines are judged on the individuals chart (see the file comment).
	const pl = primaryLimits(chart === 'ewma' || chart === 'cusum' ? 'imr' : chart, limits, n);
	if (pl.ucl !== null && value > pl.ucl) return `value ${value} above UCL ${pl.ucl}`;
	if (pl.lcl !== null && value < pl.lcl) return `value ${value} below LCL ${pl.lcl}`;
	return null;
}

/**
 * Phase I estimation with optional exclusion. Throws RangeError when the options do not fit
 * the chart or nothing is left to estimate from.
 */
export function phaseOne(
	chart: ChartType,
	baseline: Baseline,
	opts: PhaseOneOptions = {}
): PhaseOneResult {
	const m = itemCount(baseline);
	if (m === 0) fail('the baseline is empty: no values to estimate limits from');
	const maxIterations = opts.maxIterations ?? DEFAULT_MAX_ITERATIONS;
	if (!Number.isInteger(maxIterations) || maxIterations < 1) {
		fail(`maxIterations must be a whole number ≥ 1, got ${maxIterations}`);
	}
	const included = new Array<boolean>(m).fill(true);
	const exclusions: Exclusion[] = [];
	for (const i of opts.exclude ?? []) {
		if (!Number.isInteger(i) || i < 0 || i >= m)
			fail(`exclude: item ${i} is not in the baseline (0..${m - 1})`);
		if (!included[i]) continue;
		included[i] = false;
		exclusions.push({
			item: i,
			iteration: 0,
			reason: 'requested',
			message: 'excluded by request (assignable cause)'
		});
	}
	let pass = estimatePass(chart, baseline, included, opts);
	let iterations = 1;
	let converged = true;
	while (opts.iterate) {
		const found: Exclusion[] = [];
		for (let i = 0; i < m; i++) {
			if (!included[i]) continue;
			const msg = beyondMessage(chart, baseline, i, pass.limits);
			if (msg !== null) {
				found.push({ item: i, iteration: iterations, reason: 'beyond-limits', message: msg });
			}
		}
		if (found.length === 0) break;
		// Never exclude the whole baseline, and stop after maxIterations estimation passes; the
		// points still beyond then show as violations and `converged` says so.
		if (iterations === maxIterations || found.length === included.filter(Boolean).length) {
			converged = false;
			break;
		}
		for (const e of found) included[e.item] = false;
		exclusions.push(...found);
		pass = estimatePass(chart, baseline, included, opts);
		iterations++;
	}
	const centre = pass.limits.centre;
	const sigmaZero =
		baseline.kind === 'attribute'
			? centre === 0 || ((chart === 'p' || chart === 'np') && centre === 1)
			: pass.limits.sigma === 0;
	return { limits: pass.limits, sigma: pass.sigma, exclusions, iterations, converged, sigmaZero };
}
