import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LineSummary } from '$lib/realtime/events';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import { revokeDevice } from '$lib/server/auth/devices';
import { endSession } from '$lib/server/auth/sessions';
import { updateUserAccess } from '$lib/server/auth/users';
import { registerWorkerToken, revokeWorker } from '$lib/server/plant/workers';
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
		h = await startTestHub(backend, {
			sessionCheckMs: 200,
			allowedOrigins: ['https://wall.example']
		});
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

	it('reads the __Host- session cookie first, like the pages, past a stale bare one', async () => {
		const stale = await userWithSession(h.t.database, 'operator');
		await endSession(h.t.database, stale.sessionId, 'logout');
		const user = await userWithSession(h.t.database, 'operator');
		const socket = viewerSocket(h.url, {
			cookie: `tw_session=${stale.token}; __Host-tw_session=${user.token}`
		});
		await connected(socket);
		expect((await subscribeRoom(socket, { kind: 'line', id: line1 })).ok).toBe(true);
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
		const refused = () =>
			metricValue(h.metrics, 'tracewall_socket_refusals_total', { reason: 'forbidden' });
		const before = await refused();
		expect(await subscribeRoom(socket, { kind: 'line', id: line2 })).toMatchObject({
			ok: false,
			error: 'forbidden'
		});
		expect(await refused()).toBe(before + 1);
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
		const started = Date.now();
		await revokeDevice(h.t.database, SYSTEM_ACTOR, screen.deviceId, 'screen stolen');
		await until(() => !socket.connected, 2000);
		expect(Date.now() - started).toBeLessThan(2000);
		expect((await connectError(viewerSocket(h.url, { cookie: screen.cookie }))).message).toBe(
			'unauthorized'
		);
	});

	it('disconnects a screen revoked where no event reaches this hub (another node, a script)', async () => {
		const screen = await pairedDevice(h.t.database, [line1]);
		const socket = viewerSocket(h.url, { cookie: screen.cookie });
		await connected(socket);
		// Only the database knows: the periodic check (200 ms here, 5 s by default) finds it.
		await revokeDeviceRow(h.t.database, screen.deviceId);
		await until(() => !socket.connected, 2000);
		expect(
			await metricValue(h.metrics, 'tracewall_socket_refusals_total', { reason: 'disconnected' })
		).toBeGreaterThan(0);
	});

	it('does not renew a session at the handshake: an open wall is not activity', async () => {
		const user = await userWithSession(h.t.database, 'operator');
		// Past half-life, where a page request would renew it.
		await h.t.database.query(
			`UPDATE session SET expires_at = now() + interval '2 minutes' WHERE id = $1`,
			[user.sessionId]
		);
		const read = async () =>
			(
				await h.t.database.query<{ expires_at: string }>(
					`SELECT expires_at::text AS expires_at FROM session WHERE id = $1`,
					[user.sessionId]
				)
			)[0].expires_at;
		const before = await read();
		const socket = viewerSocket(h.url, { cookie: user.cookie });
		await connected(socket);
		expect(await read()).toBe(before);
	});

	it('disconnects a user who loses the watched line, and refuses that room on return', async () => {
		const user = await userWithSession(h.t.database, 'operator');
		const socket = viewerSocket(h.url, { cookie: user.cookie });
		await connected(socket);
		expect((await subscribeRoom(socket, { kind: 'line', id: line2 })).ok).toBe(true);
		const started = Date.now();
		await updateUserAccess(
			h.t.database,
			SYSTEM_ACTOR,
			user.userId,
			{
				fullName: 'Test operator',
				email: null,
				canSign: false,
				grants: [{ role: 'operator', lineId: line1 }]
			},
			'moved to line 1'
		);
		await until(() => !socket.connected, 2000);
		expect(Date.now() - started).toBeLessThan(2000);
		const again = viewerSocket(h.url, { cookie: user.cookie });
		await connected(again);
		expect((await subscribeRoom(again, { kind: 'line', id: line1 })).ok).toBe(true);
		expect(await subscribeRoom(again, { kind: 'line', id: line2 })).toMatchObject({
			ok: false,
			error: 'forbidden'
		});
	});

	it('keeps a user connected when a grant elsewhere changes, and applies a wider grant at once', async () => {
		const user = await userWithSession(h.t.database, 'operator', { lineId: line1 });
		const socket = viewerSocket(h.url, { cookie: user.cookie });
		await connected(socket);
		expect((await subscribeRoom(socket, { kind: 'line', id: line1 })).ok).toBe(true);
		expect((await subscribeRoom(socket, { kind: 'line', id: line2 })).ok).toBe(false);
		await updateUserAccess(
			h.t.database,
			SYSTEM_ACTOR,
			user.userId,
			{
				fullName: 'Test operator',
				email: null,
				canSign: false,
				grants: [
					{ role: 'operator', lineId: line1 },
					{ role: 'operator', lineId: line2 }
				]
			},
			'covers line 2 as well'
		);
		await until(
			async () => (await subscribeRoom(socket, { kind: 'line', id: line2 })).ok,
			2000,
			100
		);
		expect(socket.connected).toBe(true);
	});

	it('refuses a browser from a foreign origin, even with a valid cookie', async () => {
		const error = await connectError(
			viewerSocket(h.url, { cookie: h.viewerCookie, origin: 'https://evil.example' })
		);
		expect(error.message).toMatch(/xhr poll error|websocket error/i);
		const polling = await connectError(
			viewerSocket(h.url, {
				cookie: h.viewerCookie,
				origin: 'https://evil.example',
				transports: ['polling']
			})
		);
		expect(polling.message).toMatch(/xhr poll error/i);
	});

	it('accepts the same cookie from this site and from a listed origin', async () => {
		const same = viewerSocket(h.url, { cookie: h.viewerCookie, origin: h.url });
		await connected(same);
		const listed = viewerSocket(h.url, { cookie: h.viewerCookie, origin: 'https://wall.example' });
		await connected(listed);
		expect(same.connected && listed.connected).toBe(true);
	});

	it('disconnects a worker when its token is revoked, and refuses it afterwards', async () => {
		const worker = workerSocket(h.url);
		await connected(worker);
		expect(await revokeWorker(h.t.database, WORKER_NAME)).toBe(true);
		await until(() => !worker.connected, 2000);
		expect((await connectError(workerSocket(h.url))).message).toBe('unauthorized');
	});
	it('disconnects a worker revoked where no event reaches this hub', async () => {
		const other = 'test-worker-oob';
		const token = 'oob-worker-token-0123456789abcdef';
		await registerWorkerToken(h.t.database, other, token);
		const worker = workerSocket(h.url, token);
		await connected(worker);
		await h.t.database.query(`UPDATE worker SET revoked_at = now() WHERE name = $1`, [other]);
		await until(() => !worker.connected, 2000);
		expect((await connectError(workerSocket(h.url, token))).message).toBe('unauthorized');
	});

	// Last: it adds a site and a line to the shared plant.
	it('drops a site-scoped viewer from the alarms room when the plant grows past its site', async () => {
		const user = await userWithSession(h.t.database, 'shift-lead');
		const [{ site_id: siteId }] = await h.t.database.query<{ site_id: number }>(
			'SELECT site_id FROM line WHERE id = $1',
			[line1]
		);
		await updateUserAccess(
			h.t.database,
			SYSTEM_ACTOR,
			user.userId,
			{
				fullName: 'Test shift-lead',
				email: null,
				canSign: false,
				grants: [{ role: 'shift-lead', siteId }]
			},
			'scoped to the test site'
		);
		const socket = viewerSocket(h.url, { cookie: user.cookie });
		await connected(socket);
		expect((await subscribeRoom(socket, { kind: 'alarms' })).ok).toBe(true);

		await h.t.database.query(`INSERT INTO site (code, name) VALUES ('OTHER', 'Other site')`);
		await h.t.database.query(
			`INSERT INTO line (site_id, code, name) SELECT id, 'O1', 'Other line' FROM site WHERE code = 'OTHER'`
		);
		await h.hub.publishConfig();
		await until(() => !socket.connected, 2000);

		const again = viewerSocket(h.url, { cookie: user.cookie });
		await connected(again);
		expect(await subscribeRoom(again, { kind: 'alarms' })).toMatchObject({
			ok: false,
			error: 'forbidden'
		});
		expect((await subscribeRoom(again, { kind: 'line', id: line1 })).ok).toBe(true);
	});
});
