/**
 * The demo plant simulator worker: one process that plays every machine of DEMO_PLANT.
 *
 *   config from the hub → engine (generator + SPC monitor per characteristic)
 *   → batch every TICK_MS → durable spool (fsynced) → /ingest with acks → spool deletes
 *
 * Run: `TRACEWALL_WORKER_TOKEN=… npx tsx workers/simulator.ts` (env: workers/lib/env.ts).
 * Exit codes: 0 after SIGTERM/SIGINT (orderly stop), 1 on a fatal error (bad environment,
 * token refused, spool unusable), 2 when a second signal forces an immediate exit.
 *
 * Stop order on SIGTERM/SIGINT: stop generating → put the last batch into the spool → save the
 * state (seq, timestamps, monitors) → give in-flight and spooled batches up to
 * SHUTDOWN_DRAIN_MS to be acknowledged → close the socket → close the spool → exit 0. What is
 * not acknowledged by then stays in the spool and is sent by the next start.
 *
 * Everything imported here uses relative paths: tsx does not know SvelteKit's `$lib` alias.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IngestBatch, IngestConfig } from '../src/lib/realtime/events';
import { createDeadLetterStore } from './lib/dead-letter';
import { WorkerEnvError, parseWorkerEnv, type WorkerEnv } from './lib/env';
import { createIngestClient, type IngestClient } from './lib/ingest-client';
import { createWorkerLog, type WorkerLog } from './lib/log';
import { createSimEngine, simStateSchema, type SimEngine, type SimState } from './lib/sim-engine';
import { SpoolFullError, openSpool, type Spool } from './lib/spool';
import { readStateFile, writeStateFile } from './lib/state-file';

/** Real ms between two batches: ≤ 10 Hz of messages, small enough for a live wall. */
export const TICK_MS = 200;
/** Real ms between two saves of the state file (and at shutdown). */
export const STATE_SAVE_MS = 1000;
export const SHUTDOWN_DRAIN_MS = 5000;
const STATS_LOG_MS = 60_000;
const CONFIG_RETRY_MS = 3000;
/**
 * Free spool space (bytes) required to keep acquiring: a few batches' worth (a batch is ~2-30 KB
 * at speed 1-10), but never more than an eighth of a small spool.
 */
const SPOOL_HEADROOM = 256 * 1024;

export interface Simulator {
	/** Resolves when the simulator stopped; rejects on a fatal error. */
	readonly done: Promise<void>;
	stop(reason: string): Promise<void>;
	engine(): SimEngine | null;
	client: IngestClient;
	spool: Spool;
}

/** Starts a simulator; `main()` wraps it with signals and exit codes, tests use it directly. */
export async function startSimulator(env: WorkerEnv, log: WorkerLog): Promise<Simulator> {
	const dir = env.TRACEWALL_SPOOL_DIR;
	const spool = await openSpool({ dir, maxBytes: env.TRACEWALL_SPOOL_MAX_BYTES, log });
	const stateFile = path.join(dir, 'sim-state.json');
	const read = await readStateFile(stateFile, simStateSchema);
	let resume: SimState | null = null;
	if (read.kind === 'ok') {
		resume = read.value;
		if (resume.seed !== env.TRACEWALL_SIM_SEED) {
			log.info(
				{ saved: resume.seed, now: env.TRACEWALL_SIM_SEED },
				'seed changed since the last run; sequence numbers still continue'
			);
		}
	} else if (read.kind === 'corrupt') {
		log.warn({ file: stateFile, error: read.error }, 'state file unreadable; monitors start fresh');
	}
	const deadLetters = createDeadLetterStore(path.join(dir, 'dead-letter'));

	let engine: SimEngine | null = null;
	let stopping = false;
	let fatal: ((e: Error) => void) | null = null;
	let finished: (() => void) | null = null;
	const done = new Promise<void>((resolve, reject) => {
		finished = resolve;
		fatal = reject;
	});
	let tickTimer: NodeJS.Timeout | null = null;
	/** The tick in progress, if any: shutdown waits for it so a batch is never spooled twice. */
	let ticking: Promise<void> | null = null;
	let configTimer: NodeJS.Timeout | null = null;
	let statsTimer: NodeJS.Timeout | null = null;
	let lastStateSave = 0;
	/** A batch generated but refused by a full spool: held (one at most) until it fits. */
	let held: IngestBatch | null = null;
	let spoolFullSince: number | null = null;
	let spoolFullEvents = 0;

	function onConfig(config: IngestConfig): void {
		if (stopping) return;
		if (!engine) {
			const startMs = Date.now();
			engine = createSimEngine({
				seed: env.TRACEWALL_SIM_SEED,
				speed: env.TRACEWALL_SIM_SPEED,
				startMs,
				resume,
				log
			});
			const r = engine.applyConfig(config);
			log.info(
				{
					revision: config.revision,
					characteristics: r.active.length,
					unconfigured: r.unconfigured.length,
					seed: env.TRACEWALL_SIM_SEED,
					speed: env.TRACEWALL_SIM_SPEED,
					startMs
				},
				'configuration received; simulation starts (simulated time 0)'
			);
			if (r.unconfigured.length > 0) {
				log.warn(
					{ codes: r.unconfigured.slice(0, 20) },
					'demo characteristics unknown to the hub are not simulated'
				);
			}
			scheduleTick();
			return;
		}
		const r = engine.applyConfig(config);
		log.info(
			{ revision: config.revision, monitorsChanged: r.monitorsChanged },
			'configuration applied live'
		);
	}

	const client = createIngestClient({
		hubUrl: env.TRACEWALL_HUB_URL,
		token: env.TRACEWALL_WORKER_TOKEN,
		spool,
		log,
		onConfig,
		deadLetter: async (batch, reason) => {
			try {
				const stored = await deadLetters.store(batch, reason);
				if (!stored)
					log.error({ batchId: batch.batchId }, 'dead-letter store full; batch stays in the spool');
				return stored;
			} catch (error) {
				log.error(
					{ err: error, batchId: batch.batchId },
					'dead-letter store failed; batch stays in the spool'
				);
				return false;
			}
		},
		onFatal: (error) => {
			log.fatal({ err: error.message }, 'giving up');
			void shutdown('fatal', error);
		}
	});

	// config:update arrives on connect; ask explicitly too, in case it was missed.
	configTimer = setInterval(() => {
		if (engine || stopping || !client.stats().connected) return;
		client
			.requestConfig()
			.then(onConfig, (error: unknown) =>
				log.warn({ err: (error as Error).message }, 'config:get failed; will retry')
			);
	}, CONFIG_RETRY_MS);

	statsTimer = setInterval(() => {
		log.info(
			{ engine: engine?.stats(), ingest: client.stats(), spool: spool.stats(), spoolFullEvents },
			'simulator statistics'
		);
	}, STATS_LOG_MS);
	statsTimer.unref();

	function scheduleTick(): void {
		if (stopping) return;
		tickTimer = setTimeout(() => {
			ticking = tick();
			ticking.then(scheduleTick, (error: unknown) => {
				log.fatal({ err: error }, 'simulator tick failed');
				void shutdown('fatal', error instanceof Error ? error : new Error(String(error)));
			});
		}, TICK_MS);
	}

	/** Put the held batch into the spool; false (and keep holding it) while the spool is full. */
	async function spoolHeld(): Promise<boolean> {
		if (!held) return true;
		try {
			await spool.append(held);
			held = null;
			client.kick();
			return true;
		} catch (error) {
			if (error instanceof SpoolFullError) return false;
			throw error;
		}
	}

	async function tick(): Promise<void> {
		if (!engine || stopping) return;
		const now = Date.now();
		const headroom = Math.min(SPOOL_HEADROOM, Math.floor(env.TRACEWALL_SPOOL_MAX_BYTES / 8));
		const roomy = (await spoolHeld()) && spool.hasRoomFor(headroom);
		if (!roomy && spoolFullSince === null) {
			spoolFullSince = now;
			spoolFullEvents++;
			log.error(
				{ spool: spool.stats(), events: spoolFullEvents },
				'spool full: acquisition stopped until the hub acknowledges batches (nothing is dropped)'
			);
		} else if (roomy && spoolFullSince !== null) {
			log.warn(
				{ stoppedMs: now - spoolFullSince, notAcquired: engine.stats().notAcquired },
				'spool has room again: acquisition resumed'
			);
			spoolFullSince = null;
		}
		const batch = engine.step(now, roomy);
		if (batch) {
			held = batch;
			await spoolHeld();
		}
		if (now - lastStateSave >= STATE_SAVE_MS) await saveState(now);
	}

	async function saveState(now: number): Promise<void> {
		if (!engine) return;
		lastStateSave = now;
		await writeStateFile(stateFile, engine.state(now));
	}

	let shutdownPromise: Promise<void> | null = null;
	/** Stops in order; `error` makes `done` reject (fatal) instead of resolve. */
	function shutdown(reason: string, error?: Error): Promise<void> {
		shutdownPromise ??= (async () => {
			stopping = true;
			log.info({ reason }, 'stopping');
			if (tickTimer) clearTimeout(tickTimer);
			if (configTimer) clearInterval(configTimer);
			if (statsTimer) clearInterval(statsTimer);
			try {
				// Its failure was already reported by scheduleTick; only its completion matters here.
				await ticking?.then(
					() => undefined,
					() => undefined
				);
				if (!(await spoolHeld())) {
					log.error(
						{ batchId: held?.batchId },
						'spool full at shutdown: the last batch could not be kept'
					);
				}
				await saveState(Date.now());
				if (!error) {
					const drained = await client.drain(SHUTDOWN_DRAIN_MS);
					log.info(
						{ drained, unacked: spool.unacked().length },
						drained
							? 'every batch acknowledged'
							: 'unacknowledged batches stay in the spool for the next start'
					);
				}
			} catch (failure) {
				log.error({ err: failure }, 'stopping did not complete cleanly');
			} finally {
				await client.close();
				await spool.close();
				log.info({ ingest: client.stats(), engine: engine?.stats() }, 'stopped');
				if (error) fatal?.(error);
				else finished?.();
			}
		})();
		return shutdownPromise;
	}

	return { done, stop: (reason) => shutdown(reason), engine: () => engine, client, spool };
}

export async function main(): Promise<number> {
	let env: WorkerEnv;
	try {
		env = parseWorkerEnv();
	} catch (error) {
		if (error instanceof WorkerEnvError) {
			process.stderr.write(`${error.message}\n`);
			return 1;
		}
		throw error;
	}
	const log = createWorkerLog(env.LOG_LEVEL, env.TRACEWALL_WORKER_NAME);
	log.info(
		{ hub: env.TRACEWALL_HUB_URL, spool: env.TRACEWALL_SPOOL_DIR, seed: env.TRACEWALL_SIM_SEED },
		'simulator starting'
	);
	let sim: Simulator;
	try {
		sim = await startSimulator(env, log);
	} catch (error) {
		log.fatal({ err: error }, 'simulator could not start');
		return 1;
	}
	let signals = 0;
	const onSignal = (signal: NodeJS.Signals): void => {
		signals++;
		if (signals > 1) {
			log.warn({ signal }, 'second signal: exiting now');
			process.exit(2);
		}
		void sim.stop(signal);
	};
	process.on('SIGTERM', onSignal);
	process.on('SIGINT', onSignal);
	// Started with an IPC channel (npm start): the channel closes when the supervisor dies, even
	// by SIGKILL, and the worker then stops in order instead of living on as an orphan.
	if (process.send) {
		process.once('disconnect', () => {
			log.warn('supervisor went away: stopping');
			void sim.stop('SIGTERM');
		});
	}
	try {
		await sim.done;
		return 0;
	} catch (error) {
		log.fatal({ err: error }, 'simulator failed');
		return 1;
	}
}

// Run when executed directly (tsx workers/simulator.ts), not when imported by tests.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	main().then(
		(code) => process.exit(code),
		(error: unknown) => {
			process.stderr.write(`simulator crashed: ${String(error)}\n`);
			process.exit(1);
		}
	);
}
