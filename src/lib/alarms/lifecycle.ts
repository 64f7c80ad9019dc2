/**
 * The ISA-18.2 alarm state machine, pure: no I/O, no clock (the caller passes `now`). The
 * server's lifecycle service (src/lib/server/alarms/service.ts), the ingest writer and the
 * return-to-normal sweep apply exactly these transitions; the desk pages use `allowedEvents` to
 * offer only the actions that can succeed (the server refuses the others anyway).
 *
 * An alarm has an ISA state made of two facts — is the condition active (in alarm) and has a
 * person acknowledged it:
 *
 *   active, not acknowledged   → `unacknowledged`
 *   active, acknowledged       → `acknowledged`
 *   normal, not acknowledged   → `returned`  (returned to normal, still to be acknowledged)
 *   normal, acknowledged       → `cleared`   (closed: a new violation raises a NEW alarm)
 *
 * and it may be SET ASIDE: `shelved` by a person until a deadline, `suppressed` by design while
 * its machine is not running, or `out_of_service` with an authorised reason. While set aside it
 * is off the wall's banner but keeps tracking its condition in `stateBefore` (violations and
 * returns to normal still move it), and it comes back to that state when the set-aside ends.
 *
 * Precedence of the set-asides: out of service > suppressed / shelved. A person cannot shelve a
 * suppressed alarm (nothing to hide) and a machine changing mode does not suppress a shelved
 * alarm (it stays shelved until its deadline; the service then suppresses it if the machine is
 * still not running). Removing from service takes over from either.
 */
import type { AlarmStateName } from '$lib/realtime/events';

/** The ISA states proper (not set aside). */
export const ISA_STATES = ['unacknowledged', 'acknowledged', 'returned', 'cleared'] as const;
export type IsaState = (typeof ISA_STATES)[number];

export const SET_ASIDE_STATES = ['shelved', 'suppressed', 'out_of_service'] as const;
export type SetAsideState = (typeof SET_ASIDE_STATES)[number];

export const ALARM_STATE_NAMES: readonly AlarmStateName[] = [...ISA_STATES, ...SET_ASIDE_STATES];

export interface AlarmLifecycle {
	state: AlarmStateName;
	/** The ISA state underneath while set aside; null otherwise. */
	stateBefore: IsaState | null;
	/** Auto-unshelve deadline (epoch ms) while shelved; null otherwise. */
	shelvedUntil: number | null;
}

export const ALARM_EVENT_TYPES = [
	'violation',
	'return-to-normal',
	'acknowledge',
	'shelve',
	'unshelve',
	'suppress',
	'unsuppress',
	'remove-from-service',
	'return-to-service'
] as const;
export type AlarmEventType = (typeof ALARM_EVENT_TYPES)[number];

export type AlarmEvent =
	| { type: 'violation' }
	| { type: 'return-to-normal' }
	| { type: 'acknowledge' }
	| { type: 'shelve'; until: number }
	| { type: 'unshelve'; by: 'person' | 'deadline' }
	| { type: 'suppress' }
	| { type: 'unsuppress' }
	| { type: 'remove-from-service' }
	| { type: 'return-to-service' };

export interface TransitionContext {
	/** Server clock, epoch ms. */
	now: number;
	/** Longest a person may shelve an alarm for (ms). */
	maxShelveMs: number;
}

/** Why a transition is refused: a closed list the UI and the API map to words. */
export const REFUSALS = [
	'closed',
	'not_active',
	'already_acknowledged',
	'set_aside',
	'already_shelved',
	'shelve_not_in_future',
	'shelve_too_long',
	'not_shelved',
	'deadline_not_reached',
	'already_suppressed',
	'not_suppressed',
	'already_out_of_service',
	'not_out_of_service'
] as const;
export type RefusalCode = (typeof REFUSALS)[number];

export const REFUSAL_MESSAGES: Record<RefusalCode, string> = {
	closed: 'The alarm is cleared (closed); a new violation raises a new alarm.',
	not_active: 'The condition is not active, so it cannot return to normal.',
	already_acknowledged: 'The alarm is already acknowledged.',
	set_aside: 'The alarm is set aside (shelved, suppressed or out of service).',
	already_shelved: 'The alarm is already shelved.',
	shelve_not_in_future: 'The shelving deadline must be in the future.',
	shelve_too_long: 'The alarm cannot be shelved for that long.',
	not_shelved: 'The alarm is not shelved.',
	deadline_not_reached: 'The shelving deadline has not passed yet.',
	already_suppressed: 'The alarm is already suppressed.',
	not_suppressed: 'The alarm is not suppressed.',
	already_out_of_service: 'The alarm is already out of service.',
	not_out_of_service: 'The alarm is not out of service.'
};

export type TransitionResult =
	{ ok: true; next: AlarmLifecycle } | { ok: false; refusal: RefusalCode; message: string };

export function isSetAside(state: AlarmStateName): state is SetAsideState {
	return state === 'shelved' || state === 'suppressed' || state === 'out_of_service';
}

/** Open = not cleared: the alarm still absorbs violations of its condition. */
export function isOpen(alarm: AlarmLifecycle): boolean {
	return alarm.state !== 'cleared';
}

function refuse(refusal: RefusalCode): TransitionResult {
	return { ok: false, refusal, message: REFUSAL_MESSAGES[refusal] };
}

function to(
	state: AlarmStateName,
	stateBefore: IsaState | null = null,
	until: number | null = null
) {
	return { ok: true as const, next: { state, stateBefore, shelvedUntil: until } };
}

/** The ISA state a violation leads to (a new activation must be acknowledged again). */
function activated(s: IsaState): IsaState {
	return s === 'returned' || s === 'cleared' ? 'unacknowledged' : s;
}

function normalised(s: IsaState): IsaState | null {
	if (s === 'unacknowledged') return 'returned';
	if (s === 'acknowledged') return 'cleared';
	return null;
}

/** The one transition function. Refusals leave the alarm as it was (the caller writes nothing). */
export function transition(
	alarm: AlarmLifecycle,
	event: AlarmEvent,
	ctx: TransitionContext
): TransitionResult {
	const s = alarm.state;
	if (s === 'cleared') return refuse('closed');

	if (isSetAside(s)) {
		// Invariant of the stored row; a row that breaks it is treated as its active self.
		const under: IsaState = alarm.stateBefore ?? 'unacknowledged';
		switch (event.type) {
			case 'violation':
				return to(s, activated(under), alarm.shelvedUntil);
			case 'return-to-normal': {
				const n = normalised(under);
				return n === null ? refuse('not_active') : to(s, n, alarm.shelvedUntil);
			}
			case 'acknowledge':
				return refuse('set_aside');
			case 'shelve':
				return refuse(s === 'shelved' ? 'already_shelved' : 'set_aside');
			case 'unshelve':
				if (s !== 'shelved') return refuse('not_shelved');
				if (
					event.by === 'deadline' &&
					(alarm.shelvedUntil === null || ctx.now < alarm.shelvedUntil)
				) {
					return refuse('deadline_not_reached');
				}
				return to(under);
			case 'suppress':
				return refuse(s === 'suppressed' ? 'already_suppressed' : 'set_aside');
			case 'unsuppress':
				return s === 'suppressed' ? to(under) : refuse('not_suppressed');
			case 'remove-from-service':
				return s === 'out_of_service'
					? refuse('already_out_of_service')
					: to('out_of_service', under);
			case 'return-to-service':
				return s === 'out_of_service' ? to(under) : refuse('not_out_of_service');
		}
	}

	// An ISA state proper: unacknowledged, acknowledged or returned.
	const isa = s as IsaState;
	switch (event.type) {
		case 'violation':
			return to(activated(isa));
		case 'return-to-normal': {
			const n = normalised(isa);
			return n === null ? refuse('not_active') : to(n);
		}
		case 'acknowledge':
			if (isa === 'acknowledged') return refuse('already_acknowledged');
			return to(isa === 'returned' ? 'cleared' : 'acknowledged');
		case 'shelve':
			if (event.until <= ctx.now) return refuse('shelve_not_in_future');
			if (event.until - ctx.now > ctx.maxShelveMs) return refuse('shelve_too_long');
			return to('shelved', isa, event.until);
		case 'unshelve':
			return refuse('not_shelved');
		case 'suppress':
			return to('suppressed', isa);
		case 'unsuppress':
			return refuse('not_suppressed');
		case 'remove-from-service':
			return to('out_of_service', isa);
		case 'return-to-service':
			return refuse('not_out_of_service');
	}
}

/** What a person can do to an alarm from a desk (the other events come from data or design). */
export type PersonAction =
	'acknowledge' | 'shelve' | 'unshelve' | 'remove-from-service' | 'return-to-service';

/**
 * The person-initiated actions that would be accepted now (shelving probed with the longest
 * allowed duration). For offering forms; the server re-checks with the real input.
 */
export function allowedActions(alarm: AlarmLifecycle, ctx: TransitionContext): Set<PersonAction> {
	const probes: [PersonAction, AlarmEvent][] = [
		['acknowledge', { type: 'acknowledge' }],
		['shelve', { type: 'shelve', until: ctx.now + ctx.maxShelveMs }],
		['unshelve', { type: 'unshelve', by: 'person' }],
		['remove-from-service', { type: 'remove-from-service' }],
		['return-to-service', { type: 'return-to-service' }]
	];
	const out = new Set<PersonAction>();
	for (const [action, event] of probes) {
		if (transition(alarm, event, ctx).ok) out.add(action);
	}
	return out;
}
