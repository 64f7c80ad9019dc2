/**
 * IPC with client-swarm.ts: N browser-like socket.io clients in their own process, so decoding
 * every delta for 50 clients neither starves the feeding worker of CPU nor counts as the hub's.
 */
import type { HistogramData } from './stats';

export interface SwarmConfig {
	url: string;
	lineId: number;
	clients: number;
	/** Cookie header of the principal the clients connect as (a paired screen). */
	cookie: string;
}

export type SwarmCommand =
	/** Count points created from `from` (epoch ms) on. */
	| { cmd: 'window-start'; from: number }
	/** …up to `to`; points received later still count (their lateness is the measurement). */
	| { cmd: 'window-end'; to: number }
	| { cmd: 'report' }
	| { cmd: 'stop' };

export interface SwarmReport {
	histogram: HistogramData;
	/** Window points received, summed over clients. */
	received: number;
	/** Deltas received while the window was open, summed over clients. */
	deltas: number;
	/** Deltas whose seq did not follow the previous one (the hub skipped a slow client). */
	gaps: number;
	/** CPU of the swarm process over the window, fraction of one core. */
	cpu: number;
}

export type SwarmMessage =
	| { type: 'ready' }
	| { type: 'failed'; error: string }
	| { type: 'ok'; cmd: SwarmCommand['cmd'] }
	| { type: 'report'; report: SwarmReport };
