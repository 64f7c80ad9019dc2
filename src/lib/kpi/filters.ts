/**
 * The boards' filters, all in the URL (a board can be bookmarked, shared and put on a meeting
 * screen): time range (a preset or custom days), site, line, product and customer (by their
 * codes). Parsed with zod on the server; the browser builds links with `filterQuery`.
 */
import { z } from 'zod';
import { bucketFor, type BucketSize } from './stats';

export const RANGE_PRESETS = {
	'7d': { label: 'Last 7 days', days: 7 },
	'30d': { label: 'Last 30 days', days: 30 },
	'90d': { label: 'Last 90 days', days: 90 },
	'365d': { label: 'Last 12 months', days: 365 },
	mtd: { label: 'Month to date', days: null },
	ytd: { label: 'Year to date', days: null },
	custom: { label: 'Custom', days: null }
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;
export const DEFAULT_RANGE: RangePreset = '90d';

const code = z
	.string()
	.trim()
	.max(64)
	.regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dots, dashes only');
const day = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD')
	.refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'not a calendar day');

const empty = (v: unknown) => (v === '' ? undefined : v);

export const kpiFilterSchema = z
	.object({
		range: z.preprocess(
			empty,
			z.enum(Object.keys(RANGE_PRESETS) as [RangePreset, ...RangePreset[]]).default(DEFAULT_RANGE)
		),
		from: z.preprocess(empty, day.optional()),
		to: z.preprocess(empty, day.optional()),
		site: z.preprocess(empty, code.optional()),
		line: z.preprocess(empty, code.optional()),
		product: z.preprocess(empty, code.optional()),
		customer: z.preprocess(empty, code.optional())
	})
	.superRefine((f, ctx) => {
		if (f.range !== 'custom') return;
		if (!f.from || !f.to) {
			ctx.addIssue({ code: 'custom', path: ['from'], message: 'a custom range needs both days' });
		} else if (f.from > f.to) {
			ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before the first day' });
		}
	});
export type KpiFilters = z.infer<typeof kpiFilterSchema>;

export const FILTER_KEYS = ['range', 'from', 'to', 'site', 'line', 'product', 'customer'] as const;

/** The filter parameters of a URL (unknown keys ignored). */
export function filtersFromSearch(params: URLSearchParams): Record<string, string> {
	const raw: Record<string, string> = {};
	for (const key of FILTER_KEYS) {
		const v = params.get(key);
		if (v !== null) raw[key] = v;
	}
	return raw;
}

/** `range=…&line=…` for links that keep the same filters (defaults left out). */
export function filterQuery(f: Partial<KpiFilters>): string {
	const parts: string[] = [];
	for (const key of FILTER_KEYS) {
		const v = f[key];
		if (v === undefined || v === '') continue;
		if (key === 'range' && v === DEFAULT_RANGE) continue;
		if ((key === 'from' || key === 'to') && f.range !== 'custom') continue;
		parts.push(`${key}=${encodeURIComponent(v)}`);
	}
	return parts.join('&');
}

export interface ResolvedRange {
	/** Inclusive start, exclusive end (epoch ms, UTC). */
	from: number;
	to: number;
	bucket: BucketSize;
	label: string;
}

const DAY_MS = 86_400_000;

/** The concrete interval of a filter at `now`: presets end now; custom days are whole UTC days. */
export function resolveRange(f: KpiFilters, now: number): ResolvedRange {
	let from: number;
	let to = now;
	const d = new Date(now);
	switch (f.range) {
		case 'mtd':
			from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
			break;
		case 'ytd':
			from = Date.UTC(d.getUTCFullYear(), 0, 1);
			break;
		case 'custom':
			from = Date.parse(`${f.from}T00:00:00Z`);
			to = Date.parse(`${f.to}T00:00:00Z`) + DAY_MS;
			break;
		default:
			from = now - (RANGE_PRESETS[f.range].days as number) * DAY_MS;
	}
	const label = f.range === 'custom' ? `${f.from} – ${f.to} (UTC)` : RANGE_PRESETS[f.range].label;
	return { from, to, bucket: bucketFor(from, to), label };
}
