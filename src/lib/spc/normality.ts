/**
 * Anderson-Darling test of normality with mean and variance estimated from the sample
 * ("case 3" of Stephens 1974), the test most SPC tools print next to a capability study.
 *
 *   Y_i = (x_(i) − x̄)/s            (x sorted ascending, s the n−1 standard deviation)
 *   A²  = −n − (1/n)·Σ_{i=1..n} (2i − 1)·[ln Φ(Y_i) + ln(1 − Φ(Y_{n+1−i}))]
 *   A²* = A²·(1 + 0.75/n + 2.25/n²)                 (small-sample modification)
 *
 * p-value from A²* (R. B. D'Agostino & M. A. Stephens, Goodness-of-Fit Techniques, Marcel
 * Dekker 1986, Table 4.9; the same piecewise fit as R's nortest::ad.test):
 *   A²* < 0.2          p = 1 − exp(−13.436 + 101.14·A²* − 223.73·A²*²)
 *   0.2 ≤ A²* < 0.34   p = 1 − exp(−8.318 + 42.796·A²* − 59.938·A²*²)
 *   0.34 ≤ A²* < 0.6   p = exp(0.9177 − 4.279·A²* − 1.38·A²*²)
 *   A²* ≥ 0.6          p = exp(1.2937 − 5.709·A²* + 0.0186·A²*²)
 * The last parabola turns upwards past A²* ≈ 153, so (as nortest does) A²* is capped at 10 in
 * it: beyond, p is reported as its value at 10, ≈ 3.7e-24, i.e. "normality is rejected".
 * The fit is an approximation to about two significant digits; p is clamped to [0, 1].
 *
 * ln(1 − Φ(y)) is computed as ln Φ(−y), and ln Φ through erfcx in the far tail, so an outlier
 * 40 standard deviations out gives a finite, correct A² instead of −ln 0.
 */
import { logNormalCdf } from './distributions';
import { mean as sampleMean, sd as sampleSd } from './stats';

/** Smallest sample the test is run on (as nortest::ad.test; the p-value fit needs n ≥ 8). */
export const AD_MIN_N = 8;

/** A²* above which the p-value fit is not used (it turns upwards), as in nortest. */
const AD_P_CAP = 10;

export interface AndersonDarlingResult {
	/** The Anderson-Darling statistic A². */
	a2: number;
	/** A²* = A²(1 + 0.75/n + 2.25/n²). */
	a2Adjusted: number;
	/** Approximate p-value of H0 "the data are normal" (D'Agostino & Stephens 1986). */
	pValue: number;
	n: number;
}

/** p-value of the adjusted statistic A²* (D'Agostino & Stephens 1986, Table 4.9). */
export function andersonDarlingPValue(a2Adjusted: number): number {
	if (!(a2Adjusted >= 0)) throw new RangeError(`A²* must be ≥ 0, got ${a2Adjusted}`);
	const a = a2Adjusted;
	let p: number;
	if (a < 0.2) p = 1 - Math.exp(-13.436 + 101.14 * a - 223.73 * a * a);
	else if (a < 0.34) p = 1 - Math.exp(-8.318 + 42.796 * a - 59.938 * a * a);
	else if (a < 0.6) p = Math.exp(0.9177 - 4.279 * a - 1.38 * a * a);
	else {
		const c = Math.min(a, AD_P_CAP);
		p = Math.exp(1.2937 - 5.709 * c + 0.0186 * c * c);
	}
	return Math.min(1, Math.max(0, p));
}

/**
 * Anderson-Darling normality test. Returns null when the test cannot be run: fewer than
 * AD_MIN_N values, or all values equal (s = 0, nothing to standardise). Throws a RangeError
 * on a non-finite value, which would otherwise poison the statistic silently.
 */
export function andersonDarling(values: readonly number[]): AndersonDarlingResult | null {
	const n = values.length;
	for (const v of values) {
		if (!Number.isFinite(v)) throw new RangeError(`andersonDarling: value ${v} is not finite`);
	}
	if (n < AD_MIN_N) return null;
	const x = [...values].sort((a, b) => a - b);
	// Test equality directly: the rounding in x̄ would leave s at ~1e-16 instead of 0.
	if (x[0] === x[n - 1]) return null;
	// The same (compensated) mean and n−1 SD as capability(), so both describe one sample.
	const mean = sampleMean(x);
	const s = sampleSd(x);
	if (!(s > 0)) return null;
	let sum = 0;
	for (let i = 0; i < n; i++) {
		const lower = logNormalCdf((x[i] - mean) / s);
		const upper = logNormalCdf(-(x[n - 1 - i] - mean) / s);
		sum += (2 * i + 1) * (lower + upper);
	}
	const a2 = -n - sum / n;
	const a2Adjusted = a2 * (1 + 0.75 / n + 2.25 / (n * n));
	return { a2, a2Adjusted, pValue: andersonDarlingPValue(a2Adjusted), n };
}
