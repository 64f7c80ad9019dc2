import { describe, expect, it } from 'vitest';
import type { CharacteristicConfig, LiveAlarm, LivePoint, RoomDelta, RoomSnapshot } from './events';
import { MAX_ROOM_ALARMS, RoomState } from './room-state';

const T0 = 1_800_000_000_000;

function config(id: number, overrides: Partial<CharacteristicConfig> = {}): CharacteristicConfig {
	return {
		id,
		code: `c${id}`,
		name: `Characteristic ${id}`,
		unit: 'Cel',
		lineId: 1,
		machineId: 1,
		kind: 'variable',
		chart: 'imr',
		subgroupSize: 1,
		samplingIntervalMs: 1000,
		spec: { lsl: 0, usl: 10 },
		suspect: {},
		rules: 'nelson-all',
		limits: { version: 1, centre: 5, sigma: 1, source: 'test' },
		decimals: 1,
		...overrides
	};
}

function pt(ts: number, value = 5): LivePoint {
	return { ts, seq: ts, value, dispersion: null, flags: 0 };
}

function alarm(id: number, ts: number, characteristicId = 1): LiveAlarm {
	return {
		id,
		characteristicId,
		machineId: 1,
		lineId: 1,
		rule: 'nelson1',
		message: 'beyond limits',
		ts,
		lastTs: ts,
		occurrences: 1,
		kind: 'spc',
		shelvedUntil: null,
		acknowledgedBy: null,
		cause: null,
		action: null,
		state: 'unacknowledged',
		value: 9
	};
}

function snapshot(seq: number, overrides: Partial<RoomSnapshot> = {}): RoomSnapshot {
	return {
		room: 'line:1',
		seq,
		serverTime: T0,
		line: { id: 1, code: 'L1', name: 'Line 1', siteName: 'Site' },
		machines: [{ id: 1, code: 'M1', name: 'Machine 1', lineId: 1 }],
		characteristics: [config(1), config(2)],
		points: { 1: [pt(T0 - 2000), pt(T0 - 1000)] },
		readings: {},
		alarms: [],
		sourcesSeenAt: { sim: T0 - 500 },
		...overrides
	};
}

function delta(seq: number, overrides: Partial<RoomDelta> = {}): RoomDelta {
	return {
		room: 'line:1',
		seq,
		serverTime: T0 + seq * 100,
		points: {},
		readings: {},
		alarms: [],
		characteristics: [],
		sourcesSeenAt: {},
		...overrides
	};
}

describe('RoomState snapshots', () => {
	it('replaces everything the room held', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(10), T0);
		room.applySnapshot(
			snapshot(3, {
				characteristics: [config(2)],
				points: { 2: [pt(T0)] },
				alarms: [alarm(1, T0)]
			}),
			T0
		);
		expect(room.seq).toBe(3);
		expect([...room.characteristics.keys()]).toEqual([2]);
		expect(room.windows.has(1)).toBe(false);
		expect(room.points(2)).toEqual([pt(T0)]);
		expect([...room.alarms.keys()]).toEqual([1]);
	});

	it('measures the offset between the server clock and this screen', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(1), T0 - 2500);
		expect(room.clockOffsetMs).toBe(2500);
	});
});

describe('RoomState deltas', () => {
	it('applies deltas in sequence and appends their points', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(5), T0);
		room.takeChanges();
		expect(room.applyDelta(delta(6, { points: { 1: [pt(T0 + 500)] } }), T0 + 600)).toBe('applied');
		expect(room.seq).toBe(6);
		expect(room.points(1).map((p) => p.ts)).toEqual([T0 - 2000, T0 - 1000, T0 + 500]);
		expect([...room.takeChanges().characteristics]).toEqual([1]);
	});

	it('asks for a snapshot when a sequence number is skipped', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(5), T0);
		expect(room.applyDelta(delta(7, { points: { 1: [pt(T0 + 500)] } }), T0)).toBe('gap');
		expect(room.seq).toBe(5);
		expect(room.points(1)).toHaveLength(2);
	});

	it('asks for a snapshot when no snapshot was applied yet', () => {
		expect(new RoomState().applyDelta(delta(1), T0)).toBe('gap');
	});

	it('drops deltas the snapshot already covers', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(5), T0);
		expect(room.applyDelta(delta(5), T0)).toBe('duplicate');
		expect(room.applyDelta(delta(2), T0)).toBe('duplicate');
		expect(room.seq).toBe(5);
	});

	it('ignores points of characteristics the room does not know', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(1), T0);
		room.applyDelta(delta(2, { points: { 99: [pt(T0)] } }), T0);
		expect(room.windows.has(99)).toBe(false);
	});

	it('takes new configuration and merges source times', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(1), T0);
		room.applyDelta(
			delta(2, {
				characteristics: [config(1, { spec: { lsl: 1, usl: 9 } })],
				sourcesSeenAt: { other: T0 }
			}),
			T0
		);
		expect(room.characteristics.get(1)?.spec).toEqual({ lsl: 1, usl: 9 });
		expect(room.sourcesSeenAt).toEqual({ sim: T0 - 500, other: T0 });
	});

	it('updates an alarm in place when it changes state', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(1, { alarms: [alarm(7, T0)] }), T0);
		room.takeChanges();
		room.applyDelta(delta(2, { alarms: [{ ...alarm(7, T0), state: 'acknowledged' }] }), T0);
		expect(room.alarms.get(7)?.state).toBe('acknowledged');
		expect(room.takeChanges().alarms).toBe(true);
	});
});

describe('RoomState raw readings', () => {
	it('keeps the readings of the snapshot and appends those of deltas', () => {
		const room = new RoomState();
		room.applySnapshot(
			snapshot(1, { readings: { 2: [{ ts: T0 - 300, value: 4.9, flags: 0 }] } }),
			T0
		);
		room.applyDelta(delta(2, { readings: { 2: [{ ts: T0 + 100, value: 5.1, flags: 0 }] } }), T0);
		expect(room.readings(2)?.map((r) => r.value)).toEqual([4.9, 5.1]);
		expect(room.latestReading(2)?.ts).toBe(T0 + 100);
	});

	it('reports new readings apart from chart changes, so charts do not redraw for them', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(1, { readings: { 2: [] } }), T0);
		room.takeChanges();
		room.applyDelta(delta(2, { readings: { 2: [{ ts: T0, value: 5, flags: 0 }] } }), T0);
		const changes = room.takeChanges();
		expect([...changes.readings]).toEqual([2]);
		expect(changes.characteristics.size).toBe(0);
	});

	it('has no readings for characteristics the hub sends none for', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(1), T0);
		expect(room.readings(1)).toBeUndefined();
	});
});

describe('RoomState bounds', () => {
	it('keeps only the newest alarms', () => {
		const room = new RoomState();
		room.applySnapshot(snapshot(0), T0);
		for (let i = 1; i <= MAX_ROOM_ALARMS + 20; i++) {
			room.applyDelta(delta(i, { alarms: [alarm(i, T0 + i)] }), T0);
		}
		expect(room.alarms.size).toBe(MAX_ROOM_ALARMS);
		expect(room.alarms.has(20)).toBe(false);
		expect(room.alarms.has(21)).toBe(true);
	});

	it('ages points out of the window and reports the change', () => {
		const room = new RoomState({ maxPoints: 100, maxAgeMs: 1500 });
		room.applySnapshot(snapshot(1), T0);
		room.takeChanges();
		expect(room.points(1).map((p) => p.ts)).toEqual([T0 - 1000]);
		room.prune(T0 + 1000);
		expect(room.points(1)).toEqual([]);
		expect(room.takeChanges().characteristics.has(1)).toBe(true);
	});
});
