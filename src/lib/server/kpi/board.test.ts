import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { hoursByBucket, openAt } from './board';
import { drilldownCsv } from './csv';
import type { Drilldown } from './drilldown';

const HOUR = 3_600_000;

describe('run hours per trend bucket', () => {
	it('splits a run at midnight UTC', () => {
		const start = Date.UTC(2026, 2, 18, 22);
		const m = hoursByBucket([{ start, end: start + 5 * HOUR }], 'day');
		expect(m.get(Date.UTC(2026, 2, 18))).toBeCloseTo(2, 9);
		expect(m.get(Date.UTC(2026, 2, 19))).toBeCloseTo(3, 9);
	});
	it('adds runs falling in the same bucket and ignores empty ones', () => {
		const d = Date.UTC(2026, 2, 18);
		const m = hoursByBucket(
			[
				{ start: d + HOUR, end: d + 2 * HOUR },
				{ start: d + 3 * HOUR, end: d + 5 * HOUR },
				{ start: d + 6 * HOUR, end: d + 6 * HOUR }
			],
			'week'
		);
		expect([...m.values()]).toEqual([3]);
	});
});

describe('open at an instant', () => {
	it('is open from opening until (not at) closing', () => {
		const item = { openedAt: 10, closedAt: 20 };
		expect([openAt(item, 9), openAt(item, 10), openAt(item, 19), openAt(item, 20)]).toEqual([
			false,
			true,
			true,
			false
		]);
		expect(openAt({ openedAt: 10, closedAt: null }, 1e15)).toBe(true);
	});
});

describe('drill-down CSV', () => {
	it('quotes commas, quotes and line breaks, and defuses spreadsheet formulas', () => {
		const d = {
			figure: {} as Drilldown['figure'],
			columns: [
				{ key: 'lot', label: 'Lot', format: 'text' },
				{ key: 'title', label: 'Title, text', format: 'text' },
				{ key: 'at', label: 'At', format: 'time' },
				{ key: 'n', label: 'N', format: 'number' },
				{ key: 'ok', label: 'OK', format: 'yes-no' }
			],
			rows: [
				{
					href: '/lots/7',
					cells: { lot: 'L1-1', title: 'He said "no",\nthen left', at: 0, n: -3.5, ok: true }
				},
				{ href: null, cells: { lot: '=HYPERLINK("x")', title: null, at: null, n: 0, ok: false } }
			]
		} satisfies Drilldown;
		const rows = parse(drilldownCsv(d)) as string[][];
		expect(rows).toEqual([
			['Lot', 'Title, text', 'At', 'N', 'OK', 'Link'],
			['L1-1', 'He said "no",\nthen left', '1970-01-01T00:00:00.000Z', '-3.5', 'yes', '/lots/7'],
			['\'=HYPERLINK("x")', '', '', '0', 'no', '']
		]);
	});
});
