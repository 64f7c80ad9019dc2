/**
 * Which spec limits the workers screen against and the walls draw: those of the process version
 * fixed on the lot running on the machine. A spec change (a new process version, as change
 * control implements it) therefore reaches the line with the first lot started under it: not
 * mid-lot, where the lot record keeps the version it started under. Run start and end go through
 * the JSON API routes, and a real worker and a real wall (socket.io over a real port) see the
 * configuration they push.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CharacteristicConfig, IngestConfig, RoomDelta } from '$lib/realtime/events';
import type { App } from '$lib/server/app';
import { processSpec, processVersion } from '$lib/server/db/schema';
import { createLog } from '$lib/server/log';
import { loadIngestConfig } from '$lib/server/plant/service';
import type { Person } from '$lib/server/production/access';
import { planLot } from '$lib/server/production/lots';
import { POST as endRunRoute } from '../../src/routes/api/runs/[id]/end/+server';
import { POST as startRunRoute } from '../../src/routes/api/runs/+server';
import { BACKENDS } from '../factories/db';
import {
	certify,
	personWith,
	productionWorld,
	type ProductionWorld
} from '../factories/production';
import {
	connected,
	disconnectAll,
	startTestHub,
	subscribeRoom,
	type TestHub,
	until,
	unwrap,
	viewerSocket,
	workerSocket
} from './hub-harness';

const APP_KEY = Symbol.for('tracewall.app');
type Holder = typeof globalThis & { [APP_KEY]?: unknown };

async function call(
	handler: (event: never) => Promise<Response> | Response,
	person: Person,
	body: unknown,
	params: Record<string, string> = {}
): Promise<{ status: number; body: Record<string, unknown> }> {
	const request = new Request('http://tracewall.test/api', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
	const response = await handler({ locals: { principal: person }, params, request } as never);
	return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.each(BACKENDS)('spec limits in force on %s', (backend) => {
	let h: TestHub;
	let w: ProductionWorld;
	let operator: Person;
	let lead: Person;
	let previous: unknown;

	beforeAll(async () => {
		h = await startTestHub(backend);
		w = await productionWorld(h.t.database);
		previous = (globalThis as Holder)[APP_KEY];
		(globalThis as Holder)[APP_KEY] = {
			database: h.t.database,
			metrics: h.metrics,
			hub: h.hub,
			log: createLog({ level: 'silent' })
		} as unknown as App;
		operator = await personWith(h.t.database, 'operator');
		lead = await personWith(h.t.database, 'shift-lead');
		await certify(h.t.database, operator.userId, { machineId: w.m1 });
	}, 120_000);
	afterEach(() => disconnectAll());
	afterAll(async () => {
		(globalThis as Holder)[APP_KEY] = previous;
		await h?.close();
	});

	async function startRun(lotId: number): Promise<number> {
		const started = await call(startRunRoute, operator, {
			lotId,
			machineId: w.m1,
			materials: [{ materialLotId: w.materialLots.validated.id, quantity: 1 }]
		});
		expect(started.status).toBe(201);
		return started.body.runId as number;
	}

	async function endRun(runId: number): Promise<void> {
		expect((await call(endRunRoute, operator, {}, { id: String(runId) })).status).toBe(200);
	}

	async function tempConfig(): Promise<CharacteristicConfig> {
		return (await loadIngestConfig(h.t.database)).characteristics.find((c) => c.id === w.tempId)!;
	}

	it('follows the lot on the machine: its version at start, the default between lots, the new version with the next lot', async () => {
		// A worker and the line's wall, connected before anything runs.
		const worker = workerSocket(h.url);
		const pushes: IngestConfig[] = [];
		worker.on('config:update', (c) => pushes.push(c));
		await connected(worker);
		await until(() => pushes.length > 0);
		const viewer = viewerSocket(h.url);
		await connected(viewer);
		const deltas: RoomDelta[] = [];
		viewer.on('delta', (d) => deltas.push(d));
		const snapshot = unwrap(await subscribeRoom(viewer, { kind: 'line', id: w.lineId }));
		const wallTemp = () =>
			[snapshot.characteristics, ...deltas.map((d) => d.characteristics)]
				.flat()
				.filter((c) => c.id === w.tempId)
				.at(-1)!;
		const workerTemp = () => pushes.at(-1)!.characteristics.find((c) => c.id === w.tempId)!;
		// Nothing runs on the machine: the characteristic's plant default, said so.
		expect(workerTemp()).toMatchObject({ spec: { lsl: 190, usl: 210 }, specSource: null });
		expect(wallTemp().specSource).toBeNull();

		// Lot A starts under version 1 (190..210).
		const lotA = await planLot(h.t.database, lead, { productId: w.productId, plannedQty: 10 });
		const runA = await startRun(lotA.id);
		await until(() => workerTemp().specSource?.lot === lotA.code);
		expect(workerTemp()).toMatchObject({
			spec: { lsl: 190, target: 200, usl: 210 },
			specSource: { lot: lotA.code, product: 'PN-100', processVersion: 1 }
		});
		await until(() => wallTemp().specSource?.lot === lotA.code);

		// Version 2 tightens the spec and is effective now (what implementing a spec change
		// creates; change-control.test.ts walks that path). Lot A keeps the version it started
		// under, so the configuration does not move mid-lot.
		const [v2] = await h.t.database.db
			.insert(processVersion)
			.values({
				productId: w.productId,
				version: 2,
				status: 'effective',
				effectiveFrom: new Date(Date.now() - 1000)
			})
			.returning({ id: processVersion.id });
		await h.t.database.db.insert(processSpec).values({
			processVersionId: v2.id,
			characteristicId: w.tempId,
			lsl: 195,
			target: 200,
			usl: 205
		});
		expect((await tempConfig()).specSource).toEqual({
			lot: lotA.code,
			product: 'PN-100',
			processVersion: 1
		});

		// Lot A's run ends: no lot on the machine, the plant default again, pushed.
		const pushedBefore = pushes.length;
		await endRun(runA);
		await until(() => pushes.length > pushedBefore && workerTemp().specSource === null);
		expect(workerTemp().spec).toEqual({ lsl: 190, target: 200, usl: 210 });

		// Lot B starts after version 2 took effect: its spec reaches the worker and the wall.
		const lotB = await planLot(h.t.database, lead, { productId: w.productId, plannedQty: 10 });
		const runB = await startRun(lotB.id);
		await until(() => workerTemp().specSource?.lot === lotB.code);
		expect(workerTemp()).toMatchObject({
			spec: { lsl: 195, target: 200, usl: 205 },
			specSource: { lot: lotB.code, product: 'PN-100', processVersion: 2 }
		});
		await until(() => wallTemp().specSource?.processVersion === 2);
		expect(wallTemp().spec).toEqual({ lsl: 195, target: 200, usl: 205 });
		// The revision grew with every change, so no worker drops a push as stale.
		const revisions = pushes.map((p) => p.revision);
		expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
		expect(new Set(revisions).size).toBe(revisions.length);

		// A characteristic the version has no spec for keeps its default, and says so; so does
		// one on a machine with no lot.
		const config = await loadIngestConfig(h.t.database);
		expect(config.characteristics.find((c) => c.id === h.ids.press)).toMatchObject({
			spec: { lsl: 1000, target: 1100, usl: 1200 },
			specSource: null
		});
		expect(config.characteristics.find((c) => c.id === h.ids.dia)!.specSource).toBeNull();
		await endRun(runB);
	});
});
