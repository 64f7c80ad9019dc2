/**
 * CSV exports of a board and of a drill-down list, through csv-stringify (quoting of commas,
 * quotes and line breaks; a leading = + - @ is prefixed with ' so a spreadsheet does not run a
 * cell as a formula). Times are written as ISO 8601 UTC, numbers unrounded.
 */
import { stringify } from 'csv-stringify/sync';
import type { KpiFigure } from './board';
import type { CellValue, Drilldown } from './drilldown';

/** Spreadsheet formula injection: a text cell may not start with = + - @ (or tab/CR). */
function safeText(s: string): string {
	return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function cell(v: CellValue, format: string): string | number {
	if (v === null) return '';
	if (typeof v === 'boolean') return v ? 'yes' : 'no';
	if (format === 'time' && typeof v === 'number') return new Date(v).toISOString();
	if (typeof v === 'number') return v;
	return safeText(v);
}

export function drilldownCsv(d: Drilldown): string {
	const header = [...d.columns.map((c) => c.label), 'Link'];
	const body = d.rows.map((r) => [
		...d.columns.map((c) => cell(r.cells[c.key] ?? null, c.format)),
		r.href ?? ''
	]);
	return stringify([header, ...body]);
}

/** One row per figure, then one per trend point and breakdown entry (long format). */
export function boardCsv(figures: readonly KpiFigure[], rangeLabel: string): string {
	const rows: (string | number)[][] = [
		['kpi', 'label', 'series', 'at', 'value', 'unit', 'n', 'target', 'target source', 'range']
	];
	for (const f of figures) {
		rows.push([
			f.key,
			f.label,
			'headline',
			'',
			f.value ?? '',
			f.unit,
			f.n,
			f.target,
			f.targetSource,
			rangeLabel
		]);
		for (const s of f.secondary) {
			rows.push([
				f.key,
				f.label,
				safeText(s.label),
				'',
				s.value ?? '',
				s.unit,
				'',
				'',
				'',
				rangeLabel
			]);
		}
		for (const b of f.breakdown) {
			rows.push([
				f.key,
				f.label,
				`by ${safeText(b.label)}`,
				'',
				b.value ?? '',
				b.unit,
				b.n,
				'',
				'',
				rangeLabel
			]);
		}
		for (const t of f.trend) {
			rows.push([
				f.key,
				f.label,
				'trend',
				new Date(t.t).toISOString(),
				t.value ?? '',
				f.unit,
				'',
				f.target,
				'',
				rangeLabel
			]);
		}
	}
	return stringify(rows);
}
