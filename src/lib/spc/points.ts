/**
 * Per-point phase-II formulas: given frozen limits (process centre and process sigma) and the
 * size behind one plotted point, the centre line, control limits and sigma of the plotted
 * statistic at that point. Shared by the incremental monitor (monitor.ts) and the batch
 * analyser (analyze.ts) so that the two faces cannot drift apart: they compute every number
 * of a point with the same function, in the same floating-point order.
 *
 * Conventions (see docs/spc-rules.md and docs/spc.md):
 * - Control limits sit at ±3 sigma of the plotted statistic (`LIMIT_SIGMAS`), except EWMA
 *   (±L σ_z, time-varying) and CUSUM (±h σ).
 * - Limits that would leave the statistic's possible range are clamped to it: lower limits at
 *   0 for R, S, MR, p, np, c, u; the p upper limit at 1 and the np upper limit at n. A clamped
 *   limit is a number (0, 1, n), never null; null means "this chart has no such limit".
 * - Process sigma 0 (all-equal baseline) gives sigma 0 and limits equal to the centre: no NaN.
 *   The rules treat sigma 0 as documented in rules.ts.
 */
import { c4, d2 as rangeD2, d3 as rangeD3 } from './constants';
import type { ChartType, CusumParams, EwmaParams, FrozenLimits } from './types';

/** Width of Shewhart limits in sigma units of the plotted statistic. */
export const LIMIT_SIGMAS = 3;
export const DEFAULT_EWMA_LAMBDA = 0.2;
export const DEFAULT_EWMA_L = 3;
export const DEFAULT_CUSUM_K = 0.5;
export const DEFAULT_CUSUM_H = 5;
export const DEFAULT_CUSUM_HEADSTART = 0;
export const DEFAULT_MOVING_RANGE_SPAN = 2;

/** Limits of the plotted statistic for one point; null limit = none (e.g. LCL of c chart clamped is 0, not null). */
export interface PointLimits {
	centre: number;
	ucl: number | null;
	lcl: number | null;
	/** sigma of the plotted statistic at this point (0 when the process sigma is 0) */
	sigma: number;
}

// ---------------------------------------------------------------------------------------------
// Per-point limits
// ---------------------------------------------------------------------------------------------

function symmetric(centre: number, sigma: number, width: number): PointLimits {
	return { centre, ucl: centre + width * sigma, lcl: centre - width * sigma, sigma };
}

function assertPositiveSize(chart: ChartType, n: number): void {
	if (!(n > 0) || !Number.isFinite(n)) {
		throw new RangeError(`${chart} chart: sample size must be a positive number, got ${n}`);
	}
}

/**
 * The ith EWMA point's sigma factor √(λ/(2−λ) · (1 − (1−λ)^(2i))), i = index + 1 (1-based).
 * Exact time-varying limits (Montgomery, ISQC 7th ed., eq. 9.24), not the asymptotic ones.
 */
export function ewmaSigmaFactor(lambda: number, index: number): number {
	const i = index + 1;
	return Math.sqrt((lambda / (2 - lambda)) * (1 - Math.pow(1 - lambda, 2 * i)));
}

/**
 * Limits of the primary chart's statistic (x, x̄, p, np, c, u, EWMA z, CUSUM C+) for one
 * point. `n` is the subgroup size (variables), the number inspected (p, np, u) or the number
 * of inspection units (c: ignored, the c chart assumes a constant area of opportunity).
 * `opts.index` (0-based point index) is needed for EWMA's time-varying limits.
 */
export function primaryLimits(
	chart: ChartType,
	limits: FrozenLimits,
	n: number,
	opts?: { ewma?: EwmaParams; cusum?: CusumParams; index?: number }
): PointLimits {
	const mu = limits.centre;
	switch (chart) {
		case 'imr':
			return symmetric(mu, limits.sigma, LIMIT_SIGMAS);
		case 'xbar-r':
		case 'xbar-s':
			assertPositiveSize(chart, n);
			return symmetric(mu, limits.sigma / Math.sqrt(n), LIMIT_SIGMAS);
		case 'p': {
			assertPositiveSize(chart, n);
			const s = Math.sqrt((mu * (1 - mu)) / n);
			return {
				centre: mu,
				ucl: Math.min(1, mu + LIMIT_SIGMAS * s),
				lcl: Math.max(0, mu - LIMIT_SIGMAS * s),
				sigma: s
			};
		}
		case 'np': {
			assertPositiveSize(chart, n);
			const c = n * mu;
			const s = Math.sqrt(n * mu * (1 - mu));
			return {
				centre: c,
				ucl: Math.min(n, c + LIMIT_SIGMAS * s),
				lcl: Math.max(0, c - LIMIT_SIGMAS * s),
				sigma: s
			};
		}
		case 'c': {
			const s = Math.sqrt(mu);
			return {
				centre: mu,
				ucl: mu + LIMIT_SIGMAS * s,
				lcl: Math.max(0, mu - LIMIT_SIGMAS * s),
				sigma: s
			};
		}
		case 'u': {
			assertPositiveSize(chart, n);
			const s = Math.sqrt(mu / n);
			return {
				centre: mu,
				ucl: mu + LIMIT_SIGMAS * s,
				lcl: Math.max(0, mu - LIMIT_SIGMAS * s),
				sigma: s
			};
		}
		case 'ewma': {
			assertPositiveSize(chart, n);
			const lambda = opts?.ewma?.lambda ?? DEFAULT_EWMA_LAMBDA;
			const width = opts?.ewma?.L ?? DEFAULT_EWMA_L;
			const s = (limits.sigma / Math.sqrt(n)) * ewmaSigmaFactor(lambda, opts?.index ?? 0);
			return symmetric(mu, s, width);
		}
		case 'cusum': {
			assertPositiveSize(chart, n);
			const h = opts?.cusum?.h ?? DEFAULT_CUSUM_H;
			// C+ and C− are plotted against 0 with the decision interval H = hσ on either side
			// (C− drawn as a negative number, Minitab's convention).
			return symmetric(0, limits.sigma / Math.sqrt(n), h);
		}
	}
}

/**
 * Limits of the dispersion chart's statistic: moving range of span w (I-MR), range R (X̄-R) or
 * standard deviation S (X̄-S). `n` is the subgroup size (ignored for I-MR, which uses the span).
 *
 * From the process sigma σ: MR/R centre d2σ, sigma d3σ, limits D1σ = max(0, d2 − 3d3)σ and
 * D2σ = (d2 + 3d3)σ; S centre c4σ, sigma σ√(1 − c4²), limits B5σ and B6σ.
 * When `limits.dispersionCentre` is given it is the classical R̄ (S̄, M̄R) and the limits are
 * D3R̄, D4R̄ (B3S̄, B4S̄), i.e. the same formulas with σ = R̄/d2(n) (S̄/c4(n)): that is only
 * sound with a constant subgroup size; leave it null for unequal n.
 */
export function dispersionLimits(
	chart: 'imr' | 'xbar-r' | 'xbar-s',
	limits: FrozenLimits,
	n: number,
	movingRangeSpan?: number
): PointLimits {
	const override = limits.dispersionCentre;
	if (chart === 'xbar-s') {
		const k4 = c4(n);
		const sigma = override === null || override === undefined ? limits.sigma : override / k4;
		const centre = k4 * sigma;
		const s = sigma * Math.sqrt(1 - k4 * k4);
		return {
			centre,
			ucl: centre + LIMIT_SIGMAS * s,
			lcl: Math.max(0, centre - LIMIT_SIGMAS * s),
			sigma: s
		};
	}
	const w = chart === 'imr' ? (movingRangeSpan ?? DEFAULT_MOVING_RANGE_SPAN) : n;
	if (chart === 'imr' && (!Number.isInteger(w) || w < 2)) {
		throw new RangeError(`moving-range span must be an integer ≥ 2, got ${w}`);
	}
	// d2/d3 throw a RangeError outside 2..MAX_RANGE_N.
	const d2 = rangeD2(w);
	const d3 = rangeD3(w);
	const sigma = override === null || override === undefined ? limits.sigma : override / d2;
	const centre = d2 * sigma;
	const s = d3 * sigma;
	return {
		centre,
		ucl: centre + LIMIT_SIGMAS * s,
		lcl: Math.max(0, centre - LIMIT_SIGMAS * s),
		sigma: s
	};
}

/**
 * The sigma unit the run rules use for a point of `chart` (RulePoint.sigma). For Shewhart
 * charts it is the sigma of the plotted statistic. For EWMA and CUSUM the limits are L σ_z and
 * hσ rather than 3 sigma, so the zone unit is a third of the limit distance: rule 1 (beyond
 * 3 units) then fires exactly beyond the drawn limit.
 */
export function ruleSigma(chart: ChartType, pl: PointLimits): number {
	if ((chart === 'ewma' || chart === 'cusum') && pl.ucl !== null) {
		return (pl.ucl - pl.centre) / LIMIT_SIGMAS;
	}
	return pl.sigma;
}

// ---------------------------------------------------------------------------------------------
// Per-point statistics (one arithmetic order for both faces)
// ---------------------------------------------------------------------------------------------

/** Mean, range and sample standard deviation (n − 1) of one subgroup; sd is 0 for n = 1. */
export function subgroupStats(values: readonly number[]): {
	mean: number;
	range: number;
	sd: number;
} {
	const n = values.length;
	let sum = 0;
	let min = Infinity;
	let max = -Infinity;
	for (let i = 0; i < n; i++) {
		const v = values[i];
		sum += v;
		if (v < min) min = v;
		if (v > max) max = v;
	}
	const mean = sum / n;
	let ss = 0;
	for (let i = 0; i < n; i++) {
		const d = values[i] - mean;
		ss += d * d;
	}
	return { mean, range: max - min, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

/** EWMA recursion z_i = λ x_i + (1 − λ) z_(i−1); z_0 = `start` ?? μ0. */
export function ewmaNext(prev: number, x: number, lambda: number): number {
	return lambda * x + (1 - lambda) * prev;
}

/**
 * Tabular CUSUM step (Montgomery ISQC eq. 9.2-9.3), K = kσ:
 * C+_i = max(0, x_i − (μ0 + K) + C+_(i−1)), C−_i = max(0, (μ0 − K) − x_i + C−_(i−1)).
 * Start values C±_0 = headstart·σ (fast initial response when > 0).
 */
export function cusumNext(
	prevUpper: number,
	prevLower: number,
	x: number,
	target: number,
	kSigma: number
): { upper: number; lower: number } {
	return {
		upper: Math.max(0, x - (target + kSigma) + prevUpper),
		lower: Math.max(0, target - kSigma - x + prevLower)
	};
}
