import { describe, expect, it } from 'vitest';
import type { LivePoint } from '$lib/realtime/events';
import {
	buildSpcChartOption,
	limitLines,
	sparklinePath,
	specSourceLabel,
	specSummary,
	axisDecimals,
	thin,
	WALL_COLORS,
	yRange,
	type ChartConfig
} from './spc-chart-options';

const IMR: ChartConfig = {
	chart: 'imr',
	subgroupSize: 1,
	spec: { lsl: 227, target: 230, usl: 233 },
	limits: { version: 1, centre: 230, sigma: 0.5, source: 'test' },
	decimals: 1
};

function pt(ts: number, value: number, flags = 0): LivePoint {
	return { ts, seq: ts, value, dispersion: null, flags };
}

type MarkLineEntry = { name: string; yAxis: number; label: { formatter: string } };
type SeriesLike = {
	id: string;
	type: string;
	data: [number, number][];
	markLine?: { data: MarkLineEntry[]; precision?: number };
	lineStyle?: { color: string };
};

function seriesOf(option: ReturnType<typeof buildSpcChartOption>): SeriesLike[] {
	return option.series as unknown as SeriesLike[];
}

describe('limitLines', () => {
	it('puts I chart limits at centre ± 3 sigma and keeps the spec', () => {
		// 230 ± 3 × 0.5
		const lines = limitLines(IMR);
		expect(lines.centre).toBe(230);
		expect(lines.ucl).toBeCloseTo(231.5, 12);
		expect(lines.lcl).toBeCloseTo(228.5, 12);
		expect(lines.usl).toBe(233);
		expect(lines.lsl).toBe(227);
	});

	it('narrows X-bar limits by the square root of the subgroup size', () => {
		// σ = 2, n = 4 → σ_x̄ = 1 → 10 ± 3.
		const lines = limitLines({
			...IMR,
			chart: 'xbar-r',
			subgroupSize: 4,
			limits: { version: 1, centre: 10, sigma: 2, source: 't' }
		});
		expect(lines.ucl).toBeCloseTo(13, 12);
		expect(lines.lcl).toBeCloseTo(7, 12);
	});

	it('keeps spec limits off the scale of an X-bar chart', () => {
		const lines = limitLines({ ...IMR, chart: 'xbar-s', subgroupSize: 4 });
		expect(lines.usl).toBeNull();
		expect(lines.lsl).toBeNull();
	});

	it('draws no spec limits on an attribute chart', () => {
		// p̄ = 0.1, n = 100: σ_p = √(0.1 × 0.9 / 100) = 0.03 → 0.19 and 0.01.
		const lines = limitLines({
			...IMR,
			chart: 'p',
			subgroupSize: 100,
			spec: { usl: 0.05 },
			limits: { version: 1, centre: 0.1, sigma: 0, source: 't' }
		});
		expect(lines.ucl).toBeCloseTo(0.19, 12);
		expect(lines.lcl).toBeCloseTo(0.01, 12);
		expect(lines.usl).toBeNull();
	});

	it('has only spec lines before control limits exist', () => {
		expect(limitLines({ ...IMR, limits: null })).toEqual({
			centre: null,
			ucl: null,
			lcl: null,
			usl: 233,
			lsl: 227
		});
	});
});

describe('yRange', () => {
	it('covers every line and point with padding', () => {
		const range = yRange([pt(1, 234)], limitLines(IMR));
		// Lines span 227-233, the point reaches 234: span 7, pad 8 % = 0.56.
		expect(range?.min).toBeCloseTo(226.44, 12);
		expect(range?.max).toBeCloseTo(234.56, 12);
	});

	it('leaves suspect points out so a gross error cannot flatten the chart', () => {
		const range = yRange([pt(1, 2300, 1)], limitLines(IMR));
		expect(range?.max).toBeLessThan(234);
	});

	it('has no range with nothing to draw', () => {
		expect(yRange([], { centre: null, ucl: null, lcl: null, usl: null, lsl: null })).toBeNull();
	});
});

describe('buildSpcChartOption', () => {
	const points = [pt(1000, 230.2), pt(2000, 231.9), pt(3000, 2300, 1), pt(4000, 229.7)];
	const option = buildSpcChartOption({
		config: IMR,
		points,
		markers: [{ ts: 2000, value: 231.9 }],
		fontSize: 20
	});

	it('turns animation and tooltips off for a wall', () => {
		expect(option.animation).toBe(false);
		expect(option.tooltip).toBeUndefined();
	});

	it('names every limit line with its value', () => {
		const lines = seriesOf(option)[0].markLine?.data ?? [];
		expect(lines.map((l) => l.label.formatter)).toEqual([
			'USL 233.0',
			'UCL 231.5',
			'CL 230.0',
			'LCL 228.5',
			'LSL 227.0'
		]);
	});

	it('places narrow limits where they are, not at two decimals (ECharts’ default)', () => {
		// Seal dwell time: n = 60, σ = 0.01 → UCL 1.2039, CL 1.2, LCL 1.1961.
		const narrow = buildSpcChartOption({
			config: {
				chart: 'xbar-s',
				subgroupSize: 60,
				spec: { lsl: 1.1, target: 1.2, usl: 1.3 },
				limits: { version: 1, centre: 1.2, sigma: 0.01, source: 't' },
				decimals: 3
			},
			points: [pt(1000, 1.199)],
			markers: [],
			fontSize: 20
		});
		const markLine = seriesOf(narrow)[0].markLine!;
		// ECharts places each line at Number(value.toFixed(precision)): three distinct heights.
		const placed = markLine.data.map((l) => Number(l.yAxis.toFixed(markLine.precision ?? 2)));
		expect(new Set(placed).size).toBe(markLine.data.length);
		expect(placed).toEqual(markLine.data.map((l) => l.yAxis).map((v) => expect.closeTo(v, 9)));
	});

	it('plots measured points, pins suspects to the edge and marks violations', () => {
		const [data, suspects, violations] = seriesOf(option);
		expect(data.data).toEqual([
			[1000, 230.2],
			[2000, 231.9],
			[4000, 229.7]
		]);
		expect(suspects.data).toHaveLength(1);
		expect(suspects.data[0][1]).toBe((option.yAxis as { max: number }).max);
		expect(violations.data).toEqual([[2000, 231.9]]);
	});

	it('keeps the same series ids so an update merges into the existing chart', () => {
		expect(seriesOf(option).map((s) => s.id)).toEqual(['data', 'suspects', 'violations']);
	});

	it('greys the line of a stale series', () => {
		const dim = buildSpcChartOption({
			config: IMR,
			points,
			markers: [],
			fontSize: 20,
			dimmed: true
		});
		expect(seriesOf(dim)[0].lineStyle?.color).toBe(WALL_COLORS.stale);
	});
});

describe('X-bar charts and their spec', () => {
	// σ = 0.5, n = 4 → σ_x̄ = 0.25: limits 229.25-230.75.
	const XBAR: ChartConfig = { ...IMR, chart: 'xbar-s', subgroupSize: 4 };
	const names = (config: ChartConfig) =>
		(
			seriesOf(buildSpcChartOption({ config, points: [pt(1, 230)], markers: [], fontSize: 20 }))[0]
				.markLine?.data ?? []
		).map((l) => l.name);

	it('leaves out spec limits far outside the control limits', () => {
		// Spec 227-233 lies far outside the padded range of 229.25-230.75.
		expect(names(XBAR)).toEqual(['UCL', 'CL', 'LCL']);
	});

	it('draws spec limits that fall inside the range anyway', () => {
		expect(names({ ...XBAR, spec: { lsl: 229.3, usl: 230.7 } })).toEqual([
			'USL',
			'UCL',
			'CL',
			'LCL',
			'LSL'
		]);
	});
});

describe('axisDecimals', () => {
	it('keeps the precision of the characteristic for a wide range', () => {
		expect(axisDecimals({ min: 1040, max: 1160 }, 0)).toBe(0);
	});

	it('adds decimals when ticks a third of the range apart would print the same number', () => {
		// Span 2.4 → ticks ~0.8 apart → one decimal.
		expect(axisDecimals({ min: 598.8, max: 601.2 }, 0)).toBe(1);
		// Span 0.03 → ticks 0.01 apart → two decimals.
		expect(axisDecimals({ min: 12.385, max: 12.415 }, 1)).toBe(2);
	});
});

describe('specSummary', () => {
	it('names two-sided and one-sided specifications', () => {
		expect(specSummary(IMR)).toBe('spec 227.0–233.0');
		expect(specSummary({ spec: { usl: 0.05 }, decimals: 3 })).toBe('spec ≤ 0.050');
		expect(specSummary({ spec: { lsl: 10 }, decimals: 0 })).toBe('spec ≥ 10');
		expect(specSummary({ spec: {}, decimals: 0 })).toBe('');
	});

	it('names the process version a running lot fixed, and nothing for the plant default', () => {
		expect(
			specSourceLabel({ specSource: { lot: 'L1-1', product: 'PN-1', processVersion: 3 } })
		).toBe('v3');
		expect(specSourceLabel({ specSource: null })).toBe('');
		expect(specSourceLabel({})).toBe('');
	});
});

describe('x axis', () => {
	it('shows a first point at the end of a window of the minimum span', () => {
		const option = buildSpcChartOption({
			config: IMR,
			points: [pt(100_000, 230)],
			markers: [],
			fontSize: 20,
			minSpanMs: 60_000
		});
		expect(option.xAxis).toMatchObject({ min: 40_000, max: 100_000 });
	});
});

describe('sparklinePath', () => {
	it('maps the minimum to the bottom and the maximum to the top of the box', () => {
		// 3 values over width 100: x = 0, 50, 100; height 20, inset 2 → y from 18 (min) to 2 (max).
		expect(sparklinePath([1, 3, 2], 100, 20, 2)).toBe('M0 18 L50 2 L100 10');
	});

	it('draws a flat series through the middle', () => {
		expect(sparklinePath([5, 5], 10, 8, 1)).toBe('M0 4 L10 4');
	});

	it('is empty without values', () => {
		expect(sparklinePath([], 10, 10)).toBe('');
	});
});

describe('thin', () => {
	it('keeps the first and the newest value and at most maxPoints', () => {
		const values = Array.from({ length: 600 }, (_, i) => i);
		const thinned = thin(values, 61);
		expect(thinned).toHaveLength(61);
		expect(thinned[0]).toBe(0);
		expect(thinned[60]).toBe(599);
	});

	it('leaves short series alone', () => {
		expect(thin([1, 2, 3], 10)).toEqual([1, 2, 3]);
	});
});
