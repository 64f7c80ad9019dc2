/**
 * What every socket handler receives: the hub's shared services. Handlers get this object
 * instead of reaching for module state, so tests and several hubs in one process stay apart.
 */
import type { Server, Socket } from 'socket.io';
import type {
	Ack,
	AckCallback,
	ErrorCode,
	IngestClientToServer,
	IngestServerToClient,
	LiveClientToServer,
	LiveServerToClient
} from '$lib/realtime/events';
import type { Database } from '../db';
import type { Log } from '../log';
import type { Metrics } from '../metrics';
import type { ConfigState } from './config-state';
import type { Coalescer } from './fanout';
import type { Presence, WorkerIdentity } from './presence';
import type { SerialQueue } from './queue';

export interface IngestSocketData {
	worker: WorkerIdentity;
}

export type LiveSocket = Socket<LiveClientToServer, LiveServerToClient>;
export type IngestSocket = Socket<
	IngestClientToServer,
	IngestServerToClient,
	Record<string, never>,
	IngestSocketData
>;
export type LiveServer = Server<LiveClientToServer, LiveServerToClient>;

export interface HubLimits {
	maxFutureMs: number;
	maxAgeMs: number;
	/** Rooms one browser socket may be in at once. */
	maxRoomsPerSocket: number;
}

export interface HubContext {
	database: Database;
	log: Log;
	metrics: Metrics;
	clock: () => number;
	limits: HubLimits;
	/** Serialises batch persists and snapshot reads (see queue.ts for why). */
	queue: SerialQueue;
	coalescer: Coalescer;
	config: ConfigState;
	presence: Presence;
}

/** The ack as a typed function, or null when the client sent none (nothing to answer). */
export function replier<T>(ack: unknown): AckCallback<T> | null {
	return typeof ack === 'function' ? (ack as AckCallback<T>) : null;
}

export function failure(error: ErrorCode, message?: string): Ack<never> {
	return message === undefined ? { ok: false, error } : { ok: false, error, message };
}
