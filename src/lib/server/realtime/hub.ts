/**
 * The hub: socket.io attached to an HTTP server, with two namespaces (events.ts):
 * - `/ingest`: workers authenticate with a token, send batches (persisted, acked, fanned out)
 *   and receive the configuration (on connect and on every `publishConfig()`);
 * - `/`: browsers subscribe to rooms, get a snapshot, then coalesced deltas.
 *
 * One `createHub(httpServer, deps)` serves the production server (server.js), the Vite dev
 * plugin and the tests. It owns timers (fan-out flushes, presence flushes, partition upkeep)
 * and stops them all in `close()`; it does not own the database or the HTTP server.
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type ExtendedError, type Namespace as IoNamespace } from 'socket.io';
import {
	LIVE_WINDOW,
	READINGS_WINDOW,
	type CharacteristicConfig,
	type ErrorCode,
	type IngestClientToServer,
	type IngestConfig,
	type IngestServerToClient,
	type LiveAlarm,
	type RoomDelta
} from '$lib/realtime/events';
import { DEVICE_COOKIE, SESSION_COOKIE, cookieFromHeader } from '../auth/cookies';
import { validateDeviceToken } from '../auth/devices';
import { authEvents, type AuthEvent } from '../auth/events';
import type { Role } from '$lib/auth/roles';
import { can, type Principal, type RoleGrantScope } from '../auth/policy';
import {
	DEFAULT_SESSION_SETTINGS,
	validateSessionToken,
	type SessionSettings
} from '../auth/sessions';
import type { Database } from '../db';
import type { Log } from '../log';
import type { Metrics, Namespace } from '../metrics';
import { loadIngestConfig } from '../plant/service';
import { returnQuietAlarms } from '../samples/snapshot';
import { authenticateWorker, touchWorkers, workersLastSeen } from '../plant/workers';
import { createConfigState } from './config-state';
import type {
	HubContext,
	IngestSocket,
	IngestSocketData,
	LiveServer,
	LiveSocket,
	LiveSocketData
} from './context';
import { createCoalescer } from './fanout';
import { handleConfigGet } from './handlers/config-get';
import { handleIngestBatch, type IngestState } from './handlers/ingest-batch';
import { handleLinesList } from './handlers/lines-list';
import { handleSubscribe } from './handlers/subscribe';
import { handleUnsubscribe } from './handlers/unsubscribe';
import { createPresence, type WorkerPresence } from './presence';
import { createSerialQueue, QueueClosedError, QueueFullError } from './queue';
import { alarmRooms, characteristicRooms, parseRoomName } from './rooms';

export const INGEST_NAMESPACE = '/ingest';

export interface HubOptions {
	/** INGEST_MAX_BATCH_BYTES: largest message accepted (socket.io maxHttpBufferSize). */
	maxBatchBytes: number;
	/** INGEST_MAX_FUTURE_MS / INGEST_MAX_AGE_MS: the accepted sample time window. */
	maxFutureMs: number;
	maxAgeMs: number;
	/** TRACEWALL_ALLOWED_ORIGINS: browser origins besides the server's own. */
	allowedOrigins: readonly string[];
	/** Minimum time between two deltas of one room (default 100 ms: ≤ 10 messages/s/room). */
	fanoutIntervalMs: number;
	/**
	 * A socket whose engine write buffer holds this many packets (or whose WebSocket has this
	 * many bytes unsent) is skipped for a flush: it is behind, and queueing more for it would
	 * grow memory without bound. It sees the seq gap and re-subscribes for a fresh snapshot.
	 */
	slowClientMaxPackets: number;
	slowClientMaxBytes: number;
	/** How often worker last-seen times are written to the database. */
	presenceFlushMs: number;
	/** How often the sample partitions ahead are ensured. */
	partitionsEveryMs: number;
	/**
	 * Persist/snapshot tasks allowed to wait; beyond, batches get `unavailable` (backpressure:
	 * the worker keeps them in its spool). Each waiting batch holds up to maxBatchBytes of
	 * memory, so this also bounds the hub's memory under a flood.
	 */
	queueLimit: number;
	maxRoomsPerSocket: number;
	/** An open alarm with no new violation for this long returns to normal. */
	alarmQuietMs: number;
	/** How often quiet alarms are looked for. */
	alarmSweepMs: number;
	/**
	 * How often open sockets are checked against the database: user sessions (idle or absolute
	 * expiry reached without a sign-out), grants, screens and workers (revoked where no event
	 * reaches this node). Sign-outs and revocations in this process disconnect at once.
	 */
	sessionCheckMs: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = {
	maxBatchBytes: 1_000_000,
	maxFutureMs: 60_000,
	maxAgeMs: 7 * 24 * 3600 * 1000,
	allowedOrigins: [],
	fanoutIntervalMs: 100,
	slowClientMaxPackets: 16,
	slowClientMaxBytes: 4 * 1024 * 1024,
	presenceFlushMs: 5_000,
	partitionsEveryMs: 3600_000,
	queueLimit: 64,
	maxRoomsPerSocket: 64,
	alarmQuietMs: 30_000,
	alarmSweepMs: 2_000,
	sessionCheckMs: 5_000
};

export interface HubDeps {
	database: Database;
	log: Log;
	metrics: Metrics;
	clock?: () => number;
	options?: Partial<HubOptions>;
	/** Session timeouts for validating browser handshakes (default: 15 min idle, 12 h absolute). */
	sessions?: SessionSettings;
}

export interface HubStats {
	clients: Record<Namespace, number>;
	rooms: { room: string; seq: number; members: number }[];
	queueDepth: number;
	workers: WorkerPresence[];
	configRevision: number;
}

export interface Hub {
	io: LiveServer;
	/**
	 * Reloads the configuration; pushes `config:update` to workers and config deltas to rooms.
	 * With `onlyIfChanged`, workers hear nothing when the configuration is what they have (the
	 * periodic re-check: another hub node's change, or a publish that failed, converges).
	 */
	publishConfig(options?: { onlyIfChanged?: boolean }): Promise<IngestConfig>;
	/**
	 * Hands alarms whose state changed outside the ingest path (a person acknowledged or shelved
	 * one, a deadline passed, a machine changed mode) to their rooms' next deltas. Call after the
	 * change committed, with the alarms as read after the commit (src/lib/server/alarms/live.ts).
	 */
	pushAlarms(alarms: readonly LiveAlarm[]): void;
	stats(): HubStats;
	/** Stops accepting, finishes queued persists, flushes presence, closes sockets. Idempotent. */
	close(): Promise<void>;
}

function connectError(code: ErrorCode, message: string): ExtendedError {
	const error: ExtendedError = new Error(code);
	error.data = { code, message };
	return error;
}

/** engine.io's write buffer is not in its public types; the bound below depends on it. */
function queuedPackets(socket: LiveSocket): number {
	const conn = socket.conn as unknown as { writeBuffer?: unknown[] };
	return conn.writeBuffer?.length ?? 0;
}

/** Bytes a WebSocket transport has accepted but not yet written to the network. */
function unsentBytes(socket: LiveSocket): number {
	const transport = socket.conn.transport as unknown as { socket?: { bufferedAmount?: number } };
	return transport.socket?.bufferedAmount ?? 0;
}

function isPayloadTooLarge(description: unknown): boolean {
	const text =
		description instanceof Error
			? `${description.message} ${String((description as { description?: unknown }).description ?? '')}`
			: String(description ?? '');
	return /max payload size exceeded|payload too large/i.test(text);
}

/** Same-origin browsers, listed origins, and non-browser clients (no Origin header). */
function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
	const origin = req.headers.origin;
	if (!origin) return true;
	if (allowed.includes(origin)) return true;
	try {
		return new URL(origin).host === req.headers.host;
	} catch {
		// An Origin header that is not a URL is not same-origin.
		return false;
	}
}

type Authenticated = Exclude<Principal, { kind: 'anonymous' }>;

/** Same grants (users) or same lines (screens), in any order. */
function sameAccess(a: Authenticated, b: Authenticated): boolean {
	const key = (p: Authenticated): string =>
		p.kind === 'user'
			? p.grants
					.map((g) => `${g.role}|${g.siteId ?? ''}|${g.lineId ?? ''}`)
					.sort()
					.join(',')
			: [...p.lineIds].sort((x, y) => x - y).join(',');
	return a.kind === b.kind && key(a) === key(b);
}

/**
 * A cookie as the pages read it (cookies.ts readCookie): the `__Host-` one first. A browser may
 * still hold a stale bare cookie from before the server moved behind TLS, and sends it first
 * (older cookies come first); taking it would refuse the socket while the pages accept the
 * session, sending the browser round and round between the wall and /login.
 */
function browserCookie(header: string | undefined, base: string): string | undefined {
	return cookieFromHeader(header, `__Host-${base}`) ?? cookieFromHeader(header, base);
}

/**
 * Who opens a browser socket: the same cookies as the pages (a user session, else a paired
 * wall screen). Null when neither is valid. The session is not renewed: a handshake (often an
 * automatic reconnect) is not a person's activity, so an open wall never keeps a user session
 * alive — only page requests do.
 */
async function authenticateBrowser(
	database: Database,
	cookieHeader: string | undefined,
	sessions: SessionSettings,
	now: Date
): Promise<{ principal: Authenticated; sessionId: string | null } | null> {
	const sessionToken = browserCookie(cookieHeader, SESSION_COOKIE);
	if (sessionToken) {
		const valid = await validateSessionToken(database, sessionToken, sessions, now, {
			renew: false
		});
		if (valid) return { principal: valid.principal, sessionId: valid.session.id };
	}
	const deviceToken = browserCookie(cookieHeader, DEVICE_COOKIE);
	if (deviceToken) {
		const device = await validateDeviceToken(database, deviceToken);
		if (device) return { principal: device, sessionId: null };
	}
	return null;
}

export async function createHub(httpServer: HttpServer, deps: HubDeps): Promise<Hub> {
	const options: HubOptions = { ...DEFAULT_HUB_OPTIONS, ...deps.options };
	const { database, metrics } = deps;
	const log = deps.log.child({ module: 'hub' });
	const clock = deps.clock ?? Date.now;

	const config = createConfigState(await loadIngestConfig(database));
	const sessionSettings = deps.sessions ?? DEFAULT_SESSION_SETTINGS;

	// line id → site id, for line-scoped grants. Reloaded with the configuration.
	const lineSites = new Map<number, number>();
	async function loadLineSites(): Promise<void> {
		const rows = await database.query<{ id: number; site_id: number }>(
			'SELECT id, site_id FROM line'
		);
		lineSites.clear();
		for (const r of rows) lineSites.set(r.id, r.site_id);
	}
	await loadLineSites();
	function mayView(principal: Principal, lineId: number | null): boolean {
		if (lineId === null) {
			// The plant-wide alarms room: only for whoever may watch every line.
			return (
				lineSites.size > 0 &&
				[...lineSites].every(([id, siteId]) => can(principal, 'live:view', { lineId: id, siteId }))
			);
		}
		const siteId = lineSites.get(lineId);
		return siteId !== undefined && can(principal, 'live:view', { lineId, siteId });
	}
	const presence = createPresence({ log, write: (seen) => touchWorkers(database, seen) });
	presence.preload(await workersLastSeen(database));

	const io: LiveServer = new Server(httpServer, {
		maxHttpBufferSize: options.maxBatchBytes,
		serveClient: false,
		allowRequest: (req, callback) => callback(null, originAllowed(req, options.allowedOrigins))
	});
	const ingest = io.of(INGEST_NAMESPACE) as unknown as IoNamespace<
		IngestClientToServer,
		IngestServerToClient,
		Record<string, never>,
		IngestSocketData
	>;

	function emitDelta(room: string, delta: RoomDelta): void {
		const kind = parseRoomName(room)?.kind ?? 'line';
		const members = io.of('/').adapter.rooms.get(room);
		const slow: string[] = [];
		for (const id of members ?? []) {
			const socket = io.of('/').sockets.get(id);
			if (!socket) continue;
			if (
				queuedPackets(socket) >= options.slowClientMaxPackets ||
				unsentBytes(socket) >= options.slowClientMaxBytes
			) {
				slow.push(id);
			}
		}
		if (slow.length > 0) {
			metrics.slowSkips.inc({ room_kind: kind }, slow.length);
			io.to(room).except(slow).emit('delta', delta);
		} else {
			io.to(room).emit('delta', delta);
		}
		metrics.roomMessages.inc({ room_kind: kind });
	}

	const coalescer = createCoalescer({
		intervalMs: options.fanoutIntervalMs,
		maxPointsPerCharacteristic: LIVE_WINDOW.maxPoints,
		maxReadingsPerCharacteristic: READINGS_WINDOW.maxPoints,
		now: clock,
		hasMembers: (room) => (io.of('/').adapter.rooms.get(room)?.size ?? 0) > 0,
		emit: emitDelta
	});
	const queue = createSerialQueue(options.queueLimit);
	const ctx: HubContext = {
		database,
		log,
		metrics,
		clock,
		limits: {
			maxFutureMs: options.maxFutureMs,
			maxAgeMs: options.maxAgeMs,
			maxRoomsPerSocket: options.maxRoomsPerSocket
		},
		queue,
		coalescer,
		config,
		presence,
		access: {
			mayView: (socket, lineId) => mayView(socket.data.principal, lineId),
			knows: (lineId) => lineSites.has(lineId)
		}
	};
	const ingestState: IngestState = { previous: new Map<number, number>() };

	// Oversized messages: ws closes the connection ("Max payload size exceeded"); engine.io
	// reports it as a transport error on the raw connection, for whichever namespace.
	io.engine.on(
		'connection',
		(raw: { on(event: 'close', fn: (reason: string, description?: unknown) => void): void }) => {
			raw.on('close', (reason, description) => {
				if (reason === 'transport error' && isPayloadTooLarge(description)) {
					metrics.payloadTooLarge.inc();
					log.warn(
						{ limitBytes: options.maxBatchBytes },
						'connection closed: message larger than INGEST_MAX_BATCH_BYTES'
					);
				}
			});
		}
	);

	/* ---------------------------------- /ingest ---------------------------------- */
	ingest.use((socket, next) => {
		const auth = socket.handshake.auth as Record<string, unknown> | undefined;
		const token = auth?.token;
		if (typeof token !== 'string' || token.length === 0) {
			metrics.ingestAuthFailures.inc();
			log.warn({ address: socket.handshake.address }, '/ingest refused: no worker token');
			next(connectError('unauthorized', 'missing worker token (auth.token)'));
			return;
		}
		authenticateWorker(database, token).then(
			(worker) => {
				if (!worker) {
					metrics.ingestAuthFailures.inc();
					log.warn(
						{ address: socket.handshake.address },
						'/ingest refused: unknown or revoked worker token'
					);
					next(connectError('unauthorized', 'unknown or revoked worker token'));
					return;
				}
				socket.data.worker = { id: worker.id, name: worker.name };
				next();
			},
			(error: unknown) => {
				log.error({ err: error }, '/ingest: authenticating a worker failed');
				next(connectError('unavailable', 'cannot authenticate right now; retry'));
			}
		);
	});

	ingest.on('connection', (socket: IngestSocket) => {
		const worker = socket.data.worker;
		metrics.socketsConnected.inc({ namespace: '/ingest' });
		presence.connected(worker, clock());
		log.info({ worker: worker.name, socket: socket.id }, 'worker connected');
		// Any packet (pong included) is a sign of life.
		socket.conn.on('heartbeat', () => presence.seen(worker, clock()));
		socket.emit('config:update', config.current());
		socket.on('ingest:batch', (payload, ack) => {
			void handleIngestBatch(ctx, ingestState, worker, payload, ack);
		});
		socket.on('config:get', (payload, ack) => handleConfigGet(ctx, payload, ack));
		socket.on('disconnect', (reason) => {
			metrics.socketsConnected.dec({ namespace: '/ingest' });
			presence.disconnected(worker, clock());
			log.info({ worker: worker.name, reason }, 'worker disconnected');
		});
	});

	/* ------------------------------------ / ------------------------------------ */
	// Browsers: the page's own cookies. Anonymous → unauthorized; a principal who may watch no
	// line at all (a customer account) → forbidden. Rooms are authorised per subscription.
	io.use((socket, next) => {
		authenticateBrowser(
			database,
			socket.handshake.headers.cookie,
			sessionSettings,
			new Date(clock())
		).then(
			(who) => {
				if (!who) {
					metrics.socketRefusals.inc({ reason: 'unauthorized' });
					next(connectError('unauthorized', 'sign in, or pair this screen, first'));
					return;
				}
				if (!can(who.principal, 'live:view')) {
					metrics.socketRefusals.inc({ reason: 'forbidden' });
					next(connectError('forbidden', 'this account may not watch any line'));
					return;
				}
				(socket.data as LiveSocketData).principal = who.principal;
				(socket.data as LiveSocketData).sessionId = who.sessionId;
				next();
			},
			(error: unknown) => {
				log.error({ err: error }, 'authenticating a browser socket failed');
				next(connectError('unavailable', 'cannot authenticate right now; retry'));
			}
		);
	});

	io.on('connection', (socket: LiveSocket) => {
		metrics.socketsConnected.inc({ namespace: '/' });
		socket.on('subscribe', (payload, ack) => void handleSubscribe(ctx, socket, payload, ack));
		socket.on('unsubscribe', (payload, ack) => handleUnsubscribe(ctx, socket, payload, ack));
		socket.on('lines:list', (payload, ack) => void handleLinesList(ctx, socket, payload, ack));
		socket.on('disconnect', () => metrics.socketsConnected.dec({ namespace: '/' }));
	});

	/* --------------------------------- upkeep --------------------------------- */
	presence.start(options.presenceFlushMs);
	const partitionsTimer = setInterval(() => {
		database.ensurePartitions(new Date(clock())).catch((error: unknown) => {
			log.error({ err: error }, 'ensuring sample partitions failed; retrying next hour');
		});
	}, options.partitionsEveryMs);
	partitionsTimer.unref();

	// Return to normal (ISA-18.2): conditions quiet for alarmQuietMs move on. Run on the serial
	// queue, like persists and snapshot reads, so a snapshot never misses or repeats the change.
	let sweeping = false;
	const alarmTimer = setInterval(() => {
		if (sweeping) return;
		sweeping = true;
		queue
			.run(async () => {
				const changed = await returnQuietAlarms(database, {
					quietMs: options.alarmQuietMs,
					now: clock()
				});
				for (const alarm of changed) {
					for (const room of alarmRooms(alarm)) coalescer.add(room, { alarms: [alarm] });
				}
			})
			.catch((error: unknown) => {
				if (error instanceof QueueClosedError || error instanceof QueueFullError) return;
				log.error({ err: error }, 'returning quiet alarms to normal failed; retrying');
			})
			.finally(() => {
				sweeping = false;
			});
	}, options.alarmSweepMs);
	alarmTimer.unref();

	/* ------------------------------- access changes ------------------------------- */
	function dropSocket(socket: LiveSocket, why: string): void {
		metrics.socketRefusals.inc({ reason: 'disconnected' });
		log.info({ socket: socket.id, why }, 'browser socket disconnected: access ended');
		socket.disconnect(true);
	}
	function dropSockets(match: (data: LiveSocketData) => boolean, why: string): void {
		for (const socket of io.of('/').sockets.values()) {
			// A socket still in its handshake has no principal yet; the handshake decides it.
			if (socket.data.principal && match(socket.data)) dropSocket(socket, why);
		}
	}
	const stopListening = authEvents.on((event: AuthEvent) => {
		if (event.kind === 'sessions-ended') {
			const ended = new Set(event.sessionIds);
			dropSockets((d) => d.sessionId !== null && ended.has(d.sessionId), event.reason);
		} else if (event.kind === 'device-revoked') {
			dropSockets(
				(d) => d.principal.kind === 'device' && d.principal.deviceId === event.deviceId,
				'device revoked'
			);
		} else if (event.kind === 'worker-revoked') {
			for (const socket of ingest.sockets.values()) {
				if (socket.data.worker.id !== event.workerId) continue;
				log.warn({ worker: socket.data.worker.name }, 'worker disconnected: its token was revoked');
				socket.disconnect(true);
			}
		}
	});

	/**
	 * What the events above cannot tell: sessions that idle or age out emit nothing, grants and
	 * screen lines change without an event, and a revocation on another hub node reaches this
	 * one only through the database. Every sessionCheckMs the open sockets' principals are read
	 * again in at most three queries (never renewing a session: watching is not activity).
	 * - session ended or expired, user disabled, screen revoked → disconnected;
	 * - access narrowed (or the plant widened) so that a room the socket is in is no longer
	 *   allowed → disconnected:
	 *   its client reconnects, re-subscribes, and hears 'forbidden' for that room;
	 * - otherwise the fresh grants replace the old ones (a wider grant works at once).
	 */
	async function refreshAccess(): Promise<void> {
		const sessionIds = new Set<string>();
		const deviceIds = new Set<number>();
		for (const socket of io.of('/').sockets.values()) {
			const { principal, sessionId } = socket.data as Partial<LiveSocketData>;
			if (sessionId) sessionIds.add(sessionId);
			else if (principal?.kind === 'device') deviceIds.add(principal.deviceId);
		}
		if (sessionIds.size === 0 && deviceIds.size === 0) return;
		const now = new Date(clock()).toISOString();
		const sessions =
			sessionIds.size === 0
				? []
				: await database.query<{ id: string; user_id: number }>(
						`SELECT s.id, s.user_id FROM session s JOIN app_user u ON u.id = s.user_id
						 WHERE s.id = ANY($1::text[]) AND s.ended_at IS NULL AND u.disabled_at IS NULL
						   AND s.expires_at > $2::timestamptz AND s.absolute_expires_at > $2::timestamptz`,
						[[...sessionIds], now]
					);
		const userIds = [...new Set(sessions.map((r) => r.user_id))];
		const grantRows =
			userIds.length === 0
				? []
				: await database.query<{
						user_id: number;
						role: string;
						site_id: number | null;
						line_id: number | null;
					}>(
						'SELECT user_id, role, site_id, line_id FROM role_grant WHERE user_id = ANY($1::int[])',
						[userIds]
					);
		const deviceRows =
			deviceIds.size === 0
				? []
				: await database.query<{ device_id: number; line_id: number }>(
						`SELECT dl.device_id, dl.line_id FROM device d JOIN device_line dl ON dl.device_id = d.id
						 WHERE d.id = ANY($1::int[]) AND d.revoked_at IS NULL AND d.token_sha256 IS NOT NULL`,
						[[...deviceIds]]
					);

		const userOfSession = new Map(sessions.map((r) => [r.id, r.user_id]));
		const grantsOf = new Map<number, RoleGrantScope[]>();
		for (const g of grantRows) {
			const list = grantsOf.get(g.user_id) ?? [];
			list.push({ role: g.role as Role, siteId: g.site_id, lineId: g.line_id });
			grantsOf.set(g.user_id, list);
		}
		const linesOf = new Map<number, number[]>();
		for (const d of deviceRows) {
			const list = linesOf.get(d.device_id) ?? [];
			list.push(d.line_id);
			linesOf.set(d.device_id, list);
		}

		for (const socket of io.of('/').sockets.values()) {
			const data = socket.data as Partial<LiveSocketData>;
			const before = data.principal;
			if (!before) continue; // still in its handshake
			let fresh: Authenticated | null;
			if (data.sessionId) {
				// Connected after the queries were sent: its handshake is fresher than they are.
				if (!sessionIds.has(data.sessionId)) continue;
				const userId = userOfSession.get(data.sessionId);
				fresh =
					userId === undefined || before.kind !== 'user'
						? null
						: { ...before, grants: grantsOf.get(userId) ?? [] };
			} else if (before.kind === 'device') {
				if (!deviceIds.has(before.deviceId)) continue;
				const lineIds = linesOf.get(before.deviceId);
				fresh = lineIds ? { ...before, lineIds } : null;
			} else {
				continue;
			}
			if (fresh === null) {
				dropSocket(socket, data.sessionId ? 'session ended or expired' : 'screen revoked');
				continue;
			}
			// Rooms are checked even when the grants are unchanged: the plant changes too (a new
			// line makes the plant-wide alarms room wider than a site-scoped viewer's grants).
			if (!can(fresh, 'live:view') || !keepsRooms(socket, fresh)) {
				dropSocket(socket, 'access narrowed');
				continue;
			}
			if (sameAccess(before, fresh)) continue;
			(socket.data as LiveSocketData).principal = fresh;
			log.info(
				{ socket: socket.id },
				'browser socket: access changed; its rooms are still allowed'
			);
		}
	}

	/** Workers revoked where no event reaches this hub (a script, another hub node). */
	async function refreshWorkers(): Promise<void> {
		const ids = new Set<number>();
		for (const socket of ingest.sockets.values()) ids.add(socket.data.worker.id);
		if (ids.size === 0) return;
		const rows = await database.query<{ id: number }>(
			'SELECT id FROM worker WHERE id = ANY($1::int[]) AND revoked_at IS NULL',
			[[...ids]]
		);
		const alive = new Set(rows.map((r) => r.id));
		for (const socket of ingest.sockets.values()) {
			const { id, name } = socket.data.worker;
			if (!ids.has(id) || alive.has(id)) continue;
			log.warn({ worker: name }, 'worker disconnected: its token was revoked');
			socket.disconnect(true);
		}
	}

	/** Whether `principal` may still watch every room `socket` is in. */
	function keepsRooms(socket: LiveSocket, principal: Principal): boolean {
		for (const room of socket.rooms) {
			const ref = parseRoomName(room);
			if (!ref) continue; // the socket's own id
			let lineId: number | null | undefined;
			if (ref.kind === 'alarms') lineId = null;
			else if (ref.kind === 'line') lineId = ref.id;
			else if (ref.kind === 'machine') lineId = config.lineOfMachine(ref.id);
			else lineId = config.byId(ref.id)?.lineId;
			// A room whose line left the configuration shows nothing; mayView refuses it too.
			if (lineId === undefined || !mayView(principal, lineId)) return false;
		}
		return true;
	}

	let checking = false;
	const sessionTimer = setInterval(() => {
		if (checking) return;
		checking = true;
		Promise.all([refreshAccess(), refreshWorkers()])
			.catch((error: unknown) => log.error({ err: error }, 'checking socket access failed'))
			.finally(() => {
				checking = false;
			});
	}, options.sessionCheckMs);
	sessionTimer.unref();

	let closing: Promise<void> | null = null;

	return {
		io,
		async publishConfig(publishOptions = {}) {
			await loadLineSites();
			const before = config.current().revision;
			const changed: CharacteristicConfig[] = config.replace(await loadIngestConfig(database));
			const current = config.current();
			// The revision grows exactly when something changed (config-state.ts).
			if (publishOptions.onlyIfChanged && current.revision === before) return current;
			ingest.emit('config:update', current);
			for (const c of changed) {
				for (const room of characteristicRooms(c)) coalescer.add(room, { characteristics: [c] });
			}
			log.info({ revision: current.revision, changed: changed.length }, 'configuration published');
			return current;
		},
		pushAlarms(alarms) {
			for (const alarm of alarms) {
				for (const room of alarmRooms(alarm)) coalescer.add(room, { alarms: [alarm] });
			}
		},
		stats() {
			const rooms = io.of('/').adapter.rooms;
			return {
				clients: { '/': io.of('/').sockets.size, '/ingest': ingest.sockets.size },
				rooms: coalescer.rooms().map((r) => ({
					room: r.room,
					seq: r.seq,
					members: rooms.get(r.room)?.size ?? 0
				})),
				queueDepth: queue.depth(),
				workers: presence.list(),
				configRevision: config.current().revision
			};
		},
		close() {
			closing ??= (async () => {
				clearInterval(partitionsTimer);
				clearInterval(alarmTimer);
				clearInterval(sessionTimer);
				stopListening();
				// Refuse new batches ("unavailable": workers keep them), let the queued persists
				// commit and ack, hand their points to the rooms, then hang up.
				await queue.close();
				coalescer.flushAll();
				coalescer.close();
				await presence.stop();
				// Not io.close(): it also closes the HTTP server, which belongs to the caller.
				ingest.disconnectSockets(true);
				io.disconnectSockets(true);
				io.engine.close();
				log.info('hub closed');
			})();
			return closing;
		}
	};
}
