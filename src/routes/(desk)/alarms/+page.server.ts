/**
 * The alarm list: filters in the URL (line, state, kind, days), what needs a person first
 * (unacknowledged, then returned, acknowledged, set aside, cleared), and per-line alarm
 * metrics over the same range. Only lines the viewer may see (`alarm:view` per line).
 */
import { requireUserWith } from '$lib/server/auth/guard';
import { alarmLines, alarmMetrics, LIST_LIMIT, listAlarms } from '$lib/server/alarms/queries';
import { runningApp } from '$lib/server/running-app';
import type { PageServerLoad } from './$types';
import { readFilter } from './schema';

export const load: PageServerLoad = async (event) => {
	const user = requireUserWith(event, 'alarm:view');
	const { database } = runningApp();
	const now = Date.now();
	const lines = await alarmLines(database, user);
	const read = readFilter(event.url, now);
	const empty = { lines, items: [], total: 0, metrics: [], limit: LIST_LIMIT };
	if (!read.ok) return { ...empty, problem: read.message, filter: null };
	const filter = read.filter;
	let lineIds = lines.map((l) => l.id);
	if (filter.line !== null) {
		const chosen = lines.find((l) => l.code === filter.line);
		if (!chosen) return { ...empty, problem: `No line ${filter.line} you may see.`, filter };
		lineIds = [chosen.id];
	}
	const range = { from: filter.fromMs, to: Math.min(filter.toMs, now), now };
	const [list, metrics] = await Promise.all([
		listAlarms(database, {
			lineIds,
			state: filter.state,
			kind: filter.kind,
			from: filter.fromMs,
			to: filter.toMs
		}),
		alarmMetrics(
			database,
			lineIds,
			range.to > range.from ? range : { ...range, to: range.from + 1 }
		)
	]);
	return { ...empty, problem: null, filter, items: list.items, total: list.total, metrics };
};
