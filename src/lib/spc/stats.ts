/**
 * Small numerical helpers of the SPC engine: sums, moments, the normal distribution and the
 * log-gamma function. Pure functions, no I/O, no dependencies, so the worker, the server and
 * the browser all compute the same numbers.
 *
 * Accuracy targets (checked in stats.test.ts against independently known values):
 * - `normalCdf`: ~1e-15 relative in both tails down to Φ(−37) (the lower tail is computed
 *   directly, never as 1 − Φ(x), so ppm-level and smaller tail areas keep their digits);
 * - `lgamma`: ~1e-15 relative for x ≥ 0.5 (Lanczos, g = 7, 9 terms).
 */

/** Neumaier-compensated sum: long baselines of nearly equal values keep their last digits. */
export function sum(values: readonly number[]): number {
	let s = 0;
	let c = 0;
	for (let i = 0; i < values.length; i++) {
		const v = values[i];
		const t = s + v;
		c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
		s = t;
	}
	return s + c;
}

/** Arithmetic mean; NaN for an empty array (callers check the length first). */
export function mean(values: readonly number[]): number {
	return sum(values) / values.length;
}

/**
 * Sample variance with divisor n − 1, two-pass (mean first) so that data far from zero
 * (74.001 mm ± 0.01) does not lose its digits to cancellation. 0 for fewer than 2 values.
 */
export function variance(values: readonly number[]): number {
	const n = values.length;
	if (n < 2) return 0;
	const m = mean(values);
	let ss = 0;
	let comp = 0;
	for (let i = 0; i < n; i++) {
		const d = values[i] - m;
		ss += d * d;
		comp += d;
	}
	// The compensation term removes the rounding error left in the mean (Chan, Golub & LeVeque).
	return Math.max(0, (ss - (comp * comp) / n) / (n - 1));
}

/** Sample standard deviation (divisor n − 1); 0 for fewer than 2 values. */
export function sd(values: readonly number[]): number {
	return Math.sqrt(variance(values));
}

/** max − min; 0 for fewer than 2 values. */
export function range(values: readonly number[]): number {
	if (values.length < 2) return 0;
	let lo = values[0];
	let hi = values[0];
	for (let i = 1; i < values.length; i++) {
		const v = values[i];
		if (v < lo) lo = v;
		if (v > hi) hi = v;
	}
	return hi - lo;
}

const LANCZOS_G = 7;
const LANCZOS = [
	0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
	-176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
	1.5056327351493116e-7
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (reflection below 0.5 keeps the Lanczos sum in its accurate range). */
export function lgamma(x: number): number {
	if (!(x > 0)) throw new RangeError(`lgamma needs x > 0, got ${x}`);
	if (x < 0.5) {
		// Γ(x)Γ(1−x) = π / sin(πx)
		return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
	}
	const z = x - 1;
	let a = LANCZOS[0];
	const t = z + LANCZOS_G + 0.5;
	for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
	return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erfc(z) for z ≥ 0. Below 3: erf by the all-positive series
 * erf(z) = 2/√π e^(−z²) Σ 2^k z^(2k+1) / (1·3·…·(2k+1)) (no cancellation; erfc(3) ≈ 2e-5 so
 * 1 − erf keeps ~11 significant digits there and more below). From 3 up: the Laplace continued
 * fraction erfc(z) = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + 3/2/(z + …)))) by modified Lentz,
 * which converges fast there and keeps full relative precision deep in the tail.
 */
function erfcNonNegative(z: number): number {
	if (z < 3) {
		let term = z;
		let s = z;
		for (let k = 1; k < 300; k++) {
			term *= (2 * z * z) / (2 * k + 1);
			s += term;
			if (term <= s * 1e-17) break;
		}
		return 1 - TWO_OVER_SQRT_PI * Math.exp(-z * z) * s;
	}
	const tiny = 1e-300;
	let f = z;
	let c = z;
	let d = 0;
	for (let k = 1; k < 1000; k++) {
		const a = k / 2;
		d = z + a * d;
		d = d === 0 ? tiny : 1 / d;
		c = z + a / c;
		if (c === 0) c = tiny;
		const delta = c * d;
		f *= delta;
		if (Math.abs(delta - 1) < 1e-16) break;
	}
	return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

/** Complementary error function, any real z. */
export function erfc(z: number): number {
	if (Number.isNaN(z)) return NaN;
	return z >= 0 ? erfcNonNegative(z) : 2 - erfcNonNegative(-z);
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
	return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * Standard normal CDF Φ(x). The smaller of Φ(x) and 1 − Φ(x) is always computed directly, so
 * use `normalCdf(-x)` for an upper tail, never `1 - normalCdf(x)`.
 */
export function normalCdf(x: number): number {
	if (Number.isNaN(x)) return NaN;
	return x < 0 ? 0.5 * erfcNonNegative(-x / Math.SQRT2) : 1 - 0.5 * erfcNonNegative(x / Math.SQRT2);
}

/**
 * Nodes and weights of the m-point Gauss-Legendre rule on [−1, 1], by Newton iteration on the
 * Legendre polynomial (Golub-Welsch would need an eigen-solver; Newton from the Tricomi start
 * converges in a handful of steps for the m ≤ 64 we use). Exact for polynomials of degree 2m−1.
 */
export function gaussLegendre(m: number): { nodes: number[]; weights: number[] } {
	if (!Number.isInteger(m) || m < 1 || m > 64) {
		throw new RangeError(`Gauss-Legendre order must be an integer 1..64, got ${m}`);
	}
	const nodes = new Array<number>(m);
	const weights = new Array<number>(m);
	for (let i = 0; i < Math.ceil(m / 2); i++) {
		let x = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
		for (let iter = 0; iter < 100; iter++) {
			let p0 = 1;
			let p1 = x;
			for (let k = 2; k <= m; k++) {
				const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
				p0 = p1;
				p1 = p2;
			}
			const dx = p1 / ((m * (x * p1 - p0)) / (x * x - 1));
			x -= dx;
			if (Math.abs(dx) < 1e-16) break;
		}
		// Recompute the derivative at the converged node for the weight.
		let p0 = 1;
		let p1 = x;
		for (let k = 2; k <= m; k++) {
			const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
			p0 = p1;
			p1 = p2;
		}
		const dp = (m * (x * p1 - p0)) / (x * x - 1);
		const w = 2 / ((1 - x * x) * dp * dp);
		nodes[i] = -x;
		nodes[m - 1 - i] = x;
		weights[i] = w;
		weights[m - 1 - i] = w;
	}
	if (m % 2 === 1) nodes[(m - 1) / 2] = 0;
	return { nodes, weights };
}
