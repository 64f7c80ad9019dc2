/**
 * The worker side of the benchmarks: the real /ingest client (workers/lib/ingest-client.ts)
 * over the real durable spool (workers/lib/spool.ts) in a scratch folder — the path a
 * simulator's batches take — plus a quiet logger that still surfaces warnings.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { IngestConfig } from '../../src/lib/realtime/events';
import {
	createIngestClient,
	type IngestClient,
	type IngestLogger
} from '../../workers/lib/ingest-client';
import { openSpool, type Spool } from '../../workers/lib/spool';

const CONNECT_TIMEOUT_MS = 30_000;
/** Warnings printed per feed; beyond, only counted (a broken run must not flood the output). */
const MAX_PRINTED_WARNINGS = 5;

export interface WorkerFeed {
	client: IngestClient;
	spool: Spool;
	/** The configuration the hub pushed on connect. */
	config: IngestConfig;
	/** Warnings and errors the client logged (retries, refusals). */
	problems(): number;
	close(): Promise<void>;
}

/** Counts and prints (a few of) the client's warnings and errors until `closing` is set. */
function quietLogger(label: string): IngestLogger & { problems: number; closing: boolean } {
	const report = (level: string, obj: object, msg?: string) => {
		// Our own close() makes the client log a disconnect: not a problem of the run.
		if (log.closing) return;
		if (++log.problems <= MAX_PRINTED_WARNINGS) console.error(`  [${label}] ${level}: ${msg}`, obj);
	};
	const log = {
		problems: 0,
		closing: false,
		debug: () => undefined,
		info: () => undefined,
		warn: (obj: object, msg?: string) => report('warn', obj, msg),
		error: (obj: object, msg?: string) => report('error', obj, msg)
	};
	return log;
}

/**
 * Open a spool in a fresh temporary folder and connect an ingest client; resolves once the hub
 * has pushed its configuration (it does so on every connect), i.e. the socket is up.
 */
export async function openWorkerFeed(options: {
	hubUrl: string;
	token: string;
	maxInFlight: number;
	label: string;
}): Promise<WorkerFeed> {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'tracewall-bench-spool-'));
	const spool = await openSpool({ dir, maxBytes: 2 * 1024 * 1024 * 1024 });
	const log = quietLogger(options.label);
	let fatal: Error | null = null;
	let connected: (config: IngestConfig) => void = () => undefined;
	const configured = new Promise<IngestConfig>((resolve) => (connected = resolve));
	const client = createIngestClient({
		hubUrl: options.hubUrl,
		token: options.token,
		spool,
		log,
		maxInFlight: options.maxInFlight,
		onConfig: (config: IngestConfig) => connected(config),
		deadLetter: async (batch, reason) => {
			// A benchmark batch refused for good is a broken run: make it loud, keep nothing.
			console.error(`  [${options.label}] batch ${batch.batchId} refused: ${reason}`);
			return true;
		},
		onFatal: (error) => {
			fatal = error;
		}
	});
	const close = async () => {
		log.closing = true;
		await client.close();
		await spool.close();
		await rm(dir, { recursive: true, force: true });
	};
	let timer: NodeJS.Timeout | undefined;
	let config: IngestConfig;
	try {
		config = await Promise.race([
			configured,
			new Promise<never>((_, reject) => {
				timer = setTimeout(
					() => reject(fatal ?? new Error('ingest client did not connect in time')),
					CONNECT_TIMEOUT_MS
				);
			})
		]);
	} catch (error) {
		await close();
		throw error;
	} finally {
		clearTimeout(timer);
	}
	return { client, spool, config, problems: () => log.problems, close };
}
