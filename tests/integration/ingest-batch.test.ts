import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IngestResult, SampleTuple } from '$lib/realtime/events';
import { BACKENDS } from '../factories/db';
import {
	connected,
	disconnectAll,
	metricValue,
	sendBatch,
	startTestHub,
	storedSamples,
	workerSocket,
	type TestHub,
	type WorkerSocket
} from './hub-harness';

/** A fresh second-aligned time for each test's samples: tests never share keys. */
let clockCursor = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
function freshTimes(n: number): number[] {
	const start = clockCursor;
	clockCursor += (n + 10) * 1000;
	return Array.from({ length: n }, (_, i) => start + i * 1000);
}

const send = sendBatch;

describe.each(BACKENDS)('/ingest batches on %s', (backend) => {
	let h: TestHub;
	let worker: WorkerSocket;

	beforeAll(async () => {
		h = await startTestHub(backend);
	});
	afterAll(async () => {
		disconnectAll();
		await h?.close();
	});
	afterEach(() => {
		worker?.disconnect();
	});

	async function openWorker() {
		worker = workerSocket(h.url);
		await connected(worker);
		return worker;
	}

	describe('a good batch', () => {
		it('persists every sample and acks with the counts after the commit', async () => {
			const w = await openWorker();
			const times = freshTimes(3);
			const samples: SampleTuple[] = times.map((ts, i) => [h.ids.temp, ts, i + 1, 200 + i, 0]);
			const before = await metricValue(h.metrics, 'tracewall_samples_ingested_total');

			const ack = await send(w, {
				batchId: randomUUID(),
				samples,
				subgroups: [],
				violations: [],
				suspects: []
			});

			expect(ack).toEqual({
				ok: true,
				data: expect.objectContaining({ accepted: 3, duplicates: 0, quarantined: 0, rejected: [] })
			});
			// The ack comes after the commit: the rows are there as soon as it arrives.
			const rows = (await storedSamples(h.t, h.ids.temp)).filter((r) => times.includes(r.ts));
			expect(rows.map((r) => [r.ts, r.seq, r.value])).toEqual(
				samples.map((s) => [s[1], s[2], s[3]])
			);
			expect(await metricValue(h.metrics, 'tracewall_samples_ingested_total')).toBe(before + 3);
		});

		it('treats a re-sent batch as a no-op and counts the duplicates', async () => {
			const w = await openWorker();
			const samples: SampleTuple[] = freshTimes(4).map((ts, i) => [
				h.ids.press,
				ts,
				i + 1,
				1100 + i,
				0
			]);
			const batch = { batchId: randomUUID(), samples, subgroups: [], violations: [], suspects: [] };
			const before = await metricValue(h.metrics, 'tracewall_samples_duplicate_total');

			const first = (await send(w, batch)) as { ok: true; data: IngestResult };
			const again = (await send(w, batch)) as { ok: true; data: IngestResult };

			expect(first.data).toMatchObject({ accepted: 4, duplicates: 0 });
			expect(again.data).toMatchObject({ accepted: 0, duplicates: 4, quarantined: 0 });
			const rows = (await storedSamples(h.t, h.ids.press)).filter((r) =>
				samples.some((s) => s[1] === r.ts)
			);
			expect(rows).toHaveLength(4);
			expect(await metricValue(h.metrics, 'tracewall_samples_duplicate_total')).toBe(before + 4);
		});

		it('quarantines a re-delivered key with a different value and never overwrites it', async () => {
			const w = await openWorker();
			const [ts] = freshTimes(1);
			const before = await metricValue(h.metrics, 'tracewall_samples_quarantined_total');
			await send(w, { batchId: randomUUID(), samples: [[h.ids.temp, ts, 1, 201.5, 0]] });

			const ack = (await send(w, {
				batchId: randomUUID(),
				samples: [[h.ids.temp, ts, 1, 999.25, 0]]
			})) as { ok: true; data: IngestResult };

			expect(ack.data).toMatchObject({ accepted: 0, duplicates: 0, quarantined: 1 });
			const row = (await storedSamples(h.t, h.ids.temp)).find((r) => r.ts === ts);
			expect(row?.value).toBe(201.5);
			const quarantined = await h.t.database.query<{ received_value: number }>(
				`SELECT received_value FROM sample_quarantine WHERE characteristic_id = $1
				 AND ts = timestamptz 'epoch' + $2::float8 * interval '1 millisecond'`,
				[h.ids.temp, ts]
			);
			expect(quarantined.map((q) => q.received_value)).toEqual([999.25]);
			expect(await metricValue(h.metrics, 'tracewall_samples_quarantined_total')).toBe(before + 1);
		});
	});

	describe('bad samples in a batch', () => {
		it('refuses NaN, Infinity, null and non-numbers as not_finite and keeps the good samples', async () => {
			const w = await openWorker();
			const times = freshTimes(6);
			const samples = [
				[h.ids.temp, times[0], 1, 200, 0],
				// JSON has no NaN/Infinity: socket.io's parser sends them as null.
				[h.ids.temp, times[1], 2, NaN, 0],
				[h.ids.temp, times[2], 3, Infinity, 0],
				[h.ids.temp, times[3], 4, null, 0],
				[h.ids.temp, times[4], 5, '201.5', 0],
				[h.ids.temp, times[5], 6, 202, 0]
			];
			const before = await metricValue(h.metrics, 'tracewall_samples_rejected_total', {
				reason: 'not_finite'
			});

			const ack = (await send(w, { batchId: randomUUID(), samples })) as {
				ok: true;
				data: IngestResult;
			};

			expect(ack.ok).toBe(true);
			expect(ack.data.accepted).toBe(2);
			expect(ack.data.rejected).toEqual(
				[1, 2, 3, 4].map((index) => ({ index, reason: 'not_finite' }))
			);
			const rows = (await storedSamples(h.t, h.ids.temp)).filter((r) => times.includes(r.ts));
			expect(rows.map((r) => r.value)).toEqual([200, 202]);
			expect(
				await metricValue(h.metrics, 'tracewall_samples_rejected_total', { reason: 'not_finite' })
			).toBe(before + 4);
		});

		it('refuses malformed tuples, unknown characteristics and out-of-window times with their reasons', async () => {
			const w = await openWorker();
			const [good1, good2] = freshTimes(2);
			const now = Date.now();
			const samples = [
				[h.ids.press, good1, 1, 1100, 0],
				'not a tuple',
				[h.ids.press, good1, 2, 1100],
				[h.ids.press, good1, -3, 1100, 0],
				[h.ids.press, 'yesterday', 4, 1100, 0],
				[987654, good1, 5, 1100, 0],
				// Default INGEST_MAX_FUTURE_MS is 60 s; INGEST_MAX_AGE_MS 7 days.
				[h.ids.press, now + 10 * 60_000, 6, 1100, 0],
				[h.ids.press, now - 30 * 24 * 3600_000, 7, 1100, 0],
				[h.ids.press, good2, 8, 1101, 0]
			];
			const reasons = ['malformed', 'unknown_characteristic', 'future_timestamp', 'too_old'];
			const before = Object.fromEntries(
				await Promise.all(
					reasons.map(async (reason) => [
						reason,
						await metricValue(h.metrics, 'tracewall_samples_rejected_total', { reason })
					])
				)
			);

			const ack = (await send(w, { batchId: randomUUID(), samples })) as {
				ok: true;
				data: IngestResult;
			};

			expect(ack.data.accepted).toBe(2);
			expect(ack.data.rejected).toEqual([
				{ index: 1, reason: 'malformed' },
				{ index: 2, reason: 'malformed' },
				{ index: 3, reason: 'malformed' },
				{ index: 4, reason: 'malformed' },
				{ index: 5, reason: 'unknown_characteristic' },
				{ index: 6, reason: 'future_timestamp' },
				{ index: 7, reason: 'too_old' }
			]);
			const rows = (await storedSamples(h.t, h.ids.press)).filter(
				(r) => r.ts === good1 || r.ts === good2
			);
			expect(rows.map((r) => r.value)).toEqual([1100, 1101]);
			const after = Object.fromEntries(
				await Promise.all(
					reasons.map(async (reason) => [
						reason,
						await metricValue(h.metrics, 'tracewall_samples_rejected_total', { reason })
					])
				)
			);
			expect(after).toEqual({
				malformed: before.malformed + 4,
				unknown_characteristic: before.unknown_characteristic + 1,
				future_timestamp: before.future_timestamp + 1,
				too_old: before.too_old + 1
			});
		});
	});

	describe('a malformed batch', () => {
		it.each([
			['not an object', 'garbage'],
			['no batch id', { samples: [] }],
			['samples not an array', { batchId: 'b-1', samples: 'x' }],
			['a malformed violation', { batchId: 'b-2', samples: [], violations: [{ rule: 'nope' }] }]
		])('refuses %s with bad_request, persists nothing and counts it', async (_name, payload) => {
			const w = await openWorker();
			const before = await metricValue(h.metrics, 'tracewall_batches_rejected_total', {
				code: 'bad_request'
			});
			const rowsBefore = (await storedSamples(h.t, h.ids.temp)).length;

			const ack = await send(w, payload);

			expect(ack).toMatchObject({ ok: false, error: 'bad_request' });
			expect(
				await metricValue(h.metrics, 'tracewall_batches_rejected_total', { code: 'bad_request' })
			).toBe(before + 1);
			expect((await storedSamples(h.t, h.ids.temp)).length).toBe(rowsBefore);
		});
	});
});
