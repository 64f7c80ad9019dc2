import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PLANT } from '$lib/demo/plant';
import { DEMO_WORKER_NAME, getApp, startApp, type App } from '$lib/server/app';
import { parseEnv } from '$lib/server/env';
import { createLog } from '$lib/server/log';
import { createMetrics } from '$lib/server/metrics';
import { GET as health } from '../../src/routes/api/health/+server';
import { GET as metricsRoute } from '../../src/routes/metrics/+server';
import { BACKENDS, createPostgresDatabase } from '../factories/db';
import { connected, disconnectAll, until, workerSocket } from './hub-harness';

const TOKEN = 'app-test-worker-token-0123456789';
// The handlers read nothing from the event; a real request is not needed to exercise them.
const event = {} as Parameters<typeof health>[0];
const metricsEvent = {} as Parameters<typeof metricsRoute>[0];

describe.each(BACKENDS)('the composition root on %s', (backend) => {
	let app: App;
	let httpServer: http.Server;
	let url: string;
	let dropPostgres: (() => Promise<void>) | undefined;

	beforeAll(async () => {
		let databaseUrl: string | undefined;
		if (backend === 'postgres') {
			const fresh = await createPostgresDatabase();
			databaseUrl = fresh.url;
			dropPostgres = fresh.drop;
		}
		httpServer = http.createServer((_req, res) => {
			res.statusCode = 404;
			res.end();
		});
		await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
		url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
		const env = parseEnv({
			TRACEWALL_DATA_DIR: 'memory://',
			DATABASE_URL: databaseUrl,
			TRACEWALL_WORKER_TOKEN: TOKEN,
			TRACEWALL_DEMO: 'true',
			// The year of history is not this test's concern (demo-history.test.ts starts with it).
			TRACEWALL_DEMO_HISTORY: 'false'
		});
		app = await startApp(httpServer, env, {
			log: createLog({ level: 'silent' }),
			metrics: createMetrics()
		});
	});
	afterAll(async () => {
		disconnectAll();
		await app?.close();
		httpServer?.closeAllConnections();
		await new Promise<void>((resolve) => httpServer?.close(() => resolve()));
		await dropPostgres?.();
	});

	it('seeds the demo plant and shares the running app through globalThis', async () => {
		expect(getApp()).toBe(app);
		const [{ n }] = await app.database.query<{ n: number }>(
			'SELECT count(*)::int AS n FROM characteristic'
		);
		const expected = DEMO_PLANT.lines.flatMap((l) =>
			l.machines.flatMap((m) => m.characteristics)
		).length;
		expect(n).toBe(expected);
	});

	it('lets the demo worker in with TRACEWALL_WORKER_TOKEN', async () => {
		const worker = workerSocket(url, TOKEN);
		await connected(worker);
		expect(app.hub.stats().workers.find((w) => w.name === DEMO_WORKER_NAME)?.connections).toBe(1);
	});

	it('reports health: database latency, hub clients per namespace, each worker with last-seen time', async () => {
		await until(() => app.hub.stats().clients['/ingest'] === 1);

		const response = await health(event);
		const body = await response.json();

		expect(response.status).toBe(200);
		expect(body).toMatchObject({
			status: 'ok',
			database: { kind: backend, ok: true },
			hub: { clients: { '/': 0, '/ingest': 1 } }
		});
		expect(body.database.latencyMs).toBeGreaterThanOrEqual(0);
		const worker = body.workers.find((w: { name: string }) => w.name === DEMO_WORKER_NAME);
		expect(worker).toMatchObject({ connected: true, revoked: false });
		expect(Math.abs(worker.lastSeenAt - Date.now())).toBeLessThan(60_000);
	});

	it('serves the Prometheus text format', async () => {
		const response = await metricsRoute(metricsEvent);
		const text = await response.text();

		expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
		for (const name of [
			'tracewall_samples_ingested_total',
			'tracewall_samples_rejected_total{reason="not_finite"}',
			'tracewall_samples_quarantined_total',
			'tracewall_samples_duplicate_total',
			'tracewall_batch_persist_seconds_bucket',
			'tracewall_sockets_connected{namespace="/ingest"} 1',
			'tracewall_ingest_auth_failures_total',
			'tracewall_payload_too_large_total'
		]) {
			expect(text).toContain(name);
		}
	});

	it('answers 503 when the database is down, and once the app is closed', async () => {
		await app.database.close();

		const down = await health(event);
		expect(down.status).toBe(503);
		expect(await down.json()).toMatchObject({ status: 'degraded', database: { ok: false } });

		await app.close();
		expect(getApp()).toBeUndefined();
		expect((await health(event)).status).toBe(503);
	});
});
