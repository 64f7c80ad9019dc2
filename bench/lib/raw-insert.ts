/**
 * Raw bulk-insert baselines: the fastest way each driver can put the same sample rows into the
 * same `sample` table, with none of the hub's work (validation, idempotency check, fan-out).
 *
 * - PostgreSQL: `COPY … FROM STDIN` through postgres.js (`sql\`…\`.writable()`), on the pool
 *   `openDatabase` built, whose sockets are no-delay (STACK.md: without it every COPY stalls
 *   ~88 ms on Nagle + delayed ACK).
 * - PGlite: `COPY … FROM '/dev/blob'` with the rows as a Blob (PGlite's documented bulk path).
 * - Both: one `INSERT … SELECT FROM unnest(arrays)` per batch, the statement shape the writer
 *   uses, without its ON CONFLICT bookkeeping — so the gap between the writer and the raw
 *   figures is visible by part.
 * One statement (= one transaction) per batch, like the hub's one transaction per batch.
 */
import type { PGlite } from '@electric-sql/pglite';
import type postgres from 'postgres';
import type { SampleTuple } from '../../src/lib/realtime/events';
import type { Database } from '../../src/lib/server/db';
import { fromEpochMs } from '../../src/lib/server/db/raw';
import { writeBatch } from '../../src/lib/server/samples/writer';
import { samplesBatch } from './rows';

/**
 * `writer`: the hub's own persistence (samples/writer.ts `writeBatch`) called directly, without
 * sockets, validation or fan-out — separates the database statement's cost from the hub's.
 */
export type RawMethod = 'copy' | 'unnest' | 'writer';

const COLUMNS = '(characteristic_id, ts, seq, value, flags)';

/** COPY text format: tab-separated columns, one row per line; ISO timestamps are exact to the ms. */
export function copyText(rows: readonly SampleTuple[]): string {
	let out = '';
	for (const [c, ts, seq, value, flags] of rows) {
		out += `${c}\t${new Date(ts).toISOString()}\t${seq}\t${value}\t${flags}\n`;
	}
	return out;
}

const UNNEST_INSERT = `INSERT INTO sample ${COLUMNS}
SELECT u.c, ${fromEpochMs('u.ms')}, u.s, u.v, u.f
FROM unnest($1::int[], $2::float8[], $3::bigint[], $4::float8[], $5::smallint[]) AS u(c, ms, s, v, f)`;

function unnestParams(rows: readonly SampleTuple[]): number[][] {
	return [0, 1, 2, 3, 4].map((k) => rows.map((r) => r[k]));
}

/** The driver client under Drizzle (documented as `$client` on both drivers). */
function clientOf<T>(database: Database): T {
	return (database.db as unknown as { $client: T }).$client;
}

async function copyPostgres(sql: postgres.Sql, rows: readonly SampleTuple[]): Promise<void> {
	const writable = await sql.unsafe(`COPY sample ${COLUMNS} FROM STDIN`).writable();
	// 'finish' fires after the server's CommandComplete (postgres.js calls the final callback
	// then), so the rows are stored when this resolves.
	await new Promise<void>((resolve, reject) => {
		writable.once('error', reject);
		writable.end(copyText(rows), () => resolve());
	});
}

async function copyPglite(client: PGlite, rows: readonly SampleTuple[]): Promise<void> {
	await client.query(`COPY sample ${COLUMNS} FROM '/dev/blob'`, [], {
		blob: new Blob([copyText(rows)])
	});
}

/** Insert `batches` one statement each; returns elapsed milliseconds. */
export async function rawInsert(
	database: Database,
	method: RawMethod,
	batches: readonly (readonly SampleTuple[])[]
): Promise<number> {
	const t0 = performance.now();
	if (method === 'unnest') {
		for (const batch of batches) await database.query(UNNEST_INSERT, unnestParams(batch));
	} else if (method === 'writer') {
		for (const batch of batches) {
			const result = await writeBatch(database, samplesBatch([...batch]));
			if (result.accepted !== batch.length) {
				throw new Error(`writeBatch accepted ${result.accepted} of ${batch.length} samples`);
			}
		}
	} else if (database.kind === 'postgres') {
		const sql = clientOf<postgres.Sql>(database);
		for (const batch of batches) await copyPostgres(sql, batch);
	} else {
		const client = clientOf<PGlite>(database);
		for (const batch of batches) await copyPglite(client, batch);
	}
	return performance.now() - t0;
}

/** Empty the sample tables (the benchmark batches carry samples only), so each run starts from the same state. */
export async function truncateMeasurements(database: Database): Promise<void> {
	await database.query('TRUNCATE sample, sample_quarantine');
}

export async function countSamples(database: Database): Promise<number> {
	const [row] = await database.query<{ n: number }>('SELECT count(*)::int AS n FROM sample');
	return row.n;
}
