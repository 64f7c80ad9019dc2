import { describe, expect, it } from 'vitest';
import type { LiveAlarm } from '$lib/realtime/events';
import { groupSignals } from './alarm-groups';

function alarm(
	id: number,
	characteristicId: number,
	rule: LiveAlarm['rule'],
	ts: number,
	occurrences = 1,
	lastTs = ts
): LiveAlarm {
	return {
		id,
		characteristicId,
		machineId: 1,
		lineId: 1,
		rule,
		message: `${rule} fired`,
		ts,
		lastTs,
		occurrences,
		kind: 'spc',
		shelvedUntil: null,
		acknowledgedBy: null,
		cause: null,
		action: null,
		state: 'unacknowledged',
		value: null
	};
}

describe('groupSignals', () => {
	it('folds alarms of one rule on one characteristic into one row counting every violation', () => {
		const groups = groupSignals([
			alarm(1, 7, 'nelson1', 100, 4, 150),
			alarm(2, 7, 'nelson1', 300, 1),
			alarm(3, 7, 'nelson1', 200, 2, 250)
		]);
		expect(groups).toHaveLength(1);
		expect(groups[0].count).toBe(7);
		expect(groups[0].latest.id).toBe(2);
		expect(groups[0].since).toBe(100);
	});

	it('orders rows by their latest violation', () => {
		const groups = groupSignals([alarm(1, 7, 'nelson1', 100, 9, 900), alarm(2, 8, 'nelson2', 500)]);
		expect(groups.map((g) => g.key)).toEqual(['7:nelson1', '8:nelson2']);
	});

	it('keeps different rules and characteristics apart, newest first', () => {
		const groups = groupSignals([
			alarm(1, 7, 'nelson1', 100),
			alarm(2, 7, 'nelson2', 500),
			alarm(3, 8, 'nelson1', 300)
		]);
		expect(groups.map((g) => g.key)).toEqual(['7:nelson2', '8:nelson1', '7:nelson1']);
	});

	it('puts rows with an active unacknowledged alarm before rows only returned to normal', () => {
		const groups = groupSignals([
			{ ...alarm(1, 7, 'nelson1', 900), state: 'returned' },
			alarm(2, 8, 'nelson2', 100)
		]);
		expect(groups.map((g) => g.key)).toEqual(['8:nelson2', '7:nelson1']);
	});

	it('gives each missed inspection its own row (no characteristic to fold by)', () => {
		const missed = (id: number, ts: number): LiveAlarm => ({
			...alarm(id, 0, 'inspection-missed', ts),
			kind: 'inspection',
			characteristicId: null
		});
		const groups = groupSignals([missed(1, 100), missed(2, 200)]);
		expect(groups.map((g) => [g.key, g.count, g.characteristicId])).toEqual([
			['alarm:2', 1, null],
			['alarm:1', 1, null]
		]);
	});

	it('has no rows without signals', () => {
		expect(groupSignals([])).toEqual([]);
	});
});
