/**
 * The one way the server opens its database: PostgreSQL through postgres.js when a URL is
 * given, else embedded PGlite (a directory, or in memory with `memory://`). Migrations from
 * `drizzle/` are applied at open, then the sample partitions are ensured.
 *
 * Only the server process opens the database (STACK.md pitfall 1: two processes on one PGlite
 * directory lose rows silently). Within a process, opening the same PGlite directory twice
 * returns the same instance (reference-counted), and a lock file beside the directory refuses a
 * second process.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { ensurePartitions as ensureSamplePartitions } from './partitions';
import { rawQuery, type RawQuery } from './raw';
import * as schema from './schema';

export type AppSchema = typeof schema;
/** Drizzle database with the schema, whichever driver is behind it. */
export type AppDb = PgDatabase<PgQueryResultHKT, AppSchema>;
export type AppTx = PgTransaction<
	PgQueryResultHKT,
	AppSchema,
	ExtractTablesWithRelations<AppSchema>
>;

/** Inside `Database.transaction`: Drizzle's transaction plus the raw escape hatch on it. */
export interface TxContext extends RawQuery {
	db: AppTx;
}

export interface Database extends RawQuery {
	kind: 'pglite' | 'postgres';
	db: AppDb;
	/** One transaction on both drivers; raw statements and builder queries may be mixed. */
	transaction<T>(fn: (tx: TxContext) => Promise<T>): Promise<T>;
	/** Create the daily sample partitions around `now` (idempotent; the hub runs it hourly). */
	ensurePartitions(now?: Date): Promise<void>;
	close(): Promise<void>;
}

export interface OpenDatabaseOptions {
	/** PostgreSQL connection string; when set, PGlite is not used. */
	url?: string;
	/** PGlite data directory, or 'memory://' for an in-memory database. Default './data'. */
	dataDir?: string;
	/** Apply pending migrations and ensure partitions (default true). */
	migrate?: boolean;
	/**
	 * Folder of the drizzle-kit migrations. Default `<cwd>/drizzle`: the folder stays at the repo
	 * root in development and is shipped beside `build/` in production, and both are started from
	 * the project directory.
	 */
	migrationsFolder?: string;
	/** postgres.js pool size (default 10). */
	maxConnections?: number;
}

export const DEFAULT_DATA_DIR = './data';
const MEMORY = 'memory://';
/** Arbitrary constant key of the advisory lock that serialises migrations across hub nodes. */
const MIGRATION_LOCK_KEY = 7_341_000;

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
	const migrationsFolder = options.migrationsFolder ?? path.resolve(process.cwd(), 'drizzle');
	const doMigrate = options.migrate ?? true;
	if (doMigrate && !fs.existsSync(path.join(migrationsFolder, 'meta', '_journal.json'))) {
		throw new Error(`openDatabase: no drizzle migrations in ${migrationsFolder}`);
	}
	const database = options.url
		? await openPostgres(options.url, options.maxConnections ?? 10, doMigrate, migrationsFolder)
		: await openPglite(options.dataDir ?? DEFAULT_DATA_DIR, doMigrate, migrationsFolder);
	if (doMigrate) {
		try {
			await database.ensurePartitions();
		} catch (error) {
			await database.close();
			throw new Error('openDatabase: creating sample partitions failed', { cause: error });
		}
	}
	return database;
}

function assemble(kind: Database['kind'], db: AppDb, close: () => Promise<void>): Database {
	const raw = rawQuery(db);
	const database: Database = {
		kind,
		db,
		query: raw.query,
		transaction: (fn) => db.transaction((tx) => fn({ db: tx as AppTx, query: rawQuery(tx).query })),
		ensurePartitions: (now) => ensureSamplePartitions(database, now),
		close
	};
	return database;
}

/* ---------------------------------------------------------------------------------------- */
/* PostgreSQL                                                                                */
/* ---------------------------------------------------------------------------------------- */

type SocketFactoryOptions = {
	host: string[];
	port: number[];
	path?: string | false;
	connect_timeout?: number;
};

/**
 * postgres.js's documented `socket` option (missing from its type definitions): hand it a
 * connected socket with Nagle's algorithm off. Without no-delay, a statement whose messages span
 * several TCP segments waits for the server's delayed ACK — about 88 ms per COPY/bulk statement
 * measured here (STACK.md), which caps bulk ingest near 11k rows/s.
 */
export function connectNoDelay(options: SocketFactoryOptions): Promise<net.Socket> {
	const targets: net.NetConnectOpts[] = options.path
		? [{ path: options.path }]
		: options.host.map((host, i) => ({ host, port: options.port[i] ?? options.port[0] ?? 5432 }));
	const timeoutMs = (options.connect_timeout ?? 30) * 1000;
	const tryTarget = (index: number, lastError?: Error): Promise<net.Socket> =>
		new Promise<net.Socket>((resolve, reject) => {
			const target = targets[index];
			if (!target) {
				reject(lastError ?? new Error('connectNoDelay: no host to connect to'));
				return;
			}
			const socket = net.connect({ ...target, noDelay: true });
			const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), timeoutMs);
			socket.once('connect', () => {
				clearTimeout(timer);
				socket.removeAllListeners('error');
				socket.setNoDelay(true);
				resolve(socket);
			});
			socket.once('error', (error) => {
				clearTimeout(timer);
				socket.destroy();
				tryTarget(index + 1, error).then(resolve, reject);
			});
		});
	return tryTarget(0);
}

async function openPostgres(
	url: string,
	max: number,
	doMigrate: boolean,
	migrationsFolder: string
): Promise<Database> {
	const options = {
		max,
		// Notices ("relation already exists, skipping") are expected from idempotent DDL.
		onnotice: () => undefined,
		connection: { application_name: 'tracewall' },
		socket: connectNoDelay
	};
	const client = postgres(url, options as postgres.Options<Record<string, never>>);
	const db = drizzlePostgres(client, { schema }) as unknown as AppDb;
	const database = assemble('postgres', db, () => client.end({ timeout: 5 }));
	if (doMigrate) {
		try {
			// Several hub nodes may start at once: serialise migrations with a session advisory
			// lock held on one reserved connection while the pool runs them.
			const lock = await client.reserve();
			try {
				await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
				await migratePostgres(db as Parameters<typeof migratePostgres>[0], { migrationsFolder });
			} finally {
				await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
				lock.release();
			}
		} catch (error) {
			await client.end({ timeout: 5 });
			throw new Error('openDatabase: PostgreSQL migration failed', { cause: error });
		}
	}
	return database;
}

/* ---------------------------------------------------------------------------------------- */
/* PGlite                                                                                    */
/* ---------------------------------------------------------------------------------------- */

interface SharedPglite {
	database: Database;
	refs: number;
}

// On globalThis so the Vite config and SSR module copies of this file share one registry
// (STACK.md pitfall 4) — one PGlite per data directory per process.
const REGISTRY_KEY = Symbol.for('tracewall.db.pglite');
type Registry = Map<string, Promise<SharedPglite>>;
function registry(): Registry {
	const holder = globalThis as typeof globalThis & { [REGISTRY_KEY]?: Registry };
	holder[REGISTRY_KEY] ??= new Map();
	return holder[REGISTRY_KEY];
}

async function openPglite(
	dataDir: string,
	doMigrate: boolean,
	migrationsFolder: string
): Promise<Database> {
	if (dataDir === MEMORY) return createPglite(MEMORY, doMigrate, migrationsFolder, () => undefined);
	const dir = path.resolve(dataDir);
	const shared = registry();
	let entry = shared.get(dir);
	if (!entry) {
		entry = (async () => {
			const releaseLock = acquireDirLock(dir);
			try {
				const database = await createPglite(dir, doMigrate, migrationsFolder, releaseLock);
				return { database, refs: 0 };
			} catch (error) {
				releaseLock();
				throw error;
			}
		})();
		shared.set(dir, entry);
		entry.catch(() => shared.delete(dir));
	}
	const handle = await entry;
	handle.refs++;
	let closed = false;
	return {
		...handle.database,
		close: async () => {
			if (closed) return;
			closed = true;
			if (--handle.refs > 0) return;
			shared.delete(dir);
			await handle.database.close();
		}
	};
}

async function createPglite(
	dataDir: string,
	doMigrate: boolean,
	migrationsFolder: string,
	onClosed: () => void
): Promise<Database> {
	if (dataDir !== MEMORY) fs.mkdirSync(path.dirname(dataDir), { recursive: true });
	const client = new PGlite(dataDir);
	await client.waitReady;
	const db = drizzlePglite(client, { schema }) as unknown as AppDb;
	const close = async () => {
		// PGlite keeps the event loop alive until closed (STACK.md pitfall 2).
		try {
			if (!client.closed) await client.close();
		} finally {
			onClosed();
		}
	};
	if (doMigrate) {
		try {
			await migratePglite(db as Parameters<typeof migratePglite>[0], { migrationsFolder });
		} catch (error) {
			await close();
			throw new Error('openDatabase: PGlite migration failed', { cause: error });
		}
	}
	return assemble('pglite', db, close);
}

/**
 * Refuse a second process on the same PGlite directory: a lock file beside it holding our pid.
 * A lock left by a dead process (crash, kill -9) is taken over.
 */
function acquireDirLock(dir: string): () => void {
	const lockPath = `${dir}.lock`;
	fs.mkdirSync(path.dirname(lockPath), { recursive: true });
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
			return () => fs.rmSync(lockPath, { force: true });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const owner = Number(fs.readFileSync(lockPath, 'utf8'));
			if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
				throw new Error(
					`openDatabase: ${dir} is in use by process ${owner}; only one process may open a PGlite directory`,
					{ cause: error }
				);
			}
			fs.rmSync(lockPath, { force: true });
		}
	}
	throw new Error(`openDatabase: could not lock ${dir}`);
}

function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: it exists but belongs to someone else.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
