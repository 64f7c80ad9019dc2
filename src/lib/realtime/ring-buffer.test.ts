import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { findPoint, PointWindow, RingBuffer } from './ring-buffer';
import type { LivePoint } from './events';

function point(ts: number, seq = ts, value = ts): LivePoint {
	return { ts, seq, value, dispersion: null, flags: 0 };
}

describe('RingBuffer', () => {
	it('keeps items oldest first until full', () => {
		const ring = new RingBuffer<number>(3);
		ring.push(1);
		ring.push(2);
		expect(ring.toArray()).toEqual([1, 2]);
		expect(ring.oldest()).toBe(1);
		expect(ring.newest()).toBe(2);
	});

	it('evicts the oldest item when pushing into a full buffer', () => {
		const ring = new RingBuffer<number>(3);
		for (const n of [1, 2, 3]) expect(ring.push(n)).toBeUndefined();
		expect(ring.push(4)).toBe(1);
		expect(ring.toArray()).toEqual([2, 3, 4]);
		expect(ring.length).toBe(3);
	});

	it('shifts from the front and answers undefined when empty', () => {
		const ring = new RingBuffer<number>(2);
		ring.push(7);
		expect(ring.shift()).toBe(7);
		expect(ring.shift()).toBeUndefined();
		expect(ring.length).toBe(0);
		expect(ring.newest()).toBeUndefined();
	});

	it('refuses a capacity that is not a positive integer', () => {
		expect(() => new RingBuffer(0)).toThrow(RangeError);
		expect(() => new RingBuffer(1.5)).toThrow(RangeError);
	});

	it('behaves like an array truncated to its newest `capacity` items under any operations', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 1, max: 8 }),
				fc.array(
					fc.oneof(fc.integer(), fc.constant<'shift'>('shift'), fc.constant<'clear'>('clear')),
					{
						maxLength: 60
					}
				),
				(capacity, ops) => {
					const ring = new RingBuffer<number>(capacity);
					let model: number[] = [];
					for (const op of ops) {
						if (op === 'shift') {
							expect(ring.shift()).toBe(model.shift());
						} else if (op === 'clear') {
							ring.clear();
							model = [];
						} else {
							ring.push(op);
							model.push(op);
							if (model.length > capacity) model.shift();
						}
						expect(ring.toArray()).toEqual(model);
						expect(ring.length).toBe(model.length);
						for (let i = 0; i < model.length; i++) expect(ring.at(i)).toBe(model[i]);
					}
				}
			)
		);
	});
});

describe('PointWindow', () => {
	it('keeps no more than maxPoints, dropping the oldest', () => {
		const window = new PointWindow({ maxPoints: 3, maxAgeMs: 1e9 });
		window.append(
			[1, 2, 3, 4, 5].map((t) => point(t)),
			5
		);
		expect(window.toArray().map((p) => p.ts)).toEqual([3, 4, 5]);
	});

	it('drops points older than maxAgeMs before now', () => {
		const window = new PointWindow({ maxPoints: 100, maxAgeMs: 1000 });
		window.append([point(0), point(500), point(1500)], 1500);
		expect(window.toArray().map((p) => p.ts)).toEqual([500, 1500]);
		window.prune(2600);
		expect(window.toArray()).toEqual([]);
	});

	it('ignores re-delivered and out-of-order points', () => {
		const window = new PointWindow({ maxPoints: 10, maxAgeMs: 1e9 });
		expect(window.append([point(10, 1), point(20, 2)], 20)).toBe(2);
		expect(window.append([point(20, 2), point(15, 3), point(20, 3), point(30, 4)], 30)).toBe(2);
		expect(window.toArray().map((p) => [p.ts, p.seq])).toEqual([
			[10, 1],
			[20, 2],
			[20, 3],
			[30, 4]
		]);
	});

	it('keeps raw readings (no sequence number) in time order', () => {
		const window = new PointWindow<{ ts: number; value: number }>({ maxPoints: 10, maxAgeMs: 1e9 });
		window.append(
			[
				{ ts: 1, value: 1 },
				{ ts: 2, value: 2 },
				{ ts: 2, value: 9 },
				{ ts: 3, value: 3 }
			],
			3
		);
		expect(window.toArray().map((r) => r.value)).toEqual([1, 2, 3]);
	});

	it('replaces its content with a snapshot', () => {
		const window = new PointWindow({ maxPoints: 2, maxAgeMs: 1e9 });
		window.append([point(100), point(200)], 200);
		window.replace([point(1), point(2), point(3)], 3);
		expect(window.toArray().map((p) => p.ts)).toEqual([2, 3]);
		expect(window.newest()?.ts).toBe(3);
	});

	it('stays within both bounds for any stream of increasing points', () => {
		fc.assert(
			fc.property(
				fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 300 }),
				fc.integer({ min: 1, max: 50 }),
				fc.integer({ min: 1, max: 2000 }),
				(gaps, maxPoints, maxAgeMs) => {
					const window = new PointWindow({ maxPoints, maxAgeMs });
					let ts = 0;
					const all: LivePoint[] = [];
					for (const gap of gaps) {
						ts += gap;
						const p = point(ts);
						all.push(p);
						window.append([p], ts);
					}
					const expected = all.filter((p) => p.ts >= ts - maxAgeMs).slice(-maxPoints);
					expect(window.toArray()).toEqual(expected);
				}
			)
		);
	});
});

describe('findPoint', () => {
	it('finds the point stamped with a time in a sorted window', () => {
		const points = [10, 20, 30, 40, 50].map((t) => point(t));
		for (const t of [10, 30, 50]) expect(findPoint(points, t)?.ts).toBe(t);
	});

	it('answers undefined for a time without a point', () => {
		expect(findPoint([point(10), point(20)], 15)).toBeUndefined();
		expect(findPoint([], 15)).toBeUndefined();
	});
});
