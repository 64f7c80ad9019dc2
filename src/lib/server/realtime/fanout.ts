/**
 * The fan-out coalescer: per-room pending deltas, flushed at most once per `intervalMs` per
 * room, each flush numbered with the room's sequence number.
 *
 * Why coalesce: broadcasting every sample to every screen does not scale (STACK.md: one
 * process pushes ~70k socket.io messages/s in total); one frame per room every ~100 ms does,
 * whatever the sample rate. Why per room and not per socket: a room's delta is serialised once
 * and broadcast, so the cost is per room, not per viewer.
 *
 * Sequence numbers: `seq` counts the deltas a room has emitted. A subscriber receives a
 * snapshot "at seq S" and then deltas S+1, S+2, …; any gap means it missed something (e.g. it
 * was skipped as slow) and it re-subscribes for a fresh snapshot. When a room has no members
 * its pending delta is dropped without consuming a seq: nobody can observe the gap and the
 * next subscriber's snapshot comes from the database, which already holds those points.
 *
 * Bounded: a pending delta keeps at most `maxPointsPerCharacteristic` points per
 * characteristic (the newest; a client's live window holds no more anyway), and the number of
 * rooms is bounded by the plant's configuration (the hub only creates rooms for known ids).
 *
 * Readings (raw samples of subgroup/attribute characteristics, for tiles and sparklines) follow
 * the same path and the same bound policy with their own bound, `maxReadingsPerCharacteristic`
 * (READINGS_WINDOW.maxPoints): a pending delta keeps the newest readings by sample key (ts, seq),
 * oldest first. At the live 1-10 Hz rate a 100 ms flush carries one or two, so the bound only
 * bites when a worker drains its spool after an outage; the client keeps no more than that many
 * per characteristic anyway, so the older ones would be discarded on arrival. Readings dropped
 * here are still in the database: a later snapshot reads them like any other.
 */
import type { CharacteristicConfig, LiveAlarm, LivePoint, RoomDelta } from '$lib/realtime/events';
import { toLiveReading, type StoredReading } from '../samples/snapshot';

export interface DeltaPart {
	/** New points per characteristic id, oldest first. */
	points?: ReadonlyMap<number, readonly LivePoint[]>;
	/** New raw readings per characteristic id, oldest first (seq is kept for the join only). */
	readings?: ReadonlyMap<number, readonly StoredReading[]>;
	alarms?: readonly LiveAlarm[];
	characteristics?: readonly CharacteristicConfig[];
	/** Worker name → last seen (epoch ms). */
	sources?: Readonly<Record<string, number>>;
}

interface PendingDelta {
	points: Map<number, LivePoint[]>;
	readings: Map<number, StoredReading[]>;
	alarms: Map<number, LiveAlarm>;
	characteristics: Map<number, CharacteristicConfig>;
	sources: Map<string, number>;
}

interface RoomState {
	room: string;
	seq: number;
	pending: PendingDelta | null;
	timer: ReturnType<typeof setTimeout> | null;
	/** When the last delta was emitted (ms); -Infinity before the first. */
	lastFlushAt: number;
}

export interface CoalescerOptions {
	/** Minimum time between two deltas of one room (ms). */
	intervalMs: number;
	maxPointsPerCharacteristic: number;
	maxReadingsPerCharacteristic: number;
	now?: () => number;
	/** Whether any socket is in the room; without members a pending delta is dropped. */
	hasMembers(room: string): boolean;
	/** Deliver one delta to the room's members (the hub skips slow sockets here). */
	emit(room: string, delta: RoomDelta): void;
}

/** What is pending for a room: the subscribe handler subtracts it from a fresh snapshot. */
export interface PendingView {
	points: ReadonlyMap<number, readonly LivePoint[]>;
	readings: ReadonlyMap<number, readonly StoredReading[]>;
	alarmIds: ReadonlySet<number>;
}

export interface Coalescer {
	add(room: string, part: DeltaPart): void;
	/**
	 * Whether the room has members now. A caller may leave a part out for a room nobody
	 * watches ONLY where no socket can join between its commit and its `add` (the ingest task,
	 * which runs in the serial queue like every join): flush would drop it anyway, and a later
	 * subscriber's snapshot reads it from the database.
	 */
	watched(room: string): boolean;
	/** Sequence number of the last delta the room emitted (0 before the first). */
	seq(room: string): number;
	pending(room: string): PendingView | null;
	/** Rooms with state (for stats). */
	rooms(): { room: string; seq: number; pending: boolean }[];
	/** Emits every pending delta now (used before closing so nothing committed is held back). */
	flushAll(): void;
	/** Stops all timers; pending deltas are dropped. */
	close(): void;
}

export function createCoalescer(options: CoalescerOptions): Coalescer {
	const now = options.now ?? Date.now;
	const states = new Map<string, RoomState>();
	let closed = false;

	function stateOf(room: string): RoomState {
		let state = states.get(room);
		if (!state) {
			state = { room, seq: 0, pending: null, timer: null, lastFlushAt: -Infinity };
			states.set(room, state);
		}
		return state;
	}

	function flush(state: RoomState): void {
		if (state.timer) clearTimeout(state.timer);
		state.timer = null;
		// Timers may fire a millisecond early against the wall clock: never flush too soon.
		if (!closed && state.pending && now() < state.lastFlushAt + options.intervalMs) {
			schedule(state);
			return;
		}
		const pending = state.pending;
		state.pending = null;
		if (!pending || !options.hasMembers(state.room)) return;
		state.seq++;
		state.lastFlushAt = now();
		options.emit(state.room, {
			room: state.room,
			seq: state.seq,
			serverTime: state.lastFlushAt,
			points: Object.fromEntries(pending.points),
			readings: Object.fromEntries(
				[...pending.readings].map(([id, list]) => [id, list.map(toLiveReading)])
			),
			alarms: [...pending.alarms.values()],
			characteristics: [...pending.characteristics.values()],
			sourcesSeenAt: Object.fromEntries(pending.sources)
		});
	}

	function schedule(state: RoomState): void {
		if (state.timer || closed) return;
		const wait = Math.max(0, state.lastFlushAt + options.intervalMs - now());
		state.timer = setTimeout(() => flush(state), wait);
		// A pending delta must not keep a closing process alive.
		state.timer.unref?.();
	}

	return {
		add(room, part) {
			if (closed) return;
			const state = stateOf(room);
			const pending = (state.pending ??= {
				points: new Map(),
				readings: new Map(),
				alarms: new Map(),
				characteristics: new Map(),
				sources: new Map()
			});
			for (const [characteristicId, points] of part.points ?? []) {
				if (points.length === 0) continue;
				let list = pending.points.get(characteristicId);
				if (!list) pending.points.set(characteristicId, (list = []));
				for (const point of points) list.push(point);
				const excess = list.length - options.maxPointsPerCharacteristic;
				if (excess > 0) list.splice(0, excess);
			}
			for (const [characteristicId, readings] of part.readings ?? []) {
				if (readings.length === 0) continue;
				let list = pending.readings.get(characteristicId);
				if (!list) pending.readings.set(characteristicId, (list = []));
				mergeReadings(list, readings, options.maxReadingsPerCharacteristic);
			}
			for (const alarm of part.alarms ?? []) pending.alarms.set(alarm.id, alarm);
			for (const config of part.characteristics ?? [])
				pending.characteristics.set(config.id, config);
			for (const [name, seenAt] of Object.entries(part.sources ?? {})) {
				pending.sources.set(name, Math.max(seenAt, pending.sources.get(name) ?? -Infinity));
			}
			schedule(state);
		},
		watched: (room) => options.hasMembers(room),
		seq: (room) => states.get(room)?.seq ?? 0,
		pending(room) {
			const pending = states.get(room)?.pending;
			if (!pending) return null;
			return {
				points: pending.points,
				readings: pending.readings,
				alarmIds: new Set(pending.alarms.keys())
			};
		},
		rooms: () =>
			[...states.values()].map((s) => ({ room: s.room, seq: s.seq, pending: s.pending !== null })),
		flushAll() {
			for (const state of states.values()) {
				if (!state.pending) continue;
				// Closing: emit now whatever the interval says.
				state.lastFlushAt = -Infinity;
				flush(state);
			}
		},
		close() {
			closed = true;
			for (const state of states.values()) {
				if (state.timer) clearTimeout(state.timer);
				state.timer = null;
				state.pending = null;
			}
		}
	};
}

const byKey = (a: StoredReading, b: StoredReading) => a.ts - b.ts || a.seq - b.seq;

/**
 * Appends `incoming` to `list` keeping it oldest first by sample key and at most `max` long
 * (the newest). Batches normally arrive in time order, so this is an append; a batch older
 * than what is pending (a spool replay after live data) costs one sort.
 */
function mergeReadings(
	list: StoredReading[],
	incoming: readonly StoredReading[],
	max: number
): void {
	let ordered = true;
	for (const reading of incoming) {
		const last = list.at(-1);
		if (last && byKey(last, reading) > 0) ordered = false;
		list.push(reading);
	}
	if (!ordered) list.sort(byKey);
	const excess = list.length - max;
	if (excess > 0) list.splice(0, excess);
}
