import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	READINGS_WINDOW,
	SAMPLE_FLAGS,
	type LiveReading,
	type RoomDelta,
	type SampleTuple
} from '$lib/realtime/events';
import { BACKENDS } from '../factories/db';
import {
	connected,
	disconnectAll,
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

// Inside READINGS_WINDOW.maxAgeMs (5 min) so snapshots include these readings, and always
// forward, so each test's readings are the newest of their characteristic.
let clockCursor = Math.floor(Date.now() / 1000) * 1000 - 4 * 60_000;
function freshTimes(n: number, stepMs = 100): number[] {
	const start = clockCursor;
	clockCursor += n * stepMs + 1000;
	return Array.from({ length: n }, (_, i) => start + i * stepMs);
}

function recordDeltas(viewer: ViewerSocket, room: string): RoomDelta[] {
	const deltas: RoomDelta[] = [];
	viewer.on('delta', (delta) => {
		if (delta.room === room) deltas.push(delta);
	});
	return deltas;
}

/**
 * The readings of `id` at `times` in these deltas. Filtered to the test's own times: a room's
 * first delta after a join may still carry an earlier test's reading, pending at the join.
 */
const readingsOf = (id: number, deltas: RoomDelta[], times: readonly number[]): LiveReading[] =>
	deltas.flatMap((d) => d.readings[id] ?? []).filter((r) => times.includes(r.ts));

/** What a wall must receive for these samples: the wire form, without the sample seq. */
const asReadings = (samples: SampleTuple[]): LiveReading[] =>
	samples.map(([, ts, , value, flags]) => ({ ts, value, flags }));

describe.each(BACKENDS)('raw readings through the hub on %s', (backend) => {
	let h: TestHub;
	let worker: WorkerSocket;

	beforeAll(async () => {
		h = await startTestHub(backend);
		worker = workerSocket(h.url);
		await connected(worker);
	});
	afterAll(async () => {
		disconnectAll();
		await h?.close();
	});

	async function ingest(samples: SampleTuple[], batchId: string = randomUUID()) {
		return unwrap(await sendBatch(worker, { batchId, samples }));
	}

	async function viewer(): Promise<ViewerSocket> {
		const socket = viewerSocket(h.url);
		await connected(socket);
		return socket;
	}

	describe('in deltas', () => {
		it('sends the accepted raw samples of subgroup and attribute charts as readings', async () => {
			const { dia, leak } = h.ids;
			const v = await viewer();
			const diaDeltas = recordDeltas(v, `characteristic:${dia}`);
			const leakDeltas = recordDeltas(v, `characteristic:${leak}`);
			unwrap(await subscribeRoom(v, { kind: 'characteristic', id: dia }));
			unwrap(await subscribeRoom(v, { kind: 'characteristic', id: leak }));
			const times = freshTimes(4);
			const diameters: SampleTuple[] = times.map((ts, i) => [dia, ts, i + 1, 4 + i / 100, 0]);
			diameters[2][4] = SAMPLE_FLAGS.SUSPECT;
			const failures: SampleTuple[] = times.map((ts, i) => [leak, ts, i + 1, i % 2, 0]);

			// No subgroup closes in this batch: the charts get no point, the tiles still move.
			await ingest([...diameters, ...failures]);
			await until(
				() =>
					readingsOf(dia, diaDeltas, times).length >= 4 &&
					readingsOf(leak, leakDeltas, times).length >= 4
			);

			expect(readingsOf(dia, diaDeltas, times)).toEqual(asReadings(diameters));
			expect(readingsOf(leak, leakDeltas, times)).toEqual(asReadings(failures));
			expect(diaDeltas.flatMap((d) => d.points[dia] ?? [])).toEqual([]);
		});

		it('gives charts of individuals no readings, and every delta a readings object', async () => {
			const { temp, dia } = h.ids;
			const lineId = h.lineOf(temp);
			const room = `line:${lineId}`;
			const v = await viewer();
			const deltas = recordDeltas(v, room);
			const snapshot = unwrap(await subscribeRoom(v, { kind: 'line', id: lineId }));
			const times = freshTimes(5);
			const temps: SampleTuple[] = times.map((ts, i) => [temp, ts, i + 1, 200 + i, 0]);

			await ingest(temps);
			await ingest([[dia, times[4], 1, 4.01, 0]]);
			await until(
				() =>
					deltas.some((d) => (d.points[temp] ?? []).some((p) => p.ts === times[4])) &&
					readingsOf(dia, deltas, times).some((r) => r.ts === times[4])
			);

			for (const d of deltas) {
				expect(d.readings).toBeTypeOf('object');
				expect(Object.keys(d.readings)).not.toContain(String(temp));
			}
			expect(Object.keys(snapshot.readings)).toEqual([String(dia)]);
		});

		it('bounds the readings of one flush to READINGS_WINDOW.maxPoints, keeping the newest', async () => {
			const { dia } = h.ids;
			const v = await viewer();
			const deltas = recordDeltas(v, `characteristic:${dia}`);
			unwrap(await subscribeRoom(v, { kind: 'characteristic', id: dia }));
			// A spool drained after an outage: one batch, 2.5 windows' worth.
			const n = Math.floor(READINGS_WINDOW.maxPoints * 2.5);
			const times = freshTimes(n, 10);
			const samples: SampleTuple[] = times.map((ts, i) => [dia, ts, i + 1, 4 + (i % 9) / 1000, 0]);

			await ingest(samples);
			await until(() => readingsOf(dia, deltas, times).some((r) => r.ts === times.at(-1)));

			expect(readingsOf(dia, deltas, times)).toEqual(
				asReadings(samples.slice(-READINGS_WINDOW.maxPoints))
			);
		});

		it('adds no readings for a re-sent batch', async () => {
			const { dia } = h.ids;
			const v = await viewer();
			const deltas = recordDeltas(v, `characteristic:${dia}`);
			unwrap(await subscribeRoom(v, { kind: 'characteristic', id: dia }));
			const times = freshTimes(4);
			const first: SampleTuple[] = times
				.slice(0, 3)
				.map((ts, i) => [dia, ts, i + 1, 3.99 + i / 100, 0]);
			const batchId = randomUUID();

			await ingest(first, batchId);
			const resent = await ingest(first, batchId);
			// A later batch: once its reading has arrived, anything the resend caused has too.
			await ingest([[dia, times[3], 4, 4.05, 0]]);
			await until(() => readingsOf(dia, deltas, times).some((r) => r.ts === times[3]));

			expect(resent).toMatchObject({ accepted: 0, duplicates: 3 });
			expect(readingsOf(dia, deltas, times)).toEqual(
				asReadings([...first, [dia, times[3], 4, 4.05, 0]])
			);
		});
	});

	describe('in snapshots', () => {
		it('serves the newest READINGS_WINDOW.maxPoints readings oldest first, and none for charts of individuals', async () => {
			const { temp, press, dia, leak } = h.ids;
			const line1Id = h.lineOf(dia);
			const n = READINGS_WINDOW.maxPoints + 30;
			const times = freshTimes(n, 50);
			const diameters: SampleTuple[] = times.map((ts, i) => [dia, ts, i + 1, 4 + (i % 5) / 100, 0]);
			diameters[n - 10][4] = SAMPLE_FLAGS.SUSPECT;
			const failures: SampleTuple[] = times.slice(-3).map((ts, i) => [leak, ts, i + 1, i, 0]);
			const temps: SampleTuple[] = times.slice(-3).map((ts, i) => [temp, ts, i + 1, 201, 0]);
			// Wait for the batch's delta to leave line 1's room, so nothing is pending at the
			// join and the snapshot alone holds the window (the join's subtraction is tested in
			// hub-subscribe.test.ts).
			const watcher = await viewer();
			const watched = recordDeltas(watcher, `line:${line1Id}`);
			unwrap(await subscribeRoom(watcher, { kind: 'line', id: line1Id }));
			await ingest([...diameters, ...failures, ...temps]);
			await until(() => readingsOf(dia, watched, times).some((r) => r.ts === times.at(-1)));

			const v = await viewer();
			const line1 = unwrap(await subscribeRoom(v, { kind: 'line', id: line1Id }));
			const line2 = unwrap(await subscribeRoom(v, { kind: 'line', id: h.lineOf(leak) }));

			expect(line1.readings[dia]).toEqual(asReadings(diameters.slice(-READINGS_WINDOW.maxPoints)));
			expect(line1.readings).not.toHaveProperty(String(temp));
			expect(line1.readings).not.toHaveProperty(String(press));
			expect(line1.points[temp].slice(-3).map((p) => p.ts)).toEqual(times.slice(-3));
			// Earlier tests' leak readings are older; the newest three are these.
			expect(line2.readings[leak].slice(-3)).toEqual(asReadings(failures));
		});
	});
});
