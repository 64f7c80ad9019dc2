/**
 * Test databases on both backends, and small plants and batches to put in them.
 *
 * Each PostgreSQL test file gets its own fresh database (tw_test_<random>), dropped in
 * afterAll, so parallel runs (CI, several engineers) never share state.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import type { DemoCharacteristic, DemoPlant } from '$lib/demo/plant';
import type { IngestBatch, SampleTuple } from '$lib/realtime/events';
import { openDatabase, type Database, type OpenDatabaseOptions } from '$lib/server/db';

export type Backend = 'pglite' | 'postgres';
export const BACKENDS: Backend[] = ['pglite', 'postgres'];

export const TEST_DATABASE_URL =
	process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
	database: Database;
	/** PostgreSQL: URL of the fresh database (to re-open it); PGlite: undefined. */
	url?: string;
	dispose(): Promise<void>;
}

/** URL of a fresh, empty PostgreSQL database and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
	const name = `tw_test_${randomBytes(6).toString('hex')}`;
	const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
	try {
		await admin.unsafe(`CREATE DATABASE ${name}`);
	} finally {
		await admin.end();
	}
	const url = new URL(TEST_DATABASE_URL);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		async drop() {
			const dropper = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
			try {
				await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			} finally {
				await dropper.end();
			}
		}
	};
}

/** A migrated database on `backend`: PGlite in memory, or a fresh PostgreSQL database. */
export async function openTestDatabase(
	backend: Backend,
	options: Omit<OpenDatabaseOptions, 'url' | 'dataDir'> = {}
): Promise<TestDatabase> {
	if (backend === 'pglite') {
		const database = await openDatabase({ ...options, dataDir: 'memory://' });
		return { database, dispose: () => database.close() };
	}
	const fresh = await createPostgresDatabase();
	try {
		const database = await openDatabase({ ...options, url: fresh.url });
		return {
			database,
			url: fresh.url,
			async dispose() {
				try {
					await database.close();
				} finally {
					await fresh.drop();
				}
			}
		};
	} catch (error) {
		await fresh.drop();
		throw error;
	}
}

export function imrCharacteristic(
	code: string,
	overrides: Partial<DemoCharacteristic> = {}
): DemoCharacteristic {
	return {
		code,
		name: `Characteristic ${code}`,
		unit: 'Cel',
		kind: 'variable',
		chart: 'imr',
		subgroupSize: 1,
		samplingIntervalMs: 1000,
		decimals: 1,
		spec: { lsl: 190, target: 200, usl: 210 },
		suspect: { physicalMin: 0, physicalMax: 450, specWidths: 1 },
		rules: 'nelson-all',
		process: { mean: 200, sigma: 1.5 },
		...overrides
	};
}

/** Two lines, three machines, four characteristics (I-MR, X̄-R, p): small but every shape. */
export function smallPlant(): DemoPlant {
	return {
		site: { code: 'TST', name: 'Test site' },
		lines: [
			{
				code: 'L1',
				name: 'Moulding',
				machines: [
					{
						code: 'L1.M1',
						name: 'Press 1',
						characteristics: [
							imrCharacteristic('L1.M1.TEMP'),
							imrCharacteristic('L1.M1.PRESS', {
								unit: 'bar',
								spec: { lsl: 1000, target: 1100, usl: 1200 },
								process: { mean: 1100, sigma: 8 },
								decimals: 0
							})
						]
					},
					{
						code: 'L1.M2',
						name: 'Press 2',
						characteristics: [
							imrCharacteristic('L1.M2.DIA', {
								unit: 'mm',
								chart: 'xbar-r',
								subgroupSize: 5,
								spec: { lsl: 3.9, target: 4, usl: 4.1 },
								process: { mean: 4, sigma: 0.01 },
								decimals: 3
							})
						]
					}
				]
			},
			{
				code: 'L2',
				name: 'Assembly',
				machines: [
					{
						code: 'L2.M1',
						name: 'Leak tester',
						characteristics: [
							imrCharacteristic('L2.M1.LEAKFAIL', {
								unit: '%',
								kind: 'attribute',
								chart: 'p',
								subgroupSize: 50,
								samplingIntervalMs: 60_000,
								spec: {},
								suspect: {},
								rules: 'beyond-limits',
								process: { mean: 0.02, sigma: 0 },
								decimals: 3
							})
						]
					}
				]
			}
		]
	};
}

/** Id of the characteristic with `code` (throws when missing, so tests fail loudly). */
export async function characteristicId(database: Database, code: string): Promise<number> {
	const rows = await database.query<{ id: number }>(
		'SELECT id FROM characteristic WHERE code = $1',
		[code]
	);
	if (rows.length !== 1) throw new Error(`no characteristic ${code}`);
	return rows[0].id;
}

export function batchOf(samples: SampleTuple[], extra: Partial<IngestBatch> = {}): IngestBatch {
	return {
		batchId: randomUUID(),
		samples,
		subgroups: [],
		violations: [],
		suspects: [],
		...extra
	};
}

/** `n` samples of one characteristic, `stepMs` apart from `startMs`, seq from `firstSeq`. */
export function sampleRun(
	id: number,
	startMs: number,
	n: number,
	value: (i: number) => number,
	{ stepMs = 1000, firstSeq = 1 }: { stepMs?: number; firstSeq?: number } = {}
): SampleTuple[] {
	return Array.from({ length: n }, (_, i): SampleTuple => [
		id,
		startMs + i * stepMs,
		firstSeq + i,
		value(i),
		0
	]);
}
