/**
 * Process capability: Cp, Cpl, Cpu, Cpk, Cpm, Pp, Ppl, Ppu, Ppk with two-sided confidence
 * intervals, expected parts per million out of spec under the normal model, an
 * Anderson-Darling normality check, and a verdict `meaningful` with plain-language reasons.
 * Every formula and reference is in docs/spc-capability.md; in short (x̄ mean, s the n−1
 * standard deviation of all values, σw the within sigma, ν its degrees of freedom):
 *
 *   Cp  = (USL − LSL)/(6σw)     Cpu = (USL − x̄)/(3σw)     Cpl = (x̄ − LSL)/(3σw)
 *   Cpk = min(Cpl, Cpu)        Pp, Ppu, Ppl, Ppk: the same with s in place of σw
 *   Cpm = (USL − LSL)/(6·√(s² + (x̄ − T)²))      (Chan, Cheng & Spiring 1988; Montgomery)
 *
 * Intervals at confidence 1 − α (Montgomery, ISQC, §8.3.5; NIST e-Handbook §6.1.6):
 *   Cp, Pp:   [Ĉ·√(χ²(α/2; ν)/ν), Ĉ·√(χ²(1−α/2; ν)/ν)]         chi-square, exact for s
 *   Cpk, Cpl, Cpu, Ppk, Ppl, Ppu:  Ĉ ∓ z(1−α/2)·√(1/(9n) + Ĉ²/(2ν))   Bissell (1990)
 *   Cpm:      [Ĉpm·√(χ²(α/2; ν*)/ν*), Ĉpm·√(χ²(1−α/2; ν*)/ν*)],
 *             ν* = n(1 + a²)²/(1 + 2a²), a = (x̄ − T)/s           Boyles (1991)
 * χ²(q; ν) is the lower q-quantile. ν = n − 1 for the overall indices; for the within indices
 * ν = n − 1 too unless the caller passes `withinDf` (e.g. Σ(nᵢ − 1) for a pooled SD).
 *
 * One-sided specs: only the indices of the given side (Cpu/Ppu or Cpl/Ppl, and Cpk/Ppk equal
 * to them); Cp, Pp and Cpm need both limits and are null.
 */
import type { SpecLimits } from './types';
import { estimateSigma } from './estimate';
import { mean as sampleMean, sd as sampleSd } from './stats';
import { chiSquareQuantile, normalCdf, normalQuantile, normalSf } from './distributions';
import { andersonDarling, type AndersonDarlingResult } from './normality';
import { validateSpecLimits } from './suspect';

/**
 * Fewest values for which indices are called meaningful. A floor, not a recommendation: at
 * n = 30 the 95 % interval of a Cpk of 1.33 still spans about ±0.36 (AIAG's capability
 * studies ask for ~100 values from 25 subgroups). Callers may raise it with `minN`.
 */
export const MIN_CAPABILITY_N = 30;
/** Significance level of the normality check that makes the normal-model indices suspect. */
export const NORMALITY_ALPHA = 0.05;
export const DEFAULT_CONFIDENCE = 0.95;

export type IntervalMethod = 'chi-square' | 'bissell' | 'boyles';

export interface ConfidenceInterval {
	lower: number;
	upper: number;
	method: IntervalMethod;
	/** Degrees of freedom used (ν, or ν* for Boyles). */
	df: number;
}

export interface CapabilityIntervals {
	cp: ConfidenceInterval | null;
	cpl: ConfidenceInterval | null;
	cpu: ConfidenceInterval | null;
	cpk: ConfidenceInterval | null;
	cpm: ConfidenceInterval | null;
	pp: ConfidenceInterval | null;
	ppl: ConfidenceInterval | null;
	ppu: ConfidenceInterval | null;
	ppk: ConfidenceInterval | null;
}

/** Expected fraction out of spec in parts per million; a side without a limit is null. */
export interface PpmEstimate {
	below: number | null;
	above: number | null;
	total: number;
}

export interface CapabilityResult {
	n: number;
	mean: number | null;
	/** σw used for the C indices, and where it came from. */
	withinSigma: number | null;
	withinSigmaSource: 'given' | 'mr-d2' | null;
	/** Overall (long-term) sample standard deviation s, used for the P indices and Cpm. */
	overallSigma: number | null;
	spec: { lsl: number | null; usl: number | null; target: number | null };
	/** Target T used by Cpm: the given target, else the spec midpoint; null when one-sided. */
	cpmTarget: number | null;
	confidence: number;
	cp: number | null;
	cpl: number | null;
	cpu: number | null;
	cpk: number | null;
	cpm: number | null;
	pp: number | null;
	ppl: number | null;
	ppu: number | null;
	ppk: number | null;
	intervals: CapabilityIntervals;
	expectedPpm: { within: PpmEstimate | null; overall: PpmEstimate | null };
	normality: AndersonDarlingResult | null;
	/** False when the indices should not be used; `reasons` says why, one sentence each. */
	meaningful: boolean;
	reasons: string[];
}

export interface CapabilityOptions {
	spec: SpecLimits;
	/** Within-subgroup sigma from the chart's estimator; estimated as M̄R/d2 when absent. */
	withinSigma?: number | null;
	/** Degrees of freedom of withinSigma for the C-index intervals (default n − 1). */
	withinDf?: number | null;
	/** Whether the control chart shows statistical control; false makes the result not meaningful. */
	inControl?: boolean | null;
	/** Two-sided confidence level of the intervals, 0 < confidence < 1 (default 0.95). */
	confidence?: number;
	/** Fewest values for a meaningful result (default MIN_CAPABILITY_N). */
	minN?: number;
}

/**
 * σ̂ = M̄R/d2(2) from moving ranges of span 2 (Montgomery §6.4), through the engine's one
 * 'mr-d2' estimator so the chart and the capability study never disagree.
 */
function movingRangeSigma(values: number[]): number {
	return estimateSigma('mr-d2', { kind: 'individuals', values }, { movingRangeSpan: 2 }).sigma;
}

function isSet(x: number | null | undefined): x is number {
	return x !== null && x !== undefined;
}

/** Chi-square interval of Cp or Pp (Montgomery eq. 8.19). */
export function chiSquareInterval(
	index: number,
	df: number,
	confidence: number
): ConfidenceInterval {
	const alpha = 1 - confidence;
	return {
		lower: index * Math.sqrt(chiSquareQuantile(alpha / 2, df) / df),
		upper: index * Math.sqrt(chiSquareQuantile(1 - alpha / 2, df) / df),
		method: 'chi-square',
		df
	};
}

/** Bissell's (1990) normal approximation for Cpk-type indices (Montgomery eq. 8.20). */
export function bissellInterval(
	index: number,
	n: number,
	df: number,
	confidence: number
): ConfidenceInterval {
	const z = normalQuantile(1 - (1 - confidence) / 2);
	const half = z * Math.sqrt(1 / (9 * n) + (index * index) / (2 * df));
	return { lower: index - half, upper: index + half, method: 'bissell', df };
}

/** Boyles' (1991) chi-square approximation for Cpm; a = (x̄ − T)/s. */
export function boylesInterval(
	cpm: number,
	n: number,
	a: number,
	confidence: number
): ConfidenceInterval {
	const a2 = a * a;
	const df = (n * (1 + a2) * (1 + a2)) / (1 + 2 * a2);
	return { ...chiSquareInterval(cpm, df, confidence), method: 'boyles' };
}

function ppm(mean: number, sigma: number, lsl: number | null, usl: number | null): PpmEstimate {
	const below = lsl === null ? null : 1e6 * normalCdf((lsl - mean) / sigma);
	const above = usl === null ? null : 1e6 * normalSf((usl - mean) / sigma);
	return { below, above, total: (below ?? 0) + (above ?? 0) };
}

interface IndexSet {
	p: number | null;
	l: number | null;
	u: number | null;
	k: number | null;
}

function indices(mean: number, sigma: number, lsl: number | null, usl: number | null): IndexSet {
	const p = lsl !== null && usl !== null ? (usl - lsl) / (6 * sigma) : null;
	const l = lsl !== null ? (mean - lsl) / (3 * sigma) : null;
	const u = usl !== null ? (usl - mean) / (3 * sigma) : null;
	const k = l !== null && u !== null ? Math.min(l, u) : (l ?? u);
	return { p, l, u, k };
}

const NO_INDICES: IndexSet = { p: null, l: null, u: null, k: null };

/** 4 significant digits for messages; small p-values in exponent form (9.594e-5). */
function fmt(x: number): string {
	if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(3);
	return Number(x.toPrecision(4)).toString();
}

/**
 * Capability study of individual values against spec limits. Throws a RangeError on invalid
 * input (non-finite values, bad spec, confidence outside (0, 1), negative sigma); every other
 * problem yields null indices and a reason, never NaN.
 */
export function capability(values: number[], opts: CapabilityOptions): CapabilityResult {
	const { spec } = opts;
	validateSpecLimits(spec);
	const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
	if (!(confidence > 0 && confidence < 1)) {
		throw new RangeError(`confidence must lie strictly between 0 and 1, got ${confidence}`);
	}
	if (isSet(opts.withinSigma) && !(Number.isFinite(opts.withinSigma) && opts.withinSigma >= 0)) {
		throw new RangeError(`withinSigma must be a finite number ≥ 0, got ${opts.withinSigma}`);
	}
	if (isSet(opts.withinDf) && !(Number.isFinite(opts.withinDf) && opts.withinDf > 0)) {
		throw new RangeError(`withinDf must be a finite number > 0, got ${opts.withinDf}`);
	}
	const minN = opts.minN ?? MIN_CAPABILITY_N;
	if (!(Number.isInteger(minN) && minN >= 2)) {
		throw new RangeError(`minN must be an integer ≥ 2, got ${minN}`);
	}
	for (let i = 0; i < values.length; i++) {
		if (!Number.isFinite(values[i])) {
			throw new RangeError(`capability: value ${values[i]} at position ${i} is not finite`);
		}
	}

	const lsl = isSet(spec.lsl) ? spec.lsl : null;
	const usl = isSet(spec.usl) ? spec.usl : null;
	const target = isSet(spec.target) ? spec.target : null;
	const twoSided = lsl !== null && usl !== null;
	const cpmTarget = twoSided ? (target ?? (lsl + usl) / 2) : null;
	const n = values.length;
	const reasons: string[] = [];

	const mean = n > 0 ? sampleMean(values) : null;
	// All-equal data: s is exactly 0 (the two-pass sd can leave ~1e-16 from rounding x̄).
	const allEqual = n > 0 && values.every((v) => v === values[0]);
	const overallSigma = n >= 2 ? (allEqual ? 0 : sampleSd(values)) : null;
	let withinSigma: number | null = null;
	let withinSigmaSource: CapabilityResult['withinSigmaSource'] = null;
	if (isSet(opts.withinSigma)) {
		withinSigma = opts.withinSigma;
		withinSigmaSource = 'given';
	} else if (n >= 2) {
		withinSigma = allEqual ? 0 : movingRangeSigma(values);
		withinSigmaSource = 'mr-d2';
	}

	if (lsl === null && usl === null) {
		reasons.push('no specification limits: capability needs an LSL, a USL or both');
	}
	if (n < minN) {
		reasons.push(
			`only ${n} value${n === 1 ? '' : 's'}: capability indices need at least ${minN} to be meaningful`
		);
	}
	if (n < 2 && withinSigma === null) {
		reasons.push('fewer than 2 values: the process sigma cannot be estimated');
	}
	if (withinSigma === 0 || overallSigma === 0) {
		reasons.push(
			allEqual
				? 'all values are equal (sigma = 0): the indices are undefined; check the gauge resolution'
				: 'the within sigma is 0: the C indices are undefined'
		);
	}
	if (opts.inControl === false) {
		reasons.push(
			'the process is not in statistical control: capability predicts nothing for an unstable process'
		);
	}

	const normality = n >= 2 && !allEqual ? andersonDarling(values) : null;
	if (normality !== null && normality.pValue < NORMALITY_ALPHA) {
		reasons.push(
			`the data do not look normal (Anderson-Darling A²* = ${fmt(normality.a2Adjusted)}, p = ${fmt(normality.pValue)} < ${NORMALITY_ALPHA}): normal-model indices and ppm do not apply`
		);
	}

	const within =
		mean !== null && withinSigma !== null && withinSigma > 0
			? indices(mean, withinSigma, lsl, usl)
			: NO_INDICES;
	const overall =
		mean !== null && overallSigma !== null && overallSigma > 0
			? indices(mean, overallSigma, lsl, usl)
			: NO_INDICES;
	let cpm: number | null = null;
	if (twoSided && cpmTarget !== null && mean !== null && overallSigma !== null) {
		const tau = Math.hypot(overallSigma, mean - cpmTarget);
		if (tau > 0) cpm = (usl - lsl) / (6 * tau);
	}

	const overallDf = n - 1;
	const withinDf = isSet(opts.withinDf) ? opts.withinDf : overallDf;
	const canInterval = n >= 2;
	const chi = (x: number | null, df: number) =>
		x !== null && canInterval ? chiSquareInterval(x, df, confidence) : null;
	const bis = (x: number | null, df: number) =>
		x !== null && canInterval ? bissellInterval(x, n, df, confidence) : null;
	const intervals: CapabilityIntervals = {
		cp: chi(within.p, withinDf),
		cpl: bis(within.l, withinDf),
		cpu: bis(within.u, withinDf),
		cpk: bis(within.k, withinDf),
		cpm:
			cpm !== null && canInterval && mean !== null && cpmTarget !== null && overallSigma
				? boylesInterval(cpm, n, (mean - cpmTarget) / overallSigma, confidence)
				: null,
		pp: chi(overall.p, overallDf),
		ppl: bis(overall.l, overallDf),
		ppu: bis(overall.u, overallDf),
		ppk: bis(overall.k, overallDf)
	};

	const hasSpec = lsl !== null || usl !== null;
	const expectedPpm = {
		within:
			hasSpec && mean !== null && withinSigma !== null && withinSigma > 0
				? ppm(mean, withinSigma, lsl, usl)
				: null,
		overall:
			hasSpec && mean !== null && overallSigma !== null && overallSigma > 0
				? ppm(mean, overallSigma, lsl, usl)
				: null
	};

	return {
		n,
		mean,
		withinSigma,
		withinSigmaSource,
		overallSigma,
		spec: { lsl, usl, target },
		cpmTarget,
		confidence,
		cp: within.p,
		cpl: within.l,
		cpu: within.u,
		cpk: within.k,
		cpm,
		pp: overall.p,
		ppl: overall.l,
		ppu: overall.u,
		ppk: overall.k,
		intervals,
		expectedPpm,
		normality,
		meaningful: reasons.length === 0,
		reasons
	};
}
