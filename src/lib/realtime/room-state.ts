/**
 * What a browser holds of one subscribed room, and the rules for changing it: a snapshot replaces
 * everything, deltas apply strictly in sequence, and anything that breaks the sequence asks for a
 * fresh snapshot instead of guessing. Pure (no socket, no timers, no runes), so the ordering and
 * bounding rules are unit-tested; `client.svelte.ts` drives it from the socket.
 */
import type {
	CharacteristicConfig,
	LineInfo,
	LiveAlarm,
	LivePoint,
	LiveReading,
	MachineInfo,
	RoomDelta,
	RoomSnapshot
} from './events';
import { LIVE_WINDOW, READINGS_WINDOW } from './events';
import { PointWindow, type WindowLimits } from './ring-buffer';

/**
 * Alarms kept per room (by latest activity). Enough for the banner and the violation markers of a
 * 15-minute window; older ones stay in the database, where the alarm pages read them.
 */
export const MAX_ROOM_ALARMS = 500;

/** Outcome of applying one delta. */
export type DeltaOutcome =
	/** Applied in sequence. */
	| 'applied'
	/** Already covered by the snapshot or an earlier delta: dropped. */
	| 'duplicate'
	/** A sequence number was skipped (or no snapshot yet): the caller must re-subscribe. */
	| 'gap';

export class RoomState {
	/** Sequence number of the last snapshot or delta applied; null before the first snapshot. */
	seq: number | null = null;
	line: LineInfo | null = null;
	readonly machines = new Map<number, MachineInfo>();
	readonly characteristics = new Map<number, CharacteristicConfig>();
	readonly windows = new Map<number, PointWindow>();
	/** Raw readings of subgroup/attribute characteristics (for tiles; charts plot `windows`). */
	readonly readingWindows = new Map<number, PointWindow<LiveReading>>();
	readonly alarms = new Map<number, LiveAlarm>();
	sourcesSeenAt: Record<string, number> = {};
	/** serverTime − local receive time of the last message: corrects this screen's clock. */
	clockOffsetMs = 0;
	/** Characteristic ids whose points or configuration changed since the last `takeChanges`. */
	readonly #changed = new Set<number>();
	/** Characteristic ids with new raw readings since the last `takeChanges`. */
	readonly #changedReadings = new Set<number>();
	#alarmsChanged = false;

	constructor(
		readonly windowLimits: WindowLimits = LIVE_WINDOW,
		readonly readingLimits: WindowLimits = READINGS_WINDOW
	) {}

	/** Replaces the whole room with a snapshot. */
	applySnapshot(snapshot: RoomSnapshot, receivedAt: number): void {
		this.seq = snapshot.seq;
		this.clockOffsetMs = snapshot.serverTime - receivedAt;
		this.line = snapshot.line;
		this.machines.clear();
		for (const machine of snapshot.machines) this.machines.set(machine.id, machine);
		this.characteristics.clear();
		for (const config of snapshot.characteristics) this.characteristics.set(config.id, config);
		// Windows of characteristics that left the room go; the others are refilled in place.
		for (const id of this.windows.keys()) {
			if (!this.characteristics.has(id)) this.windows.delete(id);
		}
		for (const id of this.readingWindows.keys()) {
			if (!this.characteristics.has(id)) this.readingWindows.delete(id);
		}
		// A hub that predates raw readings sends none: tiles then follow the plotted points.
		const readings = snapshot.readings ?? {};
		for (const id of this.characteristics.keys()) {
			this.#window(id).replace(snapshot.points[id] ?? [], snapshot.serverTime);
			this.#changed.add(id);
			const raw = readings[id];
			if (raw !== undefined) {
				this.#readingWindow(id).replace(raw, snapshot.serverTime);
			} else {
				this.readingWindows.delete(id);
			}
			this.#changedReadings.add(id);
		}
		this.alarms.clear();
		this.#mergeAlarms(snapshot.alarms);
		this.sourcesSeenAt = { ...snapshot.sourcesSeenAt };
	}

	/** Applies one delta if it is the next in sequence. */
	applyDelta(delta: RoomDelta, receivedAt: number): DeltaOutcome {
		if (this.seq === null) return 'gap';
		if (delta.seq <= this.seq) return 'duplicate';
		if (delta.seq !== this.seq + 1) return 'gap';
		this.seq = delta.seq;
		this.clockOffsetMs = delta.serverTime - receivedAt;
		for (const config of delta.characteristics) {
			this.characteristics.set(config.id, config);
			this.#changed.add(config.id);
		}
		for (const [key, points] of Object.entries(delta.points)) {
			const id = Number(key);
			// Points of a characteristic the snapshot did not announce cannot be drawn or named.
			if (!this.characteristics.has(id)) continue;
			if (this.#window(id).append(points, delta.serverTime) > 0) this.#changed.add(id);
		}
		for (const [key, readings] of Object.entries(delta.readings ?? {})) {
			const id = Number(key);
			if (!this.characteristics.has(id)) continue;
			if (this.#readingWindow(id).append(readings, delta.serverTime) > 0) {
				this.#changedReadings.add(id);
			}
		}
		this.#mergeAlarms(delta.alarms);
		this.sourcesSeenAt = { ...this.sourcesSeenAt, ...delta.sourcesSeenAt };
		return 'applied';
	}

	/** Ages points out of every window; marks the windows that lost points as changed. */
	prune(now: number): void {
		for (const [id, window] of this.windows) {
			const before = window.length;
			window.prune(now);
			if (window.length !== before) this.#changed.add(id);
		}
		for (const [id, window] of this.readingWindows) {
			const before = window.length;
			window.prune(now);
			if (window.length !== before) this.#changedReadings.add(id);
		}
	}

	/** Changed characteristic ids (points, readings) and whether alarms changed, since the last call. */
	takeChanges(): { characteristics: Set<number>; readings: Set<number>; alarms: boolean } {
		const characteristics = new Set(this.#changed);
		const readings = new Set(this.#changedReadings);
		const alarms = this.#alarmsChanged;
		this.#changed.clear();
		this.#changedReadings.clear();
		this.#alarmsChanged = false;
		return { characteristics, readings, alarms };
	}

	points(id: number): LivePoint[] {
		return this.windows.get(id)?.toArray() ?? [];
	}

	latest(id: number): LivePoint | undefined {
		return this.windows.get(id)?.newest();
	}

	/** Raw readings of a subgroup/attribute characteristic; undefined where the hub sends none. */
	readings(id: number): LiveReading[] | undefined {
		return this.readingWindows.get(id)?.toArray();
	}

	latestReading(id: number): LiveReading | undefined {
		return this.readingWindows.get(id)?.newest();
	}

	#window(id: number): PointWindow {
		let window = this.windows.get(id);
		if (window === undefined) {
			window = new PointWindow(this.windowLimits);
			this.windows.set(id, window);
		}
		return window;
	}

	#readingWindow(id: number): PointWindow<LiveReading> {
		let window = this.readingWindows.get(id);
		if (window === undefined) {
			window = new PointWindow<LiveReading>(this.readingLimits);
			this.readingWindows.set(id, window);
		}
		return window;
	}

	#mergeAlarms(alarms: readonly LiveAlarm[]): void {
		if (alarms.length === 0) return;
		for (const alarm of alarms) {
			this.alarms.set(alarm.id, alarm);
			// A missed-inspection alarm marks no chart.
			if (alarm.characteristicId !== null) this.#changed.add(alarm.characteristicId);
		}
		this.#alarmsChanged = true;
		if (this.alarms.size <= MAX_ROOM_ALARMS) return;
		// Over the bound: keep the newest. Sorting only happens on overflow, which is rare.
		const oldestFirst = [...this.alarms.values()].sort(
			(a, b) => a.lastTs - b.lastTs || a.id - b.id
		);
		for (const alarm of oldestFirst.slice(0, this.alarms.size - MAX_ROOM_ALARMS)) {
			this.alarms.delete(alarm.id);
		}
	}
}
