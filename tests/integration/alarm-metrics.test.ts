import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlarm, type RaiseAlarmInput } from '$lib/server/alarms/raise';
import { alarmMetrics, listAlarms } from '$lib/server/alarms/queries';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import { listLineSummaries } from '$lib/server/plant/service';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';
import { productionWorld, type ProductionWorld } from '../factories/production';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe.each(BACKENDS)('alarm list and metrics on %s', (backend) => {
	let t: TestDatabase;
	let w: ProductionWorld;
	const now = Date.now();
	const base = now - 6 * HOUR;

	async function raise(input: Partial<RaiseAlarmInput> & { ts: Date }): Promise<number> {
		const { id } = await t.database.transaction((tx) =>
			raiseAlarm(
				tx,
				{
					kind: 'inspection',
					lineId: w.lineId,
					machineId: w.m1,
					characteristicId: null,
					rule: 'inspection-missed',
					message: 'Inspection missed: visual #1',
					...input
				},
				SYSTEM_ACTOR
			)
		);
		return id;
	}

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		w = await productionWorld(t.database);
		// A flood on L1: 12 alarms within 6 minutes (different machines' conditions).
		for (let i = 0; i < 12; i++) {
			await raise({ machineId: i % 2 === 0 ? w.m1 : w.m2, ts: new Date(base + i * 30_000) });
		}
		// Chattering: the same SPC condition raised 3 times within 10 minutes, an hour later
		// (each closed before the next: one open alarm per condition).
		for (let i = 0; i < 3; i++) {
			const id = await raise({
				kind: 'spc',
				characteristicId: w.tempId,
				rule: 'nelson1',
				message: 'beyond limits',
				ts: new Date(base + HOUR + i * 3 * MIN)
			});
			if (i < 2) await t.database.query(`UPDATE alarm SET state = 'cleared' WHERE id = $1`, [id]);
		}
		// Standing: open and raised 25 hours ago, on the other line.
		await raise({
			lineId: w.otherLineId,
			machineId: w.otherLineMachine,
			ts: new Date(now - 25 * HOUR)
		});
		await t.database.query(`UPDATE alarm SET state = 'acknowledged' WHERE line_id = $1`, [
			w.otherLineId
		]);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('counts alarms per hour, flood episodes, chattering conditions and standing alarms per line', async () => {
		const metrics = await alarmMetrics(t.database, [w.lineId, w.otherLineId], {
			from: now - 2 * 86_400_000,
			to: now,
			now
		});
		const l1 = metrics.find((m) => m.lineId === w.lineId);
		const l2 = metrics.find((m) => m.lineId === w.otherLineId);
		expect(l1).toMatchObject({ raised: 15, floods: 1, chattering: 1, standing: 0, awaiting: 13 });
		expect(l1?.perHour).toBeCloseTo(15 / 48, 5);
		expect(l2).toMatchObject({ raised: 1, floods: 0, chattering: 0, standing: 1, awaiting: 0 });
	});

	it('counts every kind awaiting acknowledgement in the line summaries (missed inspections too)', async () => {
		const summaries = await listLineSummaries(t.database);
		const l1 = summaries.find((s) => s.line.id === w.lineId);
		const l2 = summaries.find((s) => s.line.id === w.otherLineId);
		// 12 missed inspections and the open SPC alarm; L2's alarm is acknowledged.
		expect(l1?.unacknowledgedAlarms).toBe(13);
		expect(l2?.unacknowledgedAlarms).toBe(0);
	});

	it('lists what needs a person first and filters by state and kind', async () => {
		const all = await listAlarms(t.database, {
			lineIds: [w.lineId, w.otherLineId],
			state: null,
			kind: null,
			from: now - 2 * 86_400_000,
			to: now + 1
		});
		expect(all.total).toBe(16);
		const ranks = all.items.map((a) =>
			[
				'unacknowledged',
				'returned',
				'acknowledged',
				'shelved',
				'suppressed',
				'out_of_service',
				'cleared'
			].indexOf(a.state)
		);
		expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
		expect(all.items[0].state).toBe('unacknowledged');

		const spcOpen = await listAlarms(t.database, {
			lineIds: [w.lineId],
			state: 'open',
			kind: 'spc',
			from: now - 2 * 86_400_000,
			to: now + 1
		});
		expect(spcOpen.items.map((a) => [a.kind, a.state])).toEqual([['spc', 'unacknowledged']]);
		const none = await listAlarms(t.database, {
			lineIds: [],
			state: null,
			kind: null,
			from: 0,
			to: now
		});
		expect(none.total).toBe(0);
	});
});
