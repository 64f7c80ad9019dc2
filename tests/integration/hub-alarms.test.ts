import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestViolation, LiveAlarm, RoomDelta } from '$lib/realtime/events';
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
	type WorkerSocket
} from './hub-harness';

describe.each(BACKENDS)('alarm conditions through the hub on %s', (backend) => {
	let h: TestHub;
	let worker: WorkerSocket;

	beforeAll(async () => {
		// A short quiet period so the return to normal happens within the test.
		h = await startTestHub(backend, { alarmQuietMs: 600, alarmSweepMs: 100 });
		worker = workerSocket(h.url);
		await connected(worker);
	});
	afterAll(async () => {
		disconnectAll();
		await h?.close();
	});

	function violation(ts: number): IngestViolation {
		return {
			characteristicId: h.ids.temp,
			ts,
			rule: 'nelson2',
			chart: 'primary',
			side: 'upper',
			message: '9 points in a row above the centre line',
			pointTs: [ts],
			value: 231
		};
	}

	it('pushes the return to normal to the rooms, then re-raises the same alarm when the condition comes back', async () => {
		const viewer = viewerSocket(h.url);
		await connected(viewer);
		const deltas: RoomDelta[] = [];
		viewer.on('delta', (d) => {
			if (d.room === 'alarms') deltas.push(d);
		});
		unwrap(await subscribeRoom(viewer, { kind: 'alarms' }));
		const seen = (predicate: (a: LiveAlarm) => boolean) =>
			deltas.flatMap((d) => d.alarms).find(predicate);

		const t0 = Date.now() - 50;
		unwrap(
			await sendBatch(worker, {
				batchId: randomUUID(),
				samples: [[h.ids.temp, t0, 1, 231, 0]],
				violations: [violation(t0)]
			})
		);
		await until(() => seen((a) => a.rule === 'nelson2') !== undefined);
		const raised = seen((a) => a.rule === 'nelson2')!;
		expect(raised).toMatchObject({ state: 'unacknowledged', occurrences: 1 });

		await until(() => seen((a) => a.id === raised.id && a.state === 'returned') !== undefined);

		const t1 = Date.now();
		unwrap(
			await sendBatch(worker, {
				batchId: randomUUID(),
				samples: [[h.ids.temp, t1, 2, 231, 0]],
				violations: [violation(t1)]
			})
		);
		await until(
			() =>
				seen((a) => a.id === raised.id && a.state === 'unacknowledged' && a.occurrences === 2) !==
				undefined
		);
		const snapshot = unwrap(await subscribeRoom(viewerSocket(h.url), { kind: 'alarms' }));
		expect(snapshot.alarms.filter((a) => a.rule === 'nelson2')).toEqual([
			expect.objectContaining({ id: raised.id, state: 'unacknowledged', lastTs: t1 })
		]);
		// The alarms room shows no machine values: its deltas (the return to normal among them,
		// which carries nothing else) and its snapshot have an empty readings object.
		for (const d of deltas) expect(d.readings).toEqual({});
		expect(snapshot.readings).toEqual({});
	});
});
