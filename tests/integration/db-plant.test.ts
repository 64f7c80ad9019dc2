import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	DEMO_LIMITS_SOURCE,
	characteristicsOfLine,
	lineInfo,
	listLineSummaries,
	loadIngestConfig,
	machinesOfLine,
	seedDemoPlant
} from '$lib/server/plant/service';
import {
	authenticateWorker,
	registerWorkerToken,
	revokeWorker,
	sha256Hex,
	touchWorkers,
	workersLastSeen
} from '$lib/server/plant/workers';
import { writeBatch } from '$lib/server/samples/writer';
import { createHash } from 'node:crypto';
import { DEMO_PLANT } from '$lib/demo/plant';
import {
	BACKENDS,
	batchOf,
	characteristicId,
	openTestDatabase,
	smallPlant,
	type TestDatabase
} from '../factories/db';

async function count(t: TestDatabase, table: string): Promise<number> {
	const [row] = await t.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
	return row.n;
}

describe.each(BACKENDS)('seedDemoPlant on %s', (backend) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('creates the plant with version-1 limits from the known process mean and sigma', async () => {
		const plant = smallPlant();
		const result = await seedDemoPlant(t.database, plant);
		expect(result).toEqual({ lines: 2, machines: 3, characteristics: 4, limitsCreated: 4 });
		const config = await loadIngestConfig(t.database);
		const press = config.characteristics.find((c) => c.code === 'L1.M1.PRESS');
		expect(press).toMatchObject({
			name: 'Characteristic L1.M1.PRESS',
			unit: 'bar',
			kind: 'variable',
			chart: 'imr',
			subgroupSize: 1,
			samplingIntervalMs: 1000,
			spec: { lsl: 1000, target: 1100, usl: 1200 },
			suspect: { physicalMin: 0, physicalMax: 450, specWidths: 1 },
			rules: 'nelson-all',
			decimals: 0,
			limits: { version: 1, centre: 1100, sigma: 8, source: DEMO_LIMITS_SOURCE }
		});
		const leak = config.characteristics.find((c) => c.code === 'L2.M1.LEAKFAIL');
		expect(leak).toMatchObject({
			kind: 'attribute',
			chart: 'p',
			subgroupSize: 50,
			spec: { lsl: null, target: null, usl: null },
			limits: { centre: 0.02 }
		});
	});

	it('changes nothing, not even the config revision, when run again', async () => {
		const before = await loadIngestConfig(t.database);
		const result = await seedDemoPlant(t.database, smallPlant());
		expect(result.limitsCreated).toBe(0);
		expect(await count(t, 'site')).toBe(1);
		expect(await count(t, 'line')).toBe(2);
		expect(await count(t, 'machine')).toBe(3);
		expect(await count(t, 'characteristic')).toBe(4);
		expect(await count(t, 'control_limit_version')).toBe(4);
		expect(await loadIngestConfig(t.database)).toEqual(before);
	});

	it('updates a changed characteristic in place and raises the config revision', async () => {
		const before = await loadIngestConfig(t.database);
		const plant = smallPlant();
		plant.lines[0].machines[0].characteristics[0].spec = { lsl: 185, target: 200, usl: 215 };
		await seedDemoPlant(t.database, plant);
		const after = await loadIngestConfig(t.database);
		expect(after.revision).toBeGreaterThan(before.revision);
		const temp = after.characteristics.find((c) => c.code === 'L1.M1.TEMP');
		expect(temp?.spec).toEqual({ lsl: 185, target: 200, usl: 215 });
		expect(temp?.id).toBe(before.characteristics.find((c) => c.code === 'L1.M1.TEMP')?.id);
		expect(await count(t, 'characteristic')).toBe(4);
	});

	it('makes a newer effective limit version the active one', async () => {
		const id = await characteristicId(t.database, 'L1.M1.PRESS');
		await t.database.query(
			`INSERT INTO control_limit_version (characteristic_id, version, centre, sigma, source, effective_from)
			 VALUES ($1, 2, 1105, 7, 'baseline', now() - interval '1 minute'),
			        ($1, 3, 1110, 6, 'future', now() + interval '1 day')`,
			[id]
		);
		const config = await loadIngestConfig(t.database);
		expect(config.characteristics.find((c) => c.id === id)?.limits).toEqual({
			version: 2,
			centre: 1105,
			sigma: 7,
			source: 'baseline'
		});
	});
});

describe.each(BACKENDS)('seeding the demo plant on %s', (backend) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('seeds every line, machine and characteristic once, however often it runs', async () => {
		const machines = DEMO_PLANT.lines.flatMap((l) => l.machines);
		const characteristics = machines.flatMap((m) => m.characteristics);
		const first = await seedDemoPlant(t.database, DEMO_PLANT);
		const second = await seedDemoPlant(t.database, DEMO_PLANT);
		expect(first.limitsCreated).toBe(characteristics.length);
		expect(second.limitsCreated).toBe(0);
		expect(await count(t, 'line')).toBe(DEMO_PLANT.lines.length);
		expect(await count(t, 'machine')).toBe(machines.length);
		expect(await count(t, 'characteristic')).toBe(characteristics.length);
		const config = await loadIngestConfig(t.database);
		for (const c of characteristics) {
			expect(config.characteristics.find((x) => x.code === c.code)?.limits).toEqual({
				version: 1,
				centre: c.process.mean,
				sigma: c.process.sigma,
				source: DEMO_LIMITS_SOURCE
			});
		}
	});

	it('gives each machine its operation, and keeps one an administrator set since', async () => {
		const operations = async () =>
			Object.fromEntries(
				(
					await t.database.query<{ code: string; operation: string | null }>(
						`SELECT code, operation FROM machine`
					)
				).map((r) => [r.code, r.operation])
			);
		await seedDemoPlant(t.database, DEMO_PLANT);
		const seeded = await operations();
		for (const m of DEMO_PLANT.lines.flatMap((l) => l.machines)) {
			expect(m.operation).toBeTruthy();
			expect(seeded[m.code]).toBe(m.operation);
		}
		await t.database.query(`UPDATE machine SET operation = 'seal-and-test' WHERE code = 'SP1'`);
		await seedDemoPlant(t.database, DEMO_PLANT);
		expect((await operations()).SP1).toBe('seal-and-test');
	});
});

describe.each(BACKENDS)('plant reads on %s', (backend) => {
	let t: TestDatabase;
	let lineId: number;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		const [row] = await t.database.query<{ id: number }>(`SELECT id FROM line WHERE code = 'L1'`);
		lineId = row.id;
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('describes a line with its site, and null for an unknown line', async () => {
		expect(await lineInfo(t.database, lineId)).toEqual({
			id: lineId,
			code: 'L1',
			name: 'Moulding',
			siteName: 'Test site'
		});
		expect(await lineInfo(t.database, 987_654)).toBeNull();
	});

	it('lists the machines and characteristics of one line only', async () => {
		const machines = await machinesOfLine(t.database, lineId);
		expect(machines.map((m) => m.code)).toEqual(['L1.M1', 'L1.M2']);
		expect(machines.every((m) => m.lineId === lineId)).toBe(true);
		const characteristics = await characteristicsOfLine(t.database, lineId);
		expect(characteristics.map((c) => c.code).sort()).toEqual([
			'L1.M1.PRESS',
			'L1.M1.TEMP',
			'L1.M2.DIA'
		]);
		expect(characteristics.every((c) => c.lineId === lineId)).toBe(true);
	});

	it('summarises every line with counts, open alarms and the last data time', async () => {
		const temp = await characteristicId(t.database, 'L1.M1.TEMP');
		const ts = Date.now() - 60_000;
		await writeBatch(
			t.database,
			batchOf(
				[
					[temp, ts - 1000, 1, 200, 0],
					[temp, ts, 2, 208, 0]
				],
				{
					violations: [
						{
							characteristicId: temp,
							ts,
							rule: 'nelson1',
							chart: 'primary',
							side: 'upper',
							message: 'beyond limit',
							pointTs: [ts],
							value: 208
						}
					]
				}
			)
		);
		const summaries = await listLineSummaries(t.database);
		expect(summaries).toEqual([
			{
				line: { id: lineId, code: 'L1', name: 'Moulding', siteName: 'Test site' },
				machines: 2,
				characteristics: 3,
				unacknowledgedAlarms: 1,
				lastDataAt: ts
			},
			{
				line: expect.objectContaining({ code: 'L2', name: 'Assembly' }),
				machines: 1,
				characteristics: 1,
				unacknowledgedAlarms: 0,
				lastDataAt: null
			}
		]);
	});
});

describe.each(BACKENDS)('worker tokens on %s', (backend) => {
	let t: TestDatabase;
	const token = 'tok_' + 'a1b2c3d4'.repeat(6);
	beforeAll(async () => {
		t = await openTestDatabase(backend);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('stores only the SHA-256 of the token', async () => {
		const worker = await registerWorkerToken(t.database, 'sim-1', token);
		const rows = await t.database.query<{ token_sha256: string }>(
			'SELECT token_sha256 FROM worker WHERE id = $1',
			[worker.id]
		);
		const expected = createHash('sha256').update(token).digest('hex');
		expect(rows).toEqual([{ token_sha256: expected }]);
		expect(sha256Hex(token)).toBe(expected);
	});

	it('authenticates the right token and nothing else', async () => {
		expect(await authenticateWorker(t.database, token)).toMatchObject({ name: 'sim-1' });
		expect(await authenticateWorker(t.database, token + 'x')).toBeNull();
		expect(await authenticateWorker(t.database, '')).toBeNull();
	});

	it('refuses a revoked worker, and accepts it again once re-registered with a new token', async () => {
		expect(await revokeWorker(t.database, 'sim-1')).toBe(true);
		expect(await authenticateWorker(t.database, token)).toBeNull();
		const fresh = 'tok_' + 'f9e8d7c6'.repeat(6);
		const again = await registerWorkerToken(t.database, 'sim-1', fresh);
		expect(await authenticateWorker(t.database, fresh)).toEqual(again);
		expect(await authenticateWorker(t.database, token)).toBeNull();
	});

	it('refuses to register a short token', async () => {
		await expect(registerWorkerToken(t.database, 'weak', 'short')).rejects.toThrow(RangeError);
	});

	it('records last-seen times and never moves them backwards', async () => {
		const other = await registerWorkerToken(t.database, 'sim-2', 'tok_' + '0123456789'.repeat(3));
		const [sim1] = (await workersLastSeen(t.database)).filter((w) => w.name === 'sim-1');
		const seen = 1_800_000_000_000;
		await touchWorkers(t.database, new Map([[sim1.id, seen]]));
		await touchWorkers(t.database, new Map([[sim1.id, seen - 5000]]));
		expect(await workersLastSeen(t.database)).toEqual([
			{ id: sim1.id, name: 'sim-1', lastSeenAt: seen, revoked: false },
			{ id: other.id, name: 'sim-2', lastSeenAt: null, revoked: false }
		]);
	});
});
