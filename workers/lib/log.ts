/**
 * Structured logs for worker processes: pino, JSON lines on stdout (the parent process or the
 * container runtime collects them). Pretty printing is for humans at a terminal:
 * `npx tsx workers/simulator.ts | npx pino-pretty`.
 */
import { pino, type Logger } from 'pino';

export type WorkerLog = Logger;

export function createWorkerLog(level: string, worker: string): WorkerLog {
	// ISO times like the hub's logs, so `npm start`'s interleaved output reads as one timeline.
	return pino({
		level,
		base: { worker, pid: process.pid },
		timestamp: pino.stdTimeFunctions.isoTime
	});
}
