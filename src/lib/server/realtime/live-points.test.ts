import { describe, expect, it } from 'vitest';
import type { CharacteristicConfig, SampleTuple } from '$lib/realtime/events';
import { liveReadingsOfBatch, livePointsOfBatch } from './live-points';

function config(id: number, chart: CharacteristicConfig['chart']): CharacteristicConfig {
	return {
		id,
		code: `C${id}`,
		name: `C${id}`,
		unit: 'mm',
		lineId: 1,
		machineId: 1,
		kind: 'variable',
		chart,
		subgroupSize: chart === 'imr' ? 1 : 5,
		samplingIntervalMs: 1000,
		spec: {},
		suspect: {},
		rules: 'nelson-all',
		limits: null,
		decimals: 2
	};
}

const configs = new Map([
	[1, config(1, 'imr')],
	[2, config(2, 'xbar-r')],
	[3, config(3, 'p')],
	[4, config(4, 'ewma')],
	[5, config(5, 'cusum')],
	[6, config(6, 'xbar-s')]
]);

describe('livePointsOfBatch', () => {
	it('plots individuals with their moving range, continuing across batches, skipping suspects', () => {
		const previous = new Map<number, number>();
		const first: SampleTuple[] = [
			[1, 1000, 1, 10, 0],
			[1, 2000, 2, 13, 0]
		];
		const second: SampleTuple[] = [
			[1, 3000, 3, 99, 1], // suspect: shown, no moving range, not the next point's neighbour
			[1, 4000, 4, 11.5, 0]
		];

		const a = livePointsOfBatch(first, [], (id) => configs.get(id), previous);
		const b = livePointsOfBatch(second, [], (id) => configs.get(id), previous);

		expect(a.get(1)?.map((p) => p.dispersion)).toEqual([null, 3]);
		expect(b.get(1)).toEqual([
			{ ts: 3000, seq: 3, value: 99, dispersion: null, flags: 1 },
			{ ts: 4000, seq: 4, value: 11.5, dispersion: 1.5, flags: 0 }
		]);
	});

	it('plots a subgroup chart from subgroups whose closing sample was accepted, and only those', () => {
		const accepted: SampleTuple[] = [5000, 6000].map((ts, i) => [2, ts, i + 1, 4, 0]);
		const subgroups = [
			{ characteristicId: 2, ts: 6000, n: 5, value: 4.01, dispersion: 0.03 },
			// Closing sample not accepted in this batch (a re-send): not new, not plotted.
			{ characteristicId: 2, ts: 1000, n: 5, value: 3.99, dispersion: 0.02 }
		];

		const points = livePointsOfBatch(accepted, subgroups, (id) => configs.get(id), new Map());

		expect(points.get(2)).toEqual([{ ts: 6000, seq: 0, value: 4.01, dispersion: 0.03, flags: 0 }]);
	});

	it('ignores characteristics it has no configuration for', () => {
		const points = livePointsOfBatch([[9, 1000, 1, 1, 0]], [], (id) => configs.get(id), new Map());
		expect(points.size).toBe(0);
	});
});

describe('liveReadingsOfBatch', () => {
	it('turns the accepted samples of subgroup and attribute charts into readings, oldest first', () => {
		const accepted: SampleTuple[] = [
			[6, 3000, 3, 4.02, 0],
			[2, 2000, 2, 3.98, 1],
			[6, 1000, 5, 3.99, 0],
			[3, 1500, 1, 2, 0],
			[6, 1000, 4, 4.01, 0],
			[2, 1000, 1, 4.0, 0]
		];

		const readings = liveReadingsOfBatch(accepted, (id) => configs.get(id));

		expect(readings.get(2)).toEqual([
			{ ts: 1000, seq: 1, value: 4.0, flags: 0 },
			{ ts: 2000, seq: 2, value: 3.98, flags: 1 }
		]);
		expect(readings.get(3)).toEqual([{ ts: 1500, seq: 1, value: 2, flags: 0 }]);
		expect(readings.get(6)?.map((r) => [r.ts, r.seq])).toEqual([
			[1000, 4],
			[1000, 5],
			[3000, 3]
		]);
	});

	it.each([1, 4, 5])('gives no readings to a chart of individuals (characteristic %i)', (id) => {
		const readings = liveReadingsOfBatch([[id, 1000, 1, 10, 0]], (c) => configs.get(c));
		expect(readings.size).toBe(0);
	});

	it('ignores characteristics it has no configuration for', () => {
		const readings = liveReadingsOfBatch([[9, 1000, 1, 1, 0]], (id) => configs.get(id));
		expect(readings.size).toBe(0);
	});
});
