/**
 * Worker presence: when each worker was last heard from, whether it is connected, and which
 * worker feeds which characteristic (for a room's `sourcesSeenAt`, so a wall can tell "the
 * machine is quiet" from "its data source is offline").
 *
 * Last-seen times change on every packet; writing each to the database would be a write per
 * heartbeat. They are kept in memory and flushed every few seconds (only the dirty ones), so
 * the database is at most one flush interval behind, and GET /api/health reads memory first.
 * Bounded: one entry per worker that authenticated, one per characteristic.
 */
import type { Log } from '../log';

export interface WorkerIdentity {
	id: number;
	name: string;
}

export interface WorkerPresence extends WorkerIdentity {
	lastSeenAt: number | null;
	connections: number;
}

export interface Presence {
	/** Loads last-seen times stored by earlier runs. */
	preload(workers: readonly { id: number; name: string; lastSeenAt: number | null }[]): void;
	connected(worker: WorkerIdentity, at: number): void;
	disconnected(worker: WorkerIdentity, at: number): void;
	seen(worker: WorkerIdentity, at: number): void;
	/** Records that `worker` sent data for these characteristics. */
	fed(worker: WorkerIdentity, characteristicIds: Iterable<number>): void;
	/** Worker name → last seen, for the workers that fed any of these characteristics. */
	sourcesFor(characteristicIds: Iterable<number>): Record<string, number>;
	list(): WorkerPresence[];
	/** Writes dirty last-seen times; resolves after the write. */
	flush(): Promise<void>;
	/** Flushes every `intervalMs` until `stop()`. */
	start(intervalMs: number): void;
	stop(): Promise<void>;
}

export function createPresence(deps: {
	log: Log;
	write(lastSeen: Map<number, number>): Promise<void>;
}): Presence {
	const workers = new Map<number, WorkerPresence>();
	const feeder = new Map<number, number>();
	const dirty = new Map<number, number>();
	let timer: ReturnType<typeof setInterval> | null = null;
	let inFlight: Promise<void> | null = null;

	function entry(worker: WorkerIdentity): WorkerPresence {
		let presence = workers.get(worker.id);
		if (!presence) {
			presence = { id: worker.id, name: worker.name, lastSeenAt: null, connections: 0 };
			workers.set(worker.id, presence);
		}
		return presence;
	}

	function touch(worker: WorkerIdentity, at: number) {
		const presence = entry(worker);
		if (presence.lastSeenAt === null || at > presence.lastSeenAt) {
			presence.lastSeenAt = at;
			dirty.set(worker.id, at);
		}
	}

	async function flush(): Promise<void> {
		// One write at a time; a flush requested during a write waits for it and then writes.
		while (inFlight) await inFlight;
		if (dirty.size === 0) return;
		const batch = new Map(dirty);
		dirty.clear();
		inFlight = deps.write(batch).then(
			() => undefined,
			(error: unknown) => {
				// Keep the times for the next attempt unless newer ones arrived meanwhile.
				for (const [id, at] of batch) if (!dirty.has(id)) dirty.set(id, at);
				deps.log.warn({ err: error }, 'presence: writing worker last-seen times failed');
			}
		);
		try {
			await inFlight;
		} finally {
			inFlight = null;
		}
	}

	return {
		preload(stored) {
			for (const w of stored) {
				const presence = entry(w);
				if (w.lastSeenAt !== null && (presence.lastSeenAt ?? -Infinity) < w.lastSeenAt) {
					presence.lastSeenAt = w.lastSeenAt;
				}
			}
		},
		connected(worker, at) {
			entry(worker).connections++;
			touch(worker, at);
		},
		disconnected(worker, at) {
			const presence = entry(worker);
			presence.connections = Math.max(0, presence.connections - 1);
			touch(worker, at);
		},
		seen: touch,
		fed(worker, characteristicIds) {
			for (const id of characteristicIds) feeder.set(id, worker.id);
		},
		sourcesFor(characteristicIds) {
			const out: Record<string, number> = {};
			for (const id of characteristicIds) {
				const workerId = feeder.get(id);
				const presence = workerId === undefined ? undefined : workers.get(workerId);
				if (presence && presence.lastSeenAt !== null) out[presence.name] = presence.lastSeenAt;
			}
			return out;
		},
		list: () => [...workers.values()].map((w) => ({ ...w })),
		flush,
		start(intervalMs) {
			if (timer) return;
			timer = setInterval(() => void flush(), intervalMs);
			timer.unref?.();
		},
		async stop() {
			if (timer) clearInterval(timer);
			timer = null;
			await flush();
		}
	};
}
