/**
 * Distribution functions the capability and normality modules need, accurate to a few units
 * in the last place of a double (relative error well below 1e-13 wherever the result is a
 * normal double), with no dependency: the engine runs unchanged in workers and browsers.
 *
 * - erf / erfc / erfcx: W. J. Cody, "Rational Chebyshev approximations for the error
 *   function", Math. Comp. 23 (1969) 631-637, as implemented in his CALERF routine (SPECFUN,
 *   Netlib, 1990): three rational approximations on |x| ≤ 0.46875, ≤ 4 and > 4, max relative
 *   error about 1e-18 in the coefficients' design; exp(−x²) is split (Cody's 16ths trick) so
 *   the tail keeps its relative accuracy.
 * - Normal quantile: M. J. Wichura, "Algorithm AS 241: The percentage points of the normal
 *   distribution", Applied Statistics 37 (1988) 477-484 (PPND16, about 1e-16 relative).
 * - ln Γ: Stirling's series with 8 Bernoulli terms for x ≥ 10, shifted upwards by the
 *   recurrence Γ(x+1) = xΓ(x) below 10 (Abramowitz & Stegun 6.1.40).
 * - Regularised incomplete gamma P(a, x), Q(a, x): power series for x < a + 1, Lentz's
 *   continued fraction otherwise (A&S 6.5.29, 6.5.31; Numerical Recipes §6.2); the common
 *   prefactor x^a e^(−x)/Γ(a) is formed as a·log1pmx((x−a)/a) + ½ln(a/2π) − S(a) for a ≥ 10 so
 *   it keeps its accuracy for large a (the naive a·ln x − x − lnΓ(a) cancels catastrophically).
 * - Chi-square quantile: Wilson-Hilferty start (A&S 26.4.17), then safeguarded Newton steps on
 *   the regularised incomplete gamma function, solving on whichever tail is smaller.
 */

/** √(2π) and friends, to full double precision. */
const SQRT2 = 1.4142135623730951;
const LN_SQRT_2PI = 0.9189385332046728; // ln √(2π)
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1/√π

// Cody CALERF coefficients (SPECFUN). The published 18-digit constants are written as the
// shortest decimals of the doubles they round to (the same values a compiler would use).
const ERF_A = [
	3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315
];
const ERF_B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const ERF_C = [
	0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769,
	1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8
];
const ERF_D = [
	15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597,
	4362.619090143247, 3439.3676741437216, 1230.3393548037495
];
const ERF_P = [
	0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275,
	0.0006587491615298378, 0.016315387137302097
];
const ERF_Q = [
	2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132,
	0.0023352049762686918
];

/** Beyond this erfc(x) underflows to 0 in double precision (Cody's XBIG). */
const ERFC_XBIG = 26.543;
/** Beyond this erfcx(x) = 1/(x√π) to double precision (Cody's XHUGE). */
const ERFCX_XHUGE = 6.71e7;
/** Below this erfcx(x) = 2·exp(x²) − … overflows (Cody's XNEG). */
const ERFCX_XNEG = -26.628;

type ErfKind = 0 | 1 | 2; // 0: erf, 1: erfc, 2: erfcx = exp(x²)·erfc(x)

/** exp(−y²) with y split at a multiple of 1/16 so the product keeps full relative accuracy. */
function expMinusSquare(y: number): number {
	const ysq = Math.trunc(y * 16) / 16;
	const del = (y - ysq) * (y + ysq);
	return Math.exp(-ysq * ysq) * Math.exp(-del);
}

function calerf(x: number, kind: ErfKind): number {
	const y = Math.abs(x);
	let result: number;
	if (y <= 0.46875) {
		const ysq = y > 1.11e-16 ? y * y : 0;
		let xnum = ERF_A[4] * ysq;
		let xden = ysq;
		for (let i = 0; i < 3; i++) {
			xnum = (xnum + ERF_A[i]) * ysq;
			xden = (xden + ERF_B[i]) * ysq;
		}
		result = (x * (xnum + ERF_A[3])) / (xden + ERF_B[3]);
		if (kind !== 0) result = 1 - result;
		if (kind === 2) result = Math.exp(ysq) * result;
		return result;
	}
	if (y <= 4) {
		let xnum = ERF_C[8] * y;
		let xden = y;
		for (let i = 0; i < 7; i++) {
			xnum = (xnum + ERF_C[i]) * y;
			xden = (xden + ERF_D[i]) * y;
		}
		result = (xnum + ERF_C[7]) / (xden + ERF_D[7]);
		if (kind !== 2) result *= expMinusSquare(y);
	} else {
		result = 0;
		let done = false;
		if (y >= ERFC_XBIG) {
			if (kind !== 2) done = true;
			else if (y >= ERFCX_XHUGE) {
				result = ONE_OVER_SQRT_PI / y;
				done = true;
			}
		}
		if (!done) {
			const ysq = 1 / (y * y);
			let xnum = ERF_P[5] * ysq;
			let xden = ysq;
			for (let i = 0; i < 4; i++) {
				xnum = (xnum + ERF_P[i]) * ysq;
				xden = (xden + ERF_Q[i]) * ysq;
			}
			result = (ysq * (xnum + ERF_P[4])) / (xden + ERF_Q[4]);
			result = (ONE_OVER_SQRT_PI - result) / y;
			if (kind !== 2) result *= expMinusSquare(y);
		}
	}
	// Fix up for negative arguments (result so far is erfc(|x|) or erfcx(|x|)).
	if (kind === 0) {
		result = 0.5 - result + 0.5;
		return x < 0 ? -result : result;
	}
	if (kind === 1) return x < 0 ? 2 - result : result;
	if (x < 0) {
		if (x < ERFCX_XNEG) return Number.POSITIVE_INFINITY;
		const e = 1 / expMinusSquare(x);
		return e + e - result;
	}
	return result;
}

/** Error function erf(x). */
export function erf(x: number): number {
	if (Number.isNaN(x)) return Number.NaN;
	return calerf(x, 0);
}

/** Complementary error function erfc(x) = 1 − erf(x), accurate in the far tail. */
export function erfc(x: number): number {
	if (Number.isNaN(x)) return Number.NaN;
	return calerf(x, 1);
}

/** Scaled complementary error function exp(x²)·erfc(x); never underflows for large x. */
export function erfcx(x: number): number {
	if (Number.isNaN(x)) return Number.NaN;
	return calerf(x, 2);
}

/** Standard normal CDF Φ(z) = ½·erfc(−z/√2). Accurate in relative terms in the lower tail. */
export function normalCdf(z: number): number {
	return 0.5 * erfc(-z / SQRT2);
}

/** Upper tail 1 − Φ(z) = ½·erfc(z/√2), without the cancellation of 1 − Φ(z) for large z. */
export function normalSf(z: number): number {
	return 0.5 * erfc(z / SQRT2);
}

/**
 * ln Φ(z), finite for every finite z: below z = −5 it is computed from erfcx so that, e.g.,
 * ln Φ(−40) = −804.6… is exact where Φ(−40) itself underflows to 0.
 */
export function logNormalCdf(z: number): number {
	if (z >= -5) return Math.log(normalCdf(z));
	const t = -z / SQRT2;
	return Math.log(0.5 * erfcx(t)) - t * t;
}

// AS 241 (PPND16) coefficients, ascending powers; the published 20-digit constants written as
// the shortest decimals of the doubles they round to.
const AS241_A = [
	3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
	67265.7709270087, 33430.57558358813, 2509.0809287301227
];
const AS241_B = [
	1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
	28729.085735721943, 5226.495278852854
];
const AS241_C = [
	1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
	0.2417807251774506, 0.022723844989269184, 0.0007745450142783414
];
const AS241_D = [
	1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008,
	0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9
];
const AS241_E = [
	6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487,
	0.026532189526576124, 0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7
];
const AS241_F = [
	1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
	0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15
];

function poly(c: readonly number[], x: number): number {
	let acc = c[c.length - 1];
	for (let k = c.length - 2; k >= 0; k--) acc = acc * x + c[k];
	return acc;
}

/**
 * Standard normal quantile Φ⁻¹(p) (AS 241). Returns −∞ at p = 0, +∞ at p = 1; throws a
 * RangeError outside [0, 1] because a probability outside it is always a caller bug.
 */
export function normalQuantile(p: number): number {
	if (!(p >= 0 && p <= 1)) throw new RangeError(`probability must lie in [0, 1], got ${p}`);
	if (p === 0) return Number.NEGATIVE_INFINITY;
	if (p === 1) return Number.POSITIVE_INFINITY;
	const q = p - 0.5;
	if (Math.abs(q) <= 0.425) {
		const r = 0.180625 - q * q;
		return (q * poly(AS241_A, r)) / poly(AS241_B, r);
	}
	let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
	let value: number;
	if (r <= 5) {
		r -= 1.6;
		value = poly(AS241_C, r) / poly(AS241_D, r);
	} else {
		r -= 5;
		value = poly(AS241_E, r) / poly(AS241_F, r);
	}
	return q < 0 ? -value : value;
}

/**
 * Stirling correction S(x) = lnΓ(x) − [(x − ½)ln x − x + ln√(2π)] for x ≥ 10
 * (A&S 6.1.40; the first omitted term is below 3e-18 at x = 10).
 */
function stirlingCorrection(x: number): number {
	const r = 1 / x;
	const r2 = r * r;
	return (
		r *
		(1 / 12 +
			r2 *
				(-1 / 360 +
					r2 *
						(1 / 1260 +
							r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156)))))))
	);
}

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
	if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
	if (x === 1 || x === 2) return 0;
	let shift = 0;
	let y = x;
	// Shift up to y ≥ 10; the product stays far from overflow (at most 10 factors < 10).
	let prod = 1;
	while (y < 10) {
		prod *= y;
		y += 1;
		shift++;
	}
	const base = (y - 0.5) * Math.log(y) - y + LN_SQRT_2PI + stirlingCorrection(y);
	return shift > 0 ? base - Math.log(prod) : base;
}

/** log(1 + t) − t, accurate also for small |t| (where both terms nearly cancel). */
function log1pmx(t: number): number {
	if (Math.abs(t) > 0.25) return Math.log1p(t) - t;
	// −t²/2 + t³/3 − t⁴/4 + … ; |t| ≤ 0.25 → 0.25^k/k < 1e-19 by k = 30.
	let term = t;
	let sum = 0;
	for (let k = 2; k < 60; k++) {
		term *= -t;
		const add = term / k;
		sum += add;
		if (Math.abs(add) <= 1e-17 * Math.abs(sum)) break;
	}
	return sum;
}

/** ln(x^a e^(−x) / Γ(a)), the prefactor shared by the series and the continued fraction. */
function logGammaPrefactor(a: number, x: number): number {
	if (a < 10) return a * Math.log(x) - x - lnGamma(a);
	return a * log1pmx((x - a) / a) + 0.5 * Math.log(a / (2 * Math.PI)) - stirlingCorrection(a);
}

/** Iteration cap of the series and the continued fraction; convergence needs O(√a) terms. */
const MAX_ITERATIONS = 100_000;
const GAMMA_EPS = 1e-16;

function gammaSeries(a: number, x: number): number {
	// P(a, x) = prefactor · Σ_{n≥0} x^n / (a(a+1)…(a+n))
	let ap = a;
	let term = 1 / a;
	let sum = term;
	for (let n = 0; n < MAX_ITERATIONS; n++) {
		ap += 1;
		term *= x / ap;
		sum += term;
		if (Math.abs(term) < Math.abs(sum) * GAMMA_EPS) {
			return sum * Math.exp(logGammaPrefactor(a, x));
		}
	}
	throw new Error(`incomplete gamma series did not converge (a = ${a}, x = ${x})`);
}

function gammaContinuedFraction(a: number, x: number): number {
	// Q(a, x) = prefactor · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))), modified Lentz.
	const tiny = 1e-300;
	let b = x + 1 - a;
	let c = 1 / tiny;
	let d = 1 / b;
	let h = d;
	for (let i = 1; i < MAX_ITERATIONS; i++) {
		const an = -i * (i - a);
		b += 2;
		d = an * d + b;
		if (Math.abs(d) < tiny) d = tiny;
		c = b + an / c;
		if (Math.abs(c) < tiny) c = tiny;
		d = 1 / d;
		const del = d * c;
		h *= del;
		if (Math.abs(del - 1) < GAMMA_EPS) return Math.exp(logGammaPrefactor(a, x)) * h;
	}
	throw new Error(`incomplete gamma continued fraction did not converge (a = ${a}, x = ${x})`);
}

function checkGammaArgs(a: number, x: number): void {
	if (!(a > 0) || !Number.isFinite(a)) throw new RangeError(`shape a must be > 0, got ${a}`);
	if (!(x >= 0)) throw new RangeError(`x must be ≥ 0, got ${x}`);
}

/** Regularised lower incomplete gamma P(a, x) = γ(a, x)/Γ(a). */
export function regularizedGammaP(a: number, x: number): number {
	checkGammaArgs(a, x);
	if (x === 0) return 0;
	if (x === Number.POSITIVE_INFINITY) return 1;
	return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Regularised upper incomplete gamma Q(a, x) = 1 − P(a, x), accurate in the upper tail. */
export function regularizedGammaQ(a: number, x: number): number {
	checkGammaArgs(a, x);
	if (x === 0) return 1;
	if (x === Number.POSITIVE_INFINITY) return 0;
	return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

function checkDf(df: number): void {
	if (!(df > 0) || !Number.isFinite(df)) {
		throw new RangeError(`degrees of freedom must be a finite number > 0, got ${df}`);
	}
}

/** Chi-square CDF with (possibly fractional) df degrees of freedom. */
export function chiSquareCdf(x: number, df: number): number {
	checkDf(df);
	if (x <= 0) return 0;
	return regularizedGammaP(df / 2, x / 2);
}

/** Chi-square upper tail 1 − F(x). */
export function chiSquareSf(x: number, df: number): number {
	checkDf(df);
	if (x <= 0) return 1;
	return regularizedGammaQ(df / 2, x / 2);
}

/**
 * Chi-square quantile: the x with F(x; df) = p, for 0 < p < 1 and real df > 0.
 *
 * Start: Wilson-Hilferty x₀ = ν(1 − 2/(9ν) + z·√(2/(9ν)))³ (A&S 26.4.17), or, where that
 * is poor (small ν with p in the lower tail), the small-x limit F(x) ≈ (x/2)^(ν/2)/Γ(ν/2+1).
 * Then Newton steps on the smaller tail (P below the median, Q above, so that the target is
 * always resolved to relative precision), kept inside a bracket that shrinks each step and
 * falling back to bisection when a step leaves it.
 */
export function chiSquareQuantile(p: number, df: number): number {
	checkDf(df);
	if (!(p > 0 && p < 1)) throw new RangeError(`probability must lie in (0, 1), got ${p}`);
	const a = df / 2;
	const upper = p > 0.5;
	const target = upper ? 1 - p : p;
	// g(x) = tail(x) − target; the tail is P (increasing) or Q (decreasing).
	const tail = upper
		? (x: number) => regularizedGammaQ(a, x / 2)
		: (x: number) => regularizedGammaP(a, x / 2);
	const z = normalQuantile(p);
	const h = 2 / (9 * df);
	let x = df * Math.pow(1 - h + z * Math.sqrt(h), 3);
	const smallX = 2 * Math.exp((Math.log(p) + lnGamma(a + 1)) / a);
	if (!(x > 0) || (!upper && smallX < x && df < 2)) x = smallX;
	if (!(x > 0) || !Number.isFinite(x)) x = df;

	let lo = 0;
	let hi = Number.POSITIVE_INFINITY;
	for (let iter = 0; iter < 200; iter++) {
		const g = tail(x) - target;
		// Keep the bracket: below the root the P-tail is too small, the Q-tail too large.
		const below = upper ? g > 0 : g < 0;
		if (below) lo = x;
		else hi = x;
		if (g === 0) return x;
		// d/dx P(a, x/2) = density f(x) = exp((a−1)ln(x/2) − x/2 − lnΓ(a)) / 2.
		const logDensity = (a - 1) * Math.log(x / 2) - x / 2 - lnGamma(a) - Math.LN2;
		const slope = upper ? -Math.exp(logDensity) : Math.exp(logDensity);
		let next = x - g / slope;
		if (!(next > lo && next < hi) || !Number.isFinite(next)) {
			next = Number.isFinite(hi) ? (lo + hi) / 2 : Math.max(2 * x, lo * 2 + 1);
		}
		if (Math.abs(next - x) <= 4e-16 * x) return next;
		if (Number.isFinite(hi) && hi - lo <= 4e-16 * hi) return next;
		x = next;
	}
	throw new Error(`chi-square quantile did not converge (p = ${p}, df = ${df})`);
}
