/**
 * Prometheus metrics of one app instance, served as text by GET /metrics.
 *
 * A registry per instance, never prom-client's global one: tests start several apps in one
 * process and the Vite dev server reloads modules, and the global registry would throw
 * "metric already registered" or mix the counts of different instances.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REJECT_REASONS, type RejectReason } from '$lib/realtime/events';

export type RoomKind = 'line' | 'machine' | 'characteristic' | 'alarms';
export type Namespace = '/' | '/ingest';

export interface Metrics {
	registry: Registry;
	samplesIngested: Counter;
	samplesRejected: Counter<'reason'>;
	samplesQuarantined: Counter;
	/** Whole batches refused (malformed envelope, persist failure), by ack error code. */
	batchesRejected: Counter<'code'>;
	samplesDuplicate: Counter;
	batchPersistSeconds: Histogram;
	socketsConnected: Gauge<'namespace'>;
	roomMessages: Counter<'room_kind'>;
	/** Deliveries of a room delta skipped because the socket's write buffer was full. */
	slowSkips: Counter<'room_kind'>;
	ingestAuthFailures: Counter;
	/** Browser sockets refused (handshake or subscription), by reason. */
	socketRefusals: Counter<'reason'>;
	payloadTooLarge: Counter;
	/** Batches refused before persistence because the write queue was full. */
	ingestBackpressure: Counter;
	/**
	 * Production actions refused (run start, inspection result/confirmation, lot completion, …),
	 * by action and closed reason code (src/lib/server/production/errors.ts), from the station
	 * forms and the JSON API alike.
	 */
	productionRefusals: Counter<'action' | 'reason'>;
	/** Renders the Prometheus text exposition. */
	text(): Promise<string>;
	contentType: string;
}

export interface MetricsOptions {
	/** Node process metrics (heap, event-loop lag, …); off in tests to keep them cheap. */
	processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
	const registry = new Registry();
	if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'tracewall_' });

	const samplesRejected = new Counter({
		name: 'tracewall_samples_rejected_total',
		help: 'Samples refused at /ingest, by reason',
		labelNames: ['reason'] as const,
		registers: [registry]
	});
	// Zero series for every reason, so dashboards and alerts see 0 rather than "no data".
	for (const reason of REJECT_REASONS)
		samplesRejected.inc({ reason } satisfies { reason: RejectReason }, 0);

	const socketsConnected = new Gauge({
		name: 'tracewall_sockets_connected',
		help: 'Open socket.io connections, by namespace',
		labelNames: ['namespace'] as const,
		registers: [registry]
	});
	for (const namespace of ['/', '/ingest'] satisfies Namespace[])
		socketsConnected.set({ namespace }, 0);

	const roomMessages = new Counter({
		name: 'tracewall_room_messages_total',
		help: 'Coalesced deltas broadcast to rooms, by room kind',
		labelNames: ['room_kind'] as const,
		registers: [registry]
	});
	const slowSkips = new Counter({
		name: 'tracewall_room_slow_skips_total',
		help: 'Room deltas not delivered to a socket whose write buffer was full (it re-syncs by snapshot)',
		labelNames: ['room_kind'] as const,
		registers: [registry]
	});

	return {
		registry,
		samplesIngested: new Counter({
			name: 'tracewall_samples_ingested_total',
			help: 'Samples persisted (new rows)',
			registers: [registry]
		}),
		samplesRejected,
		batchesRejected: new Counter({
			name: 'tracewall_batches_rejected_total',
			help: 'Whole ingest batches refused (nothing persisted), by ack error code',
			labelNames: ['code'] as const,
			registers: [registry]
		}),
		samplesQuarantined: new Counter({
			name: 'tracewall_samples_quarantined_total',
			help: 'Samples whose key was already stored with a different value (quarantined, never overwritten)',
			registers: [registry]
		}),
		samplesDuplicate: new Counter({
			name: 'tracewall_samples_duplicate_total',
			help: 'Samples re-delivered with the same key and value (idempotent no-op)',
			registers: [registry]
		}),
		batchPersistSeconds: new Histogram({
			name: 'tracewall_batch_persist_seconds',
			help: 'Time to persist one ingest batch in its transaction',
			buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
			registers: [registry]
		}),
		socketsConnected,
		roomMessages,
		slowSkips,
		ingestAuthFailures: new Counter({
			name: 'tracewall_ingest_auth_failures_total',
			help: 'Worker connections refused at /ingest for a missing, wrong or revoked token',
			registers: [registry]
		}),
		socketRefusals: new Counter({
			name: 'tracewall_socket_refusals_total',
			help: 'Browser sockets refused: unauthenticated or expired (unauthorized), not allowed (forbidden), ended by an access change (disconnected)',
			labelNames: ['reason'],
			registers: [registry]
		}),
		payloadTooLarge: new Counter({
			name: 'tracewall_payload_too_large_total',
			help: 'Connections closed because a message exceeded INGEST_MAX_BATCH_BYTES',
			registers: [registry]
		}),
		ingestBackpressure: new Counter({
			name: 'tracewall_ingest_backpressure_total',
			help: 'Batches refused with "unavailable" because the persist queue was full',
			registers: [registry]
		}),
		productionRefusals: new Counter({
			name: 'tracewall_production_refusals_total',
			help: 'Production actions refused (uncertified operator, unvalidated material, overdue inspection, same person, forbidden, …), by action and reason',
			labelNames: ['action', 'reason'] as const,
			registers: [registry]
		}),
		text: () => registry.metrics(),
		contentType: registry.contentType
	};
}
