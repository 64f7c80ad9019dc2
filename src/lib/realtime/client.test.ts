/**
 * The browser client against a real socket.io server on a real port (a stand-in hub that speaks
 * events.ts): ordering, gap recovery, throttled view updates and recovery after a restart.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Server, type Socket } from 'socket.io';
import type {
	Ack,
	CharacteristicConfig,
	LiveClientToServer,
	LivePoint,
	LiveServerToClient,
	RoomDelta,
	RoomSnapshot
} from './events';
import { FLUSH_MS, LiveClient } from './client.svelte';

const ROOM = 'line:1';

function config(id: number): CharacteristicConfig {
	return {
		id,
		code: `C${id}`,
		name: `Characteristic ${id}`,
		unit: 'Cel',
		lineId: 1,
		machineId: 1,
		kind: 'variable',
		chart: 'imr',
		subgroupSize: 1,
		samplingIntervalMs: 100,
		spec: { lsl: 0, usl: 10 },
		suspect: {},
		rules: 'nelson-all',
		limits: { version: 1, centre: 5, sigma: 1, source: 'test' },
		decimals: 1
	};
}

function pt(ts: number, value = 5): LivePoint {
	return { ts, seq: ts, value, dispersion: null, flags: 0 };
}

interface TestHub {
	port: number;
	subscribes: number;
	/** Sequence number the next snapshot reports. */
	seq: number;
	delta(seq: number, points: LivePoint[]): void;
	close(): Promise<void>;
}

async function startHub(port = 0): Promise<TestHub> {
	const http: HttpServer = createServer();
	const io = new Server<LiveClientToServer, LiveServerToClient>(http);
	const hub: TestHub = {
		port: 0,
		subscribes: 0,
		seq: 5,
		delta(seq, points) {
			const delta: RoomDelta = {
				room: ROOM,
				seq,
				serverTime: Date.now(),
				points: { 1: points },
				readings: {},
				alarms: [],
				characteristics: [],
				sourcesSeenAt: { sim: Date.now() }
			};
			io.to(ROOM).emit('delta', delta);
		},
		async close() {
			io.disconnectSockets(true);
			await new Promise<void>((resolve) => io.close(() => resolve()));
		}
	};
	io.on('connection', (socket: Socket<LiveClientToServer, LiveServerToClient>) => {
		socket.on('subscribe', (_room, ack) => {
			hub.subscribes++;
			void socket.join(ROOM);
			const now = Date.now();
			const snapshot: RoomSnapshot = {
				room: ROOM,
				seq: hub.seq,
				serverTime: now,
				line: { id: 1, code: 'L1', name: 'Line 1', siteName: 'Site' },
				machines: [{ id: 1, code: 'M1', name: 'Machine 1', lineId: 1 }],
				characteristics: [config(1)],
				points: { 1: [pt(now - 200), pt(now - 100)] },
				readings: {},
				alarms: [],
				sourcesSeenAt: { sim: now }
			};
			const reply: Ack<RoomSnapshot> = { ok: true, data: snapshot };
			ack(reply);
		});
		socket.on('unsubscribe', (_room, ack) => ack({ ok: true, data: null }));
	});
	await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', () => resolve()));
	hub.port = (http.address() as AddressInfo).port;
	return hub;
}

async function waitFor(condition: () => boolean, timeoutMs = 8_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error('condition not met in time');
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connected(): Promise<{ hub: TestHub; client: LiveClient }> {
	const hub = await startHub();
	cleanups.push(() => hub.close());
	const client = new LiveClient();
	cleanups.push(() => client.close());
	client.connect(`http://127.0.0.1:${hub.port}`);
	await waitFor(() => client.connection === 'live');
	return { hub, client };
}

describe('LiveClient subscriptions', () => {
	it('applies the snapshot, then deltas in order', async () => {
		const { hub, client } = await connected();
		const room = client.subscribe({ kind: 'line', id: 1 });
		await waitFor(() => room.view.synced);
		expect(room.view.line?.code).toBe('L1');
		expect(room.view.characteristics[0].series.points).toHaveLength(2);

		const t = Date.now();
		hub.delta(6, [pt(t)]);
		hub.delta(7, [pt(t + 1), pt(t + 2)]);
		await waitFor(() => room.view.characteristics[0].series.points.length === 5);
		expect(room.view.characteristics[0].latest?.ts).toBe(t + 2);
		expect(hub.subscribes).toBe(1);
	});

	it('re-subscribes for a fresh snapshot after a gap in the sequence', async () => {
		const { hub, client } = await connected();
		const room = client.subscribe({ kind: 'line', id: 1 });
		await waitFor(() => room.view.synced);
		hub.seq = 20;
		// 6 is expected; 8 means 7 was lost.
		hub.delta(8, [pt(Date.now())]);
		await waitFor(() => hub.subscribes === 2);
		await waitFor(() => room.view.synced);
		expect(room.view.characteristics[0].series.points).toHaveLength(2);
	});

	it('rebuilds the view at most once per flush however fast deltas arrive', async () => {
		const { hub, client } = await connected();
		const room = client.subscribe({ kind: 'line', id: 1 });
		await waitFor(() => room.view.synced);

		const seen = new Set<unknown>();
		const sampler = setInterval(() => seen.add(room.view.characteristics[0]?.series), 5);
		cleanups.push(() => clearInterval(sampler));
		const start = Date.now();
		for (let i = 0; i < 40; i++) {
			hub.delta(6 + i, [pt(start + i)]);
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
		await waitFor(() => room.view.characteristics[0].latest?.ts === start + 39);
		const elapsed = Date.now() - start;
		clearInterval(sampler);
		// 40 deltas over ~0.8 s: a chart sees one new series per flush, not one per delta.
		expect(seen.size).toBeLessThanOrEqual(Math.ceil(elapsed / FLUSH_MS) + 2);
		expect(room.view.characteristics[0].series.points).toHaveLength(42);
	});
});

describe('LiveClient connection', () => {
	it('shows the room offline while the hub is down and resubscribes when it is back', async () => {
		const { hub, client } = await connected();
		const room = client.subscribe({ kind: 'line', id: 1 });
		await waitFor(() => room.view.synced);
		expect(room.view.characteristics[0].status).not.toBe('offline');

		const port = hub.port;
		await hub.close();
		await waitFor(() => client.connection === 'reconnecting');
		await waitFor(() => room.view.characteristics[0].status === 'offline');
		// Last values stay on screen (marked offline) rather than vanishing.
		expect(room.view.characteristics[0].series.points.length).toBeGreaterThan(0);

		const restarted = await startHub(port);
		cleanups.push(() => restarted.close());
		await waitFor(() => client.connection === 'live', 15_000);
		await waitFor(() => restarted.subscribes === 1 && room.view.synced);
		expect(room.view.characteristics[0].status).not.toBe('offline');
	}, 30_000);
});

/** A hub whose handshake refuses with `code` (after letting the first `allow` through). */
async function startRefusingHub(
	code: 'unauthorized' | 'forbidden',
	allow = 0
): Promise<{ url: string; handshakes: () => number; kick(): void; close(): Promise<void> }> {
	const http: HttpServer = createServer();
	const io = new Server<LiveClientToServer, LiveServerToClient>(http);
	let handshakes = 0;
	io.use((_socket, next) => {
		handshakes++;
		if (handshakes <= allow) {
			next();
			return;
		}
		const error = new Error(code) as Error & { data?: unknown };
		error.data = { code };
		next(error);
	});
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
	return {
		url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
		handshakes: () => handshakes,
		kick: () => io.disconnectSockets(true),
		close: () => new Promise<void>((resolve) => io.close(() => resolve()))
	};
}

describe('LiveClient refused by the hub', () => {
	it.each(['unauthorized', 'forbidden'] as const)(
		'says signed-out and stops retrying when the handshake is refused as %s',
		async (code) => {
			const hub = await startRefusingHub(code);
			cleanups.push(() => hub.close());
			const client = new LiveClient();
			cleanups.push(() => client.close());
			vi.useFakeTimers({ shouldAdvanceTime: true });
			cleanups.push(() => {
				vi.useRealTimers();
			});
			client.connect(hub.url);
			await waitFor(() => client.connection === 'signed-out');
			// Past every retry delay the client has (reconnection ≤ 5 s, refused handshakes 15 s).
			await vi.advanceTimersByTimeAsync(60_000);
			await new Promise((resolve) => setTimeout(resolve, 200));
			expect(hub.handshakes()).toBe(1);
			expect(client.connection).toBe('signed-out');
		},
		10_000
	);

	it('asks once after the hub hangs up (a session ended), then stays signed-out', async () => {
		const hub = await startRefusingHub('unauthorized', 1);
		cleanups.push(() => hub.close());
		const client = new LiveClient();
		cleanups.push(() => client.close());
		vi.useFakeTimers({ shouldAdvanceTime: true });
		cleanups.push(() => {
			vi.useRealTimers();
		});
		client.connect(hub.url);
		await waitFor(() => client.connection === 'live');
		hub.kick();
		await waitFor(() => client.connection === 'signed-out');
		await vi.advanceTimersByTimeAsync(60_000);
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(hub.handshakes()).toBe(2);
	}, 10_000);
});
