/**
 * A real hub on a real HTTP server at port 0, over a real database (PGlite in memory or a
 * fresh PostgreSQL database), with real socket.io clients — shared by the hub-* and ingest-*
 * integration tests. Nothing here is mocked: the tests see what a worker and a wall see.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import type {
	Ack,
	IngestClientToServer,
	IngestConfig,
	IngestResult,
	RoomSnapshot,
	IngestServerToClient,
	LiveClientToServer,
	LiveServerToClient
} from '$lib/realtime/events';
import { createLog } from '$lib/server/log';
import { createMetrics, type Metrics } from '$lib/server/metrics';
import { seedDemoPlant } from '$lib/server/plant/service';
import { registerWorkerToken } from '$lib/server/plant/workers';
import { createHub, type Hub, type HubOptions } from '$lib/server/realtime/hub';
import { plantWideDevice } from '../factories/auth';
import {
	characteristicId,
	openTestDatabase,
	smallPlant,
	type Backend,
	type TestDatabase
} from '../factories/db';

export const WORKER_TOKEN = 'test-worker-token-0123456789abcdef';
export const WORKER_NAME = 'test-worker';

export type WorkerSocket = Socket<IngestServerToClient, IngestClientToServer>;
export type ViewerSocket = Socket<LiveServerToClient, LiveClientToServer>;

export interface TestHub {
	t: TestDatabase;
	hub: Hub;
	metrics: Metrics;
	httpServer: http.Server;
	url: string;
	ids: { temp: number; press: number; dia: number; leak: number };
	/** Cookie of a wall screen paired for every line: what viewerSocket sends by default. */
	viewerCookie: string;
	lineOf: (characteristicId: number) => number;
	machineOf: (characteristicId: number) => number;
	close(): Promise<void>;
}

export async function startTestHub(
	backend: Backend,
	options: Partial<HubOptions> = {}
): Promise<TestHub> {
	const t = await openTestDatabase(backend);
	await seedDemoPlant(t.database, smallPlant());
	await registerWorkerToken(t.database, WORKER_NAME, WORKER_TOKEN);
	const httpServer = http.createServer((_req, res) => {
		res.statusCode = 404;
		res.end();
	});
	await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
	const metrics = createMetrics();
	const hub = await createHub(httpServer, {
		database: t.database,
		log: createLog({ level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent' }),
		metrics,
		options
	});
	const { port } = httpServer.address() as AddressInfo;
	const viewer = await plantWideDevice(t.database);
	defaultViewerCookie = viewer.cookie;
	const ids = {
		temp: await characteristicId(t.database, 'L1.M1.TEMP'),
		press: await characteristicId(t.database, 'L1.M1.PRESS'),
		dia: await characteristicId(t.database, 'L1.M2.DIA'),
		leak: await characteristicId(t.database, 'L2.M1.LEAKFAIL')
	};
	const placement = await t.database.query<{ id: number; machine_id: number; line_id: number }>(
		`SELECT c.id, c.machine_id, m.line_id FROM characteristic c JOIN machine m ON m.id = c.machine_id`
	);
	const byId = new Map(placement.map((p) => [p.id, p]));
	return {
		t,
		hub,
		metrics,
		httpServer,
		url: `http://127.0.0.1:${port}`,
		ids,
		viewerCookie: viewer.cookie,
		lineOf: (id) => byId.get(id)!.line_id,
		machineOf: (id) => byId.get(id)!.machine_id,
		async close() {
			try {
				await hub.close();
				httpServer.closeAllConnections();
				await new Promise<void>((resolve) => httpServer.close(() => resolve()));
			} finally {
				await t.dispose();
			}
		}
	};
}

const sockets = new Set<Socket>();
/** Set by startTestHub: one test hub per file at a time. */
let defaultViewerCookie: string | null = null;

/** Disconnects every client a test opened (call in afterEach). */
export function disconnectAll(): void {
	for (const socket of sockets) socket.disconnect();
	sockets.clear();
}

export function workerSocket(url: string, token: string | null = WORKER_TOKEN): WorkerSocket {
	const socket: WorkerSocket = connect(`${url}/ingest`, {
		auth: token === null ? {} : { token },
		transports: ['websocket'],
		reconnection: false,
		forceNew: true
	});
	sockets.add(socket);
	return socket;
}

export function viewerSocket(
	url: string,
	options: {
		transports?: ('websocket' | 'polling')[];
		reconnection?: boolean;
		/** Cookie header; default: the test hub's plant-wide screen. null: anonymous. */
		cookie?: string | null;
		/** Origin header, as a browser on another site would send it. */
		origin?: string;
	} = {}
): ViewerSocket {
	const cookie = options.cookie === undefined ? defaultViewerCookie : options.cookie;
	const socket: ViewerSocket = connect(url, {
		extraHeaders: {
			...(cookie ? { cookie } : {}),
			...(options.origin ? { origin: options.origin } : {})
		},
		transports: options.transports ?? ['websocket'],
		reconnection: options.reconnection ?? false,
		reconnectionDelay: 50,
		forceNew: true
	});
	sockets.add(socket);
	return socket;
}

export function connected(socket: Socket): Promise<void> {
	if (socket.connected) return Promise.resolve();
	return new Promise((resolve, reject) => {
		socket.once('connect', () => resolve());
		socket.once('connect_error', reject);
	});
}

export function connectError(socket: Socket): Promise<Error & { data?: unknown }> {
	return new Promise((resolve, reject) => {
		socket.once('connect_error', (error) => resolve(error));
		socket.once('connect', () => reject(new Error('connected, expected connect_error')));
	});
}

/** Resolves with the first event's arguments; rejects after `timeoutMs`. */
export function waitFor<T>(socket: Socket, event: string, timeoutMs = 5000): Promise<T> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
		socket.once(event, (value: T) => {
			clearTimeout(timer);
			resolve(value);
		});
	});
}

/** Polls `predicate` until true or `timeoutMs` passes. */
export async function until(
	predicate: () => boolean | Promise<boolean>,
	timeoutMs = 5000,
	stepMs = 20
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await predicate())) {
		if (Date.now() > deadline) throw new Error('condition not met in time');
		await new Promise((r) => setTimeout(r, stepMs));
	}
}

/** `ingest:batch` with its ack typed (socket.io-client cannot infer it through `.timeout()`). */
export async function sendBatch(worker: WorkerSocket, batch: unknown): Promise<Ack<IngestResult>> {
	return (await worker.timeout(10_000).emitWithAck('ingest:batch', batch)) as Ack<IngestResult>;
}

export async function getConfig(
	worker: WorkerSocket,
	payload: unknown
): Promise<Ack<IngestConfig>> {
	return (await worker.timeout(10_000).emitWithAck('config:get', payload)) as Ack<IngestConfig>;
}

export async function subscribeRoom(
	viewer: ViewerSocket,
	room: unknown
): Promise<Ack<RoomSnapshot>> {
	return (await viewer.timeout(10_000).emitWithAck('subscribe', room)) as Ack<RoomSnapshot>;
}

export function unwrap<T>(ack: Ack<T>): T {
	if (!ack.ok) throw new Error(`ack failed: ${ack.error} ${ack.message ?? ''}`);
	return ack.data;
}

/** Current value of a counter or gauge (optionally one label set) in a metrics registry. */
export async function metricValue(
	metrics: Metrics,
	name: string,
	labels: Record<string, string> = {}
): Promise<number> {
	const metric = metrics.registry.getSingleMetric(name);
	if (!metric) throw new Error(`no metric ${name}`);
	const { values } = await metric.get();
	return values
		.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
		.reduce((sum, v) => sum + v.value, 0);
}

/** Rows stored for one characteristic (as epoch ms), oldest first. */
export async function storedSamples(t: TestDatabase, id: number) {
	return t.database.query<{ ts: number; seq: number; value: number; flags: number }>(
		`SELECT (extract(epoch from ts) * 1000)::float8 AS ts, seq::float8 AS seq, value, flags::int AS flags
		 FROM sample WHERE characteristic_id = $1 ORDER BY ts, seq`,
		[id]
	);
}
