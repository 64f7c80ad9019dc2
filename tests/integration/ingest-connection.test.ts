import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IngestConfig, SampleTuple } from '$lib/realtime/events';
import { revokeWorker, registerWorkerToken } from '$lib/server/plant/workers';
import { BACKENDS } from '../factories/db';
import {
	connectError,
	connected,
	disconnectAll,
	getConfig,
	metricValue,
	sendBatch,
	startTestHub,
	storedSamples,
	until,
	unwrap,
	waitFor,
	workerSocket,
	type TestHub
} from './hub-harness';

/** Small enough that a test can exceed it cheaply; large enough for a normal batch. */
const MAX_BATCH_BYTES = 32 * 1024;

describe.each(BACKENDS)('/ingest connections on %s', (backend) => {
	let h: TestHub;

	beforeAll(async () => {
		h = await startTestHub(backend, { maxBatchBytes: MAX_BATCH_BYTES, presenceFlushMs: 200 });
	});
	afterAll(async () => {
		disconnectAll();
		await h?.close();
	});
	afterEach(() => disconnectAll());

	describe('worker authentication', () => {
		it.each([
			['a missing token', null],
			['a wrong token', 'not-the-token-0123456789abcdef']
		])('refuses %s with connect_error "unauthorized" and counts it', async (_name, token) => {
			const before = await metricValue(h.metrics, 'tracewall_ingest_auth_failures_total');

			const error = await connectError(workerSocket(h.url, token));

			expect(error.message).toBe('unauthorized');
			expect(error.data).toMatchObject({ code: 'unauthorized' });
			expect(await metricValue(h.metrics, 'tracewall_ingest_auth_failures_total')).toBe(before + 1);
		});

		it('refuses a revoked worker token', async () => {
			const token = `revoked-${randomUUID()}`;
			await registerWorkerToken(h.t.database, 'revoked-worker', token);
			await revokeWorker(h.t.database, 'revoked-worker');

			const error = await connectError(workerSocket(h.url, token));

			expect(error.data).toMatchObject({ code: 'unauthorized' });
		});

		it('accepts a registered token and counts the connection', async () => {
			const worker = workerSocket(h.url);
			await connected(worker);

			expect(
				await metricValue(h.metrics, 'tracewall_sockets_connected', { namespace: '/ingest' })
			).toBe(1);
		});
	});

	describe('oversized messages', () => {
		it('closes the connection, counts it, and keeps serving the next batch', async () => {
			const worker = workerSocket(h.url);
			await connected(worker);
			const before = await metricValue(h.metrics, 'tracewall_payload_too_large_total');
			const now = Date.now();
			const samples: SampleTuple[] = Array.from({ length: 2000 }, (_, i) => [
				h.ids.temp,
				now - 600_000 + i,
				i + 1,
				200.123456789,
				0
			]);
			expect(JSON.stringify(samples).length).toBeGreaterThan(MAX_BATCH_BYTES);
			const disconnect = waitFor<string>(worker, 'disconnect');

			worker.emit('ingest:batch', { batchId: randomUUID(), samples }, () => undefined);

			expect(await disconnect).toBe('transport close');
			await expect
				.poll(() => metricValue(h.metrics, 'tracewall_payload_too_large_total'))
				.toBe(before + 1);
			expect((await storedSamples(h.t, h.ids.temp)).filter((r) => r.ts === now - 600_000)).toEqual(
				[]
			);

			// The worker reconnects and a batch within the limit goes through.
			const again = workerSocket(h.url);
			await connected(again);
			const ack = await sendBatch(again, { batchId: randomUUID(), samples: samples.slice(0, 100) });
			expect(unwrap(ack).accepted).toBe(100);
		});
	});

	describe('configuration', () => {
		it('pushes the configuration on connect and answers config:get with the same', async () => {
			const worker = workerSocket(h.url);
			const pushed = waitFor<IngestConfig>(worker, 'config:update');
			await connected(worker);

			const config = await pushed;
			const answered = unwrap(await getConfig(worker, undefined));

			expect(answered).toEqual(config);
			expect(config.characteristics.map((c) => c.code).sort()).toEqual([
				'L1.M1.PRESS',
				'L1.M1.TEMP',
				'L1.M2.DIA',
				'L2.M1.LEAKFAIL'
			]);
			expect(config.characteristics.find((c) => c.id === h.ids.temp)).toMatchObject({
				lineId: h.lineOf(h.ids.temp),
				machineId: h.machineOf(h.ids.temp),
				spec: { lsl: 190, target: 200, usl: 210 }
			});
		});

		it('refuses config:get with a payload', async () => {
			const worker = workerSocket(h.url);
			await connected(worker);

			expect(await getConfig(worker, { all: true })).toMatchObject({
				ok: false,
				error: 'bad_request'
			});
		});

		it('delivers a published change to every connected worker with a newer revision', async () => {
			const a = workerSocket(h.url);
			const b = workerSocket(h.url);
			const firstA = waitFor<IngestConfig>(a, 'config:update');
			await Promise.all([connected(a), connected(b)]);
			const initial = await firstA;
			const updateA = waitFor<IngestConfig>(a, 'config:update');
			const updateB = waitFor<IngestConfig>(b, 'config:update');

			await h.t.database.query(
				`UPDATE characteristic SET spec_usl = 212, updated_at = now() WHERE id = $1`,
				[h.ids.temp]
			);
			await h.hub.publishConfig();

			for (const update of [await updateA, await updateB]) {
				expect(update.revision).toBeGreaterThan(initial.revision);
				expect(update.characteristics.find((c) => c.id === h.ids.temp)?.spec.usl).toBe(212);
			}
		});

		it('re-checks quietly: pushes only a configuration changed without a publish here', async () => {
			const worker = workerSocket(h.url);
			const pushes: IngestConfig[] = [];
			worker.on('config:update', (c) => pushes.push(c));
			await connected(worker);
			await until(() => pushes.length === 1);

			// Nothing changed: the worker hears nothing.
			await h.hub.publishConfig({ onlyIfChanged: true });
			await new Promise((r) => setTimeout(r, 200));
			expect(pushes).toHaveLength(1);

			// Changed behind the hub's back (another node, a failed publish): pushed once.
			await h.t.database.query(
				`UPDATE characteristic SET spec_lsl = 188, updated_at = now() WHERE id = $1`,
				[h.ids.temp]
			);
			await h.hub.publishConfig({ onlyIfChanged: true });
			await until(() => pushes.length === 2);
			expect(pushes[1].revision).toBeGreaterThan(pushes[0].revision);
			expect(pushes[1].characteristics.find((c) => c.id === h.ids.temp)?.spec.lsl).toBe(188);
			await h.hub.publishConfig({ onlyIfChanged: true });
			await new Promise((r) => setTimeout(r, 200));
			expect(pushes).toHaveLength(2);
		});
	});

	describe('worker presence', () => {
		it('writes the worker last-seen time to the database within a few flushes', async () => {
			const worker = workerSocket(h.url);
			await connected(worker);
			const connectedAt = Date.now();

			await expect
				.poll(
					async () => {
						const [row] = await h.t.database.query<{ ms: number | null }>(
							`SELECT (extract(epoch from last_seen_at) * 1000)::float8 AS ms FROM worker WHERE name = 'test-worker'`
						);
						return (row?.ms ?? 0) >= connectedAt - 1000;
					},
					{ timeout: 5000 }
				)
				.toBe(true);
			expect(h.hub.stats().workers.find((w) => w.name === 'test-worker')?.connections).toBe(1);
		});
	});
});
