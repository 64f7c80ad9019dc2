/**
 * The change-control workflow, pure: no I/O, no clock. The service
 * (src/lib/server/change/service.ts) applies exactly these transitions inside its transactions
 * and audits every refusal; the desk pages use `allowedEvents` to offer only the actions that can
 * succeed for the person in front of them (the server refuses the others anyway).
 *
 *   draft ──submit──▶ impact ──to-review──▶ review ──approve──▶ approved ──implement──▶
 *   implemented ──close──▶ closed
 *
 *   draft ◀──rework── impact | review        (sent back for changes; impact is recomputed)
 *   impact | review ──reject──▶ rejected     (reviewer or approver, with a reason)
 *   draft | impact | review ──withdraw──▶ withdrawn   (the author, before approval)
 *   draft ──edit──▶ draft                     (raises the revision: earlier signatures lapse)
 *
 * Who may do what (`Role` here is the person's relation to the request, not an account role):
 * - author events (edit, submit, to-review, rework, withdraw) need `change:author` AND being the
 *   request's author;
 * - approve and reject need `change:approve` and NOT being the author (four-eyes principle; the
 *   signature service enforces the same for the two signatures);
 * - implement and close need `change:author` or `change:approve` (author or approver).
 */

/*
 * The same lists as src/lib/server/db/schema/change.ts (a unit test keeps them equal): the
 * browser imports this module, and nothing under $lib/server may reach it.
 */
export const CHANGE_KINDS = [
	'process-version',
	'spec-limit',
	'control-limit',
	'rule-set',
	'sampling-plan'
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const CHANGE_STATUSES = [
	'draft',
	'impact',
	'review',
	'approved',
	'implemented',
	'closed',
	'rejected',
	'withdrawn'
] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

export const CHANGE_EVENTS = [
	'edit',
	'submit',
	'to-review',
	'rework',
	'approve',
	'reject',
	'withdraw',
	'implement',
	'close'
] as const;
export type ChangeEvent = (typeof CHANGE_EVENTS)[number];

/** The legal transitions: event → (from → to). */
export const TRANSITIONS: Readonly<
	Record<ChangeEvent, Readonly<Partial<Record<ChangeStatus, ChangeStatus>>>>
> = {
	edit: { draft: 'draft' },
	submit: { draft: 'impact' },
	'to-review': { impact: 'review' },
	rework: { impact: 'draft', review: 'draft' },
	approve: { review: 'approved' },
	reject: { impact: 'rejected', review: 'rejected' },
	withdraw: { draft: 'withdrawn', impact: 'withdrawn', review: 'withdrawn' },
	implement: { approved: 'implemented' },
	close: { implemented: 'closed' }
};

/** Which timestamp column each status entered records (KPI boards compute times from them). */
export const STEP_COLUMN: Readonly<Partial<Record<ChangeStatus, string>>> = {
	impact: 'impactAt',
	review: 'reviewAt',
	approved: 'approvedAt',
	implemented: 'implementedAt',
	closed: 'closedAt',
	rejected: 'rejectedAt',
	withdrawn: 'withdrawnAt'
};

export const TERMINAL: readonly ChangeStatus[] = ['closed', 'rejected', 'withdrawn'];

/** The person's standing towards one request. */
export interface Standing {
	isAuthor: boolean;
	canAuthor: boolean;
	canApprove: boolean;
}

export const REFUSALS = [
	'illegal-transition',
	'not-author',
	'author-cannot-approve',
	'forbidden'
] as const;
export type Refusal = (typeof REFUSALS)[number];

export type Decision =
	| { ok: true; from: ChangeStatus; to: ChangeStatus }
	| { ok: false; refusal: Refusal; message: string };

export const STATUS_WORDS: Record<ChangeStatus, string> = {
	draft: 'a draft',
	impact: 'in impact analysis',
	review: 'in review',
	approved: 'approved',
	implemented: 'implemented',
	closed: 'closed',
	rejected: 'rejected',
	withdrawn: 'withdrawn'
};

export const EVENT_WORDS: Record<ChangeEvent, string> = {
	edit: 'edited',
	submit: 'submitted for impact analysis',
	'to-review': 'sent to review',
	rework: 'sent back to draft',
	approve: 'approved',
	reject: 'rejected',
	withdraw: 'withdrawn',
	implement: 'implemented',
	close: 'closed'
};

const AUTHOR_EVENTS: readonly ChangeEvent[] = ['edit', 'submit', 'to-review', 'rework', 'withdraw'];
const APPROVER_EVENTS: readonly ChangeEvent[] = ['approve', 'reject'];

/** Where the request may go from `from`, as a sentence for the refusal message. */
function legalFrom(from: ChangeStatus): string {
	const events = CHANGE_EVENTS.filter((e) => TRANSITIONS[e][from] !== undefined && e !== 'edit');
	return events.length === 0
		? 'it is finished and cannot change any more'
		: `from here it can only be ${events.map((e) => EVENT_WORDS[e]).join(', ')}`;
}

/**
 * May `event` happen to a request in status `from`, done by someone with `standing`? The state
 * is checked first (an illegal transition is illegal for everyone), then the person.
 */
export function decide(from: ChangeStatus, event: ChangeEvent, standing: Standing): Decision {
	const to = TRANSITIONS[event][from];
	if (to === undefined) {
		return {
			ok: false,
			refusal: 'illegal-transition',
			message: `This change request is ${STATUS_WORDS[from]}: it cannot be ${EVENT_WORDS[event]} (${legalFrom(from)}).`
		};
	}
	if (AUTHOR_EVENTS.includes(event)) {
		if (!standing.canAuthor) {
			return {
				ok: false,
				refusal: 'forbidden',
				message: `You may not author change requests, so you cannot have it ${EVENT_WORDS[event]}.`
			};
		}
		if (!standing.isAuthor) {
			return {
				ok: false,
				refusal: 'not-author',
				message: `Only the author of this change request can have it ${EVENT_WORDS[event]}.`
			};
		}
	} else if (APPROVER_EVENTS.includes(event)) {
		if (!standing.canApprove) {
			return {
				ok: false,
				refusal: 'forbidden',
				message: `You may not approve or reject change requests.`
			};
		}
		if (standing.isAuthor) {
			return {
				ok: false,
				refusal: 'author-cannot-approve',
				message: `The author of a change request cannot ${event} it: a second person must.`
			};
		}
	} else if (!standing.canAuthor && !standing.canApprove) {
		return {
			ok: false,
			refusal: 'forbidden',
			message: `You may not have change requests ${EVENT_WORDS[event]}.`
		};
	}
	return { ok: true, from, to };
}

/** The events this person can successfully start on a request in `status` (for the page). */
export function allowedEvents(status: ChangeStatus, standing: Standing): ChangeEvent[] {
	return CHANGE_EVENTS.filter((e) => decide(status, e, standing).ok);
}

export const KIND_WORDS: Record<ChangeKind, string> = {
	'process-version': 'Process version',
	'spec-limit': 'Spec limits',
	'control-limit': 'Control limits',
	'rule-set': 'Rule set',
	'sampling-plan': 'Sampling plan'
};

export const STATUS_LABELS: Record<ChangeStatus, string> = {
	draft: 'Draft',
	impact: 'Impact analysis',
	review: 'Review',
	approved: 'Approved',
	implemented: 'Implemented',
	closed: 'Closed',
	rejected: 'Rejected',
	withdrawn: 'Withdrawn'
};
