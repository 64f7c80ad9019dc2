/**
 * Bias-correction constants of Shewhart charts, computed from first principles (never a
 * hand-typed table), cached per subgroup size.
 *
 * - c4(n) = √(2/(n−1)) · Γ(n/2) / Γ((n−1)/2): E[s] = c4·σ for n iid normal values, from the
 *   asymptotic series of ln(Γ(x+½)/Γ(x)) for n ≥ 60 and the exact recurrence
 *   c4(n)·c4(n+1) = √((n−1)/n) below (1e-15 relative; checked against mpmath).
 * - d2(n) = E[R], d3(n) = sd[R] for the range R of n iid N(0,1), by numerical integration:
 *     d2 = ∫ (1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ) dx                     (Tippett 1925)
 *     E[R²] = 2 ∫₀^∞ ∫ P(min ≤ y, max ≥ y + w) dy dw, with
 *     P(min ≤ y, max ≥ x) = 1 − Φ(x)ⁿ − (1 − Φ(y))ⁿ + (Φ(x) − Φ(y))ⁿ   (x > y)
 *   (R²/2 is the area of {(y, x): min ≤ y < x ≤ max}; take expectations). Composite
 *   Gauss-Legendre on [−10, 10] × [0, 20]; mass outside is below 1e-17 for n ≤ 100.
 *   Every power is formed as exp(n·log1p(−t)) from the smaller tail t, so no tail is lost to
 *   1 − Φ cancellation. Accuracy: better than 1e-12 against the exact values d2(2) = 2/√π,
 *   d2(3) = 3/√π, d3(2) = √(2 − 4/π) and against an independent Simpson computation in the
 *   tests, i.e. many more digits than the 3-4 decimals of the printed tables.
 * - Derived factors (Montgomery, ISQC, Appendix VI; ASTM MNL 7A): A = 3/√n, A2 = 3/(d2√n),
 *   A3 = 3/(c4√n), B3/B4 = 1 ∓ 3√(1−c4²)/c4 (B3 clamped at 0), B5/B6 = c4 ∓ 3√(1−c4²),
 *   D1/D2 = d2 ∓ 3d3, D3/D4 = 1 ∓ 3d3/d2 (lower ones clamped at 0), E2 = 3/d2.
 *
 * Relation to the printed tables: the computed values round to the printed d2, d3 (3 decimals)
 * and c4 (4 decimals) for every n of Montgomery's Appendix VI (2..25); the derived factors in
 * the printed tables were computed by hand from rounded inputs and differ from the exact ones
 * by one unit in the last printed decimal in a few places (e.g. D4(3): exact 2.5746, printed
 * 2.574). See docs/spc.md §Constants.
 */
import { gaussLegendre, normalCdf } from './stats';

/** Largest subgroup size (or moving-range span) whose range constants d2/d3 are supported. */
export const MAX_RANGE_N = 100;

const GL_ORDER = 16;
const PANEL_WIDTH = 1;
/** y from −Y_SPAN to Y_SPAN (lower point of the range), w from 0 to W_SPAN (range width). */
const Y_SPAN = 10;
const W_SPAN = 20;
/**
 * From this n on, c4 uses the asymptotic series of ln(Γ(x+½)/Γ(x)): the difference of two
 * ln Γ values loses ~1e-16·ln Γ(n/2) to cancellation (1e-13 at n = 1000), while the series
 * truncated after x⁻⁷ is below 1e-16 relative for n ≥ 60.
 */
const C4_SERIES_FROM = 60;

function assertRangeSize(n: number): void {
	if (!Number.isInteger(n) || n < 2 || n > MAX_RANGE_N) {
		throw new RangeError(`range constants need an integer size 2..${MAX_RANGE_N}, got ${n}`);
	}
}

function assertSdSize(n: number): void {
	if (!Number.isInteger(n) || n < 2) {
		throw new RangeError(`c4 needs an integer sample size ≥ 2, got ${n}`);
	}
}

/** Composite Gauss-Legendre nodes/weights on [a, b] with panels of PANEL_WIDTH. */
function compositeRule(a: number, b: number): { x: Float64Array; w: Float64Array } {
	const { nodes, weights } = gaussLegendre(GL_ORDER);
	const panels = Math.round((b - a) / PANEL_WIDTH);
	const x = new Float64Array(panels * GL_ORDER);
	const w = new Float64Array(panels * GL_ORDER);
	const half = (b - a) / panels / 2;
	for (let p = 0; p < panels; p++) {
		const mid = a + (2 * p + 1) * half;
		for (let j = 0; j < GL_ORDER; j++) {
			x[p * GL_ORDER + j] = mid + half * nodes[j];
			w[p * GL_ORDER + j] = half * weights[j];
		}
	}
	return { x, w };
}

/**
 * Φ on the quadrature nodes, shared by every n (built once, on first use: ~0.1 MB per axis plus
 * the y+w table). `lo[i]` is Φ of the point and `hi[i]` its upper tail 1 − Φ, each computed
 * directly so both keep full relative precision.
 */
interface Grid {
	xr: { x: Float64Array; w: Float64Array };
	xrUpper: Float64Array;
	yr: { x: Float64Array; w: Float64Array };
	yLo: Float64Array;
	yHi: Float64Array;
	wr: { x: Float64Array; w: Float64Array };
	/** for pair (i over w, j over y): Φ(y_j + w_i) and its upper tail */
	pairLo: Float64Array;
	pairHi: Float64Array;
}

let grid: Grid | null = null;

function getGrid(): Grid {
	if (grid) return grid;
	const xr = compositeRule(0, Y_SPAN);
	const xrUpper = xr.x.map((x) => normalCdf(-x));
	const yr = compositeRule(-Y_SPAN, Y_SPAN);
	const yLo = yr.x.map((y) => normalCdf(y));
	const yHi = yr.x.map((y) => normalCdf(-y));
	const wr = compositeRule(0, W_SPAN);
	const ny = yr.x.length;
	const pairLo = new Float64Array(wr.x.length * ny);
	const pairHi = new Float64Array(wr.x.length * ny);
	for (let i = 0; i < wr.x.length; i++) {
		for (let j = 0; j < ny; j++) {
			const x = yr.x[j] + wr.x[i];
			pairLo[i * ny + j] = normalCdf(x);
			pairHi[i * ny + j] = normalCdf(-x);
		}
	}
	grid = { xr, xrUpper, yr, yLo, yHi, wr, pairLo, pairHi };
	return grid;
}

/** tⁿ as exp(n·ln t), 0 for t = 0 (Math.pow does the same, but say it). */
function powN(t: number, n: number): number {
	return t <= 0 ? 0 : Math.pow(t, n);
}

/** 1 − (1 − t)ⁿ without cancellation for small t. */
function oneMinusComplementPow(t: number, n: number): number {
	return -Math.expm1(n * Math.log1p(-t));
}

function computeD2(n: number): number {
	const g = getGrid();
	// f(x) = 1 − Φ(x)ⁿ − Φ(−x)ⁿ is even in x: integrate over [0, ∞) and double.
	let s = 0;
	for (let i = 0; i < g.xr.x.length; i++) {
		const q = g.xrUpper[i];
		s += g.xr.w[i] * (oneMinusComplementPow(q, n) - powN(q, n));
	}
	return 2 * s;
}

function computeExpectedRangeSquared(n: number): number {
	const g = getGrid();
	const ny = g.yr.x.length;
	let outer = 0;
	for (let i = 0; i < g.wr.x.length; i++) {
		let inner = 0;
		const base = i * ny;
		for (let j = 0; j < ny; j++) {
			const yLo = g.yLo[j];
			const yHi = g.yHi[j];
			const xLo = g.pairLo[base + j];
			const xHi = g.pairHi[base + j];
			const y = g.yr.x[j];
			// P(y < X < x) from whichever side keeps its digits.
			const between = y >= 0 ? yHi - xHi : y + g.wr.x[i] <= 0 ? xLo - yLo : 1 - yLo - xHi;
			// P(max ≥ x) − P(min > y) + P(all in (y, x)) = P(min ≤ y, max ≥ x)
			inner +=
				g.yr.w[j] * (oneMinusComplementPow(xHi, n) - powN(yHi, n) + powN(Math.max(0, between), n));
		}
		outer += g.wr.w[i] * inner;
	}
	return 2 * outer;
}

const D2_CACHE = new Map<number, number>();
const D3_CACHE = new Map<number, number>();

/** d2(n) = E[R]/σ, the mean range of n iid normal values in sigma units; n = 2..100. */
export function d2(n: number): number {
	assertRangeSize(n);
	let v = D2_CACHE.get(n);
	if (v === undefined) {
		v = computeD2(n);
		D2_CACHE.set(n, v);
	}
	return v;
}

/** d3(n) = sd[R]/σ, the standard deviation of the range of n iid normal values; n = 2..100. */
export function d3(n: number): number {
	assertRangeSize(n);
	let v = D3_CACHE.get(n);
	if (v === undefined) {
		const mean = d2(n);
		v = Math.sqrt(Math.max(0, computeExpectedRangeSquared(n) - mean * mean));
		D3_CACHE.set(n, v);
	}
	return v;
}

/**
 * c4 from its asymptotic series, for n ≥ C4_SERIES_FROM: c4 = Γ(x + ½) / (√x Γ(x)) with
 * x = (n−1)/2 and ln(Γ(x + ½)/Γ(x)) = ½ ln x − 1/(8x) + 1/(192x³) − 1/(640x⁵) + 17/(14336x⁷) − …
 * (Stirling series difference; cf. Abramowitz & Stegun 6.1.47).
 */
function c4Series(n: number): number {
	const t = 2 / (n - 1);
	const t2 = t * t;
	return Math.exp(t * (-1 / 8 + t2 * (1 / 192 + t2 * (-1 / 640 + t2 * (17 / 14336)))));
}

/**
 * c4(2..C4_SERIES_FROM−1) by the exact downward recurrence c4(n) = √((n−1)/n) / c4(n+1)
 * (from Γ(x+1) = xΓ(x)), started from the series. ln Γ(n/2) − ln Γ((n−1)/2) would lose
 * ~1e-16·ln Γ(n/2) to cancellation (1.6e-14 at n = 50); each recurrence step adds one rounding,
 * so c4(2) ends within a few 1e-15 of √(2/π).
 */
let smallC4: Float64Array | null = null;

function smallC4Table(): Float64Array {
	if (smallC4) return smallC4;
	const table = new Float64Array(C4_SERIES_FROM + 1);
	table[C4_SERIES_FROM] = c4Series(C4_SERIES_FROM);
	for (let n = C4_SERIES_FROM - 1; n >= 2; n--) {
		table[n] = Math.sqrt((n - 1) / n) / table[n + 1];
	}
	smallC4 = table;
	return table;
}

/**
 * c4(n) = E[s]/σ for the sample standard deviation of n iid normal values; any integer n ≥ 2
 * (the pooled-sd estimator calls it with Σ(nᵢ − 1) + 1, which can be large). No cache needed:
 * the series is a handful of flops.
 */
export function c4(n: number): number {
	assertSdSize(n);
	return n < C4_SERIES_FROM ? smallC4Table()[n] : c4Series(n);
}

/** All Shewhart factors for one subgroup size n (2..100), derived from d2, d3, c4. */
export interface ControlChartFactors {
	n: number;
	d2: number;
	d3: number;
	c4: number;
	/** X̄ limits from a known σ: μ ± Aσ */
	A: number;
	/** X̄ limits from R̄: x̿ ± A2·R̄ */
	A2: number;
	/** X̄ limits from S̄: x̿ ± A3·S̄ */
	A3: number;
	/** S limits from S̄: B3·S̄, B4·S̄ */
	B3: number;
	B4: number;
	/** S limits from a known σ: B5σ, B6σ */
	B5: number;
	B6: number;
	/** R limits from a known σ: D1σ, D2σ */
	D1: number;
	D2: number;
	/** R limits from R̄: D3·R̄, D4·R̄ */
	D3: number;
	D4: number;
	/** individuals limits from the average moving range of span n: x̄ ± E2·M̄R */
	E2: number;
}

export function factors(n: number): ControlChartFactors {
	const dd2 = d2(n);
	const dd3 = d3(n);
	const cc4 = c4(n);
	const sRel = Math.sqrt(1 - cc4 * cc4);
	return {
		n,
		d2: dd2,
		d3: dd3,
		c4: cc4,
		A: 3 / Math.sqrt(n),
		A2: 3 / (dd2 * Math.sqrt(n)),
		A3: 3 / (cc4 * Math.sqrt(n)),
		B3: Math.max(0, 1 - (3 * sRel) / cc4),
		B4: 1 + (3 * sRel) / cc4,
		B5: Math.max(0, cc4 - 3 * sRel),
		B6: cc4 + 3 * sRel,
		D1: Math.max(0, dd2 - 3 * dd3),
		D2: dd2 + 3 * dd3,
		D3: Math.max(0, 1 - (3 * dd3) / dd2),
		D4: 1 + (3 * dd3) / dd2,
		E2: 3 / dd2
	};
}
