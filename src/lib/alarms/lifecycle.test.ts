import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	ALARM_EVENT_TYPES,
	ISA_STATES,
	allowedActions,
	isSetAside,
	transition,
	type AlarmEvent,
	type AlarmEventType,
	type AlarmLifecycle,
	type IsaState,
	type RefusalCode
} from './lifecycle';

const NOW = 1_800_000_000_000;
const HOUR = 3600_000;
const CTX = { now: NOW, maxShelveMs: 8 * HOUR };

function eventOf(type: AlarmEventType, until = NOW + HOUR): AlarmEvent {
	switch (type) {
		case 'shelve':
			return { type, until };
		case 'unshelve':
			return { type, by: 'person' };
		default:
			return { type } as AlarmEvent;
	}
}

/** Every reachable stored shape: ISA states, and each set-aside over each ISA state. */
const SHAPES: AlarmLifecycle[] = [
	...ISA_STATES.map((s) => ({ state: s, stateBefore: null, shelvedUntil: null })),
	...ISA_STATES.map((u) => ({
		state: 'shelved' as const,
		stateBefore: u,
		shelvedUntil: NOW + HOUR
	})),
	...ISA_STATES.map((u) => ({ state: 'suppressed' as const, stateBefore: u, shelvedUntil: null })),
	...ISA_STATES.map((u) => ({
		state: 'out_of_service' as const,
		stateBefore: u,
		shelvedUntil: null
	}))
];

function label(a: AlarmLifecycle): string {
	return a.stateBefore ? `${a.state}(${a.stateBefore})` : a.state;
}

/*
 * The expected table, written out by hand from ISA-18.2 (and the precedence rules in
 * lifecycle.ts) — independent of the implementation's switch. `=` means the state is unchanged;
 * a refusal code means refused.
 */
const TABLE: Record<string, Record<AlarmEventType, string>> = {
	unacknowledged: {
		violation: 'unacknowledged',
		'return-to-normal': 'returned',
		acknowledge: 'acknowledged',
		shelve: 'shelved(unacknowledged)',
		unshelve: '!not_shelved',
		suppress: 'suppressed(unacknowledged)',
		unsuppress: '!not_suppressed',
		'remove-from-service': 'out_of_service(unacknowledged)',
		'return-to-service': '!not_out_of_service'
	},
	acknowledged: {
		violation: 'acknowledged',
		'return-to-normal': 'cleared',
		acknowledge: '!already_acknowledged',
		shelve: 'shelved(acknowledged)',
		unshelve: '!not_shelved',
		suppress: 'suppressed(acknowledged)',
		unsuppress: '!not_suppressed',
		'remove-from-service': 'out_of_service(acknowledged)',
		'return-to-service': '!not_out_of_service'
	},
	returned: {
		violation: 'unacknowledged',
		'return-to-normal': '!not_active',
		acknowledge: 'cleared',
		shelve: 'shelved(returned)',
		unshelve: '!not_shelved',
		suppress: 'suppressed(returned)',
		unsuppress: '!not_suppressed',
		'remove-from-service': 'out_of_service(returned)',
		'return-to-service': '!not_out_of_service'
	},
	cleared: Object.fromEntries(ALARM_EVENT_TYPES.map((e) => [e, '!closed'])) as Record<
		AlarmEventType,
		string
	>
};
for (const u of ISA_STATES) {
	const activated = u === 'returned' || u === 'cleared' ? 'unacknowledged' : u;
	const normal =
		u === 'unacknowledged' ? 'returned' : u === 'acknowledged' ? 'cleared' : '!not_active';
	const under = (s: string, x: string) => (x.startsWith('!') ? x : `${s}(${x})`);
	TABLE[`shelved(${u})`] = {
		violation: `shelved(${activated})`,
		'return-to-normal': under('shelved', normal),
		acknowledge: '!set_aside',
		shelve: '!already_shelved',
		unshelve: u,
		suppress: '!set_aside',
		unsuppress: '!not_suppressed',
		'remove-from-service': `out_of_service(${u})`,
		'return-to-service': '!not_out_of_service'
	};
	TABLE[`suppressed(${u})`] = {
		violation: `suppressed(${activated})`,
		'return-to-normal': under('suppressed', normal),
		acknowledge: '!set_aside',
		shelve: '!set_aside',
		unshelve: '!not_shelved',
		suppress: '!already_suppressed',
		unsuppress: u,
		'remove-from-service': `out_of_service(${u})`,
		'return-to-service': '!not_out_of_service'
	};
	TABLE[`out_of_service(${u})`] = {
		violation: `out_of_service(${activated})`,
		'return-to-normal': under('out_of_service', normal),
		acknowledge: '!set_aside',
		shelve: '!set_aside',
		unshelve: '!not_shelved',
		suppress: '!set_aside',
		unsuppress: '!not_suppressed',
		'remove-from-service': '!already_out_of_service',
		'return-to-service': u
	};
}

describe('alarm lifecycle: every state × event', () => {
	const cases = SHAPES.flatMap((shape) =>
		ALARM_EVENT_TYPES.map((type) => [label(shape), type, shape] as const)
	);
	it('covers every stored shape and every event', () => {
		expect(cases).toHaveLength(16 * 9);
		expect(Object.keys(TABLE)).toHaveLength(16);
	});

	it.each(cases)('%s on %s', (name, type, shape) => {
		const expected = TABLE[name][type];
		const result = transition(shape, eventOf(type), CTX);
		if (expected.startsWith('!')) {
			expect(result).toMatchObject({ ok: false, refusal: expected.slice(1) });
			if (!result.ok) expect(result.message.length).toBeGreaterThan(10);
		} else {
			expect(result.ok).toBe(true);
			if (result.ok) expect(label(result.next)).toBe(expected);
		}
	});
});

describe('alarm lifecycle: shelving deadlines', () => {
	const active: AlarmLifecycle = { state: 'unacknowledged', stateBefore: null, shelvedUntil: null };

	it('refuses a deadline in the past or now, and one beyond the maximum', () => {
		expect(transition(active, { type: 'shelve', until: NOW }, CTX)).toMatchObject({
			ok: false,
			refusal: 'shelve_not_in_future'
		});
		expect(transition(active, { type: 'shelve', until: NOW + 8 * HOUR + 1 }, CTX)).toMatchObject({
			ok: false,
			refusal: 'shelve_too_long'
		});
		expect(transition(active, { type: 'shelve', until: NOW + 8 * HOUR }, CTX)).toMatchObject({
			ok: true,
			next: { state: 'shelved', stateBefore: 'unacknowledged', shelvedUntil: NOW + 8 * HOUR }
		});
	});

	it('unshelves by deadline only once the deadline passed; a person may unshelve any time', () => {
		const shelved: AlarmLifecycle = {
			state: 'shelved',
			stateBefore: 'acknowledged',
			shelvedUntil: NOW + HOUR
		};
		expect(transition(shelved, { type: 'unshelve', by: 'deadline' }, CTX)).toMatchObject({
			ok: false,
			refusal: 'deadline_not_reached'
		});
		expect(
			transition(shelved, { type: 'unshelve', by: 'deadline' }, { ...CTX, now: NOW + HOUR })
		).toMatchObject({ ok: true, next: { state: 'acknowledged', shelvedUntil: null } });
		expect(transition(shelved, { type: 'unshelve', by: 'person' }, CTX)).toMatchObject({
			ok: true,
			next: { state: 'acknowledged', stateBefore: null, shelvedUntil: null }
		});
	});

	it('offers a person only the actions that would be accepted', () => {
		expect([...allowedActions(active, CTX)].sort()).toEqual([
			'acknowledge',
			'remove-from-service',
			'shelve'
		]);
		const oos: AlarmLifecycle = {
			state: 'out_of_service',
			stateBefore: 'returned',
			shelvedUntil: null
		};
		expect([...allowedActions(oos, CTX)]).toEqual(['return-to-service']);
		expect(
			allowedActions({ state: 'cleared', stateBefore: null, shelvedUntil: null }, CTX).size
		).toBe(0);
	});
});

/*
 * Model-based: random sequences of events against a reference model kept in different terms —
 * ISA-18.2's two facts (condition active? acknowledged?) plus which set-aside is in force — and
 * the invariants of the stored row checked after every step.
 */
interface Model {
	active: boolean;
	acked: boolean;
	aside: 'shelved' | 'suppressed' | 'out_of_service' | null;
	until: number | null;
	/** Cleared while not set aside: the row is closed for good. */
	closed: boolean;
}

function isaOf(m: Pick<Model, 'active' | 'acked'>): IsaState {
	if (m.active) return m.acked ? 'acknowledged' : 'unacknowledged';
	return m.acked ? 'cleared' : 'returned';
}

/** The reference: null = refused. */
function modelStep(m: Model, e: AlarmEvent, now: number, maxMs: number): Model | null {
	if (m.closed) return null;
	const activate = (x: Model): Model => (x.active ? x : { ...x, active: true, acked: false });
	switch (e.type) {
		case 'violation':
			return activate(m);
		case 'return-to-normal':
			return m.active ? { ...m, active: false, closed: !m.aside && m.acked } : null;
		case 'acknowledge':
			if (m.aside || m.acked) return null;
			return { ...m, acked: true, closed: !m.active };
		case 'shelve':
			if (m.aside || e.until <= now || e.until - now > maxMs) return null;
			return { ...m, aside: 'shelved', until: e.until };
		case 'unshelve':
			if (m.aside !== 'shelved') return null;
			if (e.by === 'deadline' && now < (m.until ?? Infinity)) return null;
			return { ...m, aside: null, until: null, closed: !m.active && m.acked };
		case 'suppress':
			return m.aside ? null : { ...m, aside: 'suppressed' };
		case 'unsuppress':
			return m.aside === 'suppressed' ? { ...m, aside: null, closed: !m.active && m.acked } : null;
		case 'remove-from-service':
			return m.aside === 'out_of_service' ? null : { ...m, aside: 'out_of_service', until: null };
		case 'return-to-service':
			return m.aside === 'out_of_service'
				? { ...m, aside: null, closed: !m.active && m.acked }
				: null;
	}
}

function expectedRow(m: Model): AlarmLifecycle {
	return m.aside
		? { state: m.aside, stateBefore: isaOf(m), shelvedUntil: m.until }
		: { state: isaOf(m), stateBefore: null, shelvedUntil: null };
}

const eventArb: fc.Arbitrary<{ event: AlarmEvent; advance: number }> = fc.record({
	event: fc.oneof(
		fc.constantFrom<AlarmEvent>(
			{ type: 'violation' },
			{ type: 'return-to-normal' },
			{ type: 'acknowledge' },
			{ type: 'unshelve', by: 'person' },
			{ type: 'unshelve', by: 'deadline' },
			{ type: 'suppress' },
			{ type: 'unsuppress' },
			{ type: 'remove-from-service' },
			{ type: 'return-to-service' }
		),
		// Shelving deadlines relative to the step's clock, some invalid (past, too long).
		fc
			.integer({ min: -HOUR, max: 10 * HOUR })
			.map((d): AlarmEvent => ({ type: 'shelve', until: d }))
	),
	advance: fc.integer({ min: 0, max: 3 * HOUR })
});

describe('alarm lifecycle: model-based', () => {
	it('agrees with the two-fact ISA-18.2 model on random event sequences, and keeps its invariants', () => {
		fc.assert(
			fc.property(fc.array(eventArb, { maxLength: 60 }), (steps) => {
				let now = NOW;
				let model: Model = {
					active: true,
					acked: false,
					aside: null,
					until: null,
					closed: false
				};
				let row: AlarmLifecycle = {
					state: 'unacknowledged',
					stateBefore: null,
					shelvedUntil: null
				};
				for (const step of steps) {
					now += step.advance;
					const event: AlarmEvent =
						step.event.type === 'shelve'
							? { type: 'shelve', until: now + step.event.until }
							: step.event;
					const ctx = { now, maxShelveMs: 8 * HOUR };
					const before = row;
					const result = transition(row, event, ctx);
					const expected = modelStep(model, event, now, ctx.maxShelveMs);
					expect(result.ok).toBe(expected !== null);
					if (!result.ok || expected === null) continue;
					row = result.next;
					model = expected;
					expect(row).toEqual(expectedRow(model));

					// Invariants of the stored row.
					expect(isSetAside(row.state)).toBe(row.stateBefore !== null);
					expect(row.shelvedUntil !== null).toBe(row.state === 'shelved');
					// Cleared (directly or underneath) only from acknowledged + return to normal, or
					// returned + acknowledge — or by restoring a set-aside that already was cleared.
					const eff = (a: AlarmLifecycle) => a.stateBefore ?? a.state;
					if (eff(row) === 'cleared' && eff(before) !== 'cleared') {
						const from = `${eff(before)}+${event.type}`;
						expect(['acknowledged+return-to-normal', 'returned+acknowledge']).toContain(from);
					}
				}
			}),
			{ numRuns: 2000 }
		);
	});

	it('refuses every event on a cleared alarm, whatever the sequence before', () => {
		fc.assert(
			fc.property(eventArb, ({ event }) => {
				const result = transition(
					{ state: 'cleared', stateBefore: null, shelvedUntil: null },
					event.type === 'shelve' ? { type: 'shelve', until: NOW + HOUR } : event,
					CTX
				);
				expect(result).toMatchObject({ ok: false, refusal: 'closed' satisfies RefusalCode });
			})
		);
	});
});
