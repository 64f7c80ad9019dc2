/**
 * What the KPI routes share: filters parsed from the URL (a bad filter is reported beside the
 * form, never a 500), the boards asked for, and their figures.
 */
import { BOARDS, BOARD_KEYS, isBoardKey, type BoardKey } from '../../kpi/definitions';
import { filtersFromSearch, kpiFilterSchema, type KpiFilters } from '../../kpi/filters';
import type { RawQuery } from '../db/raw';
import { computeFigures, kpiContext, type KpiContext, type KpiFigure } from './board';
import { filterChoices, type FilterChoices } from './queries';

export type ParsedFilters =
	{ ok: true; filters: KpiFilters } | { ok: false; problem: string; filters: KpiFilters };

export function parseKpiFilters(url: URL): ParsedFilters {
	const parsed = kpiFilterSchema.safeParse(filtersFromSearch(url.searchParams));
	if (parsed.success) return { ok: true, filters: parsed.data };
	const issue = parsed.error.issues[0];
	return {
		ok: false,
		problem: `${String(issue?.path[0] ?? 'filter')}: ${issue?.message ?? 'invalid'}`,
		filters: kpiFilterSchema.parse({})
	};
}

/** `?board=` when it names a board, else every board. */
export function boardsOf(url: URL): BoardKey[] {
	const b = url.searchParams.get('board');
	return b && isBoardKey(b) ? [b] : BOARD_KEYS;
}

export interface BoardView {
	key: BoardKey;
	label: string;
	figures: KpiFigure[];
}

export interface BoardsResult {
	problem: string | null;
	filters: KpiFilters;
	range: KpiContext['range'];
	boards: BoardView[];
	choices: FilterChoices;
	generatedAt: number;
}

export async function loadBoards(
	db: RawQuery,
	url: URL,
	boards: readonly BoardKey[],
	now: number
): Promise<BoardsResult> {
	const parsed = parseKpiFilters(url);
	const ctx = kpiContext(parsed.filters, now);
	const keys = boards.flatMap((b) => BOARDS[b].kpis);
	const [figures, choices] = await Promise.all([
		parsed.ok ? computeFigures(db, keys, ctx) : Promise.resolve([]),
		filterChoices(db)
	]);
	const byKey = new Map(figures.map((f) => [f.key, f]));
	return {
		problem: parsed.ok ? null : parsed.problem,
		filters: parsed.filters,
		range: ctx.range,
		boards: parsed.ok
			? boards.map((b) => ({
					key: b,
					label: BOARDS[b].label,
					figures: BOARDS[b].kpis.map((k) => byKey.get(k) as KpiFigure)
				}))
			: [],
		choices,
		generatedAt: now
	};
}
