import { describe, expect, it } from 'vitest';
import { ageBucket, formatKpi, meetsTarget } from './definitions';
import { filterQuery, kpiFilterSchema, resolveRange } from './filters';
import { bucketFor, bucketStart, bucketStarts, nextBucket, percentile } from './stats';
import { trendOption } from './trend-options';

const DAY = 86_400_000;

describe('percentile (as PostgreSQL percentile_cont)', () => {
	it('interpolates between the closest ranks', () => {
		expect(percentile([10, 20, 30], 0.5)).toBe(20);
		expect(percentile([10, 20, 30], 0.9)).toBeCloseTo(28, 12);
		expect(percentile([30, 10, 20, 40], 0.5)).toBe(25);
		expect(percentile([7], 0.9)).toBe(7);
	});
	it('is null for no values and refuses p outside [0, 1]', () => {
		expect(percentile([], 0.5)).toBeNull();
		expect(() => percentile([1], 1.5)).toThrow(RangeError);
	});
	it('does not reorder its input', () => {
		const xs = [3, 1, 2];
		percentile(xs, 0.5);
		expect(xs).toEqual([3, 1, 2]);
	});
});

describe('trend buckets (as date_trunc in UTC)', () => {
	const wed = Date.UTC(2026, 2, 18, 15, 30);
	it('starts a day at midnight, a week on Monday, a month on the 1st', () => {
		expect(bucketStart(wed, 'day')).toBe(Date.UTC(2026, 2, 18));
		expect(bucketStart(wed, 'week')).toBe(Date.UTC(2026, 2, 16));
		expect(bucketStart(Date.UTC(2026, 2, 22, 23), 'week')).toBe(Date.UTC(2026, 2, 16));
		expect(bucketStart(wed, 'month')).toBe(Date.UTC(2026, 2, 1));
	});
	it('steps months of different lengths', () => {
		expect(nextBucket(Date.UTC(2026, 0, 1), 'month')).toBe(Date.UTC(2026, 1, 1));
		expect(nextBucket(Date.UTC(2026, 11, 1), 'month')).toBe(Date.UTC(2027, 0, 1));
	});
	it('lists every bucket of a range, the partial first and last included', () => {
		expect(bucketStarts(wed, wed + 2 * DAY, 'day')).toEqual([
			Date.UTC(2026, 2, 18),
			Date.UTC(2026, 2, 19),
			Date.UTC(2026, 2, 20)
		]);
		expect(bucketStarts(wed, wed, 'day')).toEqual([]);
	});
	it('picks day, week or month by the length of the range', () => {
		expect(bucketFor(0, 7 * DAY)).toBe('day');
		expect(bucketFor(0, 90 * DAY)).toBe('week');
		expect(bucketFor(0, 365 * DAY)).toBe('month');
	});
});

describe('age buckets of open items', () => {
	it('counts whole days down', () => {
		expect(ageBucket(0)).toBe('0-7');
		expect(ageBucket(7.9 * DAY)).toBe('0-7');
		expect(ageBucket(8 * DAY)).toBe('8-30');
		expect(ageBucket(90 * DAY)).toBe('31-90');
		expect(ageBucket(91 * DAY)).toBe('90+');
		expect(ageBucket(-5)).toBe('0-7');
	});
});

describe('filters in the URL', () => {
	it('defaults to the last 90 days and drops defaults from links', () => {
		const f = kpiFilterSchema.parse({});
		expect(f.range).toBe('90d');
		expect(filterQuery(f)).toBe('');
		expect(filterQuery({ ...f, line: 'L1', product: 'A B' })).toBe('line=L1&product=A%20B');
	});
	it('needs both days of a custom range, in order', () => {
		expect(kpiFilterSchema.safeParse({ range: 'custom', from: '2026-01-01' }).success).toBe(false);
		expect(
			kpiFilterSchema.safeParse({ range: 'custom', from: '2026-02-01', to: '2026-01-01' }).success
		).toBe(false);
		expect(kpiFilterSchema.safeParse({ line: "L1'; drop" }).success).toBe(false);
	});
	it('resolves custom days to whole UTC days, the last day included', () => {
		const f = kpiFilterSchema.parse({ range: 'custom', from: '2026-01-01', to: '2026-01-31' });
		const r = resolveRange(f, Date.UTC(2026, 5, 1));
		expect([r.from, r.to, r.bucket]).toEqual([Date.UTC(2026, 0, 1), Date.UTC(2026, 1, 1), 'day']);
		const mtd = resolveRange(kpiFilterSchema.parse({ range: 'mtd' }), Date.UTC(2026, 2, 18, 9));
		expect(mtd.from).toBe(Date.UTC(2026, 2, 1));
	});
});

describe('formatting and targets', () => {
	it('writes the unit out and a dash for nothing measured', () => {
		expect(formatKpi(98.456, 'percent')).toBe('98.5 %');
		expect(formatKpi(22.44, 'hours')).toBe('22.4 h');
		expect(formatKpi(45039364, 'count')).toBe('45,039,364');
		expect(formatKpi(null, 'hours')).toBe('—');
	});
	it('meets a target on the better side, equality included', () => {
		expect(meetsTarget(98, 98, 'higher')).toBe(true);
		expect(meetsTarget(25, 24, 'lower')).toBe(false);
	});
	it('draws the target as a dashed line and keeps a percentage axis within 0-100', () => {
		const o = trendOption({
			points: [
				{ t: 0, value: 99 },
				{ t: DAY, value: null }
			],
			target: 98,
			unit: 'percent'
		}) as { yAxis: { min: number; max: number }; series: { markLine: { data: unknown } }[] };
		expect(o.series[0].markLine.data).toEqual([{ yAxis: 98 }]);
		expect(o.yAxis.max).toBeLessThanOrEqual(100);
		expect(o.yAxis.min).toBeGreaterThanOrEqual(0);
	});
});
