/**
 * The deviation workflow as a pure state machine (no I/O): the service
 * (src/lib/server/production/deviations.ts) asks it before every change, inside the transaction
 * that holds the deviation row locked, and the pages ask it which forms to offer.
 *
 *   open ──contain──▶ contained ──investigate──▶ investigated ──add-capa──▶ actions
 *   actions ──add-capa / resolve-capa──▶ actions
 *   actions ──submit-effectiveness (every action done or cancelled, one done)──▶ effectiveness
 *   effectiveness ──record-effectiveness: effective──▶ effectiveness (verdict recorded)
 *   effectiveness ──record-effectiveness: not effective──▶ actions (new actions needed)
 *   effectiveness (verdict: effective) ──close (electronic signature)──▶ closed
 *
 * The minor path: a minor deviation, contained (or investigated) and without CAPA actions, may
 * be closed once a justification that containment suffices is recorded (`justify-closure`): it
 * replaces the effectiveness check, and the closure is signed like any other. Major and
 * critical deviations always go through actions and an effectiveness check.
 *
 * `edit` (title, description, severity, owner, due date) is allowed in every state but closed.
 * Every event but `close` raises the record's revision; `close` does not, so the closure
 * signature stays valid for the version it closed.
 */

export const DEVIATION_STATES = [
	'open',
	'contained',
	'investigated',
	'actions',
	'effectiveness',
	'closed'
] as const;
export type DeviationState = (typeof DEVIATION_STATES)[number];

export const DEVIATION_SEVERITIES = ['minor', 'major', 'critical'] as const;
export type Severity = (typeof DEVIATION_SEVERITIES)[number];

export const DEVIATION_EVENTS = [
	'edit',
	'contain',
	'investigate',
	'add-capa',
	'resolve-capa',
	'submit-effectiveness',
	'record-effectiveness',
	'justify-closure',
	'close'
] as const;
export type DeviationEvent = (typeof DEVIATION_EVENTS)[number];

export const STATE_LABEL: Record<DeviationState, string> = {
	open: 'Open',
	contained: 'Contained',
	investigated: 'Investigated',
	actions: 'CAPA actions',
	effectiveness: 'Effectiveness check',
	closed: 'Closed'
};

export const EVENT_LABEL: Record<DeviationEvent, string> = {
	edit: 'edit the deviation',
	contain: 'record containment',
	investigate: 'record the root cause',
	'add-capa': 'add a CAPA action',
	'resolve-capa': 'complete or cancel a CAPA action',
	'submit-effectiveness': 'send to the effectiveness check',
	'record-effectiveness': 'record the effectiveness check',
	'justify-closure': 'justify closure without CAPA',
	close: 'close the deviation'
};

/** What the machine needs to know about a deviation (read under the row lock). */
export interface DeviationFacts {
	status: DeviationState;
	severity: Severity;
	/** CAPA actions still open. */
	openCapa: number;
	/** CAPA actions done (cancelled ones count for neither). */
	doneCapa: number;
	/** Verdict of the effectiveness check of the current round (null: none yet). */
	effective: boolean | null;
	/** An effectiveness result or closure justification is recorded in the current round. */
	effectivenessRecorded: boolean;
}

export interface EventInput {
	/** record-effectiveness: the verdict. */
	effective?: boolean;
}

export type Decision = { ok: true; to: DeviationState } | { ok: false; message: string };

const refuse = (message: string): Decision => ({ ok: false, message });
const to = (state: DeviationState): Decision => ({ ok: true, to: state });

/** May a minor deviation be closed on a justification in this state? */
function minorPathOpen(f: DeviationFacts): boolean {
	return (
		f.severity === 'minor' &&
		(f.status === 'contained' || f.status === 'investigated') &&
		f.openCapa === 0 &&
		f.doneCapa === 0
	);
}

/** The next state after `event`, or a sentence saying why not and what to do instead. */
export function decide(f: DeviationFacts, event: DeviationEvent, input: EventInput = {}): Decision {
	if (f.status === 'closed') {
		return refuse(`The deviation is closed: nothing can ${verb(event)} it any more.`);
	}
	switch (event) {
		case 'edit':
			return to(f.status);
		case 'contain':
			if (f.status === 'open') return to('contained');
			return refuse('Containment is already recorded.');
		case 'investigate':
			if (f.status === 'contained') return to('investigated');
			if (f.status === 'open') return refuse('Record the containment before the root cause.');
			return refuse('The root cause is already recorded.');
		case 'add-capa':
			if (f.status === 'investigated' || f.status === 'actions') return to('actions');
			if (f.status === 'open' || f.status === 'contained') {
				return refuse('Record the containment and the root cause before planning CAPA actions.');
			}
			return refuse(
				'The actions are with the effectiveness check: record it (not effective reopens actions).'
			);
		case 'resolve-capa':
			if (f.status !== 'actions') {
				return refuse('CAPA actions can be completed or cancelled only while actions are open.');
			}
			if (f.openCapa === 0) return refuse('No CAPA action is open.');
			return to('actions');
		case 'submit-effectiveness':
			if (f.status !== 'actions') {
				return refuse('Only a deviation with CAPA actions goes to the effectiveness check.');
			}
			if (f.openCapa > 0) {
				return refuse(
					`${f.openCapa} CAPA action${f.openCapa === 1 ? ' is' : 's are'} still open: mark ${f.openCapa === 1 ? 'it' : 'them'} done or cancelled first.`
				);
			}
			if (f.doneCapa === 0) {
				return refuse('At least one CAPA action must be done before checking effectiveness.');
			}
			return to('effectiveness');
		case 'record-effectiveness':
			if (f.status !== 'effectiveness') {
				return refuse('The effectiveness check comes after every CAPA action is done.');
			}
			if (f.effective === true) return refuse('The effectiveness check is already recorded.');
			if (input.effective === undefined) return refuse('Give the verdict: effective or not.');
			return to(input.effective ? 'effectiveness' : 'actions');
		case 'justify-closure':
			if (f.severity !== 'minor') {
				return refuse(
					`A ${f.severity} deviation needs CAPA actions and an effectiveness check before closure.`
				);
			}
			if (!minorPathOpen(f)) {
				return refuse(
					'A minor deviation may be closed on a justification only after containment and before any CAPA action.'
				);
			}
			return to(f.status);
		case 'close':
			return closeDecision(f);
	}
}

function closeDecision(f: DeviationFacts): Decision {
	if (f.status === 'effectiveness') {
		if (f.effective === true) return to('closed');
		return refuse('The effectiveness check is missing: record it before closing.');
	}
	if (f.status === 'actions') {
		if (f.openCapa > 0) {
			return refuse(
				`${f.openCapa} CAPA action${f.openCapa === 1 ? ' is' : 's are'} still open: the deviation cannot be closed.`
			);
		}
		return refuse('Send the actions to the effectiveness check and record it before closing.');
	}
	if (f.status === 'open') return refuse('Record the containment before closing.');
	// contained or investigated
	if (f.severity !== 'minor') {
		return refuse(
			`A ${f.severity} deviation needs CAPA actions and an effectiveness check before closure.`
		);
	}
	if (!minorPathOpen(f)) {
		return refuse('The deviation has CAPA actions: close it through the effectiveness check.');
	}
	if (!f.effectivenessRecorded) {
		return refuse('Give the justification for closing a minor deviation without CAPA actions.');
	}
	return to('closed');
}

function verb(event: DeviationEvent): string {
	return event === 'close' ? 'close' : 'change';
}

/** Events the state allows at all (the pages offer these forms; the service decides again). */
export function possibleEvents(f: DeviationFacts): Set<DeviationEvent> {
	const out = new Set<DeviationEvent>();
	for (const e of DEVIATION_EVENTS) {
		if (e === 'record-effectiveness') {
			if (decide(f, e, { effective: true }).ok) out.add(e);
		} else if (e === 'close') {
			// Offered when closing is the next step, also while a minor's justification is missing
			// (the close form asks for it).
			if (
				decide(f, e).ok ||
				(minorPathOpen(f) && decide({ ...f, effectivenessRecorded: true }, e).ok)
			) {
				out.add(e);
			}
		} else if (decide(f, e).ok) {
			out.add(e);
		}
	}
	return out;
}

const DAY_MS = 86_400_000;

/** Whole days a deviation has been open (to its closure, or to now). */
export function agingDays(openedAt: number, closedAt: number | null, now: number): number {
	return Math.max(0, Math.floor(((closedAt ?? now) - openedAt) / DAY_MS));
}

export interface OverdueInput {
	status: DeviationState;
	dueAt: number | null;
	effectivenessDueAt: number | null;
	effective: boolean | null;
	/** Due dates of the open CAPA actions. */
	openCapaDue: number[];
}

/** What is past its due date now, in words for the list and the page. */
export function overdueItems(d: OverdueInput, now: number): string[] {
	if (d.status === 'closed') return [];
	const out: string[] = [];
	if (d.dueAt !== null && d.dueAt < now) out.push('deviation past its due date');
	const late = d.openCapaDue.filter((due) => due < now).length;
	if (late > 0) out.push(`${late} CAPA action${late === 1 ? '' : 's'} overdue`);
	if (
		d.status === 'effectiveness' &&
		d.effective === null &&
		d.effectivenessDueAt !== null &&
		d.effectivenessDueAt < now
	) {
		out.push('effectiveness check overdue');
	}
	return out;
}
