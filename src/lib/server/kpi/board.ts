/**
 * KPI figures for the boards and the drill-down lists, from the rows of queries.ts: a figure is
 * the total of its rows (so the drill-down explains it), a trend point the total of the rows in
 * its bucket. Targets come from `kpi_target` (the site's when a site is filtered, else the
 * plant-wide one) with the built-in defaults of $lib/kpi/definitions when none is set.
 */
import {
	AGE_BUCKETS,
	ageBucket,
	KPIS,
	meetsTarget,
	TARGET_STORAGE,
	type KpiKey,
	type KpiUnit
} from '../../kpi/definitions';
import { resolveRange, type KpiFilters, type ResolvedRange } from '../../kpi/filters';
import {
	bucketStart,
	bucketStarts,
	nextBucket,
	percentile,
	type BucketSize
} from '../../kpi/stats';
import type { RawQuery } from '../db/raw';
import * as q from './queries';

export interface TrendPoint {
	/** Bucket start, epoch ms UTC. */
	t: number;
	value: number | null;
}

export interface Breakdown {
	label: string;
	value: number | null;
	unit: KpiUnit;
	n: number;
}

export interface KpiFigure {
	key: KpiKey;
	label: string;
	unit: KpiUnit;
	better: 'higher' | 'lower';
	definition: string;
	/** The headline number; null when nothing was there to measure. */
	value: number | null;
	/** Rows behind the value (lots, change requests, or open items). */
	n: number;
	target: number;
	targetSource: 'site' | 'plant' | 'default';
	met: boolean | null;
	secondary: { label: string; value: number | null; unit: KpiUnit }[];
	trend: TrendPoint[];
	breakdown: Breakdown[];
}

export interface KpiContext {
	filters: KpiFilters;
	range: ResolvedRange;
	now: number;
	scope: q.KpiQueryScope;
}

export function kpiContext(filters: KpiFilters, now: number): KpiContext {
	const range = resolveRange(filters, now);
	return {
		filters,
		range,
		now,
		scope: {
			from: new Date(range.from),
			to: new Date(range.to),
			now: new Date(now),
			site: filters.site,
			line: filters.line,
			product: filters.product,
			customer: filters.customer
		}
	};
}

/** a ÷ b as a percentage; null when b is 0. */
export function pct(a: number, b: number): number | null {
	return b > 0 ? (a / b) * 100 : null;
}

const sum = <T>(rows: readonly T[], f: (r: T) => number) => rows.reduce((a, r) => a + f(r), 0);

/** Groups `rows` by the trend bucket of `at(row)`, every bucket of the range present. */
function byBucket<T>(
	rows: readonly T[],
	at: (r: T) => number,
	range: ResolvedRange
): Map<number, T[]> {
	const out = new Map<number, T[]>();
	for (const b of bucketStarts(range.from, range.to, range.bucket)) out.set(b, []);
	for (const r of rows) {
		const b = bucketStart(at(r), range.bucket);
		const list = out.get(b);
		if (list) list.push(r);
		else out.set(b, [r]);
	}
	return out;
}

function trendOf<T>(
	rows: readonly T[],
	at: (r: T) => number,
	range: ResolvedRange,
	value: (rows: T[]) => number | null
): TrendPoint[] {
	return [...byBucket(rows, at, range)]
		.sort((a, b) => a[0] - b[0])
		.map(([t, list]) => ({ t, value: list.length > 0 ? value(list) : null }));
}

/** Hours of [start, end) falling in each bucket (a run split at bucket boundaries). */
export function hoursByBucket(
	intervals: readonly { start: number; end: number }[],
	size: BucketSize
): Map<number, number> {
	const out = new Map<number, number>();
	for (const { start, end } of intervals) {
		for (let b = bucketStart(start, size); b < end; b = nextBucket(b, size)) {
			const lo = Math.max(start, b);
			const hi = Math.min(end, nextBucket(b, size));
			if (hi > lo) out.set(b, (out.get(b) ?? 0) + (hi - lo) / 3_600_000);
		}
	}
	return out;
}

/** Open at instant t: opened at or before t and not closed by t. */
export function openAt(item: { openedAt: number; closedAt: number | null }, t: number): boolean {
	return item.openedAt <= t && (item.closedAt === null || item.closedAt > t);
}

type Targets = Awaited<ReturnType<typeof q.targetRows>>;

function targetFor(
	key: KpiKey,
	targets: Targets,
	site: string | undefined
): { target: number; source: KpiFigure['targetSource'] } {
	const own = site ? targets.find((t) => t.kpi === key && t.siteCode === site) : undefined;
	const scale = TARGET_STORAGE[key].scale;
	if (own) return { target: own.target * scale, source: 'site' };
	const plant = targets.find((t) => t.kpi === key && t.siteCode === null);
	if (plant) return { target: plant.target * scale, source: 'plant' };
	return { target: KPIS[key].defaultTarget, source: 'default' };
}

function figure(
	key: KpiKey,
	targets: Targets,
	ctx: KpiContext,
	value: number | null,
	n: number,
	trend: TrendPoint[],
	secondary: KpiFigure['secondary'] = [],
	breakdown: Breakdown[] = [],
	/** Judge the target otherwise than value vs target (CAPA aging: an age limit). */
	judge?: (target: number) => boolean
): KpiFigure {
	const meta = KPIS[key];
	const { target, source } = targetFor(key, targets, ctx.filters.site);
	return {
		key,
		label: meta.label,
		unit: meta.unit,
		better: meta.better,
		definition: meta.definition,
		value,
		n,
		target,
		targetSource: source,
		met: value === null ? null : judge ? judge(target) : meetsTarget(value, target, meta.better),
		secondary,
		trend,
		breakdown
	};
}

/** The instant CAPA aging is measured at: the end of the range, or now if that is later. */
export function agingInstant(ctx: KpiContext): number {
	return Math.min(ctx.range.to, ctx.now);
}

/** Row loaders shared by the board and the drill-down (one statement per KPI family). */
export function rowLoaders(db: RawQuery, ctx: KpiContext) {
	const once = <T>(f: () => Promise<T>) => {
		let p: Promise<T> | null = null;
		return () => (p ??= f());
	};
	return {
		quantities: once(() => q.quantityRows(db, ctx.scope)),
		releases: once(() => q.releaseRows(db, ctx.scope)),
		approvals: once(() => q.changeRows(db, ctx.scope, 'approved')),
		closures: once(() => q.changeRows(db, ctx.scope, 'closed')),
		inspections: once(() => q.inspectionRows(db, ctx.scope, ctx.range.bucket)),
		completeness: once(() => q.completenessRows(db, ctx.scope)),
		alarmLots: once(() => q.alarmLotRows(db, ctx.scope)),
		alarmCounts: once(() => q.alarmCountRows(db, ctx.scope, ctx.range.bucket)),
		openItems: once(() => q.openItemRows(db, ctx.scope)),
		plans: once(() => q.planRows(db, ctx.scope)),
		targets: once(() => q.targetRows(db))
	};
}
export type RowLoaders = ReturnType<typeof rowLoaders>;

const started = (r: q.QuantityRow) => r.good + r.rework + r.scrap;

function durationFigure(
	key: KpiKey,
	rows: readonly { at: number; hours: number }[],
	targets: Targets,
	ctx: KpiContext
): KpiFigure {
	const hours = rows.map((r) => r.hours);
	return figure(
		key,
		targets,
		ctx,
		percentile(hours, 0.5),
		rows.length,
		trendOf(
			rows,
			(r) => r.at,
			ctx.range,
			(list) =>
				percentile(
					list.map((r) => r.hours),
					0.5
				)
		),
		[
			{ label: 'p90', value: percentile(hours, 0.9), unit: 'hours' },
			{
				label: 'mean',
				value: rows.length ? sum(rows, (r) => r.hours) / rows.length : null,
				unit: 'hours'
			}
		]
	);
}

/** One KPI's figure (its rows loaded through `rows`, shared between KPIs of a board). */
export async function computeFigure(
	key: KpiKey,
	rows: RowLoaders,
	ctx: KpiContext
): Promise<KpiFigure> {
	const targets = await rows.targets();
	switch (key) {
		case 'batch-yield':
		case 'first-pass-yield':
		case 'rework-rate':
		case 'scrap-rate': {
			const list = await rows.quantities();
			const numerator = (r: q.QuantityRow) =>
				key === 'batch-yield'
					? r.good + r.rework
					: key === 'first-pass-yield'
						? r.good
						: key === 'rework-rate'
							? r.rework
							: r.scrap;
			const ratio = (l: readonly q.QuantityRow[]) => pct(sum(l, numerator), sum(l, started));
			const byLine = new Map<string, q.QuantityRow[]>();
			for (const r of list) byLine.set(r.line, [...(byLine.get(r.line) ?? []), r]);
			return figure(
				key,
				targets,
				ctx,
				ratio(list),
				list.length,
				trendOf(list, (r) => r.at, ctx.range, ratio),
				[{ label: 'parts started', value: sum(list, started), unit: 'count' }],
				[...byLine].map(([line, l]) => ({
					label: line,
					value: ratio(l),
					unit: 'percent',
					n: l.length
				}))
			);
		}
		case 'release-time':
			return durationFigure(key, await rows.releases(), targets, ctx);
		case 'change-approval-time':
			return durationFigure(key, await rows.approvals(), targets, ctx);
		case 'change-close-time':
			return durationFigure(key, await rows.closures(), targets, ctx);
		case 'on-time-inspections': {
			const list = await rows.inspections();
			const ratio = (l: readonly q.InspectionRow[]) =>
				pct(
					sum(l, (r) => r.onTime),
					sum(l, (r) => r.due)
				);
			const lots = new Set(list.map((r) => r.id));
			return figure(
				key,
				targets,
				ctx,
				ratio(list),
				lots.size,
				trendOf(list, (r) => r.at, ctx.range, ratio),
				[
					{ label: 'inspections due', value: sum(list, (r) => r.due), unit: 'count' },
					{ label: 'late', value: sum(list, (r) => r.late), unit: 'count' },
					{ label: 'not done', value: sum(list, (r) => r.notDone), unit: 'count' }
				]
			);
		}
		case 'record-completeness': {
			const list = await rows.completeness();
			const ratio = (l: readonly q.CompletenessRow[]) =>
				pct(l.filter((r) => r.complete).length, l.length);
			return figure(
				key,
				targets,
				ctx,
				ratio(list),
				list.length,
				trendOf(list, (r) => r.at, ctx.range, ratio),
				[{ label: 'incomplete lots', value: list.filter((r) => !r.complete).length, unit: 'count' }]
			);
		}
		case 'alarms-per-line': {
			const [lots, counts] = await Promise.all([rows.alarmLots(), rows.alarmCounts()]);
			const alarms = sum(counts, (r) => r.alarms);
			const hours = sum(lots, (r) => r.hours);
			const rate = (a: number, h: number) => (h > 0 ? (a / h) * 1000 : null);
			const lines = [...new Set(lots.map((r) => r.line))].sort();
			const hoursIn = hoursByBucket(lots, ctx.range.bucket);
			const alarmsIn = new Map<number, number>();
			for (const c of counts) alarmsIn.set(c.at, (alarmsIn.get(c.at) ?? 0) + c.alarms);
			return figure(
				key,
				targets,
				ctx,
				rate(alarms, hours),
				lots.length,
				bucketStarts(ctx.range.from, ctx.range.to, ctx.range.bucket).map((t) => ({
					t,
					value: rate(alarmsIn.get(t) ?? 0, hoursIn.get(t) ?? 0)
				})),
				[
					{ label: 'alarms', value: alarms, unit: 'count' },
					{ label: 'run hours', value: hours, unit: 'count' },
					{ label: 'per hour', value: hours > 0 ? alarms / hours : null, unit: 'count' }
				],
				lines.map((line) => {
					const a = sum(
						counts.filter((r) => r.line === line),
						(r) => r.alarms
					);
					const h = sum(
						lots.filter((r) => r.line === line),
						(r) => r.hours
					);
					return { label: line, value: rate(a, h), unit: 'per-1000h' as const, n: a };
				})
			);
		}
		case 'capa-aging': {
			const list = await rows.openItems();
			const at = agingInstant(ctx);
			const open = list.filter((r) => openAt(r, at));
			const overdue = open.filter((r) => r.dueAt !== null && r.dueAt < at).length;
			const buckets = AGE_BUCKETS.map((b) => {
				const inB = open.filter((r) => ageBucket(at - r.openedAt) === b.key);
				return { label: b.label, value: inB.length, unit: 'count' as const, n: inB.length };
			});
			const ends = bucketStarts(ctx.range.from, ctx.range.to, ctx.range.bucket).map((t) => ({
				t,
				end: Math.min(nextBucket(t, ctx.range.bucket), at)
			}));
			return figure(
				key,
				targets,
				ctx,
				open.length,
				open.length,
				ends.map(({ t, end }) => ({
					t,
					value: end < t ? null : list.filter((r) => openAt(r, end)).length
				})),
				[
					{ label: 'overdue', value: overdue, unit: 'count' },
					{
						label: 'deviations',
						value: open.filter((r) => r.kind === 'deviation').length,
						unit: 'count'
					},
					{
						label: 'CAPA actions',
						value: open.filter((r) => r.kind === 'capa').length,
						unit: 'count'
					}
				],
				buckets,
				(limitDays) => open.every((r) => at - r.openedAt <= limitDays * 86_400_000)
			);
		}
		case 'plan-achievement': {
			const list = await rows.plans();
			const ratio = (l: readonly q.PlanRow[]) =>
				pct(
					sum(l, (r) => r.made),
					sum(l, (r) => r.planned)
				);
			return figure(
				key,
				targets,
				ctx,
				ratio(list),
				list.length,
				trendOf(list, (r) => r.at, ctx.range, ratio),
				[
					{ label: 'planned parts', value: sum(list, (r) => r.planned), unit: 'count' },
					{
						label: 'lots not started',
						value: list.filter((r) => r.status === 'planned').length,
						unit: 'count'
					}
				]
			);
		}
	}
}

/** The figures of `keys` under the same filters, their rows loaded once per family. */
export async function computeFigures(
	db: RawQuery,
	keys: readonly KpiKey[],
	ctx: KpiContext
): Promise<KpiFigure[]> {
	const rows = rowLoaders(db, ctx);
	return Promise.all(keys.map((k) => computeFigure(k, rows, ctx)));
}
