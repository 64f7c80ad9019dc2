/**
 * Acquisition-worker credentials and liveness. A worker authenticates with a bearer token; only
 * its SHA-256 is stored (a database leak does not leak usable tokens). Tokens are long random
 * strings, so a plain hash (no salt, no slow KDF) is the right tool, and lookups stay O(1).
 */
import { createHash } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { authEvents } from '../auth/events';
import type { Database } from '../db';
import { worker } from '../db/schema';

export interface WorkerIdentity {
	id: number;
	name: string;
}

export interface WorkerStatus extends WorkerIdentity {
	/** Epoch ms, null until the worker was first seen. */
	lastSeenAt: number | null;
	revoked: boolean;
}

/** Shortest token accepted (matches TRACEWALL_WORKER_TOKEN's rule in env.ts). */
export const MIN_TOKEN_LENGTH = 24;

export function sha256Hex(token: string): string {
	return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Register (or re-key) the worker `name` with `token`. Re-registering replaces the old token and
 * clears a revocation: `npm start` issues a fresh token on every run.
 */
export async function registerWorkerToken(
	database: Database,
	name: string,
	token: string
): Promise<WorkerIdentity> {
	if (token.length < MIN_TOKEN_LENGTH) {
		throw new RangeError(`worker token must have at least ${MIN_TOKEN_LENGTH} characters`);
	}
	const tokenSha256 = sha256Hex(token);
	const [row] = await database.db
		.insert(worker)
		.values({ name, tokenSha256 })
		.onConflictDoUpdate({ target: worker.name, set: { tokenSha256, revokedAt: null } })
		.returning({ id: worker.id, name: worker.name });
	return row;
}

/** The worker owning `token`, or null if unknown or revoked. */
export async function authenticateWorker(
	database: Database,
	token: string
): Promise<WorkerIdentity | null> {
	if (token.length < MIN_TOKEN_LENGTH) return null;
	const [row] = await database.db
		.select({ id: worker.id, name: worker.name })
		.from(worker)
		.where(and(eq(worker.tokenSha256, sha256Hex(token)), isNull(worker.revokedAt)));
	return row ?? null;
}

/** Revoke the worker `name`; its token stops authenticating at once. Returns whether it existed. */
export async function revokeWorker(database: Database, name: string): Promise<boolean> {
	const rows = await database.db
		.update(worker)
		.set({ revokedAt: new Date() })
		.where(eq(worker.name, name))
		.returning({ id: worker.id });
	// Its open /ingest connection ends too (the hub listens), not only its next handshake.
	for (const row of rows) authEvents.emit({ kind: 'worker-revoked', workerId: row.id });
	return rows.length > 0;
}

/**
 * Persist last-seen times (epoch ms by worker id) in one statement. The hub keeps them in memory
 * and flushes periodically, so a busy worker does not cost a write per batch. Never moves a
 * last-seen time backwards.
 */
export async function touchWorkers(database: Database, seen: Map<number, number>): Promise<void> {
	if (seen.size === 0) return;
	await database.query(
		`UPDATE worker w
		 SET last_seen_at = GREATEST(w.last_seen_at, timestamptz 'epoch' + v.ms * interval '1 millisecond')
		 FROM unnest($1::int[], $2::float8[]) AS v(id, ms)
		 WHERE w.id = v.id`,
		[[...seen.keys()], [...seen.values()]]
	);
}

/** Every registered worker with its last-seen time, by name. */
export async function workersLastSeen(database: Database): Promise<WorkerStatus[]> {
	const rows = await database.db
		.select({
			id: worker.id,
			name: worker.name,
			lastSeenAt: worker.lastSeenAt,
			revokedAt: worker.revokedAt
		})
		.from(worker)
		.orderBy(asc(worker.name));
	return rows.map((r) => ({
		id: r.id,
		name: r.name,
		lastSeenAt: r.lastSeenAt?.getTime() ?? null,
		revoked: r.revokedAt !== null
	}));
}
