/**
 * The alarm lifecycle service (ISA-18.2, DESIGN.md §5): every transition a person, a deadline or
 * a machine's mode makes, through the one state machine (src/lib/alarms/lifecycle.ts).
 *
 * Each transition, in ONE transaction: lock the alarm row, check who may do it (permission on
 * the alarm's line; for acknowledgement also a current certification for that line at that
 * moment), check the revision the person saw (optimistic concurrency: two people acting on the
 * same alarm — the second is told it changed), apply the transition, bump `revision`, append
 * the audit event. After the commit the alarm is pushed live to walls and desks.
 *
 * Results are typed: `{ ok: false, code }` with a closed code and a sentence for people, never a
 * database message. Routes map the codes to 400/403/404/409.
 */
import {
	REFUSAL_MESSAGES,
	transition,
	type AlarmEvent,
	type AlarmLifecycle,
	type IsaState,
	type RefusalCode
} from '$lib/alarms/lifecycle';
import type { AlarmStateName } from '$lib/realtime/events';
import { appendAudit, SYSTEM_ACTOR, type Actor } from '../audit/append';
import { can, type Principal } from '../auth/policy';
import type { Database, TxContext } from '../db';
import { epochMs, fromEpochMs } from '../db/raw';
import type { Log } from '../log';
import { isCertifiedForLine } from '../production/certifications';
import type { Hub } from '../realtime/hub';
import { publishAlarms } from './live';

/** Longest a person may shelve an alarm for (ISA-18.2: shelving is always time-limited). */
export const MAX_SHELVE_MS = 8 * 3600_000;
export const MAX_NOTE = 1000;
export const MAX_REASON = 500;

export type MachineMode = 'running' | 'changeover' | 'idle';
export const MACHINE_MODES: readonly MachineMode[] = ['running', 'changeover', 'idle'];

export interface AlarmDeps {
	database: Database;
	/** Where changes are pushed live; absent in tests that do not watch rooms. */
	hub?: Pick<Hub, 'pushAlarms'> | null;
	/** Server clock (epoch ms). */
	now?: () => number;
	maxShelveMs?: number;
}

export type AlarmErrorCode =
	'not_found' | 'forbidden' | 'not_certified' | 'stale' | 'bad_input' | 'bad_code' | RefusalCode;

export type AlarmResult = { ok: true; id: number; revision: number } | AlarmFailure;
export interface AlarmFailure {
	ok: false;
	code: AlarmErrorCode;
	message: string;
}

const MESSAGES: Record<Exclude<AlarmErrorCode, RefusalCode>, string> = {
	not_found: 'No such alarm.',
	forbidden: 'You do not have permission to do this on this line.',
	not_certified:
		'Only people holding a current certification for this line may acknowledge its alarms.',
	stale: 'Someone else changed this alarm meanwhile. Look at it again, then retry.',
	bad_input: 'The request is incomplete or malformed.',
	bad_code: 'Choose an active cause code and an active action code.'
};

function fail(code: AlarmErrorCode, message?: string): AlarmFailure {
	const text =
		message ??
		(code in MESSAGES
			? MESSAGES[code as keyof typeof MESSAGES]
			: REFUSAL_MESSAGES[code as RefusalCode]);
	return { ok: false, code, message: text };
}

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

function actorOf(user: UserPrincipal): Actor {
	return { userId: user.userId, label: user.username };
}

/** The locked alarm row with what the checks need. */
interface LockedAlarm extends AlarmLifecycle {
	id: number;
	revision: number;
	lineId: number;
	siteId: number;
	machineId: number | null;
	machineMode: MachineMode | null;
}

async function lockAlarm(tx: TxContext, id: number): Promise<LockedAlarm | null> {
	const [row] = await tx.query<{
		id: number;
		state: AlarmStateName;
		state_before: IsaState | null;
		shelved_until: number | null;
		revision: number;
		line_id: number;
		site_id: number;
		machine_id: number | null;
		mode: MachineMode | null;
	}>(
		`SELECT a.id, a.state, a.state_before, ${epochMs('a.shelved_until')} AS shelved_until,
			a.revision, a.line_id, l.site_id, a.machine_id, m.mode
		FROM alarm a
		JOIN line l ON l.id = a.line_id
		LEFT JOIN machine m ON m.id = a.machine_id
		WHERE a.id = $1
		FOR UPDATE OF a`,
		[id]
	);
	if (!row) return null;
	return {
		id: row.id,
		state: row.state,
		stateBefore: row.state_before,
		shelvedUntil: row.shelved_until,
		revision: row.revision,
		lineId: row.line_id,
		siteId: row.site_id,
		machineId: row.machine_id,
		machineMode: row.mode
	};
}

/** Extra columns a transition writes besides the state (column name → value, SQL-safe names). */
type Extra = Record<string, { sql: string; value: unknown }>;

/**
 * Write `next` over `current` (state, state_before, shelved_until, cleared_at, revision + 1,
 * plus `extra`), and audit it. Returns the new revision.
 */
async function writeTransition(
	tx: TxContext,
	current: LockedAlarm,
	next: AlarmLifecycle,
	event: AlarmEvent['type'],
	actor: Actor,
	reason: string | null,
	extra: Extra = {},
	auditExtra: Record<string, unknown> = {},
	now: number
): Promise<number> {
	const sets = [
		'state = $2',
		'state_before = $3',
		`shelved_until = ${fromEpochMs('$4::float8')}`,
		`cleared_at = CASE WHEN $2 = 'cleared' THEN ${fromEpochMs('$5::float8')} ELSE cleared_at END`,
		'revision = revision + 1'
	];
	const params: unknown[] = [current.id, next.state, next.stateBefore, next.shelvedUntil, now];
	for (const [column, { sql, value }] of Object.entries(extra)) {
		params.push(value);
		sets.push(`${column} = ${sql.replaceAll('$?', `$${params.length}`)}`);
	}
	const [row] = await tx.query<{ revision: number }>(
		`UPDATE alarm SET ${sets.join(', ')} WHERE id = $1 RETURNING revision`,
		params
	);
	await appendAudit(tx, {
		actor,
		action: 'state',
		entityType: 'alarm',
		entityId: current.id,
		oldValues: {
			state: current.state,
			stateBefore: current.stateBefore,
			shelvedUntil: current.shelvedUntil === null ? null : new Date(current.shelvedUntil)
		},
		newValues: {
			event,
			state: next.state,
			stateBefore: next.stateBefore,
			shelvedUntil: next.shelvedUntil === null ? null : new Date(next.shelvedUntil),
			...auditExtra
		},
		reason
	});
	return row.revision;
}

/**
 * After a set-aside ends (unshelve, return to service), an alarm whose machine is still not
 * running is suppressed by design at once, in the same transaction.
 */
async function suppressIfIdle(
	tx: TxContext,
	current: LockedAlarm,
	afterRevision: number,
	next: AlarmLifecycle,
	now: number
): Promise<number> {
	if (current.machineMode === null || current.machineMode === 'running') return afterRevision;
	const step = transition(next, { type: 'suppress' }, { now, maxShelveMs: 0 });
	if (!step.ok) return afterRevision;
	return writeTransition(
		tx,
		{ ...current, ...next, revision: afterRevision },
		step.next,
		'suppress',
		SYSTEM_ACTOR,
		`machine ${current.machineMode}`,
		{
			set_aside_reason: { sql: '$?', value: `machine ${current.machineMode}` },
			set_aside_by: { sql: '$?::int', value: null }
		},
		{},
		now
	);
}

interface PersonAction {
	alarmId: number;
	/** The revision the person saw; a different current revision answers `stale`. */
	revision: number;
}

/** Common frame of a person's action: lock, permission, revision, transition, write, publish. */
async function act(
	deps: AlarmDeps,
	user: Principal,
	input: PersonAction,
	permission: 'alarm:acknowledge' | 'alarm:shelve' | 'alarm:out-of-service',
	build: (
		tx: TxContext,
		alarm: LockedAlarm,
		user: UserPrincipal,
		now: number
	) => Promise<
		| AlarmFailure
		| {
				event: AlarmEvent;
				reason: string | null;
				extra?: Extra;
				auditExtra?: Record<string, unknown>;
				/** Suppress again at once if the machine is not running (after a set-aside ends). */
				resuppress?: boolean;
		  }
	>
): Promise<AlarmResult> {
	if (user.kind !== 'user') return fail('forbidden', 'Only a signed-in person can do this.');
	if (!Number.isSafeInteger(input.alarmId) || !Number.isSafeInteger(input.revision)) {
		return fail('bad_input');
	}
	const now = (deps.now ?? Date.now)();
	const maxShelveMs = deps.maxShelveMs ?? MAX_SHELVE_MS;
	const result = await deps.database.transaction(async (tx): Promise<AlarmResult> => {
		const alarm = await lockAlarm(tx, input.alarmId);
		if (!alarm) return fail('not_found');
		if (!can(user, 'alarm:view', { lineId: alarm.lineId, siteId: alarm.siteId })) {
			return fail('not_found');
		}
		if (!can(user, permission, { lineId: alarm.lineId, siteId: alarm.siteId })) {
			return fail('forbidden');
		}
		const plan = await build(tx, alarm, user, now);
		if ('ok' in plan) return plan;
		if (alarm.revision !== input.revision) return fail('stale');
		const step = transition(alarm, plan.event, { now, maxShelveMs });
		if (!step.ok) return fail(step.refusal, step.message);
		let revision = await writeTransition(
			tx,
			alarm,
			step.next,
			plan.event.type,
			actorOf(user),
			plan.reason,
			plan.extra,
			plan.auditExtra,
			now
		);
		if (plan.resuppress) revision = await suppressIfIdle(tx, alarm, revision, step.next, now);
		return { ok: true, id: alarm.id, revision };
	});
	if (result.ok) await publish(deps, [result.id]);
	return result;
}

async function publish(deps: AlarmDeps, ids: number[]): Promise<void> {
	if (deps.hub && ids.length > 0) await publishAlarms(deps.hub, deps.database, ids);
}

function cleanText(value: string | null | undefined, max: number): string | null | undefined {
	if (value === null || value === undefined) return null;
	const text = value.trim();
	if (text.length > max) return undefined;
	return text.length === 0 ? null : text;
}

/* ------------------------------------------------------------------------------------------ */
/* person actions                                                                              */
/* ------------------------------------------------------------------------------------------ */

export interface AcknowledgeInput extends PersonAction {
	causeCode: string;
	actionCode: string;
	note?: string | null;
}

/**
 * Acknowledge: `alarm:acknowledge` on the alarm's line, a current certification for that line at
 * this moment, an active cause code and an active action code. unacknowledged → acknowledged,
 * returned → cleared.
 */
export async function acknowledgeAlarm(
	deps: AlarmDeps,
	user: Principal,
	input: AcknowledgeInput
): Promise<AlarmResult> {
	const note = cleanText(input.note, MAX_NOTE);
	if (note === undefined)
		return fail('bad_input', `The note is longer than ${MAX_NOTE} characters.`);
	return act(deps, user, input, 'alarm:acknowledge', async (tx, alarm, person, now) => {
		if (!(await isCertifiedForLine(tx, person.userId, alarm.lineId, new Date(now)))) {
			return fail('not_certified');
		}
		const codes = await tx.query<{ list: string; label: string }>(
			`SELECT list, label FROM alarm_code
			WHERE active AND ((list = 'cause' AND code = $1) OR (list = 'action' AND code = $2))`,
			[input.causeCode, input.actionCode]
		);
		const cause = codes.find((c) => c.list === 'cause');
		const action = codes.find((c) => c.list === 'action');
		if (!cause || !action) return fail('bad_code');
		return {
			event: { type: 'acknowledge' },
			reason: note,
			extra: {
				acknowledged_at: { sql: fromEpochMs('$?::float8'), value: now },
				acknowledged_by: { sql: '$?::int', value: person.userId },
				cause_code: { sql: '$?', value: input.causeCode },
				action_code: { sql: '$?', value: input.actionCode },
				ack_note: { sql: '$?', value: note }
			},
			auditExtra: {
				causeCode: input.causeCode,
				cause: cause.label,
				actionCode: input.actionCode,
				action: action.label,
				note
			}
		};
	});
}

export interface ShelveInput extends PersonAction {
	reason: string;
	/** How long, in minutes (1 .. MAX_SHELVE_MS). */
	minutes: number;
}

/** Shelve: hide from the wall until a deadline (persisted: auto-unshelve survives restarts). */
export async function shelveAlarm(
	deps: AlarmDeps,
	user: Principal,
	input: ShelveInput
): Promise<AlarmResult> {
	const reason = cleanText(input.reason, MAX_REASON);
	if (!reason) return fail('bad_input', 'Give a reason for shelving (at most 500 characters).');
	if (!Number.isFinite(input.minutes) || input.minutes <= 0) {
		return fail('bad_input', 'Give how long to shelve the alarm for.');
	}
	return act(deps, user, input, 'alarm:shelve', async (_tx, _alarm, person, now) => {
		const until = now + Math.round(input.minutes * 60_000);
		return {
			event: { type: 'shelve', until },
			reason,
			extra: {
				shelved_at: { sql: fromEpochMs('$?::float8'), value: now },
				shelved_by: { sql: '$?::int', value: person.userId },
				shelve_reason: { sql: '$?', value: reason }
			},
			auditExtra: { minutes: input.minutes }
		};
	});
}

/** Unshelve before the deadline (a person with `alarm:shelve`). */
export async function unshelveAlarm(
	deps: AlarmDeps,
	user: Principal,
	input: PersonAction & { reason?: string | null }
): Promise<AlarmResult> {
	const reason = cleanText(input.reason, MAX_REASON);
	if (reason === undefined) return fail('bad_input', 'The reason is too long.');
	return act(deps, user, input, 'alarm:shelve', async () => ({
		event: { type: 'unshelve', by: 'person' },
		reason,
		resuppress: true
	}));
}

/** Remove from service: `alarm:out-of-service` and a reason (the authorisation on record). */
export async function removeAlarmFromService(
	deps: AlarmDeps,
	user: Principal,
	input: PersonAction & { reason: string }
): Promise<AlarmResult> {
	const reason = cleanText(input.reason, MAX_REASON);
	if (!reason) {
		return fail('bad_input', 'Give the reason for taking the alarm out of service.');
	}
	return act(deps, user, input, 'alarm:out-of-service', async (_tx, _alarm, person) => ({
		event: { type: 'remove-from-service' },
		reason,
		extra: {
			set_aside_reason: { sql: '$?', value: reason },
			set_aside_by: { sql: '$?::int', value: person.userId }
		}
	}));
}

export async function returnAlarmToService(
	deps: AlarmDeps,
	user: Principal,
	input: PersonAction & { reason?: string | null }
): Promise<AlarmResult> {
	const reason = cleanText(input.reason, MAX_REASON);
	if (reason === undefined) return fail('bad_input', 'The reason is too long.');
	return act(deps, user, input, 'alarm:out-of-service', async () => ({
		event: { type: 'return-to-service' },
		reason,
		resuppress: true
	}));
}

/* ------------------------------------------------------------------------------------------ */
/* by design and by deadline                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Open alarms of a machine, locked, for a mode change or a deadline sweep. */
async function lockAlarms(tx: TxContext, where: string, params: unknown[]): Promise<LockedAlarm[]> {
	const rows = await tx.query<{ id: number }>(
		`SELECT a.id FROM alarm a WHERE ${where} ORDER BY a.id FOR UPDATE`,
		params
	);
	const out: LockedAlarm[] = [];
	for (const r of rows) {
		const alarm = await lockAlarm(tx, r.id);
		if (alarm) out.push(alarm);
	}
	return out;
}

export class MachineModeError extends Error {
	constructor(
		readonly code: 'unknown_machine' | 'bad_mode',
		message: string
	) {
		super(message);
		this.name = 'MachineModeError';
	}
}

/**
 * A machine's mode changes (the production code calls this on changeover / idle / running):
 * record it (audited), and suppress by design every open alarm of that machine when it stops
 * running, or lift the suppression when it runs again. Shelved and out-of-service alarms keep
 * their set-aside (lifecycle.ts precedence). Returns the alarms that changed (already pushed
 * live through `hub`, or the running app's hub when not given).
 */
export async function setMachineMode(
	database: Database,
	machineId: number,
	mode: MachineMode,
	actor: Actor,
	options: { hub?: Pick<Hub, 'pushAlarms'> | null; now?: number } = {}
): Promise<{ changed: number[] }> {
	if (!MACHINE_MODES.includes(mode)) {
		throw new MachineModeError('bad_mode', `setMachineMode: unknown mode ${String(mode)}`);
	}
	const now = options.now ?? Date.now();
	const changed = await database.transaction(async (tx) => {
		const [machine] = await tx.query<{ mode: MachineMode }>(
			'SELECT mode FROM machine WHERE id = $1 FOR UPDATE',
			[machineId]
		);
		if (!machine) {
			throw new MachineModeError('unknown_machine', `setMachineMode: no machine ${machineId}`);
		}
		if (machine.mode === mode) return [];
		await tx.query('UPDATE machine SET mode = $2 WHERE id = $1', [machineId, mode]);
		await appendAudit(tx, {
			actor,
			action: 'update',
			entityType: 'machine',
			entityId: machineId,
			oldValues: { mode: machine.mode },
			newValues: { mode }
		});
		const running = mode === 'running';
		const alarms = await lockAlarms(
			tx,
			running
				? `a.machine_id = $1 AND a.state = 'suppressed'`
				: `a.machine_id = $1 AND a.state IN ('unacknowledged', 'acknowledged', 'returned')`,
			[machineId]
		);
		const ids: number[] = [];
		for (const alarm of alarms) {
			const event: AlarmEvent = running ? { type: 'unsuppress' } : { type: 'suppress' };
			const step = transition(alarm, event, { now, maxShelveMs: 0 });
			if (!step.ok) continue;
			await writeTransition(
				tx,
				alarm,
				step.next,
				event.type,
				actor,
				running ? 'machine running' : `machine ${mode}`,
				running
					? {
							set_aside_reason: { sql: 'NULL::text', value: null },
							set_aside_by: { sql: 'NULL::int', value: null }
						}
					: {
							set_aside_reason: { sql: '$?', value: `machine ${mode}` },
							set_aside_by: { sql: '$?::int', value: actor.userId }
						},
				{ mode },
				now
			);
			ids.push(alarm.id);
		}
		return ids;
	});
	const hub = options.hub === undefined ? await runningHub() : options.hub;
	if (hub && changed.length > 0) await publishAlarms(hub, database, changed);
	return { changed };
}

/** The running app's hub, if this process started one (looked up late: app.ts imports us). */
async function runningHub(): Promise<Pick<Hub, 'pushAlarms'> | null> {
	const { getApp } = await import('../app');
	return getApp()?.hub ?? null;
}

/**
 * Auto-unshelve: every shelved alarm whose deadline has passed returns to the state underneath
 * (then suppressed again at once if its machine is not running). Run at start — deadlines that
 * passed while the server was down are applied then — and on a timer. Returns the changed ids.
 */
export async function unshelveExpired(deps: AlarmDeps): Promise<number[]> {
	const now = (deps.now ?? Date.now)();
	const changed = await deps.database.transaction(async (tx) => {
		const alarms = await lockAlarms(
			tx,
			`a.state = 'shelved' AND a.shelved_until <= ${fromEpochMs('$1::float8')}`,
			[now]
		);
		const ids: number[] = [];
		for (const alarm of alarms) {
			const step = transition(alarm, { type: 'unshelve', by: 'deadline' }, { now, maxShelveMs: 0 });
			if (!step.ok) continue;
			const revision = await writeTransition(
				tx,
				alarm,
				step.next,
				'unshelve',
				SYSTEM_ACTOR,
				'shelving deadline passed',
				{},
				{ by: 'deadline' },
				now
			);
			await suppressIfIdle(tx, alarm, revision, step.next, now);
			ids.push(alarm.id);
		}
		return ids;
	});
	await publish(deps, changed);
	return changed;
}

export interface AlarmUpkeep {
	/** Resolves once the start-up catch-up ran. */
	ready: Promise<void>;
	/** Stops the timer and waits for a sweep in progress (it writes and pushes to the hub). */
	stop(): Promise<void>;
}

/**
 * The auto-unshelve timer of the server app: one catch-up at once (the deadlines that passed
 * while the server was down), then every `everyMs`. A failed sweep is logged and retried at the
 * next tick; the deadlines are in the database, so nothing is lost.
 */
export function startAlarmUpkeep(deps: AlarmDeps & { log: Log; everyMs?: number }): AlarmUpkeep {
	let running: Promise<unknown> | null = null;
	let stopped = false;
	const sweep = (): Promise<void> => {
		if (stopped || running) return Promise.resolve();
		const p = unshelveExpired(deps)
			.then((ids) => {
				if (ids.length > 0)
					deps.log.info({ alarms: ids }, 'shelved alarms past their deadline unshelved');
			})
			.catch((error: unknown) => {
				deps.log.error({ err: error }, 'auto-unshelve failed; retrying at the next tick');
			})
			.finally(() => {
				running = null;
			});
		running = p;
		return p;
	};
	const ready = sweep();
	const timer = setInterval(() => void sweep(), deps.everyMs ?? 15_000);
	timer.unref();
	return {
		ready,
		async stop() {
			stopped = true;
			clearInterval(timer);
			await running;
		}
	};
}

/** A system-side transition used by other parts (e.g. an inspection done late → returned). */
export async function returnAlarmToNormal(
	deps: AlarmDeps,
	alarmId: number,
	actor: Actor
): Promise<AlarmResult> {
	const now = (deps.now ?? Date.now)();
	const result = await deps.database.transaction(async (tx): Promise<AlarmResult> => {
		const alarm = await lockAlarm(tx, alarmId);
		if (!alarm) return fail('not_found');
		const step = transition(alarm, { type: 'return-to-normal' }, { now, maxShelveMs: 0 });
		if (!step.ok) return fail(step.refusal, step.message);
		const revision = await writeTransition(
			tx,
			alarm,
			step.next,
			'return-to-normal',
			actor,
			'condition returned to normal',
			{ returned_at: { sql: fromEpochMs('$?::float8'), value: now } },
			{},
			now
		);
		return { ok: true, id: alarm.id, revision };
	});
	if (result.ok) await publish(deps, [result.id]);
	return result;
}
