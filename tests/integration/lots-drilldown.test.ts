/**
 * Drill-down and traceability: from a machine and a moment to the lots running then, the lot
 * history (genealogy, certification standing at run start, inspections on time / late / missed,
 * alarms within the runs' windows, summaries, trail), trace forward from a material lot, the lot
 * search, and customer scoping — on both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, SYSTEM_ACTOR } from '$lib/server/audit/append';
import {
	createSession,
	DEFAULT_SESSION_SETTINGS,
	validateSessionToken
} from '$lib/server/auth/sessions';
import type { Principal } from '$lib/server/auth/policy';
import {
	createUserWithCode,
	listUsers,
	updateUserAccess,
	UserInputError
} from '$lib/server/auth/users';
import { lotsActiveAt } from '$lib/server/lots/at-time';
import { CHART_BUCKETS, loadLotCharts } from '$lib/server/lots/charts';
import { loadLotHistory, type LotHistory } from '$lib/server/lots/history';
import { lotContentHash } from '$lib/server/lots/signing';
import {
	lotSearchSchema,
	searchLots,
	traceCsvRows,
	traceForward,
	type LotSearchQuery
} from '$lib/server/lots/trace';
import { BACKENDS, characteristicId, openTestDatabase, type TestDatabase } from '../factories/db';
import {
	consume,
	lotWorld,
	makeAlarm,
	makeCertification,
	makeCustomer,
	makeInspection,
	makeInspectionPlan,
	makeLot,
	makeMaterialLot,
	makeProduct,
	makeRun,
	makeShipment,
	openDeviation,
	person,
	storeSummary,
	type LotWorld
} from '../factories/lots';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

const DAY = '2026-03-10';
const at = (hhmm: string) => new Date(`${DAY}T${hhmm}:00.000Z`);
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

function query(input: Record<string, string>): LotSearchQuery {
	return lotSearchSchema.parse(input);
}

describe.each(BACKENDS)('lot drill-down and traceability on %s', (backend) => {
	let t: TestDatabase;
	let world: LotWorld;
	let qe: UserPrincipal;
	let operatorA: UserPrincipal;
	let operatorB: UserPrincipal;
	let customerA: number;
	let customerB: number;
	let temp: number;
	let press: number;
	let dia: number;
	let leak: number;
	const ids = {} as {
		lotA1: number;
		lotA1Code: string;
		lotA2: number;
		lotA2Code: string;
		lotB1: number;
		partA: string;
		mlShared: number;
		mlSharedSupplierLot: string;
		mlQuarantine: number;
		run1: number;
		run2: number;
		runA2: number;
		alarmIn: number;
		alarmAfter: number;
		alarmOtherMachine: number;
		alarmAtEnd: number;
		inspOnTime: number;
		inspLate: number;
		inspMissed: number;
		inspSuspect: number;
		shipA1: number;
		shipB1: number;
		deviation: number;
	};

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		const db = t.database;
		world = await lotWorld(db);
		temp = await characteristicId(db, 'L1.M1.TEMP');
		press = await characteristicId(db, 'L1.M1.PRESS');
		dia = await characteristicId(db, 'L1.M2.DIA');
		leak = await characteristicId(db, 'L2.M1.LEAKFAIL');
		qe = await person(db, 'quality-engineer', { fullName: 'Quinn Engineer' });
		operatorA = await person(db, 'operator', { fullName: 'Olga Operator' });
		operatorB = await person(db, 'operator', { fullName: 'Otto Operator' });
		customerA = await makeCustomer(db, 'Acme Medical');
		customerB = await makeCustomer(db, 'Borealis Devices');
		const L1 = world.lines.L1;
		const productA = await makeProduct(db, customerA, L1, {
			specs: [{ characteristicId: temp, lsl: 195, usl: 205 }]
		});
		ids.partA = productA.code;
		const productB = await makeProduct(db, customerB, L1);

		const shared = await makeMaterialLot(db, { decidedBy: qe.userId });
		ids.mlShared = shared.materialLotId;
		ids.mlSharedSupplierLot = shared.supplierLot;
		ids.mlQuarantine = (await makeMaterialLot(db, { status: 'quarantine' })).materialLotId;

		// Olga: current at run 1's start, revoked afterwards (the record keeps "current").
		const certA = await makeCertification(
			db,
			operatorA.userId,
			'moulding',
			at('08:00'),
			new Date('2027-01-01'),
			{
				lineId: L1
			}
		);
		await db.query(`UPDATE certification SET revoked_at = $1::timestamptz WHERE id = $2`, [
			at('15:00').toISOString(),
			certA
		]);
		// Otto: expired half an hour before run 2 started.
		const certB = await makeCertification(
			db,
			operatorB.userId,
			'moulding',
			new Date('2025-01-01'),
			at('10:30'),
			{
				machineId: world.machines['L1.M2']
			}
		);

		const a1 = await makeLot(db, productA, L1, {
			status: 'completed',
			startedAt: at('10:00'),
			completedAt: at('13:00')
		});
		ids.lotA1 = a1.lotId;
		ids.lotA1Code = a1.code;
		ids.run1 = await makeRun(
			db,
			a1.lotId,
			world.machines['L1.M1'],
			operatorA.userId,
			at('10:00'),
			at('12:00'),
			{
				certificationId: certA
			}
		);
		ids.run2 = await makeRun(
			db,
			a1.lotId,
			world.machines['L1.M2'],
			operatorB.userId,
			at('11:00'),
			at('13:00'),
			{
				certificationId: certB
			}
		);
		await consume(db, a1.lotId, ids.mlShared, ids.run1, at('10:05'));
		await consume(db, a1.lotId, ids.mlQuarantine, ids.run2, at('11:05'));

		const plan = await makeInspectionPlan(db, productA.productId, { graceMinutes: 15 });
		ids.inspOnTime = await makeInspection(db, a1.lotId, plan, 1, at('10:30'), {
			status: 'done',
			doneAt: at('10:40'),
			doneBy: operatorA.userId,
			value: 200.1
		});
		ids.inspLate = await makeInspection(db, a1.lotId, plan, 2, at('11:30'), {
			status: 'done',
			doneAt: at('12:00'),
			doneBy: operatorA.userId,
			value: 199.8
		});
		ids.inspMissed = await makeInspection(db, a1.lotId, plan, 3, at('12:30'), { status: 'missed' });
		ids.inspSuspect = await makeInspection(db, a1.lotId, plan, 4, at('12:45'), {
			status: 'suspect',
			doneAt: at('12:50'),
			doneBy: operatorB.userId,
			value: 2001
		});

		const m1 = world.machines['L1.M1'];
		ids.alarmIn = await makeAlarm(db, temp, m1, L1, at('11:00'), { value: 212.4 });
		ids.alarmAtEnd = await makeAlarm(db, press, m1, L1, at('12:00'));
		ids.alarmAfter = await makeAlarm(db, temp, m1, L1, at('12:30'), { rule: 'nelson-2' });
		ids.alarmOtherMachine = await makeAlarm(
			db,
			leak,
			world.machines['L2.M1'],
			world.lines.L2,
			at('11:00')
		);

		ids.shipA1 = await makeShipment(db, a1.lotId, customerA, at('18:00'));
		await storeSummary(db, a1.lotId, temp, {
			count: 7200,
			min: 196.1,
			max: 204.2,
			mean: 200.05,
			sd: 1.4,
			counts: [1, 4, 20, 60, 30, 5]
		});
		ids.deviation = await openDeviation(db, a1.lotId, qe.userId, { inspectionId: ids.inspMissed });

		// Trail: the lot, one of its runs, and an unrelated lot's event that must not show.
		const b1 = await makeLot(db, productB, L1, {
			status: 'released',
			startedAt: at('14:00'),
			completedAt: at('16:00')
		});
		ids.lotB1 = b1.lotId;
		await makeRun(
			db,
			b1.lotId,
			world.machines['L1.M1'],
			operatorA.userId,
			at('14:00'),
			at('16:00'),
			{
				certificationId: certA
			}
		);
		await consume(db, b1.lotId, ids.mlShared, null, at('14:05'));
		ids.shipB1 = await makeShipment(db, b1.lotId, customerB, at('20:00'));
		await db.transaction(async (tx) => {
			await appendAudit(tx, {
				actor: SYSTEM_ACTOR,
				action: 'state',
				entityType: 'lot',
				entityId: String(a1.lotId),
				oldValues: { status: 'running' },
				newValues: { status: 'completed' }
			});
			await appendAudit(tx, {
				actor: SYSTEM_ACTOR,
				action: 'create',
				entityType: 'run',
				entityId: String(ids.run1),
				newValues: { machine: 'L1.M1' }
			});
			await appendAudit(tx, {
				actor: SYSTEM_ACTOR,
				action: 'state',
				entityType: 'lot',
				entityId: String(b1.lotId),
				newValues: { status: 'released' }
			});
		});
		await db.query(
			`INSERT INTO signature (record_type, record_id, record_version, content_sha256, signer_user_id,
			   signer_full_name, signer_username, meaning, signed_at, session_id)
			 VALUES ('lot', $1, 1, $2, $3, 'Quinn Engineer', $4, 'reviewed', now(), 'test')`,
			// Over the lot's signable content at its revision (lots/signing.ts), so it shows valid.
			[String(a1.lotId), (await lotContentHash(db, a1.lotId))?.sha256, qe.userId, qe.username]
		);

		// A running lot on L1.M1 with raw samples (no stored summary yet).
		const a2 = await makeLot(db, productA, L1, { status: 'running', startedAt: minutesAgo(10) });
		ids.lotA2 = a2.lotId;
		ids.lotA2Code = a2.code;
		ids.runA2 = await makeRun(db, a2.lotId, m1, operatorA.userId, minutesAgo(10), null, {
			certificationId: certA
		});
		const values = [199, 200, 201, 202, 203];
		const rows: string[] = [];
		const params: unknown[] = [];
		const push = (ts: Date, value: number, flags: number, seq: number) => {
			params.push(temp, ts.toISOString(), seq, value, flags);
			const n = params.length;
			rows.push(
				`($${n - 4}::int, $${n - 3}::timestamptz, $${n - 2}::bigint, $${n - 1}::float8, $${n}::smallint)`
			);
		};
		values.forEach((v, i) => push(minutesAgo(8 - i), v, 0, i + 1));
		push(minutesAgo(2), 5000, 1, 10); // suspect: left out of the statistics
		push(minutesAgo(30), 100, 0, 11); // before the run started: not this lot's
		await db.query(
			`INSERT INTO sample (characteristic_id, ts, seq, value, flags) VALUES ${rows.join(', ')}`,
			params
		);
	});

	afterAll(async () => {
		await t?.dispose();
	});

	describe('lotsActiveAt', () => {
		it('finds the lot whose run on the machine contains the moment', async () => {
			const found = await lotsActiveAt(t.database, world.machines['L1.M1'], at('11:00'));
			expect(found).toEqual([
				{
					lotId: ids.lotA1,
					lotCode: ids.lotA1Code,
					runId: ids.run1,
					productCode: ids.partA,
					startedAt: at('10:00'),
					endedAt: at('12:00')
				}
			]);
		});

		it('treats the run end as exclusive and an open run as running now', async () => {
			expect(await lotsActiveAt(t.database, world.machines['L1.M1'], at('12:00'))).toEqual([]);
			expect(await lotsActiveAt(t.database, world.machines['L1.M1'], at('09:59'))).toEqual([]);
			const now = await lotsActiveAt(t.database, world.machines['L1.M1'], new Date());
			expect(now.map((r) => [r.lotId, r.runId, r.endedAt])).toEqual([[ids.lotA2, ids.runA2, null]]);
		});

		it('looks only at the machine asked for', async () => {
			const m2 = await lotsActiveAt(t.database, world.machines['L1.M2'], at('12:30'));
			expect(m2.map((r) => r.runId)).toEqual([ids.run2]);
			expect(await lotsActiveAt(t.database, world.machines['L2.M1'], at('11:00'))).toEqual([]);
		});
	});

	describe('loadLotHistory', () => {
		let h: LotHistory;
		beforeAll(async () => {
			const loaded = await loadLotHistory(t.database, ids.lotA1, qe, at('23:00'));
			if (!loaded) throw new Error('lot A1 not loaded');
			h = loaded;
		});

		it('shows the header with product, customer, process version, quantities and timeline', () => {
			expect(h.header.code).toBe(ids.lotA1Code);
			expect(h.header.product.code).toBe(ids.partA);
			expect(h.header.customer.id).toBe(customerA);
			expect(h.header.processVersion?.version).toBe(1);
			expect(h.header.quantities).toEqual({ planned: 1000, good: 980, scrap: 15, rework: 5 });
			expect(h.header.timeline.startedAt).toEqual(at('10:00'));
			expect(h.header.timeline.completedAt).toEqual(at('13:00'));
			expect(h.header.line.code).toBe('L1');
		});

		it('traces backward to material lots with supplier and validation record', () => {
			expect(h.materials.map((m) => [m.materialLot.id, m.materialLot.status, m.runId])).toEqual([
				[ids.mlShared, 'validated', ids.run1],
				[ids.mlQuarantine, 'quarantine', ids.run2]
			]);
			const validated = h.materials[0];
			expect(validated.materialLot.supplierLot).toBe(ids.mlSharedSupplierLot);
			expect(validated.materialLot.decidedBy).toBe('Quinn Engineer');
			expect(validated.materialLot.evidence).toBe('CoA 4711 checked');
			expect(validated.supplier.code).toMatch(/^SUP-/);
			expect(validated.material.unit).toBe('kg');
		});

		it('traces forward to its shipments only', () => {
			expect(h.shipments.map((s) => [s.id, s.customer.id])).toEqual([[ids.shipA1, customerA]]);
		});

		it("judges each operator's certification as it stood at the run's start", () => {
			const [r1, r2] = h.runs;
			expect(r1.id).toBe(ids.run1);
			expect(r1.operator.fullName).toBe('Olga Operator');
			expect(r1.machine.code).toBe('L1.M1');
			// Revoked at 15:00, after the run started: the record says current.
			expect(r1.certification?.standing).toBe('current');
			expect(r1.certification?.scope).toBe('line');
			expect(r2.certification?.standing).toBe('expired');
			expect(r2.certification?.scope).toBe('machine');
		});

		it('classifies inspections as on time, late, missed and suspect', () => {
			expect(h.inspections.map((i) => [i.id, i.timing])).toEqual([
				[ids.inspOnTime, 'on-time'],
				[ids.inspLate, 'late'],
				[ids.inspMissed, 'missed'],
				[ids.inspSuspect, 'suspect']
			]);
			expect(h.inspections[0].doneBy).toBe('Olga Operator');
			expect(h.inspectionCounts).toMatchObject({
				planned: 4,
				done: 2,
				'on-time': 1,
				late: 1,
				missed: 1,
				suspect: 1
			});
		});

		it("lists the alarms of the lot's machines within its runs' windows only", () => {
			expect(h.alarms.map((a) => a.id)).toEqual([ids.alarmIn]);
			expect(h.alarms[0].characteristic?.code).toBe('L1.M1.TEMP');
			expect(h.alarms[0].runId).toBe(ids.run1);
		});

		it('carries stored parameter summaries with the process version spec', () => {
			expect(h.summaries).toHaveLength(1);
			const s = h.summaries[0];
			expect(s.source).toBe('stored');
			expect(s.characteristic.id).toBe(temp);
			expect(s.count).toBe(7200);
			expect(s.histogram.counts).toEqual([1, 4, 20, 60, 30, 5]);
			expect(s.spec).toEqual({ lsl: 195, target: 200, usl: 205 });
		});

		it('shows deviations, the trail of the lot and its runs, and signatures', () => {
			expect(h.deviations.map((d) => [d.id, d.status, d.inspectionId])).toEqual([
				[ids.deviation, 'open', ids.inspMissed]
			]);
			expect(h.audit.map((e) => [e.entityType, e.entityId])).toEqual([
				['lot', String(ids.lotA1)],
				['run', String(ids.run1)]
			]);
			expect(h.signatures).toHaveLength(1);
			expect(h.signatures[0]).toMatchObject({ meaning: 'reviewed', valid: true });
		});

		it('puts every departure in the exceptions', () => {
			const kinds = h.exceptions.map((e) => [e.kind, e.ref]);
			expect(kinds).toEqual(
				expect.arrayContaining([
					['alarm', ids.alarmIn],
					['inspection-late', ids.inspLate],
					['inspection-missed', ids.inspMissed],
					['inspection-suspect', ids.inspSuspect],
					['certification', ids.run2],
					['material', ids.mlQuarantine],
					['deviation', ids.deviation]
				])
			);
			expect(kinds).toHaveLength(7);
		});

		it("computes a running lot's summary live from its run's samples, suspects left out", async () => {
			const running = await loadLotHistory(t.database, ids.lotA2, qe);
			const s = running?.summaries.find((x) => x.characteristic.id === temp);
			expect(s?.source).toBe('live');
			expect(s?.count).toBe(5);
			expect(s?.min).toBe(199);
			expect(s?.max).toBe(203);
			expect(s?.mean).toBeCloseTo(201, 9);
			expect(s?.sd).toBeCloseTo(Math.sqrt(2.5), 9);
			expect(s?.histogram.counts).toHaveLength(20);
			expect(s?.histogram.counts.reduce((a, b) => a + b, 0)).toBe(5);
			expect(s?.histogram.counts[0]).toBe(1);
			expect(s?.histogram.counts[19]).toBe(1);
			// Characteristics of the machine without samples in the window get no summary.
			expect(running?.summaries.map((x) => x.characteristic.id)).toEqual([temp]);
			void press;
			void dia;
		});

		it("defers a running lot's live summary when asked (the lot page streams it), never a stored one", async () => {
			const running = await loadLotHistory(t.database, ids.lotA2, qe, new Date(), {
				liveSummaries: 'defer'
			});
			expect(running?.summariesDeferred).toBe(true);
			expect(running?.summaries).toEqual([]);
			const inline = await loadLotHistory(t.database, ids.lotA2, qe);
			expect(inline?.summariesDeferred).toBe(false);
			expect(inline?.summaries.map((x) => x.source)).toEqual(['live']);
			const done = await loadLotHistory(t.database, ids.lotA1, qe, new Date(), {
				liveSummaries: 'defer'
			});
			expect(done?.summariesDeferred).toBe(false);
			expect(done?.summaries.map((x) => x.source)).toEqual(['stored']);
		});

		it('answers null for an unknown or out-of-range id', async () => {
			expect(await loadLotHistory(t.database, 987_654, qe)).toBeNull();
			expect(await loadLotHistory(t.database, 0, qe)).toBeNull();
			expect(await loadLotHistory(t.database, 2 ** 40, qe)).toBeNull();
		});
	});

	describe('loadLotCharts', () => {
		it("draws every characteristic of the lot's machines with its alarms as markers", async () => {
			const h = (await loadLotHistory(t.database, ids.lotA1, qe))!;
			const charts = await loadLotCharts(t.database, h);
			expect(charts.map((c) => c.characteristic.code)).toEqual([
				'L1.M1.TEMP',
				'L1.M1.PRESS',
				'L1.M2.DIA'
			]);
			const tempChart = charts[0];
			expect(tempChart.markers).toEqual([
				{ ts: at('11:00').getTime(), value: 212.4, alarmId: ids.alarmIn }
			]);
			// The process version's spec, not the characteristic's default.
			expect(tempChart.config.spec).toEqual({ lsl: 195, target: 200, usl: 205 });
			// No raw samples in the window (with a stored summary: gone by retention).
			expect(tempChart.points).toEqual([]);
			expect(tempChart.hasSamples).toBe(false);
			expect(tempChart.window).toEqual({ from: at('10:00').getTime(), to: at('12:00').getTime() });
		});

		it('shows every point of a sparse run, suspect ones flagged', async () => {
			const h = (await loadLotHistory(t.database, ids.lotA2, qe))!;
			const tempChart = (await loadLotCharts(t.database, h)).find(
				(c) => c.characteristic.code === 'L1.M1.TEMP'
			)!;
			expect(tempChart.points.map((p) => p.value)).toEqual([199, 200, 201, 202, 203, 5000]);
			expect(tempChart.points[5].flags).toBe(1);
			expect(tempChart.thinned).toBe(false);
		});

		it('thins a dense run to one point per slice and says so', async () => {
			// 600 samples a second apart in the first 10 minutes of a 2-hour run.
			const start = at('10:00').getTime();
			await t.database.query(
				`INSERT INTO sample (characteristic_id, ts, seq, value, flags)
				 SELECT $1, timestamptz 'epoch' + ($2::float8 + g * 1000) * interval '1 millisecond', g, 1100 + (g % 7), 0
				 FROM generate_series(0, 599) g`,
				[press, start]
			);
			// An alarm on a point that thinning drops: the point is drawn anyway, under its marker.
			const alarmTs = new Date(start + 31_000);
			const alarmId = await makeAlarm(
				t.database,
				press,
				world.machines['L1.M1'],
				world.lines.L1,
				alarmTs,
				{ value: 1106 }
			);
			const h = (await loadLotHistory(t.database, ids.lotA1, qe))!;
			const pressChart = (await loadLotCharts(t.database, h)).find(
				(c) => c.characteristic.code === 'L1.M1.PRESS'
			)!;
			const sliceMs = (2 * 3600_000) / CHART_BUCKETS;
			expect(pressChart.thinned).toBe(true);
			expect(pressChart.hasSamples).toBe(true);
			expect(pressChart.points).toHaveLength(Math.ceil(600_000 / sliceMs) + 1);
			expect(pressChart.points[0].ts).toBe(start);
			expect(pressChart.markers).toEqual([{ ts: alarmTs.getTime(), value: 1106, alarmId }]);
			expect(pressChart.points).toContainEqual(
				expect.objectContaining({ ts: alarmTs.getTime(), value: 1106 })
			);
		});
	});

	describe('subgroup charts', () => {
		it('draws X-bar points from subgroups inside the window only, the first of each slice when dense', async () => {
			// L1.M2.DIA is an X̄-R chart; lot A1 ran on L1.M2 from 11:00 to 13:00.
			const start = at('11:00').getTime();
			const sliceMs = (2 * 3600_000) / CHART_BUCKETS;
			// 600 subgroups 2 s apart from 11:00 (dense: 20 minutes = 40 slices) plus one before and
			// one after the window that must not be drawn.
			await t.database.query(
				`INSERT INTO subgroup (characteristic_id, ts, n, value, dispersion)
				 SELECT $1, timestamptz 'epoch' + ($2::float8 + g * 2000) * interval '1 millisecond', 5, 7.5 + (g % 3) * 0.001, 0.01
				 FROM generate_series(0, 599) g`,
				[dia, start]
			);
			await t.database.query(
				`INSERT INTO subgroup (characteristic_id, ts, n, value, dispersion) VALUES
				 ($1, $2::timestamptz, 5, 99, 0.01), ($1, $3::timestamptz, 5, 99, 0.01)`,
				[dia, new Date(start - 60_000).toISOString(), at('13:00').toISOString()]
			);
			const h = (await loadLotHistory(t.database, ids.lotA1, qe))!;
			const chart = (await loadLotCharts(t.database, h)).find(
				(c) => c.characteristic.code === 'L1.M2.DIA'
			)!;
			expect(chart.thinned).toBe(true);
			const slices = Math.ceil((600 * 2000) / sliceMs);
			expect(chart.points).toHaveLength(slices);
			// Each drawn point is the first subgroup of its slice.
			for (const [i, p] of chart.points.entries()) {
				const first = start + Math.ceil((i * sliceMs) / 2000) * 2000;
				expect(p.ts).toBe(first);
			}
			expect(chart.points.some((p) => p.value === 99)).toBe(false);
		});
	});

	describe('traceForward', () => {
		it('finds every lot that consumed the material lot and every shipment of them', async () => {
			const trace = await traceForward(t.database, ids.mlShared, qe);
			expect(trace?.lots.map((l) => l.lotId)).toEqual([ids.lotA1, ids.lotB1]);
			expect(trace?.lots[0].quantityConsumed).toBe(12.5);
			expect(trace?.shipments.map((s) => [s.id, s.lotId])).toEqual([
				[ids.shipA1, ids.lotA1],
				[ids.shipB1, ids.lotB1]
			]);
			expect(trace?.materialLot.status).toBe('validated');
		});

		it('exports one CSV row per shipment and one per unshipped lot', async () => {
			const trace = await traceForward(t.database, ids.mlQuarantine, qe);
			const rows = traceCsvRows(trace!);
			expect(rows).toHaveLength(2);
			expect(rows[1][5]).toBe(ids.lotA1Code);
			const full = traceCsvRows((await traceForward(t.database, ids.mlShared, qe))!);
			expect(full).toHaveLength(3);
			expect(full[0]).toContain('shipment_customer');
		});

		it('answers null for an unknown material lot', async () => {
			expect(await traceForward(t.database, 999_999, qe)).toBeNull();
		});
	});

	describe('searchLots', () => {
		const codes = async (input: Record<string, string>, viewer: Principal = qe) =>
			(await searchLots(t.database, query(input), viewer)).lots.map((l) => l.id);

		it('finds by lot code, part number, material lot or supplier lot, customer and status', async () => {
			expect(await codes({ lot: ids.lotA1Code })).toEqual([ids.lotA1]);
			expect((await codes({ part: ids.partA })).sort()).toEqual([ids.lotA1, ids.lotA2].sort());
			expect((await codes({ material: ids.mlSharedSupplierLot })).sort()).toEqual(
				[ids.lotA1, ids.lotB1].sort()
			);
			expect(await codes({ customer: 'Borealis' })).toEqual([ids.lotB1]);
			expect(await codes({ status: 'running' })).toEqual([ids.lotA2]);
			expect(await codes({ part: ids.partA, status: 'completed' })).toEqual([ids.lotA1]);
		});

		it('filters by start date range (inclusive days, UTC)', async () => {
			expect((await codes({ from: DAY, to: DAY })).sort()).toEqual([ids.lotA1, ids.lotB1].sort());
			expect(await codes({ to: '2026-03-09' })).toEqual([]);
		});

		it('finds the lots running on a machine at a moment', async () => {
			const m1 = String(world.machines['L1.M1']);
			expect(await codes({ machine: m1, at: String(at('11:00').getTime()) })).toEqual([ids.lotA1]);
			expect(await codes({ machine: m1, at: String(at('15:00').getTime()) })).toEqual([ids.lotB1]);
		});

		it('finds the lots a machine or an operator worked on', async () => {
			const m2 = String(world.machines['L1.M2']);
			expect(await codes({ machine: m2 })).toEqual([ids.lotA1]);
			expect(await codes({ operator: String(operatorB.userId) })).toEqual([ids.lotA1]);
		});

		it('refuses a moment without a machine, a reversed range and an unknown status', () => {
			expect(lotSearchSchema.safeParse({ at: '1773136800000' }).success).toBe(false);
			expect(lotSearchSchema.safeParse({ from: '2026-03-02', to: '2026-03-01' }).success).toBe(
				false
			);
			expect(lotSearchSchema.safeParse({ status: 'shipped' }).success).toBe(false);
			expect(lotSearchSchema.safeParse({ from: '2026-02-31' }).success).toBe(false);
		});

		it('shows nothing of a line the viewer is not granted', async () => {
			const l2Operator = await person(t.database, 'operator', { lineId: world.lines.L2 });
			expect(await codes({}, l2Operator)).toEqual([]);
			expect(await loadLotHistory(t.database, ids.lotA1, l2Operator)).toBeNull();
		});
	});

	describe('customer scoping', () => {
		let acme: UserPrincipal;
		beforeAll(async () => {
			acme = await person(t.database, 'customer', { customerId: customerA });
		});

		it('carries the customer on the session principal', async () => {
			const { token } = await createSession(t.database, acme.userId, DEFAULT_SESSION_SETTINGS);
			const validated = await validateSessionToken(t.database, token, DEFAULT_SESSION_SETTINGS);
			expect(validated?.principal.customerId).toBe(customerA);
		});

		it("sees its own lot and not another customer's (null → 404)", async () => {
			expect((await loadLotHistory(t.database, ids.lotA1, acme))?.header.code).toBe(ids.lotA1Code);
			expect(await loadLotHistory(t.database, ids.lotB1, acme)).toBeNull();
		});

		it('lists only its own lots in the search, whatever the filter', async () => {
			const all = (await searchLots(t.database, query({}), acme)).lots.map((l) => l.id);
			expect(all.sort()).toEqual([ids.lotA1, ids.lotA2].sort());
			const borealis = await searchLots(t.database, query({ customer: 'Borealis' }), acme);
			expect(borealis.lots).toEqual([]);
		});

		it('traces forward only into its own lots and shipments', async () => {
			const trace = await traceForward(t.database, ids.mlShared, acme);
			expect(trace?.lots.map((l) => l.lotId)).toEqual([ids.lotA1]);
			expect(trace?.shipments.map((s) => s.id)).toEqual([ids.shipA1]);
		});

		it('lets the administrator link a customer account, audited, and refuses a staff link', async () => {
			const admin = { userId: null, label: 'system' };
			const created = await createUserWithCode(t.database, admin, {
				username: `acme-${Date.now().toString(36)}`,
				fullName: 'Acme Quality',
				grants: [{ role: 'customer' }],
				customerId: customerB
			});
			const listed = () =>
				listUsers(t.database).then((u) => u.find((x) => x.id === created.userId));
			expect((await listed())?.customerId).toBe(customerB);
			await updateUserAccess(
				t.database,
				admin,
				created.userId,
				{
					fullName: 'Acme Quality',
					email: null,
					canSign: false,
					grants: [{ role: 'customer' }],
					customerId: customerA
				},
				'moved to the Acme account'
			);
			expect((await listed())?.customerId).toBe(customerA);
			const [event] = await t.database.query<{ old_values: unknown; new_values: unknown }>(
				`SELECT old_values, new_values FROM audit_event
				 WHERE entity_type = 'user' AND entity_id = $1 AND action = 'update'`,
				[String(created.userId)]
			);
			expect(event).toEqual({
				old_values: { customerId: customerB },
				new_values: { customerId: customerA }
			});
			const refused = updateUserAccess(
				t.database,
				admin,
				created.userId,
				{
					fullName: 'Acme Quality',
					email: null,
					canSign: false,
					grants: [{ role: 'operator' }],
					customerId: customerA
				},
				'make staff'
			);
			await expect(refused).rejects.toBeInstanceOf(UserInputError);
			await expect(refused).rejects.toMatchObject({ field: 'customerId' });
			await expect(
				createUserWithCode(t.database, admin, {
					username: `ghost-${Date.now().toString(36)}`,
					fullName: 'Ghost',
					grants: [{ role: 'customer' }],
					customerId: 987_654
				})
			).rejects.toMatchObject({ field: 'customerId' });
		});

		it('sees nothing while no customer is set on the account', async () => {
			const unlinked = await person(t.database, 'customer');
			expect(await loadLotHistory(t.database, ids.lotA1, unlinked)).toBeNull();
			expect((await searchLots(t.database, query({}), unlinked)).lots).toEqual([]);
		});
	});
});
