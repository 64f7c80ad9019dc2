import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LineSummary } from '$lib/realtime/events';
import { authEvents } from '$lib/server/auth/events';
import { endSession } from '$lib/server/auth/sessions';
import { revokeWorker } from '$lib/server/plant/workers';
import { BACKENDS } from '../factories/db';
import { pairedDevice, revokeDeviceRow, userWithSession } from '../factories/auth';
import {
	connected,
	connectError,
	disconnectAll,
	metricValue,
	startTestHub,
	subscribeRoom,
	until,
	viewerSocket,
	WORKER_NAME,
	workerSocket,
	type TestHub
} from './hub-harness';

describe.each(BACKENDS)('who may watch what, on %s', (backend) => {
	let h: TestHub;
	let line1: number;
	let line2: number;
	beforeAll(async () => {
		h = await startTestHub(backend, { sessionCheckMs: 200 });
		line1 = h.lineOf(h.ids.temp);
		line2 = h.lineOf(h.ids.leak);
	});
	afterEach(() => disconnectAll());
	afterAll(async () => {
		await h?.close();
	});

	it('refuses an anonymous browser at the handshake, and counts it', async () => {
		const before = await metricValue(h.metrics, 'tracewall_socket_refusals_total', {
			reason: 'unauthorized'
		});
		const error = await connectError(viewerSocket(h.url, { cookie: null }));
		expect(error.message).toBe('unauthorized');
		expect(
			await metricValue(h.metrics, 'tracewall_socket_refusals_total', { reason: 'unauthorized' })
		).toBe(before + 1);
	});

	it('refuses a forged or unknown session cookie', async () => {
		const error = await connectError(
			viewerSocket(h.url, { cookie: 'tw_session=abcdefghijklmnopqrstuvwxyz234567' })
		);
		expect(error.message).toBe('unauthorized');
	});

	it('refuses an account that may watch no line (a customer) with forbidden', async () => {
		const customer = await userWithSession(h.t.database, 'customer');
		const error = await connectError(viewerSocket(h.url, { cookie: customer.cookie }));
		expect(error.message).toBe('forbidden');
	});

	it('lets a signed-in operator watch every line of the plant', async () => {
		const operator = await userWithSession(h.t.database, 'operator');
		const socket = viewerSocket(h.url, { cookie: operator.cookie });
		await connected(socket);
		expect((await subscribeRoom(socket, { kind: 'line', id: line1 })).ok).toBe(true);
		expect((await subscribeRoom(socket, { kind: 'line', id: line2 })).ok).toBe(true);
		expect((await subscribeRoom(socket, { kind: 'alarms' })).ok).toBe(true);
	});

	it('keeps a user scoped to one line out of the other line’s rooms and list', async () => {
		const scoped = await userWithSession(h.t.database, 'operator', { lineId: line1 });
		const socket = viewerSocket(h.url, { cookie: scoped.cookie });
		await connected(socket);
		expect((await subscribeRoom(socket, { kind: 'line', id: line1 })).ok).toBe(true);
		expect(await subscribeRoom(socket, { kind: 'line', id: line2 })).toMatchObject({
			ok: false,
			error: 'forbidden'
		});
		expect(await subscribeRoom(socket, { kind: 'characteristic', id: h.ids.leak })).toMatchObject({
			ok: false,
			error: 'forbidden'
		});
		// The plant-wide alarms room spans line 2 as well.
		expect(await subscribeRoom(socket, { kind: 'alarms' })).toMatchObject({
			ok: false,
			error: 'forbidden'
		});
		const list = (await socket.timeout(5000).emitWithAck('lines:list', {})) as {
			ok: true;
			data: LineSummary[];
		};
		expect(list.data.map((l) => l.line.id)).toEqual([line1]);
	});

	it('lets a paired screen watch only its own lines', async () => {
		const screen = await pairedDevice(h.t.database, [line2]);
		const socket = viewerSocket(h.url, { cookie: screen.cookie });
		await connected(socket);
		expect((await subscribeRoom(socket, { kind: 'line', id: line2 })).ok).toBe(true);
		expect(
			await subscribeRoom(socket, { kind: 'machine', id: h.machineOf(h.ids.temp) })
		).toMatchObject({ ok: false, error: 'forbidden' });
	});

	it('disconnects the sockets of a session within seconds of its end', async () => {
		const user = await userWithSession(h.t.database, 'quality-engineer');
		const socket = viewerSocket(h.url, { cookie: user.cookie });
		await connected(socket);
		const started = Date.now();
		await endSession(h.t.database, user.sessionId, 'logout');
		await until(() => !socket.connected, 2000);
		expect(Date.now() - started).toBeLessThan(2000);
		// And it cannot come back with the same cookie.
		expect((await connectError(viewerSocket(h.url, { cookie: user.cookie }))).message).toBe(
			'unauthorized'
		);
	});

	it('disconnects a user socket whose session idles out, without any sign-out', async () => {
		const user = await userWithSession(h.t.database, 'operator');
		const socket = viewerSocket(h.url, { cookie: user.cookie });
		await connected(socket);
		// No request renews the session from here on: it reaches its idle expiry while the
		// socket stays open (watching is not activity).
		await h.t.database.query(
			`UPDATE session SET expires_at = now() + interval '1 second' WHERE id = $1`,
			[user.sessionId]
		);
		await new Promise((r) => setTimeout(r, 500));
		expect(socket.connected).toBe(true);
		await until(() => !socket.connected, 4000);
	});

	it('disconnects a revoked screen and refuses it afterwards', async () => {
		const screen = await pairedDevice(h.t.database, [line1]);
		const socket = viewerSocket(h.url, { cookie: screen.cookie });
		await connected(socket);
		await revokeDeviceRow(h.t.database, screen.deviceId);
		authEvents.emit({ kind: 'device-revoked', deviceId: screen.deviceId });
		await until(() => !socket.connected, 2000);
		expect((await connectError(viewerSocket(h.url, { cookie: screen.cookie }))).message).toBe(
			'unauthorized'
		);
	});

	it('refuses a browser from a foreign origin', async () => {
		const error = await connectError(
			viewerSocket(h.url, { cookie: h.viewerCookie, origin: 'https://evil.example' })
		);
		expect(error.message).toMatch(/xhr poll error|websocket error|forbidden/i);
	});

	it('disconnects a worker when its token is revoked, and refuses it afterwards', async () => {
		const worker = workerSocket(h.url);
		await connected(worker);
		expect(await revokeWorker(h.t.database, WORKER_NAME)).toBe(true);
		await until(() => !worker.connected, 2000);
		expect((await connectError(workerSocket(h.url))).message).toBe('unauthorized');
	});
});
