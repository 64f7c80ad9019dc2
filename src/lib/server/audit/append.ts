/**
 * Writing the audit trail. Every create, update and state change of a regulated record calls
 * `appendAudit` inside the transaction that makes the change, so the record and its audit
 * event commit together or not at all (21 CFR 11.10(e)).
 *
 * Chain order: a transaction-scoped advisory lock serialises appenders across connections and
 * hub nodes, so each event reads its true predecessor. The lock is held only until the
 * enclosing transaction ends; keep audited transactions short.
 */
import type { TxContext } from '../db';
import { AT_TEXT_SQL, chainHash, GENESIS_HASH } from './chain';

/** Arbitrary constant key of the advisory lock that orders audit appends. */
const AUDIT_LOCK_KEY = 7_341_011;

/** Who did it: a signed-in user, or the system (seeding, timers, workers) named by label. */
export interface Actor {
	userId: number | null;
	/** Username for a user; `system`, `worker:<name>`, `device:<id>` otherwise. */
	label: string;
}

export const SYSTEM_ACTOR: Actor = { userId: null, label: 'system' };

/** Every kind of audit event (a closed list: the search form offers exactly these). */
export const AUDIT_ACTIONS = [
	'create',
	'update',
	'state',
	'login',
	'login-failed',
	'logout',
	'lockout',
	'password',
	'sign',
	'revoke',
	'pair'
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditInput {
	actor: Actor;
	action: AuditAction;
	entityType: string;
	entityId: string | number;
	oldValues?: Record<string, unknown> | null;
	newValues?: Record<string, unknown> | null;
	reason?: string | null;
}

export interface AppendedAudit {
	id: number;
	at: string;
	hash: string;
}

/** Append one event to the chain. Must run inside `database.transaction`. */
export async function appendAudit(tx: TxContext, input: AuditInput): Promise<AppendedAudit> {
	await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_KEY]);
	const [last] = await tx.query<{ id: number; hash: string }>(
		'SELECT id::float8 AS id, hash FROM audit_event ORDER BY id DESC LIMIT 1'
	);
	const [{ at }] = await tx.query<{ at: string }>(
		`SELECT ${AT_TEXT_SQL('clock_timestamp()')} AS at`
	);
	const content = {
		id: (last?.id ?? 0) + 1,
		at,
		actorUserId: input.actor.userId,
		actorLabel: input.actor.label,
		action: input.action,
		entityType: input.entityType,
		entityId: String(input.entityId),
		oldValues: normalise(input.oldValues),
		newValues: normalise(input.newValues),
		reason: input.reason ?? null,
		prevHash: last?.hash ?? GENESIS_HASH
	};
	const hash = chainHash(content);
	await tx.query(
		`INSERT INTO audit_event (id, at, actor_user_id, actor_label, action, entity_type, entity_id,
			old_values, new_values, reason, prev_hash, hash)
		 VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12)`,
		[
			content.id,
			content.at,
			content.actorUserId,
			content.actorLabel,
			content.action,
			content.entityType,
			content.entityId,
			content.oldValues === null ? null : JSON.stringify(content.oldValues),
			content.newValues === null ? null : JSON.stringify(content.newValues),
			content.reason,
			content.prevHash,
			hash
		]
	);
	return { id: content.id, at, hash };
}

/**
 * What jsonb will give back: Dates become ISO strings, undefined members disappear. Hashing
 * the normalised value keeps the verifier's recomputation equal to the writer's.
 */
function normalise(values: Record<string, unknown> | null | undefined): unknown {
	if (values === null || values === undefined) return null;
	return JSON.parse(JSON.stringify(values)) as unknown;
}

/** Only the fields that changed, for compact update events (old and new side by side). */
export function diff(
	before: Record<string, unknown>,
	after: Record<string, unknown>
): { oldValues: Record<string, unknown>; newValues: Record<string, unknown> } {
	const oldValues: Record<string, unknown> = {};
	const newValues: Record<string, unknown> = {};
	for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
		if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
			oldValues[key] = before[key] ?? null;
			newValues[key] = after[key] ?? null;
		}
	}
	return { oldValues, newValues };
}
