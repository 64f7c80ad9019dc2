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
import type { Principal } from '../auth/policy';
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

/**
 * Who is behind a browser socket, set by the handshake. Devices are read-only by
 * construction: any future handler that changes something must call `requireUserSocket`.
 */
export interface LiveSocketData {
	principal: Exclude<Principal, { kind: 'anonymous' }>;
	/** The user session (SHA-256 id), null for a device. */
	sessionId: string | null;
}

export type LiveSocket = Socket<
	LiveClientToServer,
	LiveServerToClient,
	Record<string, never>,
	LiveSocketData
>;
export type IngestSocket = Socket<
	IngestClientToServer,
	IngestServerToClient,
	Record<string, never>,
	IngestSocketData
>;
export type LiveServer = Server<
	LiveClientToServer,
	LiveServerToClient,
	Record<string, never>,
	LiveSocketData
>;

/** Which lines a socket's principal may watch (line-scoped `live:view`). */
export interface LineAccess {
	/** `lineId` null: every line (the plant-wide alarms room). */
	mayView(socket: LiveSocket, lineId: number | null): boolean;
	/** Whether the line exists (as of the last configuration load). */
	knows(lineId: number): boolean;
}

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
	access: LineAccess;
}

/** For handlers that change anything: only a signed-in person, never a wall-screen device. */
export function requireUserSocket(socket: LiveSocket): boolean {
	return socket.data.principal.kind === 'user';
}

/** The ack as a typed function, or null when the client sent none (nothing to answer). */
export function replier<T>(ack: unknown): AckCallback<T> | null {
	return typeof ack === 'function' ? (ack as AckCallback<T>) : null;
}

export function failure(error: ErrorCode, message?: string): Ack<never> {
	return message === undefined ? { ok: false, error } : { ok: false, error, message };
}
