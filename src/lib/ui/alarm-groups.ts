/**
 * Groups a wall's unacknowledged signals by characteristic and rule. The hub already folds a
 * condition that keeps firing into one alarm (`occurrences`, `lastTs`), but a condition that
 * cleared and came back is a new alarm: one row per (characteristic, rule) with the total count
 * and the latest violation keeps the banner readable in a flood and still shows everything open.
 */
import type { LiveAlarm } from '$lib/realtime/events';

export interface SignalGroup {
	key: string;
	/** Null for alarms about no characteristic (a missed inspection). */
	characteristicId: number | null;
	machineId: number | null;
	rule: LiveAlarm['rule'];
	/** Violations in the group (each alarm counts its occurrences). */
	count: number;
	/** The alarm with the latest violation (its message and time are shown). */
	latest: LiveAlarm;
	/** When the oldest alarm of the group was raised. */
	since: number;
}

/**
 * Groups with an active (`unacknowledged`) alarm first, then those only returned to normal;
 * newest first (by their newest firing) within each.
 */
export function groupSignals(alarms: Iterable<LiveAlarm>): SignalGroup[] {
	const groups = new Map<string, SignalGroup>();
	for (const alarm of alarms) {
		// A missed inspection is its own row: each names a different plan and inspection.
		const key =
			alarm.characteristicId === null
				? `alarm:${alarm.id}`
				: `${alarm.characteristicId}:${alarm.rule}`;
		const group = groups.get(key);
		if (group === undefined) {
			groups.set(key, {
				key,
				characteristicId: alarm.characteristicId,
				machineId: alarm.machineId,
				rule: alarm.rule,
				count: alarm.occurrences,
				latest: alarm,
				since: alarm.ts
			});
			continue;
		}
		group.count += alarm.occurrences;
		if (
			alarm.lastTs > group.latest.lastTs ||
			(alarm.lastTs === group.latest.lastTs && alarm.id > group.latest.id)
		) {
			group.latest = alarm;
		}
		if (alarm.ts < group.since) group.since = alarm.ts;
	}
	const active = new Set<string>();
	for (const alarm of alarms) {
		if (alarm.state === 'unacknowledged') {
			active.add(
				alarm.characteristicId === null
					? `alarm:${alarm.id}`
					: `${alarm.characteristicId}:${alarm.rule}`
			);
		}
	}
	const rank = (g: SignalGroup) => (active.has(g.key) ? 0 : 1);
	return [...groups.values()].sort(
		(a, b) => rank(a) - rank(b) || b.latest.lastTs - a.latest.lastTs || b.latest.id - a.latest.id
	);
}
