/**
 * The drill-down behind a KPI: the rows its figure is computed from, as a table (columns with
 * units, one row per lot, change request or open item, each with a link), and the same figure
 * so the page can show that the rows add up to it. The CSV export writes the same table.
 */
import { ageBucket, KPIS, type KpiKey } from '../../kpi/definitions';
import type { RawQuery } from '../db/raw';
import {
	agingInstant,
	computeFigure,
	openAt,
	pct,
	rowLoaders,
	type KpiContext,
	type KpiFigure
} from './board';

export type CellValue = string | number | boolean | null;

export interface DrillColumn {
	key: string;
	label: string;
	/** How the page shows it: time (epoch ms, UTC minute), number, percent, hours, text. */
	format: 'text' | 'time' | 'number' | 'percent' | 'hours' | 'yes-no';
}

export interface DrillRow {
	/** The page the row links to (a lot or a change request), or null. */
	href: string | null;
	cells: Record<string, CellValue>;
}

export interface Drilldown {
	figure: KpiFigure;
	columns: DrillColumn[];
	rows: DrillRow[];
}

const lotHref = (id: number | null) => (id === null ? null : `/lots/${id}`);

const LOT_COLS: DrillColumn[] = [
	{ key: 'lot', label: 'Lot', format: 'text' },
	{ key: 'status', label: 'Status', format: 'text' },
	{ key: 'line', label: 'Line', format: 'text' },
	{ key: 'product', label: 'Part', format: 'text' },
	{ key: 'customer', label: 'Customer', format: 'text' }
];

const lotCells = (r: {
	code: string;
	status: string;
	line: string;
	product: string;
	customer: string;
}) => ({ lot: r.code, status: r.status, line: r.line, product: r.product, customer: r.customer });

export async function kpiDrilldown(db: RawQuery, key: KpiKey, ctx: KpiContext): Promise<Drilldown> {
	const rows = rowLoaders(db, ctx);
	const figure = await computeFigure(key, rows, ctx);
	switch (key) {
		case 'batch-yield':
		case 'first-pass-yield':
		case 'rework-rate':
		case 'scrap-rate': {
			const list = await rows.quantities();
			return {
				figure,
				columns: [
					...LOT_COLS,
					{ key: 'completed', label: 'Completed', format: 'time' },
					{ key: 'started', label: 'Started parts', format: 'number' },
					{ key: 'good', label: 'Good (first pass)', format: 'number' },
					{ key: 'rework', label: 'Reworked', format: 'number' },
					{ key: 'scrap', label: 'Scrapped', format: 'number' },
					{ key: 'value', label: KPIS[key].label, format: 'percent' }
				],
				rows: list.map((r) => {
					const started = r.good + r.rework + r.scrap;
					const num =
						key === 'batch-yield'
							? r.good + r.rework
							: key === 'first-pass-yield'
								? r.good
								: key === 'rework-rate'
									? r.rework
									: r.scrap;
					return {
						href: lotHref(r.id),
						cells: {
							...lotCells(r),
							completed: r.at,
							started,
							good: r.good,
							rework: r.rework,
							scrap: r.scrap,
							value: pct(num, started)
						}
					};
				})
			};
		}
		case 'release-time': {
			const list = await rows.releases();
			return {
				figure,
				columns: [
					...LOT_COLS,
					{ key: 'completed', label: 'Completed', format: 'time' },
					{ key: 'released', label: 'Released', format: 'time' },
					{ key: 'hours', label: 'Release time', format: 'hours' }
				],
				rows: list.map((r) => ({
					href: lotHref(r.id),
					cells: { ...lotCells(r), completed: r.completedAt, released: r.at, hours: r.hours }
				}))
			};
		}
		case 'change-approval-time':
		case 'change-close-time': {
			const list = key === 'change-approval-time' ? await rows.approvals() : await rows.closures();
			return {
				figure,
				columns: [
					{ key: 'change', label: 'Change request', format: 'text' },
					{ key: 'title', label: 'Title', format: 'text' },
					{ key: 'kind', label: 'Kind', format: 'text' },
					{ key: 'status', label: 'Status', format: 'text' },
					{ key: 'line', label: 'Line', format: 'text' },
					{ key: 'product', label: 'Part', format: 'text' },
					{ key: 'opened', label: 'Opened', format: 'time' },
					{
						key: 'step',
						label: key === 'change-approval-time' ? 'Approved' : 'Closed',
						format: 'time'
					},
					{ key: 'hours', label: 'Hours', format: 'hours' }
				],
				rows: list.map((r) => ({
					href: `/changes/${r.id}`,
					cells: {
						change: r.code,
						title: r.title,
						kind: r.kind,
						status: r.status,
						line: r.line,
						product: r.product,
						opened: r.openedAt,
						step: r.at,
						hours: r.hours
					}
				}))
			};
		}
		case 'on-time-inspections': {
			// One row per lot: its per-bucket counts added up.
			const byLot = new Map<number, DrillRow & { n: Record<string, number> }>();
			for (const r of await rows.inspections()) {
				let row = byLot.get(r.id);
				if (!row) {
					row = {
						href: lotHref(r.id),
						cells: lotCells(r),
						n: { due: 0, onTime: 0, late: 0, notDone: 0 }
					};
					byLot.set(r.id, row);
				}
				row.n.due += r.due;
				row.n.onTime += r.onTime;
				row.n.late += r.late;
				row.n.notDone += r.notDone;
			}
			return {
				figure,
				columns: [
					...LOT_COLS,
					{ key: 'due', label: 'Due', format: 'number' },
					{ key: 'onTime', label: 'On time', format: 'number' },
					{ key: 'late', label: 'Late', format: 'number' },
					{ key: 'notDone', label: 'Not done', format: 'number' },
					{ key: 'value', label: 'On-time rate', format: 'percent' }
				],
				rows: [...byLot.values()].map(({ href, cells, n }) => ({
					href,
					cells: { ...cells, ...n, value: pct(n.onTime, n.due) }
				}))
			};
		}
		case 'record-completeness': {
			const list = await rows.completeness();
			return {
				figure,
				columns: [
					...LOT_COLS,
					{ key: 'completed', label: 'Completed', format: 'time' },
					{ key: 'openInspections', label: 'Open inspections', format: 'number' },
					{ key: 'summaries', label: 'Parameter summaries', format: 'yes-no' },
					{ key: 'signed', label: 'Decision signed', format: 'text' },
					{ key: 'complete', label: 'Complete', format: 'yes-no' }
				],
				// Incomplete lots first: they are what the number asks someone to fix.
				rows: [...list]
					.sort((a, b) => Number(a.complete) - Number(b.complete) || a.at - b.at)
					.map((r) => ({
						href: lotHref(r.id),
						cells: {
							...lotCells(r),
							completed: r.at,
							openInspections: r.openInspections,
							summaries: r.summaries,
							signed: r.decided ? (r.signed ? 'yes' : 'no') : 'not decided',
							complete: r.complete
						}
					}))
			};
		}
		case 'alarms-per-line': {
			const [list, counts] = await Promise.all([rows.alarmLots(), rows.alarmCounts()]);
			const byLot = new Map<number, number>();
			for (const c of counts) byLot.set(c.lotId, (byLot.get(c.lotId) ?? 0) + c.alarms);
			return {
				figure,
				columns: [
					...LOT_COLS,
					{ key: 'from', label: 'Ran from', format: 'time' },
					{ key: 'to', label: 'Ran to', format: 'time' },
					{ key: 'hours', label: 'Run hours', format: 'hours' },
					{ key: 'alarms', label: 'Alarms', format: 'number' }
				],
				rows: list.map((r) => ({
					href: lotHref(r.id),
					cells: {
						...lotCells(r),
						from: r.start,
						to: r.end,
						hours: r.hours,
						alarms: byLot.get(r.id) ?? 0
					}
				}))
			};
		}
		case 'capa-aging': {
			const at = agingInstant(ctx);
			const list = (await rows.openItems()).filter((r) => openAt(r, at));
			return {
				figure,
				columns: [
					{ key: 'item', label: 'Item', format: 'text' },
					{ key: 'kind', label: 'Kind', format: 'text' },
					{ key: 'title', label: 'Title', format: 'text' },
					{ key: 'severity', label: 'Severity', format: 'text' },
					{ key: 'status', label: 'Status', format: 'text' },
					{ key: 'lot', label: 'Lot', format: 'text' },
					{ key: 'line', label: 'Line', format: 'text' },
					{ key: 'opened', label: 'Opened', format: 'time' },
					{ key: 'age', label: 'Age (days)', format: 'number' },
					{ key: 'bucket', label: 'Age bucket', format: 'text' },
					{ key: 'due', label: 'Due', format: 'time' },
					{ key: 'overdue', label: 'Overdue', format: 'yes-no' }
				],
				rows: [...list]
					.sort((a, b) => a.openedAt - b.openedAt)
					.map((r) => ({
						href: lotHref(r.lotId),
						cells: {
							item: r.code,
							kind: r.kind === 'capa' ? 'CAPA action' : 'Deviation',
							title: r.title,
							severity: r.severity,
							status: r.status,
							lot: r.lotCode,
							line: r.line,
							opened: r.openedAt,
							age: Math.floor((at - r.openedAt) / 86_400_000),
							bucket: ageBucket(at - r.openedAt),
							due: r.dueAt,
							overdue: r.dueAt !== null && r.dueAt < at
						}
					}))
			};
		}
		case 'plan-achievement': {
			const list = await rows.plans();
			return {
				figure,
				columns: [
					...LOT_COLS,
					{ key: 'plannedStart', label: 'Planned start', format: 'time' },
					{ key: 'planned', label: 'Planned parts', format: 'number' },
					{ key: 'made', label: 'Good parts made', format: 'number' },
					{ key: 'value', label: 'Achieved', format: 'percent' }
				],
				rows: list.map((r) => ({
					href: lotHref(r.id),
					cells: {
						...lotCells(r),
						plannedStart: r.at,
						planned: r.planned,
						made: r.made,
						value: pct(r.made, r.planned)
					}
				}))
			};
		}
	}
}
