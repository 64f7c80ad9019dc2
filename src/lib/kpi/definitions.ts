/**
 * The KPI boards' vocabulary, shared by the server (which computes) and the browser (which
 * shows): every KPI's key, label, unit, which direction is better, its built-in default target
 * and a one-line definition. docs/kpi.md states the same definitions at length; the SQL in
 * src/lib/server/kpi/queries.ts implements them and says, beside each query, which sentence it
 * implements.
 *
 * Keys are the `kpi_target.kpi` keys (KPI_KEYS in the schema): a target set in the table
 * overrides the default here.
 */
import type { KpiKey } from '../server/db/schema/change';

export type { KpiKey };

export type KpiUnit = 'percent' | 'hours' | 'per-1000h' | 'count' | 'days';

export interface KpiMeta {
	key: KpiKey;
	label: string;
	unit: KpiUnit;
	better: 'higher' | 'lower';
	/** Built-in target when kpi_target holds none for the scope. */
	defaultTarget: number;
	/** What the drill-down lists: lots, change requests, or open deviation/CAPA items. */
	rows: 'lots' | 'changes' | 'items';
	definition: string;
}

export const KPIS: Record<KpiKey, KpiMeta> = {
	'batch-yield': {
		key: 'batch-yield',
		label: 'Batch yield',
		unit: 'percent',
		better: 'higher',
		defaultTarget: 98,
		rows: 'lots',
		definition:
			'Good output (good + reworked parts) ÷ started parts (good + rework + scrap), over the lots completed in the range.'
	},
	'first-pass-yield': {
		key: 'first-pass-yield',
		label: 'First-pass yield',
		unit: 'percent',
		better: 'higher',
		defaultTarget: 95,
		rows: 'lots',
		definition:
			'Parts good at the first pass (good, not reworked) ÷ started parts, over the lots completed in the range.'
	},
	'release-time': {
		key: 'release-time',
		label: 'Lot release time',
		unit: 'hours',
		better: 'lower',
		defaultTarget: 24,
		rows: 'lots',
		definition:
			'Hours from completion to the release decision of the lots released in the range: median (headline) and p90.'
	},
	'change-approval-time': {
		key: 'change-approval-time',
		label: 'Change approval time',
		unit: 'hours',
		better: 'lower',
		defaultTarget: 120,
		rows: 'changes',
		definition:
			'Hours from opening to approval of the change requests approved in the range: median (headline) and p90.'
	},
	'change-close-time': {
		key: 'change-close-time',
		label: 'Change closing time',
		unit: 'hours',
		better: 'lower',
		defaultTarget: 336,
		rows: 'changes',
		definition:
			'Hours from opening to closure of the change requests closed in the range: median (headline) and p90.'
	},
	'rework-rate': {
		key: 'rework-rate',
		label: 'Rework rate',
		unit: 'percent',
		better: 'lower',
		defaultTarget: 2,
		rows: 'lots',
		definition: 'Reworked parts ÷ started parts, over the lots completed in the range.'
	},
	'scrap-rate': {
		key: 'scrap-rate',
		label: 'Scrap rate',
		unit: 'percent',
		better: 'lower',
		defaultTarget: 1.5,
		rows: 'lots',
		definition: 'Scrapped parts ÷ started parts, over the lots completed in the range.'
	},
	'on-time-inspections': {
		key: 'on-time-inspections',
		label: 'On-time inspections',
		unit: 'percent',
		better: 'higher',
		defaultTarget: 98,
		rows: 'lots',
		definition:
			'Inspections done by their due time + grace ÷ inspections due in the range whose grace has passed (or that are done).'
	},
	'record-completeness': {
		key: 'record-completeness',
		label: 'Record completeness',
		unit: 'percent',
		better: 'higher',
		defaultTarget: 99,
		rows: 'lots',
		definition:
			'Lots completed in the range whose record is complete: no open or uncovered inspection, parameter summaries present, and a release/reject signature once decided.'
	},
	'alarms-per-line': {
		key: 'alarms-per-line',
		label: 'Alarms per 1000 run hours',
		unit: 'per-1000h',
		better: 'lower',
		defaultTarget: 500,
		rows: 'lots',
		definition:
			'Alarms raised while a lot ran on its line, per 1000 hours of lot run time in the range (per line on the board).'
	},
	'capa-aging': {
		key: 'capa-aging',
		label: 'Open deviations and CAPA',
		unit: 'count',
		better: 'lower',
		// An age limit in days: on target when no open item is older.
		defaultTarget: 30,
		rows: 'items',
		definition:
			'Deviations and CAPA actions open at the end of the range, by age (0–7, 8–30, 31–90, over 90 days); overdue = past their due date then. Target: an age limit in days, met when no open item is older.'
	},
	'plan-achievement': {
		key: 'plan-achievement',
		label: 'Plan achievement',
		unit: 'percent',
		better: 'higher',
		defaultTarget: 95,
		rows: 'lots',
		definition:
			'Good parts made ÷ planned quantity, over the lots planned to start in the range (a lot never started counts as 0 made; lots still running are left out).'
	}
};

export const KPI_ORDER = Object.keys(KPIS) as KpiKey[];

export function isKpiKey(v: string): v is KpiKey {
	return Object.prototype.hasOwnProperty.call(KPIS, v);
}

/** Boards: what a meeting screen shows at once (rotated in meeting mode). */
export const BOARDS = {
	quality: {
		label: 'Quality',
		kpis: [
			'batch-yield',
			'first-pass-yield',
			'rework-rate',
			'scrap-rate',
			'on-time-inspections',
			'record-completeness'
		]
	},
	flow: {
		label: 'Flow',
		kpis: ['release-time', 'change-approval-time', 'change-close-time', 'plan-achievement']
	},
	risk: { label: 'Alarms and CAPA', kpis: ['alarms-per-line', 'capa-aging'] }
} as const satisfies Record<string, { label: string; kpis: readonly KpiKey[] }>;
export type BoardKey = keyof typeof BOARDS;
export const BOARD_KEYS = Object.keys(BOARDS) as BoardKey[];

export function isBoardKey(v: string): v is BoardKey {
	return Object.prototype.hasOwnProperty.call(BOARDS, v);
}

/** Age buckets of open deviations and CAPA actions, in whole days since opening. */
export const AGE_BUCKETS = [
	{ key: '0-7', label: '0–7 days', maxDays: 7 },
	{ key: '8-30', label: '8–30 days', maxDays: 30 },
	{ key: '31-90', label: '31–90 days', maxDays: 90 },
	{ key: '90+', label: 'over 90 days', maxDays: Infinity }
] as const;
export type AgeBucketKey = (typeof AGE_BUCKETS)[number]['key'];

/** The bucket of an item open `ageMs` milliseconds: days are counted down (7.9 days is 7). */
export function ageBucket(ageMs: number): AgeBucketKey {
	const days = Math.floor(Math.max(0, ageMs) / 86_400_000);
	for (const b of AGE_BUCKETS) if (days <= b.maxDays) return b.key;
	return '90+';
}

/** A KPI value as shown (unit written out); '—' when there is nothing to measure. */
export function formatKpi(value: number | null, unit: KpiUnit): string {
	if (value === null || !Number.isFinite(value)) return '—';
	switch (unit) {
		case 'percent':
			return `${value.toFixed(1)} %`;
		case 'hours':
			return value >= 100 ? `${Math.round(value)} h` : `${value.toFixed(1)} h`;
		case 'per-1000h':
			return `${value.toFixed(0)} /1000 h`;
		case 'count':
			// Grouped (45,039,364): read across a meeting room. Display only; CSV keeps raw numbers.
			return Math.round(value).toLocaleString('en-US');
		case 'days':
			return `${Math.round(value)} d`;
	}
}

/**
 * How `kpi_target.target` is stored per KPI (the table has no unit column; the demo history
 * writes targets this way): rates as fractions (0.975), release time in hours, change times in
 * days, alarms per 1000 run hours, CAPA aging as the age limit in days. `scale` turns the stored
 * number into the unit the board shows; CAPA aging keeps days (its target is an age, not a count).
 */
export const TARGET_STORAGE: Record<KpiKey, { unit: string; scale: number }> = {
	'batch-yield': { unit: 'fraction', scale: 100 },
	'first-pass-yield': { unit: 'fraction', scale: 100 },
	'release-time': { unit: 'hours', scale: 1 },
	'change-approval-time': { unit: 'days', scale: 24 },
	'change-close-time': { unit: 'days', scale: 24 },
	'rework-rate': { unit: 'fraction', scale: 100 },
	'scrap-rate': { unit: 'fraction', scale: 100 },
	'on-time-inspections': { unit: 'fraction', scale: 100 },
	'record-completeness': { unit: 'fraction', scale: 100 },
	'alarms-per-line': { unit: 'per 1000 run hours', scale: 1 },
	'capa-aging': { unit: 'days (age limit)', scale: 1 },
	'plan-achievement': { unit: 'fraction', scale: 100 }
};

/** Is `value` on the good side of `target` (equal counts as met)? */
export function meetsTarget(value: number, target: number, better: 'higher' | 'lower'): boolean {
	return better === 'higher' ? value >= target : value <= target;
}
