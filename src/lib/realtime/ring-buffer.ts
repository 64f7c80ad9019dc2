/**
 * Bounded buffers for live series. A wall screen runs unattended for days, so every buffer has a
 * fixed capacity allocated once: pushing past it overwrites the oldest item, and memory stays flat
 * however long the page lives.
 *
 * Pure data structures, no DOM, no timers: the socket client owns the clock and passes `now` in.
 */
import type { LivePoint } from './events';

/** Anything kept in time order: plotted points (ts, seq) and raw readings (ts only). */
export interface Timed {
	ts: number;
	seq?: number;
}

/** Fixed-capacity FIFO; pushing into a full buffer drops the oldest item. */
export class RingBuffer<T> {
	readonly #items: (T | undefined)[];
	#start = 0;
	#length = 0;

	constructor(readonly capacity: number) {
		if (!Number.isInteger(capacity) || capacity < 1) {
			throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
		}
		this.#items = new Array<T | undefined>(capacity);
	}

	get length(): number {
		return this.#length;
	}

	/** Appends `item`; returns the item it evicted when the buffer was full. */
	push(item: T): T | undefined {
		if (this.#length < this.capacity) {
			this.#items[(this.#start + this.#length) % this.capacity] = item;
			this.#length++;
			return undefined;
		}
		const evicted = this.#items[this.#start];
		this.#items[this.#start] = item;
		this.#start = (this.#start + 1) % this.capacity;
		return evicted;
	}

	/** Removes and returns the oldest item. */
	shift(): T | undefined {
		if (this.#length === 0) return undefined;
		const item = this.#items[this.#start];
		// Release the reference so evicted points can be garbage-collected.
		this.#items[this.#start] = undefined;
		this.#start = (this.#start + 1) % this.capacity;
		this.#length--;
		return item;
	}

	/** Item `i` counted from the oldest (0) to the newest (length − 1). */
	at(i: number): T | undefined {
		if (!Number.isInteger(i) || i < 0 || i >= this.#length) return undefined;
		return this.#items[(this.#start + i) % this.capacity];
	}

	oldest(): T | undefined {
		return this.at(0);
	}

	newest(): T | undefined {
		return this.at(this.#length - 1);
	}

	clear(): void {
		this.#items.fill(undefined);
		this.#start = 0;
		this.#length = 0;
	}

	/** Oldest first. */
	toArray(): T[] {
		const out = new Array<T>(this.#length);
		for (let i = 0; i < this.#length; i++)
			out[i] = this.#items[(this.#start + i) % this.capacity] as T;
		return out;
	}
}

export interface WindowLimits {
	maxPoints: number;
	maxAgeMs: number;
}

/** True when `a` comes strictly after `b` in the series order (time, then sequence). */
function isAfter(a: Timed, b: Timed): boolean {
	return a.ts > b.ts || (a.ts === b.ts && (a.seq ?? 0) > (b.seq ?? 0));
}

/**
 * The live window of one characteristic (its plotted points, or its raw readings): at most
 * `maxPoints` items, none older than
 * `maxAgeMs` before the latest `prune(now)`. Points are kept in (ts, seq) order; a point that does
 * not come after the newest one (a re-delivered or late point) is ignored, because the hub sends
 * each room's points in order and a fresh snapshot replaces the window after any gap.
 */
export class PointWindow<T extends Timed = LivePoint> {
	readonly #ring: RingBuffer<T>;

	constructor(readonly limits: WindowLimits) {
		this.#ring = new RingBuffer<T>(limits.maxPoints);
	}

	get length(): number {
		return this.#ring.length;
	}

	/** Replaces the whole window (snapshot), keeping the newest `maxPoints` of `points`. */
	replace(points: readonly T[], now: number): void {
		this.#ring.clear();
		this.append(points, now);
	}

	/** Appends points given oldest first; returns how many were taken. */
	append(points: readonly T[], now: number): number {
		let taken = 0;
		for (const point of points) {
			const last = this.#ring.newest();
			if (last !== undefined && !isAfter(point, last)) continue;
			this.#ring.push(point);
			taken++;
		}
		this.prune(now);
		return taken;
	}

	/** Drops points older than `maxAgeMs` before `now`. */
	prune(now: number): void {
		const cutoff = now - this.limits.maxAgeMs;
		for (let oldest = this.#ring.oldest(); oldest !== undefined && oldest.ts < cutoff;) {
			this.#ring.shift();
			oldest = this.#ring.oldest();
		}
	}

	newest(): T | undefined {
		return this.#ring.newest();
	}

	/** Oldest first. */
	toArray(): T[] {
		return this.#ring.toArray();
	}
}

/** The point stamped `ts` in a window sorted by time (binary search), if any. */
export function findPoint(points: readonly LivePoint[], ts: number): LivePoint | undefined {
	let lo = 0;
	let hi = points.length - 1;
	while (lo <= hi) {
		const mid = (lo + hi) >> 1;
		const t = points[mid].ts;
		if (t === ts) return points[mid];
		if (t < ts) lo = mid + 1;
		else hi = mid - 1;
	}
	return undefined;
}
