import { describe, expect, it } from 'vitest';
import { mergeIntervals, summaryCtes } from './parameter-summary';

describe('mergeIntervals', () => {
	it('merges overlapping and touching runs on one machine, keeps machines apart', () => {
		expect(
			mergeIntervals([
				{ machineId: 2, from: 50, to: 60 },
				{ machineId: 1, from: 10, to: 20 },
				{ machineId: 1, from: 15, to: 30 },
				{ machineId: 1, from: 30, to: 40 },
				{ machineId: 1, from: 41, to: 45 },
				{ machineId: 2, from: 55, to: 58 }
			])
		).toEqual([
			{ machineId: 1, from: 10, to: 40 },
			{ machineId: 1, from: 41, to: 45 },
			{ machineId: 2, from: 50, to: 60 }
		]);
	});

	it('drops empty and inverted intervals and leaves its input alone', () => {
		const input = [
			{ machineId: 1, from: 10, to: 10 },
			{ machineId: 1, from: 20, to: 5 },
			{ machineId: 1, from: 1, to: 3 }
		];
		expect(mergeIntervals(input)).toEqual([{ machineId: 1, from: 1, to: 3 }]);
		expect(input[2]).toEqual({ machineId: 1, from: 1, to: 3 });
	});
});

describe('summaryCtes', () => {
	it('gives each interval its own branch with literal-free bounds, parameters from the offset', () => {
		const { sql, params } = summaryCtes(
			[
				{ machineId: 7, from: 1000, to: 2000 },
				{ machineId: 8, from: 3000, to: 4000 }
			],
			3
		);
		expect(params).toEqual([
			7,
			'1970-01-01T00:00:01.000Z',
			'1970-01-01T00:00:02.000Z',
			8,
			'1970-01-01T00:00:03.000Z',
			'1970-01-01T00:00:04.000Z'
		]);
		expect(sql.match(/UNION ALL/g)).toHaveLength(1);
		for (const n of [3, 4, 5, 6, 7, 8]) expect(sql).toContain(`$${n}::`);
		expect(sql).not.toContain('$9');
		expect(sql).not.toMatch(/JOIN run/);
	});

	it('refuses no intervals (the caller answers no summaries without asking)', () => {
		expect(() => summaryCtes([], 1)).toThrow();
	});
});
