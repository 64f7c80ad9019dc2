/**
 * Reading alarms in their wire form (LiveAlarm): one SELECT list and one row mapper shared by the
 * ingest path, the return-to-normal sweep, snapshots and the lifecycle service, so every place
 * that pushes an alarm pushes the same shape.
 *
 * Timestamps leave SQL as epoch ms (db/raw.ts) so both drivers parse them alike.
 */
import type { AlarmKind, AlarmRule, AlarmStateName, LiveAlarm } from '$lib/realtime/events';
import { epochMs, type RawQuery } from '../db/raw';

/**
 * `FROM alarm a` with the joins the wire form needs (who acknowledged, code labels). Append
 * WHERE / ORDER BY. The alias `a` is the alarm.
 */
export const LIVE_ALARM_FROM = `SELECT a.id, a.kind, a.characteristic_id, a.machine_id, a.line_id,
	a.rule, a.message, ${epochMs('a.ts')} AS ts, ${epochMs('a.last_ts')} AS last_ts,
	a.occurrences, a.state, a.value, ${epochMs('a.shelved_until')} AS shelved_until,
	ack.full_name AS acknowledged_by, cc.label AS cause, ac.label AS action
FROM alarm a
LEFT JOIN app_user ack ON ack.id = a.acknowledged_by
LEFT JOIN alarm_code cc ON cc.list = 'cause' AND cc.code = a.cause_code
LEFT JOIN alarm_code ac ON ac.list = 'action' AND ac.code = a.action_code`;

export interface LiveAlarmRow {
	id: number;
	kind: AlarmKind;
	characteristic_id: number | null;
	machine_id: number | null;
	line_id: number;
	rule: AlarmRule;
	message: string;
	ts: number;
	last_ts: number;
	occurrences: number;
	state: AlarmStateName;
	value: number | null;
	shelved_until: number | null;
	acknowledged_by: string | null;
	cause: string | null;
	action: string | null;
}

export function toLiveAlarm(r: LiveAlarmRow): LiveAlarm {
	return {
		id: r.id,
		kind: r.kind,
		characteristicId: r.characteristic_id,
		machineId: r.machine_id,
		lineId: r.line_id,
		rule: r.rule,
		message: r.message,
		ts: r.ts,
		lastTs: r.last_ts,
		occurrences: r.occurrences,
		state: r.state,
		value: r.value,
		shelvedUntil: r.shelved_until,
		acknowledgedBy: r.acknowledged_by,
		cause: r.cause,
		action: r.action
	};
}

/** The alarms with these ids as they are now (in the caller's transaction if given one). */
export async function liveAlarmsByIds(q: RawQuery, ids: readonly number[]): Promise<LiveAlarm[]> {
	if (ids.length === 0) return [];
	const rows = await q.query<LiveAlarmRow>(
		`${LIVE_ALARM_FROM} WHERE a.id = ANY($1::int[]) ORDER BY a.last_ts, a.id`,
		[`{${[...new Set(ids)].map((id) => Math.trunc(id)).join(',')}}`]
	);
	return rows.map(toLiveAlarm);
}
