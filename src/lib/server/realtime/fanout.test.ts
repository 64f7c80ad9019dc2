import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LivePoint, RoomDelta } from '$lib/realtime/events';
import type { StoredReading } from '../samples/snapshot';
import { createCoalescer } from './fanout';

function point(ts: number, seq = ts): LivePoint {
	return { ts, seq, value: ts / 10, dispersion: null, flags: 0 };
}

function reading(ts: number, seq = ts, flags = 0): StoredReading {
	return { ts, seq, value: ts / 10 + seq / 1000, flags };
}

function setup(members = true) {
	const emitted: RoomDelta[] = [];
	const coalescer = createCoalescer({
		intervalMs: 100,
		maxPointsPerCharacteristic: 5,
		maxReadingsPerCharacteristic: 3,
		hasMembers: () => members,
		emit: (_room, delta) => emitted.push(delta)
	});
	return { coalescer, emitted };
}

beforeEach(() => {
	vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
	vi.useRealTimers();
});

describe('coalescing', () => {
	it('emits at most one delta per room per interval however many parts arrive', () => {
		const { coalescer, emitted } = setup();
		// 1000 parts/s for 2 s, one every millisecond.
		for (let t = 0; t < 2000; t++) {
			coalescer.add('line:1', { points: new Map([[7, [point(t)]]]) });
			vi.advanceTimersByTime(1);
		}
		vi.advanceTimersByTime(200);
		// First delta leaves at once, then one per 100 ms: 1 + 2000/100 = 21.
		expect(emitted.length).toBeLessThanOrEqual(21);
		expect(emitted.length).toBeGreaterThanOrEqual(19);
		const gaps = emitted.slice(1).map((d, i) => d.serverTime - emitted[i].serverTime);
		expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
	});

	it('numbers the deltas of a room 1, 2, 3, … and keeps rooms independent', () => {
		const { coalescer, emitted } = setup();
		for (let i = 0; i < 3; i++) {
			coalescer.add('line:1', { points: new Map([[1, [point(i)]]]) });
			coalescer.add('machine:2', { points: new Map([[1, [point(i)]]]) });
			vi.advanceTimersByTime(150);
		}
		expect(emitted.filter((d) => d.room === 'line:1').map((d) => d.seq)).toEqual([1, 2, 3]);
		expect(emitted.filter((d) => d.room === 'machine:2').map((d) => d.seq)).toEqual([1, 2, 3]);
		expect(coalescer.seq('line:1')).toBe(3);
	});

	it('delivers every point of a flush window in arrival order', () => {
		const { coalescer, emitted } = setup();
		coalescer.add('characteristic:1', { points: new Map([[1, [point(1), point(2)]]]) });
		coalescer.add('characteristic:1', { points: new Map([[1, [point(3)]]]) });
		vi.advanceTimersByTime(1);
		expect(emitted).toHaveLength(1);
		expect(emitted[0].points[1].map((p) => p.ts)).toEqual([1, 2, 3]);
	});
});

describe('bounds', () => {
	it('keeps only the newest points per characteristic in a pending delta', () => {
		const { coalescer, emitted } = setup();
		coalescer.add('line:1', { points: new Map([[1, [1, 2, 3, 4, 5, 6, 7].map((t) => point(t))]]) });
		vi.advanceTimersByTime(1);
		expect(emitted[0].points[1].map((p) => p.ts)).toEqual([3, 4, 5, 6, 7]);
	});

	it('drops a pending delta without consuming a seq when the room is empty', () => {
		const { coalescer, emitted } = setup(false);
		coalescer.add('line:1', { points: new Map([[1, [point(1)]]]) });
		vi.advanceTimersByTime(200);
		expect(emitted).toHaveLength(0);
		expect(coalescer.seq('line:1')).toBe(0);
		expect(coalescer.pending('line:1')).toBeNull();
	});
});

describe('pending view', () => {
	it('shows what the next delta will carry until it is flushed', () => {
		const { coalescer } = setup();
		coalescer.add('line:1', { points: new Map([[1, [point(1)]]]) });
		vi.advanceTimersByTime(1);
		coalescer.add('line:1', {
			points: new Map([[1, [point(2)]]]),
			alarms: [
				{
					id: 9,
					characteristicId: 1,
					machineId: 1,
					lineId: 1,
					rule: 'nelson1',
					message: 'beyond 3σ',
					ts: 2,
					lastTs: 2,
					occurrences: 1,
					kind: 'spc',
					shelvedUntil: null,
					acknowledgedBy: null,
					cause: null,
					action: null,
					state: 'unacknowledged',
					value: 1
				}
			]
		});
		const view = coalescer.pending('line:1');
		expect(view?.points.get(1)?.map((p) => p.ts)).toEqual([2]);
		expect([...(view?.alarmIds ?? [])]).toEqual([9]);
		vi.advanceTimersByTime(100);
		expect(coalescer.pending('line:1')).toBeNull();
	});
});

describe('readings', () => {
	it('sends readings oldest first in the wire form, without the sample seq', () => {
		const { coalescer, emitted } = setup();
		coalescer.add('line:1', {
			readings: new Map([[2, [reading(1, 7), reading(2, 8, 1)]]]),
			points: new Map([[2, [point(2, 0)]]])
		});
		vi.advanceTimersByTime(1);
		expect(emitted[0].readings).toEqual({
			2: [
				{ ts: 1, value: 0.1 + 0.007, flags: 0 },
				{ ts: 2, value: 0.2 + 0.008, flags: 1 }
			]
		});
		expect(emitted[0].points[2]).toEqual([point(2, 0)]);
	});

	it('carries an empty readings object in a delta without readings', () => {
		const { coalescer, emitted } = setup();
		coalescer.add('line:1', { points: new Map([[1, [point(1)]]]) });
		vi.advanceTimersByTime(1);
		expect(emitted[0].readings).toEqual({});
	});

	it('merges the readings of several parts into one delta per flush', () => {
		const { coalescer, emitted } = setup();
		coalescer.add('line:1', { readings: new Map([[2, [reading(1)]]]) });
		vi.advanceTimersByTime(1);
		coalescer.add('line:1', { readings: new Map([[2, [reading(2)]]]) });
		coalescer.add('line:1', {
			readings: new Map([
				[2, [reading(3)]],
				[3, [reading(3)]]
			])
		});
		vi.advanceTimersByTime(100);
		expect(emitted).toHaveLength(2);
		expect(emitted[1].readings[2].map((r) => r.ts)).toEqual([2, 3]);
		expect(emitted[1].readings[3].map((r) => r.ts)).toEqual([3]);
	});

	it('keeps only the newest readings per characteristic in a pending delta', () => {
		const { coalescer, emitted } = setup();
		coalescer.add('line:1', { readings: new Map([[2, [1, 2, 3, 4].map((t) => reading(t))]]) });
		coalescer.add('line:1', { readings: new Map([[2, [reading(5)]]]) });
		vi.advanceTimersByTime(1);
		expect(emitted[0].readings[2].map((r) => r.ts)).toEqual([3, 4, 5]);
	});

	it('keeps the newest by sample key when an older batch arrives after a newer one', () => {
		const { coalescer, emitted } = setup();
		coalescer.add('line:1', { readings: new Map([[2, [reading(50, 2), reading(60, 1)]]]) });
		// A spool replay: older than what is pending, one of them at the same ts with a lower seq.
		coalescer.add('line:1', {
			readings: new Map([[2, [reading(10), reading(20), reading(50, 1)]]])
		});
		vi.advanceTimersByTime(1);
		expect(emitted[0].readings[2].map((r) => [r.ts, r.value])).toEqual([
			[50, 5.001],
			[50, 5.002],
			[60, 6.001]
		]);
	});

	it('shows pending readings, with their seq, until they are flushed', () => {
		const { coalescer } = setup();
		coalescer.add('line:1', { readings: new Map([[2, [reading(1)]]]) });
		vi.advanceTimersByTime(1);
		coalescer.add('line:1', { readings: new Map([[2, [reading(2, 9)]]]) });
		expect(coalescer.pending('line:1')?.readings.get(2)).toEqual([reading(2, 9)]);
		vi.advanceTimersByTime(100);
		expect(coalescer.pending('line:1')).toBeNull();
	});
});
