import { describe, expect, it } from 'vitest';
import {
	CHANGE_KINDS as SCHEMA_KINDS,
	CHANGE_STATUSES as SCHEMA_STATUSES
} from '$lib/server/db/schema/change';
import {
	allowedEvents,
	CHANGE_EVENTS,
	CHANGE_KINDS,
	CHANGE_STATUSES,
	decide,
	TERMINAL,
	type ChangeEvent,
	type ChangeStatus,
	type Standing
} from './workflow';

const AUTHOR: Standing = { isAuthor: true, canAuthor: true, canApprove: true };
const APPROVER: Standing = { isAuthor: false, canAuthor: false, canApprove: true };
const OTHER_QE: Standing = { isAuthor: false, canAuthor: true, canApprove: true };
const VIEWER: Standing = { isAuthor: false, canAuthor: false, canApprove: false };

/** The complete table: every state × event, the target where legal, undefined where not. */
const EXPECTED: Record<ChangeStatus, Partial<Record<ChangeEvent, ChangeStatus>>> = {
	draft: { edit: 'draft', submit: 'impact', withdraw: 'withdrawn' },
	impact: { 'to-review': 'review', rework: 'draft', reject: 'rejected', withdraw: 'withdrawn' },
	review: { approve: 'approved', rework: 'draft', reject: 'rejected', withdraw: 'withdrawn' },
	approved: { implement: 'implemented' },
	implemented: { close: 'closed' },
	closed: {},
	rejected: {},
	withdrawn: {}
};

/** Someone who passes the person checks of `event` (author for author events, else approver). */
function entitled(event: ChangeEvent): Standing {
	return event === 'approve' || event === 'reject' ? APPROVER : AUTHOR;
}

describe('change workflow transitions', () => {
	it('uses the same kinds and statuses as the database schema', () => {
		expect([...CHANGE_KINDS]).toEqual([...SCHEMA_KINDS]);
		expect([...CHANGE_STATUSES]).toEqual([...SCHEMA_STATUSES]);
	});

	for (const from of CHANGE_STATUSES) {
		for (const event of CHANGE_EVENTS) {
			const to = EXPECTED[from][event];
			it(`${from} × ${event} → ${to ?? 'refused'}`, () => {
				const d = decide(from, event, entitled(event));
				if (to === undefined) {
					expect(d).toMatchObject({ ok: false, refusal: 'illegal-transition' });
					if (!d.ok) expect(d.message).toMatch(/cannot be/);
				} else {
					expect(d).toEqual({ ok: true, from, to });
				}
			});
		}
	}

	it('refuses everything on a finished request, saying it is finished', () => {
		for (const from of TERMINAL) {
			for (const event of CHANGE_EVENTS) {
				const d = decide(from, event, AUTHOR);
				expect(d.ok).toBe(false);
				if (!d.ok) expect(d.message).toContain('finished');
			}
		}
	});
});

describe('who may move a change request', () => {
	it('keeps author events to the author', () => {
		expect(decide('draft', 'submit', OTHER_QE)).toMatchObject({ ok: false, refusal: 'not-author' });
		expect(decide('review', 'withdraw', OTHER_QE)).toMatchObject({
			ok: false,
			refusal: 'not-author'
		});
		expect(decide('draft', 'edit', APPROVER)).toMatchObject({ ok: false, refusal: 'forbidden' });
	});

	it('never lets the author approve or reject their own request', () => {
		expect(decide('review', 'approve', AUTHOR)).toMatchObject({
			ok: false,
			refusal: 'author-cannot-approve'
		});
		expect(decide('review', 'reject', AUTHOR)).toMatchObject({
			ok: false,
			refusal: 'author-cannot-approve'
		});
		expect(decide('review', 'approve', OTHER_QE)).toMatchObject({ ok: true, to: 'approved' });
	});

	it('lets author or approver implement and close, nobody else', () => {
		expect(decide('approved', 'implement', APPROVER).ok).toBe(true);
		expect(decide('approved', 'implement', AUTHOR).ok).toBe(true);
		expect(decide('implemented', 'close', VIEWER)).toMatchObject({
			ok: false,
			refusal: 'forbidden'
		});
	});

	it('offers each person only the events that would succeed', () => {
		expect(allowedEvents('draft', AUTHOR)).toEqual(['edit', 'submit', 'withdraw']);
		expect(allowedEvents('draft', APPROVER)).toEqual([]);
		expect(allowedEvents('review', AUTHOR)).toEqual(['rework', 'withdraw']);
		expect(allowedEvents('review', APPROVER)).toEqual(['approve', 'reject']);
		expect(allowedEvents('closed', AUTHOR)).toEqual([]);
		expect(allowedEvents('approved', VIEWER)).toEqual([]);
	});
});
