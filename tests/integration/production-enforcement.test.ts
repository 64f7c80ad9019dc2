/**
 * The production rules, enforced by the services whoever calls them (station forms and the JSON
 * API call the same functions; tests/integration/production-api.test.ts replays the API side):
 * certification and material checks at run start, the lot status machine, inspections falling
 * due, the second-person rule for suspect results, overdue inspections blocking completion
 * unless a deviation covers them, and the per-lot parameter summaries.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	alarm,
	auditEvent,
	inspection,
	lot,
	lotMaterial,
	lotParameterSummary,
	materialLot,
	run
} from '$lib/server/db/schema';
import type { Person } from '$lib/server/production/access';
import {
	grantCertification,
	listCertifications,
	revokeCertification
} from '$lib/server/production/certification-admin';
import { openDeviation, closeDeviation } from '$lib/server/production/deviations';
import { ProductionError, type ProductionErrorCode } from '$lib/server/production/errors';
import {
	confirmInspection,
	ensureDueInspections,
	recordInspectionResult
} from '$lib/server/production/inspections';
import {
	changeLotStatus,
	completeLot,
	planLot,
	recordQuantities,
	submitLotForReview
} from '$lib/server/production/lots';
import { decideMaterialLot, receiveMaterialLot } from '$lib/server/production/materials';
import { sweepInspections } from '$lib/server/production/inspection-sweep';
import { endRun, startRun } from '$lib/server/production/runs';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';
import {
	addInspectionPlan,
	certify,
	personWith,
	productionWorld,
	type ProductionWorld
} from '../factories/production';

const MIN = 60_000;
const DAY = 86_400_000;

async function refusal(promise: Promise<unknown>): Promise<ProductionError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ProductionError) return error;
		throw error;
	}
	throw new Error('the action was not refused');
}

async function refusedWith(promise: Promise<unknown>): Promise<ProductionErrorCode> {
	return (await refusal(promise)).code;
}

describe.each(BACKENDS)('production enforcement on %s', (backend) => {
	let t: TestDatabase;
	let w: ProductionWorld;
	let operator: Person;
	let lead: Person;
	let qe: Person;
	let reviewer: Person;
	let manager: Person;

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		w = await productionWorld(t.database);
		operator = await personWith(t.database, 'operator', { fullName: 'Olga Operator' });
		lead = await personWith(t.database, 'shift-lead');
		qe = await personWith(t.database, 'quality-engineer');
		reviewer = await personWith(t.database, 'qa-reviewer');
		manager = await personWith(t.database, 'manager');
		await certify(t.database, operator.userId, { machineId: w.m1 });
		await certify(t.database, lead.userId, { lineId: w.lineId });
	});
	afterAll(async () => {
		await t?.dispose();
	});

	async function newLot(plannedQty = 100): Promise<number> {
		return (await planLot(t.database, manager, { productId: w.productId, plannedQty })).id;
	}

	async function lotRow(id: number) {
		const [row] = await t.database.db.select().from(lot).where(eq(lot.id, id));
		return row;
	}

	async function runsOf(lotId: number) {
		return t.database.db.select().from(run).where(eq(run.lotId, lotId));
	}

	async function auditOf(entityType: string, entityId: number) {
		return t.database.db
			.select()
			.from(auditEvent)
			.where(and(eq(auditEvent.entityType, entityType), eq(auditEvent.entityId, String(entityId))))
			.orderBy(auditEvent.id);
	}

	describe('material lots', () => {
		it('receives into quarantine and validates only on evidence, audited', async () => {
			const received = await receiveMaterialLot(t.database, qe, {
				materialId: w.materialId,
				supplierId: w.supplierId,
				supplierLot: 'SUP-LOT-77',
				quantity: 25
			});
			const [row] = await t.database.db
				.select()
				.from(materialLot)
				.where(eq(materialLot.id, received.id));
			expect(row.status).toBe('quarantine');
			expect(received.code).toMatch(/^ML-\d{6}$/);
			expect(
				await refusedWith(
					decideMaterialLot(t.database, qe, {
						id: received.id,
						decision: 'validated',
						evidence: ' '
					})
				)
			).toBe('invalid');
			await decideMaterialLot(t.database, reviewer, {
				id: received.id,
				decision: 'validated',
				evidence: 'CoA 4711 checked'
			});
			const [after] = await t.database.db
				.select()
				.from(materialLot)
				.where(eq(materialLot.id, received.id));
			expect(after).toMatchObject({
				status: 'validated',
				decidedBy: reviewer.userId,
				evidence: 'CoA 4711 checked'
			});
			expect(
				await refusedWith(
					decideMaterialLot(t.database, qe, {
						id: received.id,
						decision: 'rejected',
						evidence: 'again'
					})
				)
			).toBe('material-not-pending');
			const trail = await auditOf('material_lot', received.id);
			expect(trail.map((e) => e.action)).toEqual(['create', 'state']);
		});

		it('refuses receiving and deciding to people without material:manage', async () => {
			expect(
				await refusedWith(
					receiveMaterialLot(t.database, operator, {
						materialId: w.materialId,
						supplierId: w.supplierId,
						supplierLot: 'X',
						quantity: 1
					})
				)
			).toBe('forbidden');
			expect(
				await refusedWith(
					decideMaterialLot(t.database, manager, {
						id: w.materialLots.quarantine.id,
						decision: 'validated',
						evidence: 'CoA'
					})
				)
			).toBe('forbidden');
		});
	});

	describe('run start: certification', () => {
		it('refuses an operator with no certification, stores nothing but an audited attempt', async () => {
			const lotId = await newLot();
			const stranger = await personWith(t.database, 'operator', { fullName: 'Sam Stranger' });
			const e = await refusal(startRun(t.database, stranger, { lotId, machineId: w.m1 }));
			expect(e.code).toBe('operator-not-certified');
			expect(e.message).toContain('Sam Stranger is not certified to run moulding on Press 1');
			expect(await runsOf(lotId)).toEqual([]);
			expect((await lotRow(lotId)).status).toBe('planned');
			const trail = await auditOf('lot', lotId);
			const attempt = trail.find(
				(a) => (a.newValues as { runStart?: string } | null)?.runStart === 'refused'
			);
			expect(attempt?.actorUserId).toBe(stranger.userId);
			expect(attempt?.reason).toContain('not certified');
		});

		it('refuses an expired certification and says when it expired', async () => {
			const lotId = await newLot();
			const lapsed = await personWith(t.database, 'operator');
			await certify(t.database, lapsed.userId, {
				machineId: w.m1,
				validFrom: new Date(Date.now() - 400 * DAY),
				validTo: new Date(Date.now() - 2 * DAY)
			});
			const e = await refusal(startRun(t.database, lapsed, { lotId, machineId: w.m1 }));
			expect(e.code).toBe('operator-not-certified');
			expect(e.message).toMatch(/expired on \d{4}-\d{2}-\d{2}/);
		});

		it('refuses a certification that names another machine', async () => {
			const lotId = await newLot();
			const elsewhere = await personWith(t.database, 'operator');
			await certify(t.database, elsewhere.userId, { machineId: w.m2 });
			const e = await refusal(startRun(t.database, elsewhere, { lotId, machineId: w.m1 }));
			expect(e.code).toBe('operator-not-certified');
			expect(e.message).toContain('another machine');
		});

		it('refuses a revoked certification', async () => {
			const lotId = await newLot();
			const revoked = await personWith(t.database, 'operator');
			await certify(t.database, revoked.userId, {
				machineId: w.m1,
				revokedAt: new Date(Date.now() - DAY)
			});
			const e = await refusal(startRun(t.database, revoked, { lotId, machineId: w.m1 }));
			expect(e.code).toBe('operator-not-certified');
			expect(e.message).toContain('revoked');
		});

		it('refuses people without run:operate, and operators of another line', async () => {
			const lotId = await newLot();
			expect(await refusedWith(startRun(t.database, manager, { lotId, machineId: w.m1 }))).toBe(
				'forbidden'
			);
			const l2Operator = await personWith(t.database, 'operator', { lineId: w.otherLineId });
			await certify(t.database, l2Operator.userId, { machineId: w.m1 });
			expect(await refusedWith(startRun(t.database, l2Operator, { lotId, machineId: w.m1 }))).toBe(
				'forbidden'
			);
		});
	});

	describe('run start: material', () => {
		it.each([
			['quarantine', 'in quarantine'],
			['rejected', 'rejected']
		] as const)('refuses a %s material lot and names it', async (status, words) => {
			const lotId = await newLot();
			const code = w.materialLots[status].code;
			const e = await refusal(
				startRun(t.database, operator, {
					lotId,
					machineId: w.m1,
					materials: [
						{ materialLotId: w.materialLots.validated.id, quantity: 2 },
						{ materialLotId: w.materialLots[status].id, quantity: 1 }
					]
				})
			);
			expect(e.code).toBe('material-not-validated');
			expect(e.message).toContain(`${code} (Polycarbonate resin) is ${words}`);
			expect(e.message).not.toContain('ML-VALIDATED');
			expect(await runsOf(lotId)).toEqual([]);
			const consumed = await t.database.db
				.select()
				.from(lotMaterial)
				.where(eq(lotMaterial.lotId, lotId));
			expect(consumed).toEqual([]);
			const trail = await auditOf('lot', lotId);
			expect(trail.some((a) => a.reason?.includes(code))).toBe(true);
		});

		it('refuses an unknown receiving number, naming it', async () => {
			const lotId = await newLot();
			const e = await refusal(
				startRun(t.database, operator, {
					lotId,
					machineId: w.m1,
					materials: [{ materialLotCode: 'NOPE-1', quantity: 1 }]
				})
			);
			expect(e.code).toBe('material-not-validated');
			expect(e.message).toContain('NOPE-1 is unknown');
		});
	});

	describe('run start and end', () => {
		it('starts with a current certification and validated material: checks stored, lot running under the effective process version', async () => {
			const lotId = await newLot();
			const started = await startRun(t.database, operator, {
				lotId,
				machineId: w.m1,
				materials: [{ materialLotCode: w.materialLots.validated.code, quantity: 3.5 }]
			});
			const [r] = await runsOf(lotId);
			expect(r.id).toBe(started.runId);
			expect(r.operatorId).toBe(operator.userId);
			expect(r.operation).toBe('moulding');
			expect(r.certificationId).not.toBeNull();
			expect(r.checks).toMatchObject({
				outcome: 'started',
				certification: { ok: true, scope: 'machine' },
				materials: [{ code: w.materialLots.validated.code, ok: true, status: 'validated' }]
			});
			const l = await lotRow(lotId);
			expect(l.status).toBe('running');
			expect(l.processVersionId).toBe(w.processVersionId);
			expect(l.startedAt).not.toBeNull();
			const consumed = await t.database.db
				.select()
				.from(lotMaterial)
				.where(eq(lotMaterial.lotId, lotId));
			expect(consumed).toMatchObject([
				{ materialLotId: w.materialLots.validated.id, quantity: 3.5, runId: r.id }
			]);
			expect((await auditOf('run', r.id)).map((a) => a.action)).toEqual(['create']);

			// One open run per machine.
			const other = await newLot();
			const busy = await refusal(startRun(t.database, lead, { lotId: other, machineId: w.m1 }));
			expect(busy.code).toBe('machine-busy');
			await endRun(t.database, operator, { id: r.id });
			expect(await refusedWith(endRun(t.database, operator, { id: r.id }))).toBe('run-ended');
			const second = await startRun(t.database, lead, { lotId: other, machineId: w.m1 });
			expect(second.checks.certification.scope).toBe('line');
			await endRun(t.database, lead, { id: second.runId });
		});

		it('refuses a machine of another line', async () => {
			const lotId = await newLot();
			expect(
				await refusedWith(startRun(t.database, operator, { lotId, machineId: w.otherLineMachine }))
			).toBe('invalid');
		});
	});

	describe('lot status machine', () => {
		it('refuses every illegal transition with a clear sentence', async () => {
			const lotId = await newLot();
			const planned = await refusal(
				completeLot(t.database, operator, { id: lotId, goodQty: 1, scrapQty: 0, reworkQty: 0 })
			);
			expect(planned.code).toBe('illegal-transition');
			expect(planned.message).toContain('is planned; it cannot become completed');
			expect(await refusedWith(submitLotForReview(t.database, manager, { id: lotId }))).toBe(
				'illegal-transition'
			);
			expect(
				await refusedWith(changeLotStatus(t.database, manager, { id: lotId, to: 'running' }))
			).toBe('illegal-transition');
			for (const to of ['released', 'rejected'] as const) {
				const e = await refusal(changeLotStatus(t.database, manager, { id: lotId, to }));
				expect(e.code).toBe('illegal-transition');
				expect(e.message).toContain('QA release review');
			}

			const { runId } = await startRun(t.database, operator, { lotId, machineId: w.m1 });
			const open = await refusal(
				completeLot(t.database, operator, { id: lotId, goodQty: 90, scrapQty: 5, reworkQty: 5 })
			);
			expect(open.code).toBe('run-open');
			expect(open.message).toContain('Press 1');
			expect(await refusedWith(submitLotForReview(t.database, manager, { id: lotId }))).toBe(
				'illegal-transition'
			);
			await endRun(t.database, operator, { id: runId });
			await completeLot(t.database, operator, {
				id: lotId,
				goodQty: 90,
				scrapQty: 5,
				reworkQty: 5
			});
			const done = await lotRow(lotId);
			expect(done).toMatchObject({ status: 'completed', goodQty: 90, scrapQty: 5, reworkQty: 5 });
			expect(
				await refusedWith(
					completeLot(t.database, operator, { id: lotId, goodQty: 90, scrapQty: 5, reworkQty: 5 })
				)
			).toBe('illegal-transition');
			expect(await refusedWith(startRun(t.database, operator, { lotId, machineId: w.m1 }))).toBe(
				'illegal-transition'
			);
			expect(await refusedWith(submitLotForReview(t.database, operator, { id: lotId }))).toBe(
				'forbidden'
			);
			await submitLotForReview(t.database, manager, { id: lotId });
			expect((await lotRow(lotId)).status).toBe('in_review');
			expect(
				await refusedWith(changeLotStatus(t.database, manager, { id: lotId, to: 'released' }))
			).toBe('illegal-transition');
			expect(
				await refusedWith(changeLotStatus(t.database, operator, { id: lotId, to: 'completed' }))
			).toBe('illegal-transition');
			const states = (await auditOf('lot', lotId))
				.filter((a) => a.action === 'state')
				.map((a) => {
					const v = a.newValues as { status?: string; runStart?: string };
					return v.status ?? `run start ${v.runStart}`;
				});
			// The refused run start on the completed lot is on the record too.
			expect(states).toEqual(['running', 'completed', 'run start refused', 'in_review']);
		});
	});

	describe('inspections', () => {
		let productId: number;
		beforeAll(async () => {
			// Plans live on their own product so other tests' lots are not affected.
			const [p] = await t.database.query<{ id: number }>(
				`INSERT INTO product (code, name, customer_id, line_id)
				 SELECT 'PN-200', 'Inspected part', customer_id, line_id FROM product WHERE id = $1 RETURNING id`,
				[w.productId]
			);
			productId = p.id;
			await t.database
				.query(
					`INSERT INTO process_version (product_id, version, status, effective_from) VALUES ($1, 1, 'effective', now() - interval '1 day')
				 RETURNING id`,
					[productId]
				)
				.then(([pv]) =>
					t.database.query('INSERT INTO process_spec VALUES ($1, $2, 190, 200, 210)', [
						(pv as { id: number }).id,
						w.tempId
					])
				);
			await addInspectionPlan(t.database, productId, {
				name: 'First article',
				trigger: 'lot-start',
				characteristicId: w.tempId
			});
			await addInspectionPlan(t.database, productId, {
				name: 'Visual',
				trigger: 'every-n-parts',
				everyParts: 50
			});
			await addInspectionPlan(t.database, productId, {
				name: 'Hourly temp',
				trigger: 'every-t-minutes',
				everyMinutes: 60,
				characteristicId: w.tempId
			});
			await addInspectionPlan(t.database, productId, { name: 'Final', trigger: 'lot-end' });
		});

		async function inspectionsOf(lotId: number) {
			return t.database.query<{
				id: number;
				name: string;
				seq: number;
				status: string;
				runId: number | null;
			}>(
				`SELECT i.id, p.name, i.seq, i.status, i.run_id AS "runId" FROM inspection i JOIN inspection_plan p ON p.id = i.plan_id
				 WHERE i.lot_id = $1 ORDER BY p.id, i.seq`,
				[lotId]
			);
		}

		it('fall due at lot start, every N parts, every T minutes and at lot end, each once', async () => {
			const lotId = (await planLot(t.database, lead, { productId, plannedQty: 200 })).id;
			const t0 = new Date(Date.now() - 3 * 3600_000);
			const { runId } = await startRun(t.database, operator, { lotId, machineId: w.m1, now: t0 });
			expect((await inspectionsOf(lotId)).map((i) => `${i.name}#${i.seq}`)).toEqual([
				'First article#1'
			]);
			expect((await inspectionsOf(lotId))[0].runId).toBe(runId);
			await recordQuantities(t.database, operator, {
				id: lotId,
				goodQty: 100,
				scrapQty: 3,
				reworkQty: 0,
				now: new Date(t0.getTime() + 30 * MIN)
			});
			await t.database.transaction((tx) =>
				ensureDueInspections(tx, lotId, new Date(t0.getTime() + 130 * MIN), SYSTEM_ACTOR, 'tick')
			);
			await t.database.transaction((tx) =>
				ensureDueInspections(tx, lotId, new Date(t0.getTime() + 130 * MIN), SYSTEM_ACTOR, 'tick')
			);
			expect((await inspectionsOf(lotId)).map((i) => `${i.name}#${i.seq}`)).toEqual([
				'First article#1',
				'Visual#1',
				'Visual#2',
				'Hourly temp#1',
				'Hourly temp#2'
			]);
			await endRun(t.database, operator, { id: runId, now: new Date(t0.getTime() + 140 * MIN) });
			expect((await inspectionsOf(lotId)).map((i) => `${i.name}#${i.seq}`)).toContain('Final#1');
		});

		it('a far-outside-spec result is suspect until a SECOND person confirms it', async () => {
			const lotId = (await planLot(t.database, lead, { productId, plannedQty: 10 })).id;
			const { runId: r1 } = await startRun(t.database, lead, { lotId, machineId: w.m2 });
			await endRun(t.database, lead, { id: r1 });
			const [first] = await inspectionsOf(lotId);
			expect(
				await refusedWith(recordInspectionResult(t.database, operator, { id: first.id }))
			).toBe('invalid');
			// Spec 190..210 (width 20): 235 is beyond USL by more than one spec width.
			const recorded = await recordInspectionResult(t.database, lead, { id: first.id, value: 235 });
			expect(recorded).toMatchObject({ status: 'suspect', passed: false });
			expect(recorded.suspectReason).toBeTruthy();
			expect(await refusedWith(confirmInspection(t.database, lead, { id: first.id }))).toBe(
				'same-person'
			);
			expect(await refusedWith(confirmInspection(t.database, operator, { id: first.id }))).toBe(
				'forbidden'
			);
			await confirmInspection(t.database, qe, { id: first.id });
			const [row] = await t.database.db
				.select()
				.from(inspection)
				.where(eq(inspection.id, first.id));
			expect(row).toMatchObject({
				status: 'done',
				value: 235,
				doneBy: lead.userId,
				confirmedBy: qe.userId
			});
			expect(await refusedWith(confirmInspection(t.database, reviewer, { id: first.id }))).toBe(
				'inspection-closed'
			);
			expect(
				await refusedWith(
					recordInspectionResult(t.database, operator, { id: first.id, value: 200 })
				)
			).toBe('inspection-closed');
			expect((await auditOf('inspection', first.id)).map((a) => a.action)).toEqual([
				'create',
				'update',
				'state'
			]);
		});

		it('an in-spec result is done at once; a slightly-out-of-spec one fails but is not suspect', async () => {
			const lotId = (await planLot(t.database, lead, { productId, plannedQty: 10 })).id;
			const { runId: r2 } = await startRun(t.database, lead, { lotId, machineId: w.m2 });
			await endRun(t.database, lead, { id: r2 });
			const [first] = await inspectionsOf(lotId);
			expect(
				await recordInspectionResult(t.database, operator, { id: first.id, value: 212 })
			).toEqual({ status: 'done', passed: false, suspectReason: null });
		});

		it('an overdue inspection blocks completion; a deviation covering it unblocks it (waived)', async () => {
			const lotId = (await planLot(t.database, lead, { productId, plannedQty: 10 })).id;
			const { runId } = await startRun(t.database, lead, { lotId, machineId: w.m2 });
			await endRun(t.database, operator, { id: runId });
			const blocked = await refusal(
				completeLot(t.database, operator, { id: lotId, goodQty: 10, scrapQty: 0, reworkQty: 0 })
			);
			expect(blocked.code).toBe('inspection-overdue');
			expect(blocked.message).toContain('First article #1');
			expect(blocked.message).toContain('Final #1');
			expect((await lotRow(lotId)).status).toBe('running');
			// The first is done; the final one is covered by a deviation on the inspection.
			const [first, final] = await inspectionsOf(lotId);
			await recordInspectionResult(t.database, operator, { id: first.id, value: 201 });
			expect(
				await refusedWith(
					openDeviation(t.database, operator, {
						title: 'Skip',
						description: 'no',
						inspectionId: final.id
					})
				)
			).toBe('forbidden');
			const dev = await openDeviation(t.database, qe, {
				title: 'Final check gauge broken',
				description: 'Gauge out for calibration; checked on the next lot.',
				inspectionId: final.id
			});
			expect(dev.code).toMatch(/^DEV-\d{4}-\d{5}$/);
			const result = await completeLot(t.database, operator, {
				id: lotId,
				goodQty: 10,
				scrapQty: 0,
				reworkQty: 0
			});
			expect(result.waived).toEqual([{ inspectionId: final.id, deviationCode: dev.code }]);
			const [row] = await t.database.db
				.select()
				.from(inspection)
				.where(eq(inspection.id, final.id));
			expect(row).toMatchObject({ status: 'waived', deviationId: dev.id });
			// Closing goes through the CAPA workflow (deviations-capa.test.ts): not before containment.
			expect(
				await refusedWith(
					closeDeviation(t.database, qe, { id: dev.id, password: 'x' }, { lockoutThreshold: 5 })
				)
			).toBe('illegal-transition');
		});

		it('a suspect result waiting for confirmation blocks completion, deviation or not', async () => {
			const lotId = (await planLot(t.database, lead, { productId, plannedQty: 10 })).id;
			const { runId } = await startRun(t.database, lead, { lotId, machineId: w.m2 });
			await endRun(t.database, operator, { id: runId });
			const [first, final] = await inspectionsOf(lotId);
			await recordInspectionResult(t.database, operator, { id: first.id, value: 999 });
			await recordInspectionResult(t.database, operator, { id: final.id, passed: true });
			await openDeviation(t.database, qe, {
				title: 'Lot deviation',
				description: 'covers the lot',
				lotId
			});
			expect(
				await refusedWith(
					completeLot(t.database, operator, { id: lotId, goodQty: 10, scrapQty: 0, reworkQty: 0 })
				)
			).toBe('inspection-unconfirmed');
			await confirmInspection(t.database, reviewer, { id: first.id });
			await completeLot(t.database, operator, {
				id: lotId,
				goodQty: 10,
				scrapQty: 0,
				reworkQty: 0
			});
			expect((await lotRow(lotId)).status).toBe('completed');
		});
	});

	describe('certification administration', () => {
		it('grants on evidence, and a revoked certification stops the next run start', async () => {
			const admin = await personWith(t.database, 'administrator');
			const newcomer = await personWith(t.database, 'operator');
			const grant = {
				userId: newcomer.userId,
				operation: 'Moulding',
				lineId: null,
				machineId: w.m1,
				validFrom: new Date(Date.now() - DAY),
				// Ends within 30 days: listed as expiring soon.
				validTo: new Date(Date.now() + 20 * DAY),
				evidence: 'TR-2026-17 practical assessment'
			};
			expect(await refusedWith(grantCertification(t.database, lead, grant))).toBe('forbidden');
			expect(
				await refusedWith(grantCertification(t.database, admin, { ...grant, evidence: ' ' }))
			).toBe('invalid');
			expect(
				await refusedWith(
					grantCertification(t.database, admin, { ...grant, validTo: grant.validFrom })
				)
			).toBe('invalid');
			const { id } = await grantCertification(t.database, admin, grant);
			const listed = (await listCertifications(t.database, { userId: newcomer.userId }))[0];
			expect(listed).toMatchObject({
				id,
				operation: 'moulding',
				standing: 'current',
				expiringSoon: true
			});

			const lotId = await newLot();
			const { runId, checks } = await startRun(t.database, newcomer, { lotId, machineId: w.m1 });
			expect(checks.certification.certificationId).toBe(id);
			await endRun(t.database, newcomer, { id: runId });

			await revokeCertification(t.database, admin, { id, reason: 'failed re-assessment' });
			expect(
				await refusedWith(revokeCertification(t.database, admin, { id, reason: 'again' }))
			).toBe('illegal-transition');
			const e = await refusal(startRun(t.database, newcomer, { lotId, machineId: w.m1 }));
			expect(e.code).toBe('operator-not-certified');
			expect(e.message).toContain('revoked');
			expect((await auditOf('certification', id)).map((a) => a.action)).toEqual([
				'create',
				'revoke'
			]);
		});
	});

	describe('missed-inspection sweep', () => {
		it('marks inspections not done within grace missed, raises one alarm each, pushes it live; a deviation on the alarm covers it', async () => {
			const [p] = await t.database.query<{ id: number }>(
				`INSERT INTO product (code, name, customer_id, line_id)
				 SELECT 'PN-300', 'Swept part', customer_id, line_id FROM product WHERE id = $1 RETURNING id`,
				[w.productId]
			);
			await addInspectionPlan(t.database, p.id, {
				name: 'Start check',
				trigger: 'lot-start',
				graceMinutes: 10
			});
			const lotId = (await planLot(t.database, lead, { productId: p.id, plannedQty: 10 })).id;
			const t0 = new Date(Date.now() - 3600_000);
			const { runId } = await startRun(t.database, operator, { lotId, machineId: w.m1, now: t0 });
			const pushed: { id: number }[] = [];
			const hub = {
				pushAlarms: (alarms: readonly { id: number }[]) => void pushed.push(...alarms)
			};

			// The sweep is plant-wide; this test looks at its own lot's inspection only.
			const [own] = await t.database.db
				.select()
				.from(inspection)
				.where(eq(inspection.lotId, lotId));
			const mine = (r: { missed: { inspectionId: number; alarmId: number }[] }) =>
				r.missed.filter((m) => m.inspectionId === own.id);
			// Within grace: nothing happens.
			const early = await sweepInspections(t.database, hub, {
				now: new Date(t0.getTime() + 5 * MIN)
			});
			expect(mine(early)).toEqual([]);
			pushed.length = 0;
			const late = await sweepInspections(t.database, hub, {
				now: new Date(t0.getTime() + 11 * MIN)
			});
			expect(mine(late)).toHaveLength(1);
			const [{ inspectionId, alarmId }] = mine(late);
			const [row] = await t.database.db
				.select()
				.from(inspection)
				.where(eq(inspection.id, inspectionId));
			expect(row.status).toBe('missed');
			const [raised] = await t.database.db.select().from(alarm).where(eq(alarm.id, alarmId));
			expect(raised).toMatchObject({
				kind: 'inspection',
				rule: 'inspection-missed',
				inspectionId,
				lineId: w.lineId,
				machineId: w.m1,
				characteristicId: null
			});
			expect(raised.message).toContain('Start check #1');
			expect(pushed.map((a) => a.id)).toEqual(late.missed.map((m) => m.alarmId));
			expect(pushed.map((a) => a.id)).toContain(alarmId);
			// A second sweep raises nothing more.
			expect(
				mine(await sweepInspections(t.database, hub, { now: new Date(t0.getTime() + 30 * MIN) }))
			).toEqual([]);

			await endRun(t.database, operator, { id: runId });
			const blocked = await refusal(
				completeLot(t.database, operator, { id: lotId, goodQty: 10, scrapQty: 0, reworkQty: 0 })
			);
			expect(blocked.code).toBe('inspection-overdue');
			expect(blocked.message).toContain('missed');
			await openDeviation(t.database, lead, {
				title: 'Start check missed',
				description: 'Operator called away; parts re-inspected 100 %.',
				alarmId
			});
			const done = await completeLot(t.database, operator, {
				id: lotId,
				goodQty: 10,
				scrapQty: 0,
				reworkQty: 0
			});
			expect(done.waived.map((x) => x.inspectionId)).toEqual([inspectionId]);
		});
	});

	describe('per-lot parameter summary', () => {
		it("summarises the samples of the lot's machines inside its run intervals only", async () => {
			const lotId = await newLot();
			const t0 = Date.now() - 2 * 3600_000;
			const { runId } = await startRun(t.database, operator, {
				lotId,
				machineId: w.m1,
				now: new Date(t0)
			});
			await endRun(t.database, operator, { id: runId, now: new Date(t0 + 100_000) });
			// Inside: 100 samples 190.0..209.8 one second apart; outside: before and after.
			const values: [number, number, number][] = [];
			for (let i = 0; i < 100; i++) values.push([t0 + i * 1000, i + 1, 190 + i * 0.2]);
			values.push([t0 - 5000, 1000, 500], [t0 + 100_000, 1001, -500]);
			for (const [ts, seq, v] of values) {
				await t.database.query(
					`INSERT INTO sample (characteristic_id, ts, seq, value) VALUES ($1, timestamptz 'epoch' + $2::float8 * interval '1 millisecond', $3, $4)`,
					[w.tempId, ts, seq, v]
				);
			}
			// A suspect sample inside the interval is left out of the statistics.
			await t.database.query(
				`INSERT INTO sample (characteristic_id, ts, seq, value, flags) VALUES ($1, timestamptz 'epoch' + $2::float8 * interval '1 millisecond', 2000, 9999, 1)`,
				[w.tempId, t0 + 500]
			);
			const { summaries } = await completeLot(t.database, operator, {
				id: lotId,
				goodQty: 100,
				scrapQty: 0,
				reworkQty: 0
			});
			expect(summaries).toBe(1);
			const [s] = await t.database.db
				.select()
				.from(lotParameterSummary)
				.where(eq(lotParameterSummary.lotId, lotId));
			expect(s.characteristicId).toBe(w.tempId);
			expect(s.count).toBe(100);
			expect(s.min).toBeCloseTo(190, 9);
			expect(s.max).toBeCloseTo(209.8, 9);
			expect(s.mean).toBeCloseTo(199.9, 9);
			expect(s.sd).toBeCloseTo(Math.sqrt((0.04 * 100 * 101) / 12), 6);
			expect(s.histogram.counts).toHaveLength(20);
			expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(100);
			expect(s.histogram.counts).toEqual(Array(20).fill(5));
			expect(s.histogram.lo).toBeCloseTo(190, 9);
		});
	});
});
