/**
 * Reads for the alarm desk pages: the filtered list, per-line alarm metrics (ISA-18.2 alarm
 * system performance: rate, floods, chattering, standing alarms) and one alarm's record.
 *
 * Callers pass the lines the viewer may see (`alarm:view` is line-scoped): nothing here decides
 * who may see what, and nothing outside those lines is ever read.
 */
import type { AlarmKind, AlarmStateName } from '$lib/realtime/events';
import { can, type Principal } from '../auth/policy';
import type { Database } from '../db';
import { epochMs, fromEpochMs, type RawQuery } from '../db/raw';

export const LIST_LIMIT = 200;
/** A flood: more than this many alarms raised on a line within FLOOD_WINDOW_MS. */
export const FLOOD_THRESHOLD = 10;
export const FLOOD_WINDOW_MS = 10 * 60_000;
/** Chattering: the same condition raised at least this often within CHATTER_WINDOW_MS. */
export const CHATTER_THRESHOLD = 3;
export const CHATTER_WINDOW_MS = 10 * 60_000;
/** Standing: open (not cleared) for longer than this. */
export const STANDING_MS = 24 * 3600_000;

export interface VisibleLine {
	id: number;
	code: string;
	name: string;
	siteId: number;
}

/** Lines on which `principal` may view alarms, by code. */
export async function alarmLines(database: RawQuery, principal: Principal): Promise<VisibleLine[]> {
	const rows = await database.query<VisibleLine>(
		'SELECT id, code, name, site_id AS "siteId" FROM line ORDER BY code'
	);
	return rows.filter((l) => can(principal, 'alarm:view', { lineId: l.id, siteId: l.siteId }));
}

export interface AlarmListFilter {
	lineIds: readonly number[];
	/** A state, 'open' (anything not cleared) or null for all. */
	state: AlarmStateName | 'open' | null;
	kind: AlarmKind | null;
	/** Raised in [from, to) (epoch ms). */
	from: number;
	to: number;
}

export interface AlarmListItem {
	id: number;
	kind: AlarmKind;
	state: AlarmStateName;
	rule: string;
	message: string;
	ts: number;
	lastTs: number;
	occurrences: number;
	lineCode: string;
	machineCode: string | null;
	characteristicName: string | null;
	shelvedUntil: number | null;
}

/** State order of the list: what needs a person first. */
const STATE_RANK = `CASE a.state WHEN 'unacknowledged' THEN 0 WHEN 'returned' THEN 1
	WHEN 'acknowledged' THEN 2 WHEN 'shelved' THEN 3 WHEN 'suppressed' THEN 4
	WHEN 'out_of_service' THEN 5 ELSE 6 END`;

function intArray(ids: readonly number[]): string {
	return `{${ids.map((id) => Math.trunc(id)).join(',')}}`;
}

export async function listAlarms(
	database: RawQuery,
	filter: AlarmListFilter
): Promise<{ items: AlarmListItem[]; total: number }> {
	if (filter.lineIds.length === 0) return { items: [], total: 0 };
	const params: unknown[] = [intArray(filter.lineIds), filter.from, filter.to];
	const where = [
		'a.line_id = ANY($1::int[])',
		`a.ts >= ${fromEpochMs('$2::float8')}`,
		`a.ts < ${fromEpochMs('$3::float8')}`
	];
	if (filter.state === 'open') where.push(`a.state <> 'cleared'`);
	else if (filter.state) {
		params.push(filter.state);
		where.push(`a.state = $${params.length}`);
	}
	if (filter.kind) {
		params.push(filter.kind);
		where.push(`a.kind = $${params.length}`);
	}
	const whereSql = where.join(' AND ');
	const [items, [{ total }]] = await Promise.all([
		database.query<AlarmListItem>(
			`SELECT a.id, a.kind, a.state, a.rule, a.message, ${epochMs('a.ts')} AS ts,
				${epochMs('a.last_ts')} AS "lastTs", a.occurrences, l.code AS "lineCode",
				m.code AS "machineCode", c.name AS "characteristicName",
				${epochMs('a.shelved_until')} AS "shelvedUntil"
			FROM alarm a
			JOIN line l ON l.id = a.line_id
			LEFT JOIN machine m ON m.id = a.machine_id
			LEFT JOIN characteristic c ON c.id = a.characteristic_id
			WHERE ${whereSql}
			ORDER BY ${STATE_RANK}, a.last_ts DESC, a.id DESC
			LIMIT ${LIST_LIMIT}`,
			params
		),
		database.query<{ total: number }>(
			`SELECT count(*)::int AS total FROM alarm a WHERE ${whereSql}`,
			params
		)
	]);
	return { items, total };
}

export interface LineAlarmMetrics {
	lineId: number;
	raised: number;
	perHour: number;
	/** Flood episodes: stretches where more than 10 alarms were raised within 10 minutes. */
	floods: number;
	/** Conditions raised ≥ 3 times within 10 minutes. */
	chattering: number;
	/** Open now and raised more than 24 h ago. */
	standing: number;
	/** Awaiting acknowledgement now (unacknowledged or returned). */
	awaiting: number;
}

/** Metrics per line over [from, to); `standing` and `awaiting` are as of `now`. */
export async function alarmMetrics(
	database: RawQuery,
	lineIds: readonly number[],
	range: { from: number; to: number; now: number }
): Promise<LineAlarmMetrics[]> {
	if (lineIds.length === 0) return [];
	const lines = intArray(lineIds);
	const [rates, open] = await Promise.all([
		database.query<{ line_id: number; raised: number; floods: number; chattering: number }>(
			`WITH r AS (
				SELECT a.line_id, a.ts,
					coalesce(a.characteristic_id::text || ':' || a.rule,
						'i' || coalesce(a.inspection_id, a.id)::text) AS condition,
					count(*) OVER (PARTITION BY a.line_id ORDER BY a.ts
						RANGE BETWEEN $4::float8 * interval '1 millisecond' PRECEDING AND CURRENT ROW) AS in_window,
					-- A condition is characteristic × rule; a missed inspection is its own condition
					-- (two missed inspections are two facts, not one alarm chattering).
					count(*) OVER (PARTITION BY a.line_id, a.characteristic_id, a.rule,
						CASE WHEN a.characteristic_id IS NULL THEN coalesce(a.inspection_id, a.id) END
						ORDER BY a.ts
						RANGE BETWEEN $6::float8 * interval '1 millisecond' PRECEDING AND CURRENT ROW) AS repeats
				FROM alarm a
				WHERE a.line_id = ANY($1::int[]) AND a.ts >= ${fromEpochMs('$2::float8')}
					AND a.ts < ${fromEpochMs('$3::float8')}
			),
			f AS (
				SELECT r.*, in_window > $5 AS flooding,
					lag(in_window > $5, 1, false) OVER (PARTITION BY line_id ORDER BY ts) AS was_flooding
				FROM r
			)
			SELECT line_id, count(*)::int AS raised,
				count(*) FILTER (WHERE flooding AND NOT was_flooding)::int AS floods,
				count(DISTINCT condition) FILTER (WHERE repeats >= $7)::int AS chattering
			FROM f GROUP BY line_id`,
			[
				lines,
				range.from,
				range.to,
				FLOOD_WINDOW_MS,
				FLOOD_THRESHOLD,
				CHATTER_WINDOW_MS,
				CHATTER_THRESHOLD
			]
		),
		database.query<{ line_id: number; standing: number; awaiting: number }>(
			`SELECT a.line_id,
				count(*) FILTER (WHERE a.ts < ${fromEpochMs('$2::float8')})::int AS standing,
				count(*) FILTER (WHERE a.state IN ('unacknowledged', 'returned'))::int AS awaiting
			FROM alarm a
			WHERE a.line_id = ANY($1::int[]) AND a.state <> 'cleared'
			GROUP BY a.line_id`,
			[lines, range.now - STANDING_MS]
		)
	]);
	const hours = Math.max((range.to - range.from) / 3600_000, 1 / 60);
	return lineIds.map((lineId) => {
		const r = rates.find((x) => x.line_id === lineId);
		const o = open.find((x) => x.line_id === lineId);
		const raised = r?.raised ?? 0;
		return {
			lineId,
			raised,
			perHour: raised / hours,
			floods: r?.floods ?? 0,
			chattering: r?.chattering ?? 0,
			standing: o?.standing ?? 0,
			awaiting: o?.awaiting ?? 0
		};
	});
}

export interface AlarmRecord {
	id: number;
	kind: AlarmKind;
	state: AlarmStateName;
	stateBefore: 'unacknowledged' | 'acknowledged' | 'returned' | 'cleared' | null;
	rule: string;
	message: string;
	side: 'upper' | 'lower' | null;
	value: number | null;
	ts: number;
	lastTs: number;
	raisedAt: number;
	occurrences: number;
	revision: number;
	returnedAt: number | null;
	clearedAt: number | null;
	line: { id: number; code: string; name: string; siteId: number };
	machine: { id: number; code: string; name: string; mode: string } | null;
	characteristic: { id: number; code: string; name: string; unit: string } | null;
	inspection: { id: number; planName: string; seq: number; lotId: number; lotCode: string } | null;
	acknowledged: {
		at: number;
		by: string | null;
		cause: string | null;
		causeCode: string | null;
		action: string | null;
		actionCode: string | null;
		note: string | null;
	} | null;
	shelved: { at: number | null; by: string | null; until: number; reason: string | null } | null;
	setAside: { reason: string | null; by: string | null } | null;
}

export async function alarmRecord(database: Database, id: number): Promise<AlarmRecord | null> {
	const [r] = await database.query<{
		id: number;
		kind: AlarmKind;
		state: AlarmStateName;
		state_before: AlarmRecord['stateBefore'];
		rule: string;
		message: string;
		side: 'upper' | 'lower' | null;
		value: number | null;
		ts: number;
		last_ts: number;
		raised_at: number;
		occurrences: number;
		revision: number;
		returned_at: number | null;
		cleared_at: number | null;
		line_id: number;
		line_code: string;
		line_name: string;
		site_id: number;
		machine_id: number | null;
		machine_code: string | null;
		machine_name: string | null;
		machine_mode: string | null;
		characteristic_id: number | null;
		characteristic_code: string | null;
		characteristic_name: string | null;
		unit: string | null;
		inspection_id: number | null;
		plan_name: string | null;
		inspection_seq: number | null;
		lot_id: number | null;
		lot_code: string | null;
		acknowledged_at: number | null;
		acknowledged_by: string | null;
		cause_code: string | null;
		cause: string | null;
		action_code: string | null;
		action: string | null;
		ack_note: string | null;
		shelved_at: number | null;
		shelved_by: string | null;
		shelved_until: number | null;
		shelve_reason: string | null;
		set_aside_reason: string | null;
		set_aside_by: string | null;
	}>(
		`SELECT a.id, a.kind, a.state, a.state_before, a.rule, a.message, a.side, a.value,
			${epochMs('a.ts')} AS ts, ${epochMs('a.last_ts')} AS last_ts,
			${epochMs('a.raised_at')} AS raised_at, a.occurrences, a.revision,
			${epochMs('a.returned_at')} AS returned_at, ${epochMs('a.cleared_at')} AS cleared_at,
			l.id AS line_id, l.code AS line_code, l.name AS line_name, l.site_id,
			m.id AS machine_id, m.code AS machine_code, m.name AS machine_name, m.mode AS machine_mode,
			c.id AS characteristic_id, c.code AS characteristic_code, c.name AS characteristic_name,
			c.unit, i.id AS inspection_id, p.name AS plan_name, i.seq AS inspection_seq,
			lt.id AS lot_id, lt.code AS lot_code,
			${epochMs('a.acknowledged_at')} AS acknowledged_at, ack.full_name AS acknowledged_by,
			a.cause_code, cc.label AS cause, a.action_code, ac.label AS action, a.ack_note,
			${epochMs('a.shelved_at')} AS shelved_at, sh.full_name AS shelved_by,
			${epochMs('a.shelved_until')} AS shelved_until, a.shelve_reason,
			a.set_aside_reason, sa.full_name AS set_aside_by
		FROM alarm a
		JOIN line l ON l.id = a.line_id
		LEFT JOIN machine m ON m.id = a.machine_id
		LEFT JOIN characteristic c ON c.id = a.characteristic_id
		LEFT JOIN inspection i ON i.id = a.inspection_id
		LEFT JOIN inspection_plan p ON p.id = i.plan_id
		LEFT JOIN lot lt ON lt.id = i.lot_id
		LEFT JOIN app_user ack ON ack.id = a.acknowledged_by
		LEFT JOIN app_user sh ON sh.id = a.shelved_by
		LEFT JOIN app_user sa ON sa.id = a.set_aside_by
		LEFT JOIN alarm_code cc ON cc.list = 'cause' AND cc.code = a.cause_code
		LEFT JOIN alarm_code ac ON ac.list = 'action' AND ac.code = a.action_code
		WHERE a.id = $1`,
		[id]
	);
	if (!r) return null;
	return {
		id: r.id,
		kind: r.kind,
		state: r.state,
		stateBefore: r.state_before,
		rule: r.rule,
		message: r.message,
		side: r.side,
		value: r.value,
		ts: r.ts,
		lastTs: r.last_ts,
		raisedAt: r.raised_at,
		occurrences: r.occurrences,
		revision: r.revision,
		returnedAt: r.returned_at,
		clearedAt: r.cleared_at,
		line: { id: r.line_id, code: r.line_code, name: r.line_name, siteId: r.site_id },
		machine:
			r.machine_id === null
				? null
				: {
						id: r.machine_id,
						code: r.machine_code ?? '',
						name: r.machine_name ?? '',
						mode: r.machine_mode ?? 'running'
					},
		characteristic:
			r.characteristic_id === null
				? null
				: {
						id: r.characteristic_id,
						code: r.characteristic_code ?? '',
						name: r.characteristic_name ?? '',
						unit: r.unit ?? ''
					},
		inspection:
			r.inspection_id === null || r.lot_id === null
				? null
				: {
						id: r.inspection_id,
						planName: r.plan_name ?? '',
						seq: r.inspection_seq ?? 0,
						lotId: r.lot_id,
						lotCode: r.lot_code ?? ''
					},
		acknowledged:
			r.acknowledged_at === null
				? null
				: {
						at: r.acknowledged_at,
						by: r.acknowledged_by,
						cause: r.cause,
						causeCode: r.cause_code,
						action: r.action,
						actionCode: r.action_code,
						note: r.ack_note
					},
		shelved:
			r.state === 'shelved' && r.shelved_until !== null
				? { at: r.shelved_at, by: r.shelved_by, until: r.shelved_until, reason: r.shelve_reason }
				: null,
		setAside:
			r.state === 'suppressed' || r.state === 'out_of_service'
				? { reason: r.set_aside_reason, by: r.set_aside_by }
				: null
	};
}
