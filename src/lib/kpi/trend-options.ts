/**
 * ECharts option of a KPI trend: the value per bucket as a line (gaps where nothing was
 * measured) and the target as a dashed horizontal line. Pure, so it is tested without a DOM; the
 * chart itself is the app's one ECharts binding ($lib/charts/echart.svelte.ts).
 */
import type { EChartsCoreOption } from 'echarts/core';
import type { KpiUnit } from './definitions';
import { MARK_LINE_PRECISION } from '../charts/spc-chart-options';

export interface TrendInput {
	points: { t: number; value: number | null }[];
	/** Null: no target line (a target that is not in the series' unit). */
	target: number | null;
	unit: KpiUnit;
	/** Scale of the text: 1 on a desk, larger in meeting mode. */
	scale?: number;
	/** Print: dark lines on white. */
	light?: boolean;
}

const UNIT_SUFFIX: Record<KpiUnit, string> = {
	percent: ' %',
	hours: ' h',
	'per-1000h': '',
	count: '',
	days: ' d'
};

export function trendOption(input: TrendInput): EChartsCoreOption {
	const s = input.scale ?? 1;
	const text = input.light ? '#222' : '#a9b6c3';
	const grid = input.light ? '#ddd' : '#2a3541';
	const lineColor = input.light ? '#1f5f99' : '#8cc8ff';
	const values = input.points.map((p) => p.value).filter((v): v is number => v !== null);
	const marks = input.target === null ? values : [input.target, ...values];
	const lo = marks.length > 0 ? Math.min(...marks) : 0;
	const hi = marks.length > 0 ? Math.max(...marks) : 1;
	const pad = (hi - lo) * 0.15 || Math.abs(hi) * 0.05 || 1;
	const digits = hi - lo < 0.5 ? 2 : hi - lo < 5 ? 1 : 0;
	return {
		animation: false,
		grid: { left: 56 * s, right: 16 * s, top: 14 * s, bottom: 26 * s },
		xAxis: {
			type: 'time',
			axisLabel: { color: text, fontSize: 11 * s, hideOverlap: true },
			axisLine: { lineStyle: { color: grid } },
			splitLine: { show: false }
		},
		yAxis: {
			type: 'value',
			// Every KPI is non-negative; a percentage never exceeds 100.
			min: Math.max(0, lo - pad),
			max: input.unit === 'percent' ? Math.min(100, hi + pad) : hi + pad,
			axisLabel: {
				color: text,
				fontSize: 11 * s,
				// The padded min and max are not round: their labels crowded the nearest tick's.
				showMinLabel: false,
				showMaxLabel: false,
				formatter: (v: number) => `${v.toFixed(digits)}${UNIT_SUFFIX[input.unit]}`
			},
			splitLine: { lineStyle: { color: grid } }
		},
		series: [
			{
				type: 'line',
				name: 'value',
				data: input.points.map((p) => [p.t, p.value]),
				connectNulls: false,
				showSymbol: input.points.length <= 40,
				symbolSize: 5 * s,
				lineStyle: { width: 2 * s, color: lineColor },
				itemStyle: { color: lineColor },
				markLine:
					input.target === null
						? undefined
						: {
								silent: true,
								symbol: 'none',
								// ECharts rounds a mark line's position to 2 decimals by default.
								precision: MARK_LINE_PRECISION,
								lineStyle: { type: 'dashed', color: '#ffb020', width: 1.5 * s },
								label: {
									color: '#ffb020',
									fontSize: 11 * s,
									position: 'insideEndTop',
									formatter: `target ${input.target}${UNIT_SUFFIX[input.unit]}`
								},
								data: [{ yAxis: input.target }]
							}
			}
		]
	};
}
