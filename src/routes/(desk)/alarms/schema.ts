/** Filters of the alarm list, read from the URL (shareable, bookmarkable). */
import { z } from 'zod';
import { ALARM_STATE_NAMES } from '$lib/alarms/lifecycle';

const DAY = 86_400_000;
/** Longest range the list and the metrics look at (the metrics scan every alarm raised in it). */
export const MAX_RANGE_DAYS = 92;
export const DEFAULT_RANGE_DAYS = 7;
export const ALARM_KIND_NAMES = ['spc', 'spec', 'inspection', 'stale'] as const;

const day = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2}$/, 'Dates are YYYY-MM-DD.')
	.refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'Not a date.');

export const listFilter = z.object({
	line: z
		.string()
		.regex(/^[A-Za-z0-9_.-]{1,32}$/, 'Not a line code.')
		.optional(),
	state: z.enum(['open', ...ALARM_STATE_NAMES]).optional(),
	kind: z.enum(ALARM_KIND_NAMES).optional(),
	from: day.optional(),
	to: day.optional()
});

export interface ParsedFilter {
	line: string | null;
	state: NonNullable<z.infer<typeof listFilter>['state']> | null;
	kind: NonNullable<z.infer<typeof listFilter>['kind']> | null;
	/** [fromMs, toMs): whole UTC days, `to` inclusive in the form. */
	fromMs: number;
	toMs: number;
	fromDay: string;
	toDay: string;
}

function dayOf(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}

export function readFilter(
	url: URL,
	now: number
): { ok: true; filter: ParsedFilter } | { ok: false; message: string } {
	const raw: Record<string, string> = {};
	for (const key of ['line', 'state', 'kind', 'from', 'to']) {
		const v = url.searchParams.get(key);
		if (v !== null && v !== '') raw[key] = v;
	}
	const parsed = listFilter.safeParse(raw);
	if (!parsed.success) return { ok: false, message: parsed.error.issues[0].message };
	const f = parsed.data;
	const toDay = f.to ?? dayOf(now);
	const toMs = Date.parse(`${toDay}T00:00:00Z`) + DAY;
	const fromDay = f.from ?? dayOf(toMs - DEFAULT_RANGE_DAYS * DAY);
	const fromMs = Date.parse(`${fromDay}T00:00:00Z`);
	if (fromMs >= toMs) return { ok: false, message: 'The range ends before it starts.' };
	if (toMs - fromMs > MAX_RANGE_DAYS * DAY) {
		return { ok: false, message: `Choose a range of at most ${MAX_RANGE_DAYS} days.` };
	}
	return {
		ok: true,
		filter: {
			line: f.line ?? null,
			state: f.state ?? null,
			kind: f.kind ?? null,
			fromMs,
			toMs,
			fromDay,
			toDay
		}
	};
}
