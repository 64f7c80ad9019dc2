/**
 * IPC between a benchmark (parent) and the hub it measures (a `tsx` child running
 * hub-server.ts), so the hub's CPU time is the child's alone and the load generator and the
 * 50 browser-like clients do not share its event loop.
 */
import type { CharacteristicConfig, LineInfo } from '../../src/lib/realtime/events';
import type { RawMethod } from './raw-insert';
import type { RowSpec } from './rows';

/** Passed to the child as JSON in BENCH_HUB_CONFIG. */
export interface HubServerConfig {
	/** PostgreSQL URL (a scratch database); absent → in-memory PGlite. */
	databaseUrl?: string;
	fanoutIntervalMs?: number;
}

export interface HubReady {
	type: 'ready';
	port: number;
	databaseKind: 'postgres' | 'pglite';
	/** A worker token registered for this run. */
	token: string;
	/** Cookie of a wall screen paired for every line: how the bench's browsers authenticate. */
	viewerCookie: string;
	lines: LineInfo[];
	characteristics: CharacteristicConfig[];
}

export type HubCommand =
	| { cmd: 'cpu' }
	| { cmd: 'count' }
	| { cmd: 'truncate' }
	| { cmd: 'raw'; method: RawMethod; spec: RowSpec; batchSize: number }
	| { cmd: 'stop' };

export interface CpuReading {
	/** process.cpuUsage() of the hub process, µs. */
	userMicros: number;
	systemMicros: number;
	/** Monotonic time of the reading in the hub process, ms. */
	atMs: number;
}

export interface HubReplies {
	cpu: CpuReading;
	count: number;
	truncate: null;
	raw: { ms: number; rows: number };
	stop: null;
}

export type HubRequest = HubCommand & { id: number };

export type HubResponse =
	{ id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
