/**
 * Pure pieces of the KPI boards: percentiles, trend buckets and time ranges. No I/O; the
 * server's queries and the unit tests use the same functions.
 */

/**
 * The p-quantile (0 ≤ p ≤ 1) of `values` with linear interpolation between the closest ranks —
 * PostgreSQL's `percentile_cont`, so a figure computed here equals the same figure computed in
 * SQL. Null for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
	if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile: p must be in [0, 1], got ${p}`);
	if (values.length === 0) return null;
	const sorted = [...values].sort((a, b) => a - b);
	const pos = (sorted.length - 1) * p;
	const lo = Math.floor(pos);
	const hi = Math.ceil(pos);
	return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export type BucketSize = 'day' | 'week' | 'month';

const DAY_MS = 86_400_000;

/**
 * Start (UTC) of the trend bucket holding `ms`: the day, the ISO week (Monday) or the month —
 * what PostgreSQL's `date_trunc(size, ts AT TIME ZONE 'UTC')` gives.
 */
export function bucketStart(ms: number, size: BucketSize): number {
	const d = new Date(ms);
	const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
	if (size === 'day') return day;
	if (size === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
	const weekday = (d.getUTCDay() + 6) % 7; // Monday = 0
	return day - weekday * DAY_MS;
}

/** The bucket after the one starting at `start`. */
export function nextBucket(start: number, size: BucketSize): number {
	if (size === 'day') return start + DAY_MS;
	if (size === 'week') return start + 7 * DAY_MS;
	const d = new Date(start);
	return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Every bucket start from the one holding `from` to the one holding `to - 1 ms`. */
export function bucketStarts(from: number, to: number, size: BucketSize): number[] {
	const out: number[] = [];
	if (to <= from) return out;
	for (let b = bucketStart(from, size); b < to; b = nextBucket(b, size)) out.push(b);
	return out;
}

/** Days → a bucket size that keeps a trend between ~7 and ~60 points. */
export function bucketFor(from: number, to: number): BucketSize {
	const days = (to - from) / DAY_MS;
	if (days <= 31) return 'day';
	if (days <= 200) return 'week';
	return 'month';
}
