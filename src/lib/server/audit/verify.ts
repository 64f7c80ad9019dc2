/**
 * Verifying the audit trail: walk the chain in id order and recompute every link, the way an
 * auditor would with only the rows in hand (21 CFR 11.10(c), (e)).
 *
 * What a break means:
 * - `missing-id`: ids are 1, 2, 3, … without gaps (appendAudit assigns them under a lock), so
 *   a gap is a deleted row. Removing the newest rows leaves no gap; only an external copy of the
 *   head (the `head` this returns, printed by `npm run audit:verify`) can show that.
 * - `prev-hash-mismatch`: the row does not point at its predecessor's stored hash — the
 *   predecessor was rewritten with a recomputed hash, or rows were re-ordered or inserted.
 * - `hash-mismatch`: the row's content no longer hashes to its stored hash — it was edited.
 *
 * Streaming: keyset batches (`id > last ORDER BY id LIMIT n`) on the primary key, so memory is
 * one batch whatever the table holds, and each batch is an index range scan. The walk stops at
 * the highest id seen when it starts, so events appended meanwhile do not make it run forever.
 */
import type { RawQuery } from '../db/raw';
import { AT_TEXT_SQL, chainHash, GENESIS_HASH } from './chain';

export type ChainBreakReason = 'missing-id' | 'prev-hash-mismatch' | 'hash-mismatch';

export interface ChainBreak {
	/** The event at fault: the missing id, or the row whose link or hash is wrong. */
	id: number;
	reason: ChainBreakReason;
	/** What the chain requires: the missing id, the predecessor's hash, the recomputed hash. */
	expected: string;
	/** What the table holds: the next id present, the stored prev_hash, the stored hash. */
	actual: string;
}

export interface VerifyResult {
	ok: boolean;
	/** Events checked and found sound before the walk ended (all of them when `ok`). */
	checked: number;
	/** The last event verified and its hash: record it elsewhere to detect a truncated tail. */
	head?: { id: number; hash: string };
	firstBroken?: ChainBreak;
}

export interface VerifyOptions {
	/** Rows per query (default 5000). Memory use is proportional to it. */
	batchSize?: number;
	/** Called after each batch with the number of events checked so far. */
	onProgress?: (checked: number) => void;
}

interface ChainRow {
	id: number;
	at: string;
	actor_user_id: number | null;
	actor_label: string;
	action: string;
	entity_type: string;
	entity_id: string;
	old_values: unknown;
	new_values: unknown;
	reason: string | null;
	prev_hash: string;
	hash: string;
}

/** The columns of a chained row, `at` rendered exactly as it was hashed. */
export const CHAIN_COLUMNS_SQL = `id::float8 AS id, ${AT_TEXT_SQL('at')} AS at, actor_user_id,
	actor_label, action, entity_type, entity_id, old_values, new_values, reason, prev_hash, hash`;

export async function verifyAuditChain(
	database: RawQuery,
	{ batchSize = 5000, onProgress }: VerifyOptions = {}
): Promise<VerifyResult> {
	if (!Number.isInteger(batchSize) || batchSize < 1) {
		throw new RangeError(
			`verifyAuditChain: batchSize must be a positive integer, not ${batchSize}`
		);
	}
	const [{ last }] = await database.query<{ last: number | null }>(
		'SELECT max(id)::float8 AS last FROM audit_event'
	);
	let checked = 0;
	let expectedId = 1;
	let prevHash = GENESIS_HASH;
	let head: VerifyResult['head'];
	const broken = (firstBroken: ChainBreak): VerifyResult => ({
		ok: false,
		checked,
		head,
		firstBroken
	});

	while (last !== null && expectedId <= last) {
		const rows = await database.query<ChainRow>(
			`SELECT ${CHAIN_COLUMNS_SQL} FROM audit_event
			 WHERE id >= $1 AND id <= $2 ORDER BY id LIMIT $3`,
			[expectedId, last, batchSize]
		);
		if (rows.length === 0) {
			// Rows up to `last` existed when the walk began; none is left from here on.
			return broken({
				id: expectedId,
				reason: 'missing-id',
				expected: String(expectedId),
				actual: 'none'
			});
		}
		for (const row of rows) {
			if (row.id !== expectedId) {
				return broken({
					id: expectedId,
					reason: 'missing-id',
					expected: String(expectedId),
					actual: String(row.id)
				});
			}
			if (row.prev_hash !== prevHash) {
				return broken({
					id: row.id,
					reason: 'prev-hash-mismatch',
					expected: prevHash,
					actual: row.prev_hash
				});
			}
			const recomputed = chainHash({
				id: row.id,
				at: row.at,
				actorUserId: row.actor_user_id,
				actorLabel: row.actor_label,
				action: row.action,
				entityType: row.entity_type,
				entityId: row.entity_id,
				oldValues: row.old_values,
				newValues: row.new_values,
				reason: row.reason,
				prevHash: row.prev_hash
			});
			if (recomputed !== row.hash) {
				return broken({
					id: row.id,
					reason: 'hash-mismatch',
					expected: recomputed,
					actual: row.hash
				});
			}
			checked++;
			expectedId++;
			prevHash = row.hash;
			head = { id: row.id, hash: row.hash };
		}
		onProgress?.(checked);
	}
	return { ok: true, checked, head };
}
