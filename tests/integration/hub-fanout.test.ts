import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomDelta, RoomSnapshot, SampleTuple } from '$lib/realtime/events';
import { BACKENDS } from '../factories/db';
import {
	connected,
	disconnectAll,
	metricValue,
	sendBatch,
	startTestHub,
	subscribeRoom,
	unwrap,
	until,
	viewerSocket,
	workerSocket,
	type TestHub,
	type ViewerSocket,
	type WorkerSocket
} from './hub-harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Streams `ratePerSecond` samples/s for `durationMs`, alternating two characteristics, in
 * batches every `everyMs` (acked one by one, as a worker does). Returns every timestamp sent.
 */
async function stream(
	worker: WorkerSocket,
	ids: number[],
	{
		ratePerSecond,
		durationMs,
		everyMs = 50
	}: { ratePerSecond: number; durationMs: number; everyMs?: number },
	seqStart: { value: number }
): Promise<Map<number, number[]>> {
	const sent = new Map<number, number[]>(ids.map((id) => [id, []]));
	const perBatch = Math.round((ratePerSecond * everyMs) / 1000);
	const started = Date.now();
	let tick = 0;
	while (Date.now() - started < durationMs) {
		const base = Date.now() - 1000;
		const samples: SampleTuple[] = Array.from({ length: perBatch }, (_, i) => {
			const id = ids[i % ids.length];
			const seq = seqStart.value++;
			sent.get(id)!.push(base + i);
			return [id, base + i, seq, 200 + Math.sin(seq / 10), 0];
		});
		unwrap(await sendBatch(worker, { batchId: randomUUID(), samples }));
		tick++;
		const next = started + tick * everyMs;
		await sleep(Math.max(0, next - Date.now()));
	}
	return sent;
}

function record(viewer: ViewerSocket): RoomDelta[] {
	const deltas: RoomDelta[] = [];
	viewer.on('delta', (delta) => deltas.push(delta));
	return deltas;
}

describe.each(BACKENDS)('fan-out on %s', (backend) => {
	let h: TestHub;
	let worker: WorkerSocket;
	const seq = { value: 1 };

	beforeAll(async () => {
		h = await startTestHub(backend, { slowClientMaxPackets: 8 });
		worker = workerSocket(h.url);
		await connected(worker);
	});
	afterAll(async () => {
		disconnectAll();
		await h?.close();
	});

	describe('coalescing', () => {
		it('sends at most ~10 messages/s per room while 1000 samples/s flow, and loses no point', async () => {
			const viewer = viewerSocket(h.url);
			await connected(viewer);
			const { temp, press } = h.ids;
			const lineId = h.lineOf(temp);
			const deltas = record(viewer);
			const lineSnapshot = unwrap(await subscribeRoom(viewer, { kind: 'line', id: lineId }));
			unwrap(await subscribeRoom(viewer, { kind: 'characteristic', id: temp }));

			const sent = await stream(
				worker,
				[temp, press],
				{ ratePerSecond: 1000, durationMs: 2000 },
				seq
			);
			await sleep(300);

			const perRoom = new Map<string, RoomDelta[]>();
			for (const d of deltas) perRoom.set(d.room, [...(perRoom.get(d.room) ?? []), d]);
			const lineDeltas = perRoom.get(`line:${lineId}`) ?? [];
			// 2 s at ≤ 10/s, plus one for the first flush and one for the tail.
			expect(lineDeltas.length).toBeLessThanOrEqual(22);
			expect(lineDeltas.length).toBeGreaterThanOrEqual(10);
			expect((perRoom.get(`characteristic:${temp}`) ?? []).length).toBeLessThanOrEqual(22);
			expect(lineDeltas.map((d) => d.seq)).toEqual(
				lineDeltas.map((_, i) => lineSnapshot.seq + 1 + i)
			);
			const gaps = lineDeltas.slice(1).map((d, i) => d.serverTime - lineDeltas[i].serverTime);
			expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
			for (const id of [temp, press]) {
				const got = lineDeltas.flatMap((d) => d.points[id] ?? []).map((p) => p.ts);
				expect(got).toEqual(sent.get(id));
			}
			// Both are I-MR: their points are the readings, so every delta's readings are empty.
			for (const d of lineDeltas) expect(d.readings).toEqual({});
			expect(
				await metricValue(h.metrics, 'tracewall_room_messages_total', { room_kind: 'line' })
			).toBeGreaterThanOrEqual(lineDeltas.length);
		});
	});

	// The skip happens in the fan-out, after persistence, identically whatever the database; the
	// test has to push ~10 MB through loopback TCP buffers before the bound bites, so it runs
	// once (on the embedded default) rather than doubling that load on a shared machine.
	describe.runIf(backend === 'pglite')('a slow client', () => {
		it('is skipped instead of queued while it does not read, and recovers through a fresh snapshot', async () => {
			const { temp, press } = h.ids;
			const lineId = h.lineOf(temp);
			const slow = viewerSocket(h.url);
			const healthy = viewerSocket(h.url);
			await Promise.all([connected(slow), connected(healthy)]);
			const slowDeltas = record(slow);
			const healthyDeltas = record(healthy);
			const rooms = [
				{ kind: 'line', id: lineId },
				{ kind: 'machine', id: h.machineOf(temp) },
				{ kind: 'characteristic', id: temp },
				{ kind: 'characteristic', id: press }
			];
			const first = new Map<string, number>();
			for (const room of rooms) {
				const snapshot = unwrap(await subscribeRoom(slow, room));
				first.set(snapshot.room, snapshot.seq);
				unwrap(await subscribeRoom(healthy, room));
			}
			const serverSide = h.hub.io.of('/').sockets.get(slow.id!)!;
			const queued = () =>
				(serverSide.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
			const skipsBefore = await metricValue(h.metrics, 'tracewall_room_slow_skips_total');

			// Stop reading: the kernel buffers fill, then engine.io's write buffer would grow.
			// ws's own pause(): pausing its net.Socket directly would be undone by ws on drain.
			const raw = (slow.io.engine.transport as unknown as { ws: { pause(): void; resume(): void } })
				.ws;
			raw.pause();
			let maxQueued = 0;
			const watch = setInterval(() => (maxQueued = Math.max(maxQueued, queued())), 10);
			await until(
				async () => {
					await stream(worker, [temp, press], { ratePerSecond: 4000, durationMs: 500 }, seq);
					return (
						(await metricValue(h.metrics, 'tracewall_room_slow_skips_total')) > skipsBefore + 20
					);
				},
				40_000,
				0
			);
			clearInterval(watch);

			// Bounded: never more queued for it than the bound (plus what one flush adds).
			expect(maxQueued).toBeLessThanOrEqual(8 + rooms.length);
			// The healthy client kept getting everything in sequence meanwhile.
			const healthyLine = healthyDeltas
				.filter((d) => d.room === `line:${lineId}`)
				.map((d) => d.seq);
			expect(healthyLine).toEqual(healthyLine.map((_, i) => healthyLine[0] + i));

			// It reads again: it finds a gap in seq, re-subscribes, and gets a snapshot that is current.
			raw.resume();
			const lineRoom = `line:${lineId}`;
			const sawGap = () => {
				const seqs = slowDeltas.filter((d) => d.room === lineRoom).map((d) => d.seq);
				return seqs.some((s, i) => s !== (i === 0 ? first.get(lineRoom)! : seqs[i - 1]) + 1);
			};
			await until(
				async () => {
					await stream(worker, [temp], { ratePerSecond: 100, durationMs: 200 }, seq);
					return sawGap();
				},
				20_000,
				0
			);
			const afterFresh: RoomDelta[] = [];
			slow.on('delta', (delta) => {
				if (delta.room === lineRoom) afterFresh.push(delta);
			});
			const fresh: RoomSnapshot = unwrap(await subscribeRoom(slow, { kind: 'line', id: lineId }));
			const [{ ts: newest }] = await h.t.database.query<{ ts: number }>(
				`SELECT (extract(epoch from max(ts)) * 1000)::float8 AS ts FROM sample WHERE characteristic_id = $1`,
				[temp]
			);
			// Current: the snapshot holds the newest stored point, or (when that point was still
			// waiting in the coalescer at the join) the very next delta brings it.
			const next = () => afterFresh.filter((d) => d.seq === fresh.seq + 1);
			const has = (points: { ts: number }[] | undefined) =>
				(points ?? []).some((p) => p.ts === newest);
			await until(() => has(fresh.points[temp]) || next().length > 0);
			expect(has(fresh.points[temp]) || has(next()[0]?.points[temp])).toBe(true);
			expect(fresh.seq).toBeGreaterThan(first.get(lineRoom)!);
		});
	});
});
