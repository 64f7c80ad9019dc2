/**
 * The production rules through the JSON API, called as SvelteKit calls the handlers: a direct
 * attempt meets the same refusals as the station form, with closed error codes and HTTP status,
 * and every refusal is counted in /metrics by action and reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '$lib/server/app';
import { ANONYMOUS, type Principal } from '$lib/server/auth/policy';
import { createMetrics, type Metrics } from '$lib/server/metrics';
import type { Person } from '$lib/server/production/access';
import { planLot } from '$lib/server/production/lots';
import { POST as completeLotRoute } from '../../src/routes/api/lots/[id]/complete/+server';
import { POST as confirmRoute } from '../../src/routes/api/inspections/[id]/confirm/+server';
import { POST as resultRoute } from '../../src/routes/api/inspections/[id]/result/+server';
import { POST as endRunRoute } from '../../src/routes/api/runs/[id]/end/+server';
import { POST as startRunRoute } from '../../src/routes/api/runs/+server';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';
import {
	addInspectionPlan,
	certify,
	personWith,
	productionWorld,
	type ProductionWorld
} from '../factories/production';

const APP_KEY = Symbol.for('tracewall.app');
type Holder = typeof globalThis & { [APP_KEY]?: unknown };

type Handler = (event: never) => Promise<Response> | Response;

async function call(
	handler: Handler,
	principal: Principal,
	body: unknown,
	params: Record<string, string> = {}
): Promise<{ status: number; body: Record<string, unknown> }> {
	const request = new Request('http://tracewall.test/api', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: typeof body === 'string' ? body : JSON.stringify(body)
	});
	const response = await handler({ locals: { principal }, params, request } as never);
	return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.each(BACKENDS)('production JSON API on %s', (backend) => {
	let t: TestDatabase;
	let w: ProductionWorld;
	let metrics: Metrics;
	let operator: Person;
	let uncertified: Person;
	let lead: Person;
	let qe: Person;
	let manager: Person;
	let productId: number;
	let previous: unknown;
	/** Configuration pushes: a run start or end changes the spec in force on its machine. */
	let published = 0;

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		w = await productionWorld(t.database);
		metrics = createMetrics();
		previous = (globalThis as Holder)[APP_KEY];
		// The routes reach the app through runningApp(); only these parts are used.
		(globalThis as Holder)[APP_KEY] = {
			database: t.database,
			metrics,
			hub: {
				pushAlarms: () => undefined,
				publishConfig: () => {
					published++;
					return Promise.resolve();
				}
			}
		} as unknown as App;
		operator = await personWith(t.database, 'operator');
		uncertified = await personWith(t.database, 'operator');
		lead = await personWith(t.database, 'shift-lead');
		qe = await personWith(t.database, 'quality-engineer');
		manager = await personWith(t.database, 'manager');
		await certify(t.database, operator.userId, { machineId: w.m1 });
		const [p] = await t.database.query<{ id: number }>(
			`INSERT INTO product (code, name, customer_id, line_id)
			 SELECT 'PN-API', 'API part', customer_id, line_id FROM product WHERE id = $1 RETURNING id`,
			[w.productId]
		);
		productId = p.id;
		await addInspectionPlan(t.database, productId, {
			name: 'First article',
			trigger: 'lot-start',
			characteristicId: w.tempId
		});
	});
	afterAll(async () => {
		(globalThis as Holder)[APP_KEY] = previous;
		await t?.dispose();
	});

	async function refusals(action: string, reason: string): Promise<number> {
		const text = await metrics.text();
		const m = new RegExp(
			`tracewall_production_refusals_total\\{action="${action}",reason="${reason}"\\} (\\d+)`
		).exec(text);
		return m ? Number(m[1]) : 0;
	}

	it('answers 401 to nobody, 403 to a wall screen and to roles without the permission, before reading the body', async () => {
		const device: Principal = { kind: 'device', deviceId: 1, name: 'TV', lineIds: [w.lineId] };
		expect((await call(startRunRoute, ANONYMOUS, {})).status).toBe(401);
		const asDevice = await call(startRunRoute, device, {});
		expect(asDevice).toMatchObject({ status: 403, body: { error: 'forbidden' } });
		const asManager = await call(startRunRoute, manager, 'not json');
		expect(asManager).toMatchObject({ status: 403, body: { error: 'forbidden' } });
		expect((await call(confirmRoute, operator, {}, { id: '1' })).status).toBe(403);
		expect(await refusals('run-start', 'forbidden')).toBe(2);
		expect(await refusals('run-start', 'unauthorized')).toBe(1);
	});

	it('refuses a body the schema rejects with `invalid`, never a raw error', async () => {
		const bad = await call(startRunRoute, operator, { lotId: 'one', machineId: w.m1 });
		expect(bad).toMatchObject({ status: 400, body: { error: 'invalid' } });
		expect(bad.body.issues).toEqual(
			expect.arrayContaining([expect.objectContaining({ path: 'lotId' })])
		);
		const extra = await call(startRunRoute, operator, {
			lotId: 1,
			machineId: w.m1,
			operatorId: 99
		});
		expect(extra.status).toBe(400);
		expect((await call(endRunRoute, operator, {}, { id: 'abc' })).status).toBe(404);
	});

	it('enforces certification, material, suspect confirmation, overdue inspection and run end exactly as the station does', async () => {
		const lotId = (await planLot(t.database, lead, { productId, plannedQty: 5 })).id;

		const publishedBefore = published;
		const uncert = await call(startRunRoute, uncertified, { lotId, machineId: w.m1 });
		expect(uncert).toMatchObject({ status: 409, body: { error: 'operator-not-certified' } });
		expect(uncert.body.message).toContain('is not certified to run moulding on Press 1');
		expect(await refusals('run-start', 'operator-not-certified')).toBe(1);

		const quarantined = await call(startRunRoute, operator, {
			lotId,
			machineId: w.m1,
			materials: [{ materialLotCode: w.materialLots.quarantine.code, quantity: 1 }]
		});
		expect(quarantined).toMatchObject({ status: 409, body: { error: 'material-not-validated' } });
		expect(quarantined.body.message).toContain(w.materialLots.quarantine.code);
		expect(published).toBe(publishedBefore); // refused starts change nothing on the line

		const started = await call(startRunRoute, operator, {
			lotId,
			machineId: w.m1,
			materials: [{ materialLotId: w.materialLots.validated.id, quantity: 2 }]
		});
		expect(started.status).toBe(201);
		const runId = started.body.runId as number;
		expect(started.body.checks).toMatchObject({ outcome: 'started', certification: { ok: true } });
		const [inspectionId] = started.body.newInspections as number[];

		expect(published).toBe(publishedBefore + 1);

		const busy = await call(startRunRoute, operator, { lotId, machineId: w.m1 });
		expect(busy).toMatchObject({ status: 409, body: { error: 'machine-busy' } });
		expect(published).toBe(publishedBefore + 1);

		const open = await call(
			completeLotRoute,
			operator,
			{ goodQty: 5, scrapQty: 0, reworkQty: 0 },
			{ id: String(lotId) }
		);
		expect(open).toMatchObject({ status: 409, body: { error: 'run-open' } });
		expect((await call(endRunRoute, operator, {}, { id: String(runId) })).status).toBe(200);
		expect(await call(endRunRoute, operator, {}, { id: String(runId) })).toMatchObject({
			status: 409,
			body: { error: 'run-ended' }
		});
		expect(published).toBe(publishedBefore + 2);

		const overdue = await call(
			completeLotRoute,
			operator,
			{ goodQty: 5, scrapQty: 0, reworkQty: 0 },
			{ id: String(lotId) }
		);
		expect(overdue).toMatchObject({ status: 409, body: { error: 'inspection-overdue' } });
		expect(await refusals('lot-complete', 'inspection-overdue')).toBe(1);

		const suspect = await call(resultRoute, operator, { value: 260 }, { id: String(inspectionId) });
		expect(suspect).toMatchObject({ status: 200, body: { status: 'suspect', passed: false } });
		const second = await call(confirmRoute, lead, {}, { id: String(inspectionId) });
		expect(second.status).toBe(200); // the lead did not enter it: a valid second person
		const again = await call(confirmRoute, qe, {}, { id: String(inspectionId) });
		expect(again).toMatchObject({ status: 409, body: { error: 'inspection-closed' } });

		const done = await call(
			completeLotRoute,
			operator,
			{ goodQty: 5, scrapQty: 0, reworkQty: 0 },
			{ id: String(lotId) }
		);
		expect(done).toMatchObject({ status: 200, body: { ok: true } });
	});

	it('refuses confirmation by the person who entered the suspect result', async () => {
		const lotId = (await planLot(t.database, lead, { productId, plannedQty: 5 })).id;
		await certify(t.database, lead.userId, { lineId: w.lineId });
		const started = await call(startRunRoute, lead, { lotId, machineId: w.m2 });
		expect(started.status).toBe(201);
		const [inspectionId] = started.body.newInspections as number[];
		expect(
			(await call(resultRoute, lead, { value: 100 }, { id: String(inspectionId) })).body.status
		).toBe('suspect');
		const same = await call(confirmRoute, lead, {}, { id: String(inspectionId) });
		expect(same).toMatchObject({ status: 409, body: { error: 'same-person' } });
		expect(same.body.message).toContain('second person');
		expect(await refusals('inspection-confirm', 'same-person')).toBe(1);
		expect((await call(confirmRoute, qe, {}, { id: String(inspectionId) })).status).toBe(200);
		await call(endRunRoute, lead, {}, { id: String(started.body.runId) });
	});
});
