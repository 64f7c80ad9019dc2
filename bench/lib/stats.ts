/**
 * Small, bounded statistics for benchmark figures: a fixed-bucket latency histogram (constant
 * memory whatever the sample count — the latency benchmark records millions of points) and a
 * least-squares slope with its standard error (heap growth).
 */

/** What crosses a process boundary: LatencyHistogram.toJSON / fromJSON. */
export interface HistogramData {
	maxMs: number;
	/** Non-empty buckets only, as [index, count]. */
	buckets: [number, number][];
	total: number;
	sum: number;
	min: number;
	max: number;
}

/** Latency histogram with 1 ms buckets up to `maxMs`; larger values land in an overflow bucket. */
export class LatencyHistogram {
	private readonly buckets: Uint32Array;
	private total = 0;
	private maxSeen = -Infinity;
	private minSeen = Infinity;
	private sum = 0;

	constructor(readonly maxMs = 10_000) {
		this.buckets = new Uint32Array(maxMs + 2);
	}

	toJSON(): HistogramData {
		const buckets: [number, number][] = [];
		this.buckets.forEach((count, index) => {
			if (count > 0) buckets.push([index, count]);
		});
		return {
			maxMs: this.maxMs,
			buckets,
			total: this.total,
			sum: this.sum,
			min: this.minSeen,
			max: this.maxSeen
		};
	}

	static fromJSON(data: HistogramData): LatencyHistogram {
		const h = new LatencyHistogram(data.maxMs);
		for (const [index, count] of data.buckets) h.buckets[index] = count;
		h.total = data.total;
		h.sum = data.sum;
		// JSON turns ±Infinity into null: an empty histogram's extremes.
		h.minSeen = data.total > 0 ? data.min : Infinity;
		h.maxSeen = data.total > 0 ? data.max : -Infinity;
		return h;
	}

	record(ms: number): void {
		// Clocks are the same machine's, but a sample stamped in the same millisecond it is
		// received can read as -0.x after rounding; clamp to 0 rather than lose it.
		const v = ms < 0 ? 0 : ms;
		const index = v > this.maxMs ? this.maxMs + 1 : Math.floor(v);
		this.buckets[index]++;
		this.total++;
		this.sum += v;
		if (v > this.maxSeen) this.maxSeen = v;
		if (v < this.minSeen) this.minSeen = v;
	}

	count(): number {
		return this.total;
	}

	mean(): number {
		return this.total === 0 ? NaN : this.sum / this.total;
	}

	max(): number {
		return this.total === 0 ? NaN : this.maxSeen;
	}

	min(): number {
		return this.total === 0 ? NaN : this.minSeen;
	}

	/**
	 * The q-quantile (0 < q ≤ 1) as the upper edge of the bucket holding the ⌈q·n⌉-th value:
	 * a conservative figure, never below the true quantile by more than the 1 ms resolution.
	 */
	quantile(q: number): number {
		if (this.total === 0) return NaN;
		const rank = Math.max(1, Math.ceil(q * this.total));
		let seen = 0;
		for (let i = 0; i < this.buckets.length; i++) {
			seen += this.buckets[i];
			if (seen >= rank) return i > this.maxMs ? this.maxSeen : Math.min(i + 1, this.maxSeen);
		}
		return this.maxSeen;
	}
}

export interface Slope {
	/** Change of y per unit of x. */
	slope: number;
	/** Standard error of the slope (NaN with fewer than 3 points). */
	standardError: number;
	intercept: number;
}

/** Ordinary least-squares line through (x, y). */
export function leastSquares(x: readonly number[], y: readonly number[]): Slope {
	const n = x.length;
	if (n !== y.length || n < 2) throw new RangeError('leastSquares needs ≥ 2 paired points');
	const mx = x.reduce((a, b) => a + b, 0) / n;
	const my = y.reduce((a, b) => a + b, 0) / n;
	let sxx = 0;
	let sxy = 0;
	for (let i = 0; i < n; i++) {
		sxx += (x[i] - mx) ** 2;
		sxy += (x[i] - mx) * (y[i] - my);
	}
	if (sxx === 0) throw new RangeError('leastSquares needs distinct x values');
	const slope = sxy / sxx;
	const intercept = my - slope * mx;
	let sse = 0;
	for (let i = 0; i < n; i++) sse += (y[i] - intercept - slope * x[i]) ** 2;
	const standardError = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : NaN;
	return { slope, standardError, intercept };
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
	if (values.length === 0) throw new RangeError('median of nothing');
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
