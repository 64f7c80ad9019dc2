/**
 * The hash chain of the audit trail: what exactly is hashed, so the writer (`append.ts`) and
 * the verifier (`verify.ts`) cannot drift apart.
 *
 * hash = SHA-256( canonicalJson([id, at, actorUserId, actorLabel, action, entityType, entityId,
 *                               oldValues, newValues, reason, prevHash]) )
 *
 * `at` is the database clock as an ISO-8601 UTC string with microseconds (the column has
 * precision 6, so the value read back equals the value hashed). Canonical JSON sorts object
 * keys recursively, so jsonb's own key reordering does not change the hash.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedContent {
	id: number;
	/** ISO-8601 UTC with 6 fractional digits, e.g. 2026-11-22T09:30:00.123456Z */
	at: string;
	actorUserId: number | null;
	actorLabel: string;
	action: string;
	entityType: string;
	entityId: string;
	oldValues: unknown;
	newValues: unknown;
	reason: string | null;
	prevHash: string;
}

/** JSON with object keys sorted at every depth; undefined members dropped like JSON does. */
export function canonicalJson(value: unknown): string {
	return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(sortKeys);
	if (value && typeof value === 'object' && !(value instanceof Date)) {
		const out: Record<string, unknown> = {};
		for (const key of Object.keys(value).sort()) {
			const v = (value as Record<string, unknown>)[key];
			if (v !== undefined) out[key] = sortKeys(v);
		}
		return out;
	}
	return value;
}

export function sha256Hex(text: string): string {
	return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function chainHash(c: ChainedContent): string {
	return sha256Hex(
		canonicalJson([
			c.id,
			c.at,
			c.actorUserId,
			c.actorLabel,
			c.action,
			c.entityType,
			c.entityId,
			c.oldValues ?? null,
			c.newValues ?? null,
			c.reason,
			c.prevHash
		])
	);
}

/** SQL expression rendering a timestamptz column as the `at` string hashed above. */
export const AT_TEXT_SQL = (column: string) =>
	`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
