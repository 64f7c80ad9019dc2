import { describe, expect, it } from 'vitest';
import {
	agingDays,
	decide,
	DEVIATION_EVENTS,
	DEVIATION_STATES,
	overdueItems,
	possibleEvents,
	type DeviationEvent,
	type DeviationFacts,
	type DeviationState
} from './workflow';

/** Facts typical of each state on the main path (a major deviation). */
function typical(status: DeviationState): DeviationFacts {
	const base: DeviationFacts = {
		status,
		severity: 'major',
		openCapa: 0,
		doneCapa: 0,
		effective: null,
		effectivenessRecorded: false
	};
	if (status === 'actions') return { ...base, openCapa: 1 };
	if (status === 'effectiveness') return { ...base, doneCapa: 2 };
	if (status === 'closed') return { ...base, doneCapa: 2, effective: true };
	return base;
}

/** Expected next state per state × event on typical facts; null = refused. */
const TABLE: Record<DeviationState, Record<DeviationEvent, DeviationState | null>> = {
	open: {
		edit: 'open',
		contain: 'contained',
		investigate: null,
		'add-capa': null,
		'resolve-capa': null,
		'submit-effectiveness': null,
		'record-effectiveness': null,
		'justify-closure': null,
		close: null
	},
	contained: {
		edit: 'contained',
		contain: null,
		investigate: 'investigated',
		'add-capa': null,
		'resolve-capa': null,
		'submit-effectiveness': null,
		'record-effectiveness': null,
		'justify-closure': null,
		close: null
	},
	investigated: {
		edit: 'investigated',
		contain: null,
		investigate: null,
		'add-capa': 'actions',
		'resolve-capa': null,
		'submit-effectiveness': null,
		'record-effectiveness': null,
		'justify-closure': null,
		close: null
	},
	actions: {
		edit: 'actions',
		contain: null,
		investigate: null,
		'add-capa': 'actions',
		'resolve-capa': 'actions',
		'submit-effectiveness': null,
		'record-effectiveness': null,
		'justify-closure': null,
		close: null
	},
	effectiveness: {
		edit: 'effectiveness',
		contain: null,
		investigate: null,
		'add-capa': null,
		'resolve-capa': null,
		'submit-effectiveness': null,
		'record-effectiveness': 'effectiveness',
		'justify-closure': null,
		close: null
	},
	closed: {
		edit: null,
		contain: null,
		investigate: null,
		'add-capa': null,
		'resolve-capa': null,
		'submit-effectiveness': null,
		'record-effectiveness': null,
		'justify-closure': null,
		close: null
	}
};

describe('deviation workflow: every state × event', () => {
	for (const state of DEVIATION_STATES) {
		for (const event of DEVIATION_EVENTS) {
			const expected = TABLE[state][event];
			it(`${state} × ${event} → ${expected ?? 'refused'}`, () => {
				const d = decide(typical(state), event, { effective: true });
				if (expected === null) {
					expect(d.ok).toBe(false);
					if (!d.ok) expect(d.message.length).toBeGreaterThan(10);
				} else {
					expect(d).toEqual({ ok: true, to: expected });
				}
			});
		}
	}
});

describe('deviation workflow: guards', () => {
	it('refuses the effectiveness check while a CAPA action is open, naming how many', () => {
		const d = decide({ ...typical('actions'), openCapa: 2, doneCapa: 1 }, 'submit-effectiveness');
		expect(d).toEqual({ ok: false, message: expect.stringContaining('2 CAPA actions are still') });
	});

	it('needs one action done (not only cancelled) before the effectiveness check', () => {
		expect(decide({ ...typical('actions'), openCapa: 0 }, 'submit-effectiveness').ok).toBe(false);
		expect(
			decide({ ...typical('actions'), openCapa: 0, doneCapa: 1 }, 'submit-effectiveness')
		).toEqual({ ok: true, to: 'effectiveness' });
	});

	it('sends a not-effective verdict back to actions', () => {
		expect(decide(typical('effectiveness'), 'record-effectiveness', { effective: false })).toEqual({
			ok: true,
			to: 'actions'
		});
	});

	it('asks for the verdict and refuses a second effective verdict', () => {
		expect(decide(typical('effectiveness'), 'record-effectiveness').ok).toBe(false);
		const recorded = { ...typical('effectiveness'), effective: true, effectivenessRecorded: true };
		expect(decide(recorded, 'record-effectiveness', { effective: true }).ok).toBe(false);
	});

	it('closes after an effective check, not before', () => {
		const e = typical('effectiveness');
		expect(decide(e, 'close')).toEqual({
			ok: false,
			message: expect.stringContaining('effectiveness check is missing')
		});
		expect(decide({ ...e, effective: true, effectivenessRecorded: true }, 'close')).toEqual({
			ok: true,
			to: 'closed'
		});
	});

	it('refuses closure while CAPA actions are open', () => {
		expect(decide({ ...typical('actions'), openCapa: 1 }, 'close')).toEqual({
			ok: false,
			message: expect.stringContaining('1 CAPA action is still open')
		});
	});

	it('lets a minor deviation close after containment on a recorded justification', () => {
		const minor: DeviationFacts = { ...typical('contained'), severity: 'minor' };
		expect(decide(minor, 'close').ok).toBe(false);
		expect(decide(minor, 'justify-closure')).toEqual({ ok: true, to: 'contained' });
		expect(decide({ ...minor, effectivenessRecorded: true }, 'close')).toEqual({
			ok: true,
			to: 'closed'
		});
		const investigated = { ...minor, status: 'investigated' as const, effectivenessRecorded: true };
		expect(decide(investigated, 'close').ok).toBe(true);
	});

	it('keeps major and critical deviations off the minor path', () => {
		for (const severity of ['major', 'critical'] as const) {
			const f: DeviationFacts = {
				...typical('contained'),
				severity,
				effectivenessRecorded: true
			};
			expect(decide(f, 'justify-closure').ok).toBe(false);
			expect(decide(f, 'close')).toEqual({
				ok: false,
				message: expect.stringContaining(`A ${severity} deviation needs CAPA actions`)
			});
		}
	});

	it('refuses the minor path once the deviation has CAPA actions or is still open', () => {
		const minorOpen: DeviationFacts = { ...typical('open'), severity: 'minor' };
		expect(decide(minorOpen, 'justify-closure').ok).toBe(false);
		const minorActions: DeviationFacts = { ...typical('actions'), severity: 'minor', openCapa: 0 };
		expect(decide(minorActions, 'justify-closure').ok).toBe(false);
	});

	it('offers close to a contained minor deviation (the form asks for the justification)', () => {
		const minor: DeviationFacts = { ...typical('contained'), severity: 'minor' };
		expect(possibleEvents(minor).has('close')).toBe(true);
		expect(possibleEvents(typical('contained')).has('close')).toBe(false);
		expect(possibleEvents(typical('closed')).size).toBe(0);
	});
});

describe('aging and overdue', () => {
	const DAY = 86_400_000;
	const now = Date.UTC(2026, 10, 20);

	it('counts whole days open, to closure when closed', () => {
		expect(agingDays(now - 3.5 * DAY, null, now)).toBe(3);
		expect(agingDays(now - 10 * DAY, now - 8 * DAY, now)).toBe(2);
	});

	it('names each overdue item of an open deviation, nothing once closed', () => {
		const d = {
			status: 'effectiveness' as const,
			dueAt: now - DAY,
			effectivenessDueAt: now - 1,
			effective: null,
			openCapaDue: [now - 1, now + DAY, now - DAY]
		};
		expect(overdueItems(d, now)).toEqual([
			'deviation past its due date',
			'2 CAPA actions overdue',
			'effectiveness check overdue'
		]);
		expect(overdueItems({ ...d, status: 'closed' }, now)).toEqual([]);
		expect(overdueItems({ ...d, dueAt: now + DAY, openCapaDue: [], effective: true }, now)).toEqual(
			[]
		);
	});
});
