import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '$lib/server/db';
import {
	PARTITION_DAYS_AHEAD,
	PARTITION_DAYS_BEHIND,
	listPartitions
} from '$lib/server/db/partitions';
import { BACKENDS, createPostgresDatabase, type Backend } from '../factories/db';

const DAY_MS = 86_400_000;
const JOURNAL = JSON.parse(
	fs.readFileSync(path.resolve(process.cwd(), 'drizzle/meta/_journal.json'), 'utf8')
) as { entries: { tag: string }[] };

/** `sample_pYYYYMMDD` of the UTC day containing `ms`, computed independently of the module. */
function dayName(ms: number): string {
	const d = new Date(ms);
	const pad = (n: number) => String(n).padStart(2, '0');
	return `sample_p${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

/** Open (and re-open) a persistent database of `backend`: a temp PGlite dir or a fresh PG db. */
async function persistentTarget(backend: Backend) {
	if (backend === 'pglite') {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-db-'));
		const dataDir = path.join(dir, 'pgdata');
		return {
			open: (migrate = true) => openDatabase({ dataDir, migrate }),
			dispose: async () => fs.rmSync(dir, { recursive: true, force: true })
		};
	}
	const fresh = await createPostgresDatabase();
	return {
		open: (migrate = true) => openDatabase({ url: fresh.url, migrate }),
		dispose: () => fresh.drop()
	};
}

async function tableNames(database: Database): Promise<string[]> {
	const rows = await database.query<{ name: string }>(
		`SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		 ORDER BY 1`
	);
	return rows.map((r) => r.name);
}

async function appliedMigrations(database: Database): Promise<number> {
	const [row] = await database.query<{ n: number }>(
		'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations'
	);
	return row.n;
}

describe.each(BACKENDS)('migrations on %s', (backend) => {
	let target: Awaited<ReturnType<typeof persistentTarget>>;
	beforeAll(async () => {
		target = await persistentTarget(backend);
	});
	afterAll(async () => {
		await target?.dispose();
	});

	// A file-backed PGlite boot runs initdb: slow on a loaded two-core machine.
	it(
		'applies every migration to a fresh database, with sample partitioned by time',
		{ timeout: 120_000 },
		async () => {
			const database = await target.open();
			try {
				expect(await appliedMigrations(database)).toBe(JOURNAL.entries.length);
				expect(await tableNames(database)).toEqual([
					'alarm',
					'alarm_code',
					'app_user',
					'audit_event',
					'capa',
					'certification',
					'change_request',
					'characteristic',
					'characteristic_config_version',
					'control_limit_version',
					'customer',
					'deviation',
					'device',
					'device_line',
					'inspection',
					'inspection_plan',
					'kpi_target',
					'line',
					'login_attempt',
					'lot',
					'lot_material',
					'lot_parameter_summary',
					'machine',
					'material',
					'material_lot',
					'password_reset',
					'process_spec',
					'process_version',
					'product',
					'role_grant',
					'run',
					'sample',
					'sample_quarantine',
					'security_alert',
					'session',
					'shipment',
					'signature',
					'site',
					'subgroup',
					'supplier',
					'worker'
				]);
				const [partitioned] = await database.query<{ strategy: string; key: string }>(
					`SELECT p.partstrat AS strategy, pg_get_partkeydef(p.partrelid) AS key
				 FROM pg_partitioned_table p WHERE p.partrelid = 'sample'::regclass`
				);
				expect(partitioned).toEqual({ strategy: 'r', key: 'RANGE (ts)' });
			} finally {
				await database.close();
			}
		}
	);

	it('re-opens an up-to-date database without applying anything again', async () => {
		const database = await target.open();
		try {
			expect(await appliedMigrations(database)).toBe(JOURNAL.entries.length);
		} finally {
			await database.close();
		}
	});

	it('opens without migrating when asked to', async () => {
		const database = await target.open(false);
		try {
			expect(await appliedMigrations(database)).toBe(JOURNAL.entries.length);
		} finally {
			await database.close();
		}
	});
});

describe.each(BACKENDS)('sample partitions on %s', (backend) => {
	let target: Awaited<ReturnType<typeof persistentTarget>>;
	let database: Database;
	beforeAll(async () => {
		target = await persistentTarget(backend);
		database = await target.open();
	});
	afterAll(async () => {
		await database?.close();
		await target?.dispose();
	});

	it('has a partition for every day from two days back to seven days ahead', async () => {
		const now = Date.now();
		const partitions = await listPartitions(database);
		for (let d = -PARTITION_DAYS_BEHIND; d <= PARTITION_DAYS_AHEAD; d++) {
			expect(partitions).toContain(dayName(now + d * DAY_MS));
		}
		expect(PARTITION_DAYS_BEHIND).toBe(2);
		expect(PARTITION_DAYS_AHEAD).toBe(7);
		expect(partitions).toContain('sample_default');
	});

	it('creates nothing new when ensured again for the same time', async () => {
		const before = await listPartitions(database);
		await database.ensurePartitions();
		await database.ensurePartitions();
		expect(await listPartitions(database)).toEqual(before);
	});

	it('keeps a sample far in the past in the default partition', async () => {
		await database.query(
			`INSERT INTO sample (characteristic_id, ts, seq, value) VALUES (1, '2001-02-03T04:05:06Z', 1, 42)`
		);
		const rows = await database.query<{ partition: string }>(
			`SELECT tableoid::regclass::text AS partition FROM sample WHERE ts = '2001-02-03T04:05:06Z'`
		);
		expect(rows).toEqual([{ partition: 'sample_default' }]);
	});

	it('lands a sample of today in today’s daily partition', async () => {
		const now = new Date();
		await database.query(
			`INSERT INTO sample (characteristic_id, ts, seq, value) VALUES (1, $1::timestamptz, 1, 1)`,
			[now.toISOString()]
		);
		const rows = await database.query<{ partition: string }>(
			`SELECT tableoid::regclass::text AS partition FROM sample WHERE ts = $1::timestamptz`,
			[now.toISOString()]
		);
		expect(rows).toEqual([{ partition: dayName(now.getTime()) }]);
	});

	it('moves stragglers out of the default partition when their day gets a partition', async () => {
		// Maintenance fell behind: a day with rows in the default partition, then catches up.
		await database.query(
			`INSERT INTO sample (characteristic_id, ts, seq, value)
			 VALUES (1, '1999-06-15T10:00:00Z', 1, 10), (1, '1999-06-15T23:59:59.999Z', 2, 11)`
		);
		await database.ensurePartitions(new Date('1999-06-14T12:00:00Z'));
		const partitions = await listPartitions(database);
		expect(partitions).toContain('sample_p19990612');
		expect(partitions).toContain('sample_p19990621');
		const rows = await database.query<{ partition: string; value: number }>(
			`SELECT tableoid::regclass::text AS partition, value FROM sample
			 WHERE ts >= '1999-06-15' AND ts < '1999-06-16' ORDER BY seq`
		);
		expect(rows).toEqual([
			{ partition: 'sample_p19990615', value: 10 },
			{ partition: 'sample_p19990615', value: 11 }
		]);
		// The primary key still holds on the attached partition.
		await expect(
			database.query(
				`INSERT INTO sample (characteristic_id, ts, seq, value) VALUES (1, '1999-06-15T10:00:00Z', 1, 99)`
			)
		).rejects.toThrow();
	});
});

describe('PGlite data directory ownership', () => {
	it('refuses a directory locked by another live process', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-lock-'));
		try {
			const dataDir = path.join(dir, 'pgdata');
			fs.writeFileSync(`${dataDir}.lock`, String(process.ppid));
			await expect(openDatabase({ dataDir })).rejects.toThrow(/in use by process/);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
});
