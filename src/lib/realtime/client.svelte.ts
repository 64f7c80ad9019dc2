/**
 * The browser's live connection: one socket.io socket to the hub's default namespace, rooms
 * subscribed through it, and reactive views of each room for the pages.
 *
 * Flow per room (see DESIGN.md §2): subscribe → snapshot (ack) → deltas in `seq` order. Deltas
 * are queued as they arrive and applied in order by a timer every `FLUSH_MS`, so the page (and
 * every chart on it) updates at most a couple of times per second however fast the line runs;
 * a gap in `seq`, a reconnect or an overflowing queue re-subscribes for a fresh snapshot.
 * Nothing grows without bound: point windows are ring buffers (LIVE_WINDOW), alarms are capped
 * per room, the delta queue is capped and falls back to a snapshot when full.
 */
import { getContext, setContext } from 'svelte';
import { io, type Socket } from 'socket.io-client';
import type {
	Ack,
	CharacteristicConfig,
	ErrorCode,
	LineInfo,
	LineSummary,
	LiveAlarm,
	LiveClientToServer,
	LivePoint,
	LiveReading,
	LiveServerToClient,
	MachineInfo,
	RoomDelta,
	RoomRef,
	RoomSnapshot
} from './events';
import { findPoint } from './ring-buffer';
import { RoomState } from './room-state';
import {
	characteristicStatus,
	lastSignalByCharacteristic,
	sourcesOnline,
	unacknowledgedAlarms,
	machineStatus,
	type LiveStatus
} from './status';

/**
 * `signed-out`: the hub refused the handshake (no valid session or paired screen, or one that
 * may watch nothing). Retrying cannot help; the page sends the browser to sign in or pair.
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'signed-out';

/** How often queued deltas are applied and views rebuilt (≤ 2 chart updates per second). */
export const FLUSH_MS = 500;
/** An unanswered request (subscribe, lines:list) fails after this long. */
export const ACK_TIMEOUT_MS = 10_000;
/** After this long without a connection the screen says "offline" rather than "reconnecting". */
export const OFFLINE_AFTER_MS = 10_000;
/** Queued deltas beyond this are dropped in favour of one fresh snapshot. */
export const MAX_PENDING_DELTAS = 200;
/** Deltas for rooms whose snapshot has not arrived yet, kept briefly to close the race. */
const MAX_ORPHAN_DELTAS = 200;
/** Wait before retrying a failed subscribe, doubling up to the maximum. */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;

type LiveSocket = Socket<LiveServerToClient, LiveClientToServer>;

/** What a chart needs of one characteristic; a new object only when its data changed. */
export interface SeriesView {
	config: CharacteristicConfig;
	points: readonly LivePoint[];
	/** First and latest violations of signals (any state) within the window: chart markers. */
	markers: readonly { ts: number; value: number; alarm: LiveAlarm }[];
}

export interface CharacteristicView {
	id: number;
	config: CharacteristicConfig;
	machine: MachineInfo | null;
	series: SeriesView;
	/** Newest plotted point (x̄, p, … on subgroup charts). */
	latest: LivePoint | undefined;
	/** What the machine measures now: the newest raw reading, else the newest point. */
	current: LiveReading | undefined;
	/** Recent raw readings (else the plotted points) for a sparkline; new only when changed. */
	trend: readonly LiveReading[];
	status: LiveStatus;
}

export interface MachineView {
	info: MachineInfo;
	status: LiveStatus;
	characteristics: CharacteristicView[];
}

export interface RoomView {
	/** A snapshot has been applied (since the last reconnect). */
	synced: boolean;
	/** Last refusal from the hub (e.g. `not_found`), null while all is well. */
	error: ErrorCode | null;
	line: LineInfo | null;
	machines: MachineView[];
	characteristics: CharacteristicView[];
	/** Unacknowledged signals, newest first. */
	alarms: LiveAlarm[];
	/** Server-corrected time of this view, epoch ms. */
	now: number;
}

const EMPTY_VIEW: RoomView = {
	synced: false,
	error: null,
	line: null,
	machines: [],
	characteristics: [],
	alarms: [],
	now: 0
};

export class LiveRequestError extends Error {
	constructor(
		readonly code: ErrorCode | 'timeout' | 'disconnected',
		message?: string
	) {
		super(message ?? code);
		this.name = 'LiveRequestError';
	}
}

function unwrap<T>(ack: Ack<T>): T {
	if (ack.ok) return ack.data;
	throw new LiveRequestError(ack.error, ack.message);
}

export class LiveClient {
	#socket: LiveSocket | null = null;
	#connection = $state<ConnectionState>('connecting');
	#offlineTimer: ReturnType<typeof setTimeout> | null = null;
	// Bookkeeping, not UI state: deliberately not reactive.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #rooms = new Set<LiveRoom>();
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #byName = new Map<string, LiveRoom>();
	#orphans: RoomDelta[] = [];

	/** State of the socket, for the header of every page. */
	get connection(): ConnectionState {
		return this.#connection;
	}

	/** Opens the socket (idempotent). `url` defaults to this page's origin. */
	connect(url?: string): void {
		if (this.#socket !== null) return;
		const options = {
			reconnection: true,
			reconnectionDelay: 500,
			reconnectionDelayMax: 5_000,
			randomizationFactor: 0.3,
			// The hub has to see a wall as gone within seconds, not minutes.
			timeout: ACK_TIMEOUT_MS
		};
		const socket: LiveSocket = url === undefined ? io(options) : io(url, options);
		this.#socket = socket;
		socket.on('connect', () => {
			this.#clearOfflineTimer();
			this.#connection = 'live';
			// A reconnect may have missed any number of deltas: every room starts over.
			this.#orphans = [];
			for (const room of this.#rooms) room.resync();
		});
		socket.on('disconnect', (reason) => {
			for (const room of this.#rooms) room.markUnsynced();
			if (reason === 'io client disconnect') {
				this.#connection = 'offline';
				return;
			}
			this.#connection = 'reconnecting';
			this.#startOfflineTimer();
			// The server closing the socket on purpose stops socket.io's automatic reconnection;
			// a wall must come back by itself, so ask again.
			if (reason === 'io server disconnect') socket.connect();
		});
		socket.on('connect_error', (error: Error) => {
			if (error.message === 'unauthorized' || error.message === 'forbidden') {
				this.#clearOfflineTimer();
				this.#connection = 'signed-out';
				socket.io.reconnection(false);
				return;
			}
			if (this.#connection === 'connecting' || this.#connection === 'live') {
				this.#connection = 'reconnecting';
			}
			this.#startOfflineTimer();
			// A refusal by a server middleware is not retried automatically.
			if (!socket.active) setTimeout(() => socket.connect(), RETRY_MAX_MS);
		});
		socket.on('delta', (delta) => this.#routeDelta(delta));
	}

	/** Closes the socket and every room. */
	close(): void {
		const socket = this.#socket;
		// Rooms go with the socket: the hub drops memberships on disconnect, no unsubscribe needed.
		this.#socket = null;
		for (const room of [...this.#rooms]) room.close();
		this.#clearOfflineTimer();
		socket?.disconnect();
		this.#connection = 'offline';
	}

	/** The lines of the plant with their live summary. */
	async listLines(): Promise<LineSummary[]> {
		const socket = this.#requireSocket();
		try {
			return unwrap(await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('lines:list', {}));
		} catch (error) {
			throw this.#requestError(error);
		}
	}

	/** Subscribes to a room; the returned room keeps itself in sync until closed. */
	subscribe(ref: RoomRef): LiveRoom {
		const room = new LiveRoom(this, ref);
		this.#rooms.add(room);
		if (this.#socket?.connected) room.resync();
		return room;
	}

	/** @internal Used by LiveRoom. */
	async requestSnapshot(ref: RoomRef): Promise<RoomSnapshot> {
		const socket = this.#requireSocket();
		try {
			return unwrap(await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('subscribe', ref));
		} catch (error) {
			throw this.#requestError(error);
		}
	}

	/** @internal Used by LiveRoom once its snapshot names it: hands over early deltas. */
	registerRoomName(room: LiveRoom, name: string): RoomDelta[] {
		for (const [existing, holder] of this.#byName) {
			if (holder === room && existing !== name) this.#byName.delete(existing);
		}
		this.#byName.set(name, room);
		const mine = this.#orphans.filter((d) => d.room === name);
		this.#orphans = this.#orphans.filter((d) => d.room !== name);
		return mine;
	}

	/** @internal */
	isConnected(): boolean {
		return this.#socket?.connected === true && this.#connection === 'live';
	}

	/** @internal */
	release(room: LiveRoom, ref: RoomRef): void {
		this.#rooms.delete(room);
		for (const [name, holder] of this.#byName) if (holder === room) this.#byName.delete(name);
		const socket = this.#socket;
		if (socket?.connected) {
			socket
				.timeout(ACK_TIMEOUT_MS)
				.emitWithAck('unsubscribe', ref)
				.catch((error: unknown) => {
					// Nothing to undo: the hub drops the membership when the socket goes anyway.
					console.warn('unsubscribe failed', error);
				});
		}
	}

	#routeDelta(delta: RoomDelta): void {
		const room = this.#byName.get(delta.room);
		if (room !== undefined) {
			room.enqueue(delta);
			return;
		}
		this.#orphans.push(delta);
		if (this.#orphans.length > MAX_ORPHAN_DELTAS) this.#orphans.shift();
	}

	#requireSocket(): LiveSocket {
		const socket = this.#socket;
		if (socket === null || !socket.connected) throw new LiveRequestError('disconnected');
		return socket;
	}

	#requestError(error: unknown): LiveRequestError {
		if (error instanceof LiveRequestError) return error;
		// socket.io rejects emitWithAck with a plain Error when the ack does not come in time.
		return new LiveRequestError('timeout', error instanceof Error ? error.message : String(error));
	}

	#startOfflineTimer(): void {
		if (this.#offlineTimer !== null) return;
		this.#offlineTimer = setTimeout(() => {
			this.#offlineTimer = null;
			if (this.#connection !== 'live') this.#connection = 'offline';
		}, OFFLINE_AFTER_MS);
	}

	#clearOfflineTimer(): void {
		if (this.#offlineTimer !== null) clearTimeout(this.#offlineTimer);
		this.#offlineTimer = null;
	}
}

/** One subscribed room: snapshot, ordered deltas, and a reactive view rebuilt every flush. */
export class LiveRoom {
	readonly #client: LiveClient;
	readonly #ref: RoomRef;
	readonly #state = new RoomState();
	#pending: RoomDelta[] = [];
	#synced = false;
	#subscribing = false;
	#resyncAgain = false;
	#retryMs = RETRY_MIN_MS;
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#flushTimer: ReturnType<typeof setInterval> | null;
	#closed = false;
	#error = $state<ErrorCode | null>(null);
	#view = $state.raw<RoomView>(EMPTY_VIEW);
	/**
	 * Per characteristic, the series object handed to charts and the trend handed to sparklines,
	 * each replaced only when its data changed (new readings alone do not redraw a chart). Not
	 * reactive on purpose: the page reacts to `#view`, rebuilt once per flush.
	 */
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #series = new Map<number, SeriesView>();
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #trends = new Map<number, readonly LiveReading[]>();
	#alarms: LiveAlarm[] = [];

	constructor(client: LiveClient, ref: RoomRef) {
		this.#client = client;
		this.#ref = ref;
		this.#flushTimer = setInterval(() => this.#flush(), FLUSH_MS);
	}

	get view(): RoomView {
		return this.#view;
	}

	get error(): ErrorCode | null {
		return this.#error;
	}

	/** Drops the subscription and stops the flush timer. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		if (this.#flushTimer !== null) clearInterval(this.#flushTimer);
		this.#flushTimer = null;
		if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
		this.#pending = [];
		this.#client.release(this, this.#ref);
	}

	/** @internal Called by the client on every (re)connect, and by the room on a gap. */
	resync(): void {
		if (this.#closed) return;
		this.#synced = false;
		this.#pending = [];
		if (this.#subscribing) {
			this.#resyncAgain = true;
			return;
		}
		void this.#subscribe();
	}

	/** @internal */
	markUnsynced(): void {
		this.#synced = false;
		this.#pending = [];
	}

	/** @internal */
	enqueue(delta: RoomDelta): void {
		// Before the snapshot lands deltas still queue: those it covers are dropped as duplicates.
		this.#pending.push(delta);
		if (this.#pending.length > MAX_PENDING_DELTAS) this.resync();
	}

	async #subscribe(): Promise<void> {
		this.#subscribing = true;
		try {
			const snapshot = await this.#client.requestSnapshot(this.#ref);
			if (this.#closed) return;
			const early = this.#client.registerRoomName(this, snapshot.room);
			this.#state.applySnapshot(snapshot, Date.now());
			this.#pending = [...early, ...this.#pending].sort((a, b) => a.seq - b.seq);
			this.#synced = true;
			this.#error = null;
			this.#retryMs = RETRY_MIN_MS;
			this.#flush();
		} catch (error) {
			if (this.#closed) return;
			this.#error =
				error instanceof LiveRequestError &&
				error.code !== 'timeout' &&
				error.code !== 'disconnected'
					? (error.code as ErrorCode)
					: null;
			console.warn('subscribe failed; retrying', this.#ref, error);
			this.#scheduleRetry();
		} finally {
			this.#subscribing = false;
		}
		if (this.#resyncAgain) {
			this.#resyncAgain = false;
			this.resync();
		}
	}

	#scheduleRetry(): void {
		if (this.#retryTimer !== null) return;
		const wait = this.#retryMs;
		this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
		this.#retryTimer = setTimeout(() => {
			this.#retryTimer = null;
			// A reconnect resyncs by itself; only retry here while the socket is up.
			if (this.#client.isConnected()) this.resync();
		}, wait);
	}

	#flush(): void {
		const receivedAt = Date.now();
		if (this.#synced && this.#pending.length > 0) {
			const batch = this.#pending;
			this.#pending = [];
			for (const delta of batch) {
				if (this.#state.applyDelta(delta, receivedAt) === 'gap') {
					this.resync();
					break;
				}
			}
		}
		const now = receivedAt + this.#state.clockOffsetMs;
		this.#state.prune(now);
		this.#view = this.#buildView(now);
	}

	#buildView(now: number): RoomView {
		const state = this.#state;
		const changes = state.takeChanges();
		if (changes.alarms) this.#alarms = unacknowledgedAlarms(state.alarms.values());
		const signals = lastSignalByCharacteristic(this.#alarms);
		const connected = this.#synced && this.#client.isConnected();
		const online = sourcesOnline(state.sourcesSeenAt, now);

		for (const id of this.#series.keys()) {
			if (!state.characteristics.has(id)) this.#series.delete(id);
		}
		for (const id of this.#trends.keys()) {
			if (!state.characteristics.has(id)) this.#trends.delete(id);
		}
		const characteristics: CharacteristicView[] = [];
		for (const config of state.characteristics.values()) {
			let series = this.#series.get(config.id);
			if (series === undefined || changes.characteristics.has(config.id)) {
				series = this.#buildSeries(config);
				this.#series.set(config.id, series);
			}
			const latest = state.latest(config.id);
			const reading = state.latestReading(config.id);
			let trend = this.#trends.get(config.id);
			if (
				trend === undefined ||
				changes.readings.has(config.id) ||
				changes.characteristics.has(config.id)
			) {
				trend = state.readings(config.id) ?? series.points;
				this.#trends.set(config.id, trend);
			}
			characteristics.push({
				id: config.id,
				config,
				machine: state.machines.get(config.machineId) ?? null,
				series,
				latest,
				current: reading ?? latest,
				trend,
				status: characteristicStatus({
					config,
					latest,
					reading,
					lastSignalAt: signals.get(config.id) ?? null,
					now,
					connected,
					sourceOnline: online
				})
			});
		}

		const machines: MachineView[] = [];
		for (const info of state.machines.values()) {
			const own = characteristics.filter((c) => c.config.machineId === info.id);
			machines.push({
				info,
				status: machineStatus(own.map((c) => c.status)),
				characteristics: own
			});
		}
		return {
			synced: this.#synced,
			error: this.#error,
			line: state.line,
			machines,
			characteristics,
			alarms: this.#alarms,
			now
		};
	}

	#buildSeries(config: CharacteristicConfig): SeriesView {
		const points = this.#state.points(config.id);
		const markers: SeriesView['markers'][number][] = [];
		const from = points.length > 0 ? points[0].ts : Infinity;
		for (const alarm of this.#state.alarms.values()) {
			if (alarm.characteristicId !== config.id || alarm.lastTs < from) continue;
			// An alarm is a condition: its first and its latest violation are known, so both are
			// marked. Each marker sits on the plotted reading, not on `alarm.value`: for a signal on
			// the dispersion chart that is a moving range or a range, not a reading.
			const times = alarm.lastTs === alarm.ts ? [alarm.ts] : [alarm.ts, alarm.lastTs];
			for (const ts of times) {
				const value = findPoint(points, ts)?.value;
				if (value !== undefined) markers.push({ ts, value, alarm });
			}
		}
		markers.sort((a, b) => a.ts - b.ts);
		return { config, points, markers };
	}
}

const LIVE_CLIENT_KEY = Symbol('tracewall.live-client');

/** Makes the page's one live client available to every component below (set in the layout). */
export function setLiveClient(client: LiveClient): LiveClient {
	return setContext(LIVE_CLIENT_KEY, client);
}

export function getLiveClient(): LiveClient {
	const client = getContext<LiveClient | undefined>(LIVE_CLIENT_KEY);
	if (client === undefined) throw new Error('getLiveClient() called outside the root layout');
	return client;
}
