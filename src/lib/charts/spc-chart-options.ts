/**
 * Pure option builders for the wall's charts: an SPC chart (data, centre line, control limits,
 * spec limits, violation markers) and a sparkline path. No DOM, no ECharts runtime: only
 * option objects and strings, so they are unit-tested in Node.
 *
 * Wall rules (read at 3-5 m on a TV): no animation (it costs frames and draws the eye to the
 * wrong thing), no tooltips (nobody hovers a wall: the component is not even registered), large labels, lines thick enough to survive
 * a 4K panel scaled down by distance, and every limit named in text as well as by colour.
 */
import type { ComposeOption } from 'echarts/core';
import type { LineSeriesOption, ScatterSeriesOption } from 'echarts/charts';
import type { GridComponentOption, MarkLineComponentOption } from 'echarts/components';
import type { CharacteristicConfig, LivePoint } from '$lib/realtime/events';
import { SAMPLE_FLAGS } from '$lib/realtime/events';
import { primaryLimits } from '$lib/spc/points';

export type SpcChartOption = ComposeOption<
	LineSeriesOption | ScatterSeriesOption | GridComponentOption | MarkLineComponentOption
>;

/** The wall's colours (mirrored as CSS custom properties in app.css). */
export const WALL_COLORS = {
	text: '#f4f7fa',
	muted: '#a9b6c3',
	grid: '#2a3541',
	data: '#e9f2ff',
	stale: '#6b7785',
	centre: '#3ddc97',
	control: '#ffb020',
	spec: '#ff5c5c',
	violation: '#ff2d2d',
	suspect: '#c58cff'
} as const;

/**
 * The system font stack of app.css. Canvas text needs real family names: a CSS keyword such as
 * `inherit` makes the whole canvas font string invalid and the browser falls back to 10 px.
 */
export const WALL_FONT_FAMILY =
	"system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Liberation Sans', 'DejaVu Sans', Arial, sans-serif";

export type ChartConfig = Pick<
	CharacteristicConfig,
	'chart' | 'subgroupSize' | 'spec' | 'limits' | 'decimals'
>;

export interface LimitLines {
	centre: number | null;
	ucl: number | null;
	lcl: number | null;
	usl: number | null;
	lsl: number | null;
}

/**
 * The horizontal lines that set a chart's scale; null where it has none. Spec limits only on an
 * individuals chart: they bound single parts, so on an X̄ chart they are on another scale (the
 * mean of n parts varies √n times less) and would squash the chart into a thin band between
 * far-away lines; there they are drawn only when they fall inside the range anyway (see
 * `buildSpcChartOption`) and named in the card's subtitle. EWMA, CUSUM and attribute charts are
 * not on the measurement's scale at all.
 */
export function limitLines(config: ChartConfig): LimitLines {
	const spec =
		config.chart === 'imr'
			? { usl: config.spec.usl ?? null, lsl: config.spec.lsl ?? null }
			: { usl: null, lsl: null };
	if (config.limits === null) return { centre: null, ucl: null, lcl: null, ...spec };
	const n = config.subgroupSize > 0 ? config.subgroupSize : 1;
	// EWMA limits widen over the first points; a running wall chart shows the asymptotic ones.
	const limits = primaryLimits(config.chart, config.limits, n, { index: 1_000 });
	return { centre: limits.centre, ucl: limits.ucl, lcl: limits.lcl, ...spec };
}

/** "spec 227.0–233.0", "spec ≤ 0.050", "spec ≥ 10": the specification in words; '' without one. */
export function specSummary(config: Pick<ChartConfig, 'spec' | 'decimals'>): string {
	const lsl = config.spec.lsl ?? null;
	const usl = config.spec.usl ?? null;
	if (lsl !== null && usl !== null)
		return `spec ${fmt(lsl, config.decimals)}–${fmt(usl, config.decimals)}`;
	if (usl !== null) return `spec ≤ ${fmt(usl, config.decimals)}`;
	if (lsl !== null) return `spec ≥ ${fmt(lsl, config.decimals)}`;
	return '';
}

/**
 * "v3": the process version whose spec is in force (that of the lot running on the machine),
 * short because it trails the spec on a wall card; '' for the plant default spec, so a wall never
 * suggests a version that is not there. The card's tooltip says it in full.
 */
export function specSourceLabel(config: Pick<CharacteristicConfig, 'specSource'>): string {
	return config.specSource ? `v${config.specSource.processVersion}` : '';
}

/**
 * The y range: every drawn line and every non-suspect point, padded. Suspect points (gross
 * data errors, possibly 10× the spec) are left out so one typo cannot flatten the chart; they
 * are pinned to the edge instead (see `buildSpcChartOption`).
 */
export function yRange(
	points: readonly LivePoint[],
	lines: LimitLines
): { min: number; max: number } | null {
	let min = Infinity;
	let max = -Infinity;
	for (const v of [lines.centre, lines.ucl, lines.lcl, lines.usl, lines.lsl]) {
		if (v === null) continue;
		if (v < min) min = v;
		if (v > max) max = v;
	}
	for (const p of points) {
		if ((p.flags & SAMPLE_FLAGS.SUSPECT) !== 0) continue;
		if (p.value < min) min = p.value;
		if (p.value > max) max = p.value;
	}
	if (!Number.isFinite(min) || !Number.isFinite(max)) return null;
	const span = max - min;
	const pad = span > 0 ? span * 0.08 : Math.max(Math.abs(max) * 0.05, 1);
	return { min: min - pad, max: max + pad };
}

export interface SpcChartInput {
	config: ChartConfig;
	/** Oldest first, as held in the live window. */
	points: readonly LivePoint[];
	/** Completing points of rule violations within the window. */
	markers: readonly { ts: number; value: number }[];
	/** Base label size in CSS pixels; the page scales it with the screen. */
	fontSize: number;
	/** Draws the data line in grey: the series is stale or offline. */
	dimmed?: boolean;
	/**
	 * Shortest time span the x axis shows, ms: a chart with its first one or two points shows
	 * them at the right end of a normal-width window, not stretched over the whole width.
	 */
	minSpanMs?: number;
}

function fmt(value: number, decimals: number): string {
	return value.toFixed(Math.max(0, Math.min(10, decimals)));
}

/** Label size of the limit lines relative to the base font. */
const LIMIT_LABEL_SCALE = 0.72;
/** Axis label size relative to the base font. */
const AXIS_LABEL_SCALE = 0.72;
/** Average glyph width of the wall font in ems (bold digits), for reserving label room. */
const GLYPH_EM = 0.62;

const LIMIT_STYLES: [keyof LimitLines, string, string, 'solid' | 'dashed'][] = [
	['usl', 'USL', WALL_COLORS.spec, 'solid'],
	['ucl', 'UCL', WALL_COLORS.control, 'dashed'],
	['centre', 'CL', WALL_COLORS.centre, 'solid'],
	['lcl', 'LCL', WALL_COLORS.control, 'dashed'],
	['lsl', 'LSL', WALL_COLORS.spec, 'solid']
];

/** The text of each drawn limit label, e.g. "UCL 231.5". */
export function limitLabels(lines: LimitLines, decimals: number): string[] {
	const labels: string[] = [];
	for (const [key, name] of LIMIT_STYLES) {
		const value = lines[key];
		if (value !== null) labels.push(`${name} ${fmt(value, decimals)}`);
	}
	return labels;
}

/**
 * Decimals ECharts keeps of a mark line's value when it places the line. Its default, 2, drew
 * every limit of a narrow characteristic (seal dwell time: UCL 1.2039, CL 1.2, LCL 1.1961) on
 * the centre line; positions must be exact, the labels carry the display precision.
 */
export const MARK_LINE_PRECISION = 12;

function markLineData(
	lines: LimitLines,
	decimals: number,
	fontSize: number
): NonNullable<MarkLineComponentOption['data']> {
	const width = Math.max(2, Math.round(fontSize / 7));
	const data: NonNullable<MarkLineComponentOption['data']> = [];
	for (const [key, name, color, type] of LIMIT_STYLES) {
		const value = lines[key];
		if (value === null) continue;
		data.push({
			name,
			yAxis: value,
			lineStyle: { color, type, width },
			label: {
				show: true,
				// Right of the plot, like a printed control chart: never over the data.
				position: 'end',
				distance: Math.round(fontSize * 0.3),
				formatter: `${name} ${fmt(value, decimals)}`,
				color,
				fontSize: Math.round(fontSize * LIMIT_LABEL_SCALE),
				fontWeight: 'bold'
			}
		});
	}
	return data;
}

/** Up to this many points are drawn as dots as well as a line. */
const FEW_POINTS = 30;

/**
 * Decimals for axis and limit labels: the characteristic's precision, or more when the range is
 * so narrow (X̄ limits of a large subgroup) that its ticks would all print the same number.
 */
export function axisDecimals(range: { min: number; max: number }, decimals: number): number {
	const step = (range.max - range.min) / 3;
	if (!(step > 0)) return decimals;
	// The tolerance keeps a step of exactly 0.01 (give or take rounding) at two decimals.
	return Math.min(6, Math.max(decimals, Math.ceil(-Math.log10(step) - 1e-9)));
}

/** ECharts option of one live SPC chart. Same series ids every time so updates merge in place. */
export function buildSpcChartOption(input: SpcChartInput): SpcChartOption {
	const { config, points, markers, fontSize } = input;
	const scaleLines = limitLines(config);
	const range = yRange(points, scaleLines);
	const decimals = range === null ? config.decimals : axisDecimals(range, config.decimals);
	// On X̄ charts the spec is drawn only where it falls inside the range set by limits and data.
	const lines = { ...scaleLines };
	if (range !== null && (config.chart === 'xbar-r' || config.chart === 'xbar-s')) {
		const inRange = (v: number | null | undefined) =>
			v !== null && v !== undefined && v >= range.min && v <= range.max ? v : null;
		lines.usl = inRange(config.spec.usl);
		lines.lsl = inRange(config.spec.lsl);
	}
	const data: [number, number][] = [];
	const suspects: [number, number][] = [];
	for (const p of points) {
		if ((p.flags & SAMPLE_FLAGS.SUSPECT) !== 0) {
			// Pinned to the edge of the range so a gross error is visible without rescaling.
			const pinned = range === null ? p.value : Math.min(range.max, Math.max(range.min, p.value));
			suspects.push([p.ts, pinned]);
			continue;
		}
		data.push([p.ts, p.value]);
	}
	const last = points.length > 0 ? points[points.length - 1].ts : null;
	const first =
		points.length > 0 ? Math.min(points[0].ts, (last ?? 0) - (input.minSpanMs ?? 0)) : null;
	const lineWidth = Math.max(2, Math.round(fontSize / 8));
	const labelSize = Math.round(fontSize * AXIS_LABEL_SCALE);
	// Room on the right for the longest limit label.
	const longest = Math.max(0, ...limitLabels(lines, decimals).map((l) => l.length));
	const rightRoom = Math.ceil(longest * GLYPH_EM * fontSize * LIMIT_LABEL_SCALE + fontSize * 0.6);

	return {
		animation: false,
		backgroundColor: 'transparent',
		textStyle: { fontFamily: WALL_FONT_FAMILY },
		grid: {
			left: Math.round(fontSize * 0.4),
			right: rightRoom,
			top: Math.round(fontSize * 0.5),
			bottom: Math.round(fontSize * 0.3)
		},
		xAxis: {
			type: 'time',
			min: first ?? undefined,
			max: last ?? undefined,
			splitNumber: 3,
			axisLine: { lineStyle: { color: WALL_COLORS.grid, width: 2 } },
			axisTick: { show: false },
			splitLine: { show: false },
			axisLabel: {
				color: WALL_COLORS.muted,
				fontSize: labelSize,
				hideOverlap: true,
				// A 10 Hz window spans a minute: minutes alone would repeat along the axis.
				formatter:
					first !== null && last !== null && last - first < 10 * 60_000
						? '{HH}:{mm}:{ss}'
						: '{HH}:{mm}'
			}
		},
		yAxis: {
			type: 'value',
			min: range?.min,
			max: range?.max,
			scale: true,
			splitNumber: 3,
			axisLine: { show: false },
			axisTick: { show: false },
			splitLine: { lineStyle: { color: WALL_COLORS.grid, width: 1 } },
			axisLabel: {
				color: WALL_COLORS.muted,
				fontSize: labelSize,
				// The range ends at padded, unround numbers: their labels would collide with the ticks.
				showMinLabel: false,
				showMaxLabel: false,
				formatter: (value: number) => fmt(value, decimals)
			}
		},
		series: [
			{
				id: 'data',
				type: 'line',
				data,
				// A chart that has just started (a point a minute) shows its few points as dots.
				showSymbol: data.length <= FEW_POINTS,
				symbol: 'circle',
				symbolSize: Math.max(4, Math.round(fontSize * 0.35)),
				itemStyle: { color: input.dimmed ? WALL_COLORS.stale : WALL_COLORS.data },
				sampling: 'lttb',
				animation: false,
				silent: true,
				lineStyle: {
					color: input.dimmed ? WALL_COLORS.stale : WALL_COLORS.data,
					width: lineWidth
				},
				markLine: {
					silent: true,
					symbol: 'none',
					animation: false,
					precision: MARK_LINE_PRECISION,
					data: markLineData(lines, decimals, fontSize)
				}
			},
			{
				id: 'suspects',
				type: 'scatter',
				data: suspects,
				symbol: 'diamond',
				symbolSize: Math.round(fontSize * 0.7),
				silent: true,
				animation: false,
				itemStyle: { color: 'transparent', borderColor: WALL_COLORS.suspect, borderWidth: 3 }
			},
			{
				id: 'violations',
				type: 'scatter',
				data: markers.map((m) => [m.ts, m.value]),
				symbol: 'circle',
				symbolSize: Math.round(fontSize * 0.75),
				silent: true,
				animation: false,
				z: 5,
				itemStyle: { color: WALL_COLORS.violation, borderColor: '#fff', borderWidth: 2 }
			}
		]
	};
}

/**
 * SVG path ("M x y L x y …") of a sparkline through `values`, in a `width` × `height` box with
 * `inset` pixels kept free at top and bottom. SVG rather than one more canvas chart: a wall has a
 * sparkline per characteristic (40+), and each ECharts update costs 2-4 ms of main thread.
 */
export function sparklinePath(
	values: readonly number[],
	width: number,
	height: number,
	inset = 2
): string {
	if (values.length === 0) return '';
	let min = Infinity;
	let max = -Infinity;
	for (const v of values) {
		if (v < min) min = v;
		if (v > max) max = v;
	}
	const usable = Math.max(0, height - 2 * inset);
	const span = max - min;
	const y = (v: number) => (span > 0 ? inset + usable * (1 - (v - min) / span) : height / 2);
	const step = values.length > 1 ? width / (values.length - 1) : 0;
	const parts: string[] = [];
	for (let i = 0; i < values.length; i++) {
		const x = values.length > 1 ? i * step : width / 2;
		parts.push(`${i === 0 ? 'M' : 'L'}${round2(x)} ${round2(y(values[i]))}`);
	}
	return parts.join(' ');
}

function round2(v: number): number {
	return Math.round(v * 100) / 100;
}

/**
 * At most `maxPoints` values spread evenly over `values` (always keeping the newest), so a 600
 * point window does not become a 600-vertex path in a 200-pixel sparkline.
 */
export function thin(values: readonly number[], maxPoints: number): number[] {
	if (values.length <= maxPoints) return [...values];
	const out: number[] = [];
	const step = (values.length - 1) / (maxPoints - 1);
	for (let i = 0; i < maxPoints; i++) out.push(values[Math.round(i * step)]);
	return out;
}
