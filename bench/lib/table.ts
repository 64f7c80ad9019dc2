/**
 * A plain-text table for benchmark output. The runner (bench/index.ts) prints the figures and
 * budgets; the tables here are the per-benchmark detail a reader compares side by side.
 */
export type Cell = string | number;

function cellText(cell: Cell): string {
	if (typeof cell === 'string') return cell;
	if (!Number.isFinite(cell)) return String(cell);
	if (Number.isInteger(cell)) return cell.toLocaleString('en-US');
	return Math.abs(cell) >= 100
		? cell.toFixed(0)
		: Math.abs(cell) >= 1
			? cell.toFixed(2)
			: cell.toFixed(3);
}

/** Render rows under headers; numbers right-aligned, text left-aligned. */
export function formatTable(
	title: string,
	headers: readonly string[],
	rows: readonly Cell[][]
): string {
	const text = rows.map((r) => r.map(cellText));
	const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
	const line = (cells: readonly string[], numeric: readonly boolean[]) =>
		'  ' +
		cells
			.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
			.join('  ')
			.trimEnd();
	const headerAlign = headers.map((_, i) => typeof rows[0]?.[i] === 'number');
	const out = [
		`  -- ${title}`,
		line(headers, headerAlign),
		'  ' + widths.map((w) => '-'.repeat(w)).join('  ')
	];
	for (let r = 0; r < rows.length; r++) {
		out.push(
			line(
				text[r],
				rows[r].map((c) => typeof c === 'number')
			)
		);
	}
	return out.join('\n');
}

export function printTable(
	title: string,
	headers: readonly string[],
	rows: readonly Cell[][]
): void {
	console.log(formatTable(title, headers, rows));
}
