import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
	IngestViolation,
	LivePoint,
	LiveReading,
	RoomDelta,
	RoomSnapshot,
	SampleTuple
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

// Inside both live windows (the shorter is READINGS_WINDOW.maxAgeMs, 5 min) so snapshots
// include these points and readings; the whole file advances it by about two minutes.
let clockCursor = Math.floor(Date.now() / 1000) * 1000 - 4 * 60_000;
function freshTimes(n: number, stepMs = 100): number[] {
	const start = clockCursor;
	clockCursor += n * stepMs + 10_000;
	return Array.from({ length: n }, (_, i) => start + i * stepMs);
}

const subscribe = subscribeRoom;

/** Collects every delta of `room` a viewer receives. */
function recordDeltas(viewer: ViewerSocket, room: string): RoomDelta[] {
	const deltas: RoomDelta[] = [];
	viewer.on('delta', (delta) => {
		if (delta.room === room) deltas.push(delta);
	});
	return deltas;
}

function pointsOf(id: number, snapshot: RoomSnapshot | null, deltas: RoomDelta[]): LivePoint[] {
	return [...(snapshot?.points[id] ?? []), ...deltas.flatMap((d) => d.points[id] ?? [])];
}

function readingsOf(id: number, snapshot: RoomSnapshot | null, deltas: RoomDelta[]): LiveReading[] {
	return [...(snapshot?.readings[id] ?? []), ...deltas.flatMap((d) => d.readings[id] ?? [])];
}

describe.each(BACKENDS)('live rooms on %s', (backend) => {
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

	async function ingest(samples: SampleTuple[], extra: Record<string, unknown> = {}) {
		return unwrap(await sendBatch(worker, { batchId: randomUUID(), samples, ...extra }));
	}

	describe('subscribe', () => {
		it('answers with a snapshot of the room from the database', async () => {
			const times = freshTimes(5);
			await ingest(times.map((ts, i): SampleTuple => [h.ids.press, ts, i + 1, 1100 + i * 2, 0]));
			const viewer = viewerSocket(h.url);
			await connected(viewer);
			const lineId = h.lineOf(h.ids.press);

			const snapshot = unwrap(await subscribe(viewer, { kind: 'line', id: lineId }));

			expect(snapshot.room).toBe(`line:${lineId}`);
			expect(snapshot.line).toMatchObject({
				id: lineId,
				code: 'L1',
				name: 'Moulding',
				siteName: 'Test site'
			});
			expect(snapshot.machines.map((m) => m.code)).toEqual(['L1.M1', 'L1.M2']);
			expect(snapshot.characteristics.map((c) => c.code).sort()).toEqual([
				'L1.M1.PRESS',
				'L1.M1.TEMP',
				'L1.M2.DIA'
			]);
			const recent = snapshot.points[h.ids.press].filter((p) => times.includes(p.ts));
			// Values 1100, 1102, …: each moving range is 2 except the window's first point's
			// (which has an older neighbour only if one is stored).
			expect(recent.map((p) => p.value)).toEqual([1100, 1102, 1104, 1106, 1108]);
			expect(recent.slice(1).map((p) => p.dispersion)).toEqual([2, 2, 2, 2]);
			expect(snapshot.sourcesSeenAt).toHaveProperty('test-worker');
		});

		it.each([
			[{ kind: 'line', id: 999_999 }, 'not_found'],
			[{ kind: 'machine', id: 999_999 }, 'not_found'],
			[{ kind: 'characteristic', id: 999_999 }, 'not_found'],
			[{ kind: 'room', id: 1 }, 'bad_request'],
			['line:1', 'bad_request'],
			[{ kind: 'line', id: -1 }, 'bad_request']
		])('refuses %j with %s', async (room, error) => {
			const viewer = viewerSocket(h.url);
			await connected(viewer);

			expect(await subscribe(viewer, room)).toMatchObject({ ok: false, error });
		});
	});

	describe('snapshot then deltas', () => {
		it('delivers every point and every reading exactly once, in order, with contiguous seq, while data flows during the subscribe', async () => {
			const viewer = viewerSocket(h.url);
			// A viewer already in the room keeps it flushing every 100 ms, so a delta is usually
			// pending when the new viewer joins: the case the join must subtract exactly.
			const bystander = viewerSocket(h.url);
			await Promise.all([connected(viewer), connected(bystander)]);
			// An I-MR characteristic (its samples are its points) and an X̄-R one (its samples
			// are readings) of one line, in one room.
			const { temp: id, dia } = h.ids;
			const lineId = h.lineOf(id);
			expect(h.lineOf(dia)).toBe(lineId);
			const room = `line:${lineId}`;
			unwrap(await subscribe(bystander, { kind: 'line', id: lineId }));
			const deltas = recordDeltas(viewer, room);
			const times = freshTimes(300, 10);
			// A reading with every third point: 100 in all, so however late the join falls in the
			// stream, the snapshot's reading window (READINGS_WINDOW.maxPoints, 120) holds all the
			// readings committed before it.
			const diaTimes = times.filter((_, i) => i % 3 === 0);
			const batches = Array.from({ length: 30 }, (_, b) =>
				times.slice(b * 10, b * 10 + 10).flatMap((ts, i): SampleTuple[] => {
					const k = b * 10 + i;
					const point: SampleTuple = [id, ts, k + 1, 200 + (k % 7), 0];
					return k % 3 === 0 ? [point, [dia, ts, k + 1, 4 + (k % 5) / 1000, 0]] : [point];
				})
			);

			// Send 30 batches back to back; subscribe in the middle of the stream.
			let snapshot: RoomSnapshot | null = null;
			const sending = (async () => {
				for (const [b, batch] of batches.entries()) {
					if (b === 12) {
						void subscribe(viewer, { kind: 'line', id: lineId }).then((ack) => {
							snapshot = unwrap(ack);
						});
					}
					await ingest(batch);
				}
			})();
			await sending;
			await until(
				() =>
					snapshot !== null &&
					pointsOf(id, snapshot, deltas).some((p) => p.ts === times.at(-1)) &&
					readingsOf(dia, snapshot, deltas).some((r) => r.ts === diaTimes.at(-1))
			);

			const seqs = deltas.map((d) => d.seq);
			const taken = snapshot as unknown as RoomSnapshot;
			expect(seqs).toEqual(seqs.map((_, i) => taken.seq + 1 + i));
			const ours = pointsOf(id, taken, deltas).filter((p) => times.includes(p.ts));
			// No point lost, none duplicated, oldest first.
			expect(ours.map((p) => p.ts)).toEqual(times);
			const ourReadings = readingsOf(dia, taken, deltas).filter((r) => diaTimes.includes(r.ts));
			// No reading lost, none duplicated, oldest first.
			expect(ourReadings.map((r) => r.ts)).toEqual(diaTimes);
		});

		it('delivers every point exactly once to the first viewer of a room nobody watched while data flows', async () => {
			// Batches for rooms nobody watches are not queued for them (ingest-batch.ts): the
			// first viewer's snapshot must then hold everything committed before its join.
			const viewer = viewerSocket(h.url);
			await connected(viewer);
			const id = h.ids.temp;
			const room = `characteristic:${id}`;
			const deltas = recordDeltas(viewer, room);
			const times = freshTimes(200, 10);
			let snapshot: RoomSnapshot | null = null;
			for (let b = 0; b < 20; b++) {
				if (b === 8) {
					void subscribe(viewer, { kind: 'characteristic', id }).then((ack) => {
						snapshot = unwrap(ack);
					});
				}
				const slice = times.slice(b * 10, b * 10 + 10);
				await ingest(slice.map((ts, i): SampleTuple => [id, ts, b * 10 + i + 1, 300 + i, 0]));
			}
			await until(
				() => snapshot !== null && pointsOf(id, snapshot, deltas).some((p) => p.ts === times.at(-1))
			);

			const taken = snapshot as unknown as RoomSnapshot;
			expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => taken.seq + 1 + i));
			const ours = pointsOf(id, taken, deltas).filter((p) => times.includes(p.ts));
			expect(ours.map((p) => p.ts)).toEqual(times);
		});

		it('gives a re-subscribing client a fresh snapshot that continues the sequence', async () => {
			const viewer = viewerSocket(h.url);
			await connected(viewer);
			const id = h.ids.press;
			const room = `characteristic:${id}`;
			const first = unwrap(await subscribe(viewer, { kind: 'characteristic', id }));
			const times = freshTimes(4);
			await ingest(times.map((ts, i): SampleTuple => [id, ts, i + 1, 1110 + i, 0]));
			const deltas = recordDeltas(viewer, room);
			await until(() => deltas.length > 0);

			const second = unwrap(await subscribe(viewer, { kind: 'characteristic', id }));

			expect(second.seq).toBeGreaterThanOrEqual(first.seq + 1);
			expect(second.points[id].filter((p) => times.includes(p.ts)).map((p) => p.value)).toEqual([
				1110, 1111, 1112, 1113
			]);
		});
	});

	describe('reconnect', () => {
		it('gets a fresh snapshot with what was sent while the connection was down', async () => {
			const viewer = viewerSocket(h.url, { reconnection: true });
			await connected(viewer);
			const id = h.ids.temp;
			unwrap(await subscribe(viewer, { kind: 'characteristic', id }));
			let resubscribed: RoomSnapshot | null = null;
			// What a wall does: on every (re)connect, subscribe again.
			viewer.io.on('reconnect', () => {
				void subscribe(viewer, { kind: 'characteristic', id }).then((ack) => {
					resubscribed = unwrap(ack);
				});
			});
			const serverSide = [...h.hub.io.of('/').sockets.values()].find((s) => s.id === viewer.id);
			expect(serverSide).toBeDefined();

			// Drop the transport from the server side (as a network cut would), send meanwhile.
			serverSide!.conn.close();
			const times = freshTimes(3);
			await ingest(times.map((ts, i): SampleTuple => [id, ts, i + 1, 205 + i, 0]));
			await until(() => resubscribed !== null, 10_000);

			const snapshot = resubscribed as unknown as RoomSnapshot;
			expect(snapshot.points[id].filter((p) => times.includes(p.ts)).map((p) => p.value)).toEqual([
				205, 206, 207
			]);
		});
	});

	describe('alarms and subgroups', () => {
		it('sends a new alarm to the alarms room and to its line room, and lists it in later snapshots', async () => {
			const viewer = viewerSocket(h.url);
			await connected(viewer);
			const id = h.ids.temp;
			const lineId = h.lineOf(id);
			const alarmsDeltas = recordDeltas(viewer, 'alarms');
			const lineDeltas = recordDeltas(viewer, `line:${lineId}`);
			unwrap(await subscribe(viewer, { kind: 'alarms' }));
			unwrap(await subscribe(viewer, { kind: 'line', id: lineId }));
			const [ts] = freshTimes(1);
			const violation: IngestViolation = {
				characteristicId: id,
				ts,
				rule: 'nelson1',
				chart: 'primary',
				side: 'upper',
				message: '1 point beyond the upper control limit',
				pointTs: [ts],
				value: 230
			};

			await ingest([[id, ts, 1, 230, 0]], { violations: [violation] });
			await until(
				() =>
					alarmsDeltas.some((d) => d.alarms.length > 0) &&
					lineDeltas.some((d) => d.alarms.length > 0)
			);

			const alarm = alarmsDeltas.flatMap((d) => d.alarms).find((a) => a.ts === ts);
			expect(alarm).toMatchObject({
				characteristicId: id,
				lineId,
				rule: 'nelson1',
				state: 'unacknowledged',
				value: 230
			});
			expect(lineDeltas.flatMap((d) => d.alarms).map((a) => a.id)).toContain(alarm!.id);
			const later = viewerSocket(h.url);
			await connected(later);
			const snapshot = unwrap(await subscribe(later, { kind: 'alarms' }));
			expect(snapshot.alarms.map((a) => a.id)).toContain(alarm!.id);
		});

		it('plots a subgroup chart from its subgroups, and sends its raw samples as readings', async () => {
			const viewer = viewerSocket(h.url);
			await connected(viewer);
			const id = h.ids.dia;
			const deltas = recordDeltas(viewer, `characteristic:${id}`);
			unwrap(await subscribe(viewer, { kind: 'characteristic', id }));
			const times = freshTimes(5);
			const values = [4.01, 3.99, 4.02, 4.0, 3.98];
			// x̄ = 4.0, R = 0.04 (independent arithmetic on the five values above).
			await ingest(
				times.map((ts, i): SampleTuple => [id, ts, i + 1, values[i], 0]),
				{ subgroups: [{ characteristicId: id, ts: times[4], n: 5, value: 4.0, dispersion: 0.04 }] }
			);
			await until(() => deltas.some((d) => (d.points[id]?.length ?? 0) > 0));

			expect(deltas.flatMap((d) => d.points[id] ?? [])).toEqual([
				{ ts: times[4], seq: 0, value: 4.0, dispersion: 0.04, flags: 0 }
			]);
			// The raw samples still move the machine tile, as readings of the same delta.
			expect(readingsOf(id, null, deltas)).toEqual(
				times.map((ts, i) => ({ ts, value: values[i], flags: 0 }))
			);
		});
	});

	describe('configuration changes', () => {
		it('sends the changed characteristic to its rooms', async () => {
			const viewer = viewerSocket(h.url);
			await connected(viewer);
			const id = h.ids.press;
			const machineId = h.machineOf(id);
			const deltas = recordDeltas(viewer, `machine:${machineId}`);
			unwrap(await subscribe(viewer, { kind: 'machine', id: machineId }));

			await h.t.database.query(
				`UPDATE characteristic SET spec_lsl = 1010, updated_at = now() WHERE id = $1`,
				[id]
			);
			await h.hub.publishConfig();
			await until(() => deltas.some((d) => d.characteristics.length > 0));

			const changed = deltas.flatMap((d) => d.characteristics);
			expect(changed.map((c) => c.id)).toEqual([id]);
			expect(changed[0].spec.lsl).toBe(1010);
		});
	});
});
