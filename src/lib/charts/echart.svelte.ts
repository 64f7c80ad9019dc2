/**
 * The one ECharts binding of the app, as a Svelte 5 attachment:
 *
 *   <div {@attach echart(() => option)}></div>
 *
 * The chart is created once when the element mounts and disposed when it unmounts; option
 * changes go through `setOption` (merge mode, lazy update) in a child effect, so a live update
 * never re-creates the chart. Its size follows the element through a ResizeObserver.
 *
 * Only the pieces the wall uses are registered (tree-shaken imports from `echarts/core`);
 * `svelte-echarts` is not used because it only accepts ECharts 5 (STACK.md pitfall 7).
 */
import type { Attachment } from 'svelte/attachments';
import { init, use, type EChartsCoreOption } from 'echarts/core';
import { LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, MarkLineComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

// Violations are a scatter series (not markPoint) and tooltips are off: neither is registered.
use([LineChart, ScatterChart, GridComponent, MarkLineComponent, CanvasRenderer]);

/**
 * Attaches a chart that draws `getOption()`; `null` leaves the chart as it is (no data yet).
 * `getOption` is read only in a child effect: reading it in the attachment body would make
 * Svelte tear the chart down and build a new one on every change.
 */
export function echart(getOption: () => EChartsCoreOption | null): Attachment<HTMLElement> {
	return (element) => {
		const chart = init(element, null, { renderer: 'canvas' });
		const observer = new ResizeObserver(() => chart.resize());
		observer.observe(element);

		$effect(() => {
			const option = getOption();
			if (option === null) return;
			chart.setOption(option, { notMerge: false, lazyUpdate: true });
		});

		return () => {
			observer.disconnect();
			chart.dispose();
		};
	};
}
