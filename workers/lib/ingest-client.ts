/**
 * The worker's side of the hub's `/ingest` namespace (src/lib/realtime/events.ts):
 * authenticates with the worker token, receives the configuration, and sends the spool's
 * batches with acknowledgements.
 *
 * Delivery is at-least-once, made exactly-once in effect by the hub's natural keys:
 * - A batch leaves the spool only when the hub acknowledged it (after its transaction
 *   committed). Everything else — a timeout, a disconnect, `unavailable` — leaves it in the
 *   spool, and it is sent again, with the same batchId, after a backoff or a reconnect; the spool
 *   itself carries unacknowledged batches across restarts.
 * - At most `maxInFlight` batches await an ack at once, oldest first, so a reconnect after an
 *   outage drains the backlog at a pace the hub can take instead of flooding it.
 * - Emits happen only while connected: socket.io-client would otherwise buffer them in memory
 *   without bound, and the spool is the buffer.
 * - A batch the hub refuses for good (`bad_request`, `payload_too_large`: sending it again
 *   cannot succeed) is handed to `deadLetter` — kept on disk for investigation, logged and
 *   counted — and only then removed from the spool. Never dropped silently.
 */
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import type {
	Ack,
	IngestBatch,
	IngestClientToServer,
	IngestConfig,
	IngestResult,
	IngestServerToClient
} from '../../src/lib/realtime/events';
import type { Spool, SpoolEntry } from './spool';

export interface IngestLogger {
	debug(obj: object, msg?: string): void;
	info(obj: object, msg?: string): void;
	warn(obj: object, msg?: string): void;
	error(obj: object, msg?: string): void;
}

export interface IngestClientOptions {
	/** Hub base URL, e.g. http://127.0.0.1:3000; the namespace `/ingest` is appended. */
	hubUrl: string;
	token: string;
	spool: Spool;
	log: IngestLogger;
	/** Called with every configuration newer than the last one seen (by `revision`). */
	onConfig(config: IngestConfig): void;
	/**
	 * Keeps a batch the hub refused for good; resolves true once it is safely stored. While it
	 * resolves false (or throws) the batch stays in the spool.
	 */
	deadLetter(batch: IngestBatch, reason: string): Promise<boolean>;
	/** Called once when the client gives up for good (e.g. the token is refused repeatedly). */
	onFatal(error: Error): void;
	maxInFlight?: number;
	ackTimeoutMs?: number;
	backoffMinMs?: number;
	backoffMaxMs?: number;
	/** Consecutive `unauthorized` refusals before `onFatal` (default 5). */
	maxAuthFailures?: number;
}

export interface IngestClientStats {
	connected: boolean;
	inFlight: number;
	sent: number;
	acked: number;
	retries: number;
	deadLettered: number;
	/** Samples the hub refused individually (kept in the dead-letter store). */
	samplesRejected: number;
	configRevision: number | null;
}

export interface IngestClient {
	/** Something was appended to the spool: send it when a slot is free. */
	kick(): void;
	/** Ask the hub for the current configuration (also pushed on connect and on change). */
	requestConfig(): Promise<IngestConfig>;
	/** Resolves true once the spool holds nothing unacknowledged, false at the deadline. */
	drain(timeoutMs: number): Promise<boolean>;
	stats(): IngestClientStats;
	/** Disconnects; whatever is unacknowledged stays in the spool for the next start. */
	close(): Promise<void>;
}

/** Refusals that will not change by sending the same batch again. */
const PERMANENT_ERRORS = new Set(['bad_request', 'payload_too_large']);

const ackSchema = z.union([
	z.object({
		ok: z.literal(true),
		data: z.object({
			batchId: z.string(),
			accepted: z.number(),
			duplicates: z.number(),
			quarantined: z.number(),
			rejected: z.array(z.object({ index: z.number(), reason: z.string() }))
		})
	}),
	z.object({ ok: z.literal(false), error: z.string(), message: z.string().optional() })
]);

const configSchema = z.object({
	revision: z.number(),
	characteristics: z.array(z.object({ id: z.number(), code: z.string() }).passthrough())
});

type IngestSocket = Socket<IngestServerToClient, IngestClientToServer>;

export function createIngestClient(options: IngestClientOptions): IngestClient {
	const {
		spool,
		log,
		maxInFlight = 4,
		ackTimeoutMs = 15_000,
		backoffMinMs = 250,
		backoffMaxMs = 10_000,
		maxAuthFailures = 5
	} = options;
	const url = new URL('/ingest', options.hubUrl).toString();
	const socket: IngestSocket = io(url, {
		auth: { token: options.token },
		transports: ['websocket'],
		reconnection: true,
		reconnectionDelay: backoffMinMs,
		reconnectionDelayMax: backoffMaxMs,
		randomizationFactor: 0.5
	});

	const inFlight = new Set<string>();
	let closed = false;
	let retryTimer: NodeJS.Timeout | null = null;
	let reconnectTimer: NodeJS.Timeout | null = null;
	let failures = 0;
	let authFailures = 0;
	let configRevision: number | null = null;
	const counters = { sent: 0, acked: 0, retries: 0, deadLettered: 0, samplesRejected: 0 };
	const drainWaiters = new Set<(drained: boolean) => void>();

	function backoffMs(attempt: number): number {
		const base = Math.min(backoffMaxMs, backoffMinMs * 2 ** Math.min(attempt, 20));
		return Math.round(base * (0.75 + Math.random() * 0.5));
	}

	function notifyDrained(): void {
		if (spool.unacked().length > 0) return;
		for (const resolve of drainWaiters) resolve(true);
		drainWaiters.clear();
	}

	let filling = false;

	/**
	 * Fill the free in-flight slots, oldest batch first. Reads are awaited one by one so batches
	 * leave in spool order (concurrent reads could finish out of order); acks are not awaited.
	 */
	function pump(): void {
		if (filling) return;
		filling = true;
		void (async () => {
			try {
				while (!closed && socket.connected && !retryTimer && inFlight.size < maxInFlight) {
					const entry = spool.unacked().find((e) => !inFlight.has(e.batchId));
					if (!entry) break;
					inFlight.add(entry.batchId);
					let batch: IngestBatch;
					try {
						batch = await spool.read(entry);
					} catch (error) {
						log.error({ batchId: entry.batchId, err: error }, 'reading a spooled batch failed');
						inFlight.delete(entry.batchId);
						pauseAfterFailure();
						break;
					}
					void send(entry, batch);
				}
			} finally {
				filling = false;
			}
		})();
	}

	/** Pause sending after a failure; resend (oldest first) when the backoff elapses. */
	function pauseAfterFailure(): void {
		failures++;
		counters.retries++;
		if (retryTimer || closed) return;
		retryTimer = setTimeout(() => {
			retryTimer = null;
			pump();
		}, backoffMs(failures));
	}

	async function send(entry: SpoolEntry, batch: IngestBatch): Promise<void> {
		let outcome: 'acked' | 'retry' | 'dead' = 'retry';
		try {
			counters.sent++;
			let raw: Ack<IngestResult>;
			try {
				raw = await socket.timeout(ackTimeoutMs).emitWithAck('ingest:batch', batch);
			} catch (error) {
				// Timed out or disconnected: the hub may or may not have committed it; resending
				// is safe either way (same batchId, natural keys).
				log.warn(
					{ batchId: entry.batchId, err: (error as Error).message },
					'batch not acknowledged; will resend'
				);
				return;
			}
			const ack = ackSchema.safeParse(raw);
			if (!ack.success) {
				log.error({ batchId: entry.batchId }, 'hub answered a batch with a malformed ack');
				return;
			}
			if (ack.data.ok) {
				const result = ack.data.data;
				if (result.rejected.length > 0) {
					// The hub kept the good samples; keep the refused ones for investigation.
					const refused: IngestBatch = {
						...batch,
						samples: result.rejected.map((r) => batch.samples[r.index]).filter(Boolean),
						subgroups: [],
						violations: [],
						suspects: []
					};
					const reasons = [...new Set(result.rejected.map((r) => r.reason))].join(',');
					if (!(await options.deadLetter(refused, `samples rejected: ${reasons}`))) return;
					counters.samplesRejected += result.rejected.length;
					log.warn(
						{ batchId: entry.batchId, rejected: result.rejected.length, reasons },
						'hub refused some samples of a batch; kept in the dead-letter store'
					);
				}
				if (result.quarantined > 0) {
					log.warn(
						{ batchId: entry.batchId, quarantined: result.quarantined },
						'hub quarantined samples whose key was stored with a different value'
					);
				}
				outcome = 'acked';
				return;
			}
			const { error, message } = ack.data;
			if (PERMANENT_ERRORS.has(error)) {
				if (await options.deadLetter(batch, `${error}: ${message ?? ''}`)) {
					log.error(
						{ batchId: entry.batchId, error, message },
						'hub refused a batch for good; kept in the dead-letter store'
					);
					outcome = 'dead';
				}
				return;
			}
			log.warn({ batchId: entry.batchId, error, message }, 'hub could not take a batch now');
		} catch (error) {
			log.error({ batchId: entry.batchId, err: error }, 'sending a spooled batch failed');
		} finally {
			if (outcome !== 'retry') {
				try {
					await spool.ack(entry.batchId);
					failures = 0;
					if (outcome === 'acked') counters.acked++;
					else counters.deadLettered++;
				} catch (error) {
					log.error({ batchId: entry.batchId, err: error }, 'recording an ack in the spool failed');
					outcome = 'retry';
				}
			}
			inFlight.delete(entry.batchId);
			if (outcome === 'retry') pauseAfterFailure();
			notifyDrained();
			pump();
		}
	}

	socket.on('connect', () => {
		authFailures = 0;
		failures = 0;
		// A fresh connection is the retry: do not sit out a backoff armed by the old one's failures.
		if (retryTimer) {
			clearTimeout(retryTimer);
			retryTimer = null;
		}
		log.info({ url }, 'connected to the hub');
		pump();
	});

	socket.on('disconnect', (reason) => {
		// Pending acks are rejected by socket.io-client; those batches stay in the spool.
		log.warn({ reason }, 'disconnected from the hub');
		if (reason === 'io server disconnect' && !closed) scheduleReconnect();
	});

	socket.on('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
		const code = error.data?.code ?? error.message;
		if (socket.active) {
			// Transport-level failure: socket.io-client retries by itself with its backoff.
			log.debug({ err: error.message }, 'hub not reachable; retrying');
			return;
		}
		// Refused by the hub's middleware: socket.io-client does not retry these by itself.
		if (code === 'unauthorized' || code === 'forbidden') {
			authFailures++;
			log.error(
				{ code, message: error.data?.message, attempt: authFailures },
				'hub refused the worker token'
			);
			if (authFailures >= maxAuthFailures) {
				options.onFatal(new Error(`hub refused the worker token ${authFailures} times (${code})`));
				return;
			}
		} else {
			log.warn({ code, message: error.data?.message }, 'hub refused the connection; retrying');
		}
		scheduleReconnect();
	});

	function scheduleReconnect(): void {
		if (closed || reconnectTimer) return;
		reconnectTimer = setTimeout(
			() => {
				reconnectTimer = null;
				if (!closed) socket.connect();
			},
			backoffMs(authFailures + failures)
		);
	}

	socket.on('config:update', (payload) => {
		const parsed = configSchema.safeParse(payload);
		if (!parsed.success) {
			log.error({ issues: parsed.error.issues.slice(0, 5) }, 'ignoring a malformed config:update');
			return;
		}
		if (configRevision !== null && parsed.data.revision < configRevision) return;
		configRevision = parsed.data.revision;
		options.onConfig(payload);
	});

	return {
		kick: pump,
		async requestConfig() {
			const raw = await socket.timeout(ackTimeoutMs).emitWithAck('config:get', {});
			if (!raw.ok) throw new Error(`config:get refused: ${raw.error}`);
			const parsed = configSchema.safeParse(raw.data);
			if (!parsed.success) throw new Error('config:get answered with a malformed configuration');
			if (configRevision === null || raw.data.revision >= configRevision) {
				configRevision = raw.data.revision;
			}
			return raw.data;
		},
		drain(timeoutMs) {
			if (spool.unacked().length === 0) return Promise.resolve(true);
			return new Promise<boolean>((resolve) => {
				const done = (drained: boolean): void => {
					clearTimeout(timer);
					resolve(drained);
				};
				const timer = setTimeout(() => {
					drainWaiters.delete(done);
					resolve(spool.unacked().length === 0);
				}, timeoutMs);
				drainWaiters.add(done);
				pump();
			});
		},
		stats: () => ({
			connected: socket.connected,
			inFlight: inFlight.size,
			configRevision,
			...counters
		}),
		async close() {
			closed = true;
			if (retryTimer) clearTimeout(retryTimer);
			if (reconnectTimer) clearTimeout(reconnectTimer);
			retryTimer = reconnectTimer = null;
			socket.disconnect();
			for (const resolve of drainWaiters) resolve(spool.unacked().length === 0);
			drainWaiters.clear();
		}
	};
}
