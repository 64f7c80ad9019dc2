/**
 * Reading the audit trail: the global search (/audit, its CSV export) and a record's own trail
 * (shown beside the record). Keyset pagination on the primary key (newest first), so a page
 * costs the same on the millionth event as on the first; filters use the entity, actor and
 * time indexes of audit_event.
 */
import { z } from 'zod';
import type { RawQuery } from '../db/raw';
import { AT_TEXT_SQL } from './chain';

export const AUDIT_PAGE_SIZE = 100;

/** The search form, as it arrives in the URL (every field optional). */
export const auditFilterSchema = z.object({
	/** Username (actor label) or part of it. */
	user: z.string().trim().max(100).optional(),
	entityType: z.string().trim().max(60).optional(),
	entityId: z.string().trim().max(100).optional(),
	action: z.string().trim().max(30).optional(),
	/** ISO date-times (UTC); `to` is exclusive. */
	from: z.iso.datetime({ offset: true }).optional(),
	to: z.iso.datetime({ offset: true }).optional(),
	/** Free text in the reason. */
	text: z.string().trim().max(200).optional(),
	/** Keyset cursor: events with a smaller id. */
	before: z.coerce.number().int().positive().optional()
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export interface AuditEventView {
	id: number;
	/** ISO-8601 UTC with microseconds, exactly as hashed. */
	at: string;
	actorUserId: number | null;
	actor: string;
	action: string;
	entityType: string;
	entityId: string;
	oldValues: Record<string, unknown> | null;
	newValues: Record<string, unknown> | null;
	reason: string | null;
	prevHash: string;
	hash: string;
}

interface Row {
	id: number;
	at: string;
	actor_user_id: number | null;
	actor_label: string;
	action: string;
	entity_type: string;
	entity_id: string;
	old_values: Record<string, unknown> | null;
	new_values: Record<string, unknown> | null;
	reason: string | null;
	prev_hash: string;
	hash: string;
}

const COLUMNS = `id::float8 AS id, ${AT_TEXT_SQL('at')} AS at, actor_user_id, actor_label, action,
	entity_type, entity_id, old_values, new_values, reason, prev_hash, hash`;

function toView(r: Row): AuditEventView {
	return {
		id: r.id,
		at: r.at,
		actorUserId: r.actor_user_id,
		actor: r.actor_label,
		action: r.action,
		entityType: r.entity_type,
		entityId: r.entity_id,
		oldValues: r.old_values,
		newValues: r.new_values,
		reason: r.reason,
		prevHash: r.prev_hash,
		hash: r.hash
	};
}

/** LIKE pattern for "contains", with the user's own % and _ taken literally. */
function contains(text: string): string {
	return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function where(filter: AuditFilter): { sql: string; params: unknown[] } {
	const clauses: string[] = [];
	const params: unknown[] = [];
	const add = (clause: string, value: unknown) => {
		params.push(value);
		clauses.push(clause.replace('?', `$${params.length}`));
	};
	if (filter.user) add('actor_label ILIKE ?', contains(filter.user));
	if (filter.entityType) add('entity_type = ?', filter.entityType);
	if (filter.entityId) add('entity_id = ?', filter.entityId);
	if (filter.action) add('action = ?', filter.action);
	if (filter.from) add('at >= ?::timestamptz', filter.from);
	if (filter.to) add('at < ?::timestamptz', filter.to);
	if (filter.text) add('reason ILIKE ?', contains(filter.text));
	if (filter.before) add('id < ?', filter.before);
	return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** One page of matching events, newest first, and the cursor of the next page (if any). */
export async function searchAudit(
	database: RawQuery,
	filter: AuditFilter,
	limit = AUDIT_PAGE_SIZE
): Promise<{ events: AuditEventView[]; nextBefore: number | null }> {
	const w = where(filter);
	const rows = await database.query<Row>(
		`SELECT ${COLUMNS} FROM audit_event ${w.sql} ORDER BY id DESC LIMIT ${limit + 1}`,
		w.params
	);
	const events = rows.slice(0, limit).map(toView);
	return { events, nextBefore: rows.length > limit ? events[events.length - 1].id : null };
}

/** Every matching event, newest first, in batches (constant memory), for the CSV export. */
export async function* streamAudit(
	database: RawQuery,
	filter: AuditFilter,
	batchSize = 2000
): AsyncGenerator<AuditEventView[]> {
	let before = filter.before;
	for (;;) {
		const page = await searchAudit(database, { ...filter, before }, batchSize);
		if (page.events.length > 0) yield page.events;
		if (page.nextBefore === null) return;
		before = page.nextBefore;
	}
}

/** A record's own trail, oldest first (the order in which its story happened). */
export async function recordAuditTrail(
	database: RawQuery,
	entityType: string,
	entityId: string,
	limit = 500
): Promise<AuditEventView[]> {
	const rows = await database.query<Row>(
		`SELECT ${COLUMNS} FROM audit_event WHERE entity_type = $1 AND entity_id = $2
		 ORDER BY id DESC LIMIT ${limit}`,
		[entityType, entityId]
	);
	return rows.map(toView).reverse();
}

/**
 * Choices for the search form. Static on purpose: a DISTINCT over years of audit events would
 * scan the whole table on every page view.
 */
export const AUDIT_ENTITY_TYPES = [
	'user',
	'session',
	'device',
	'security-alert',
	'control-limit-version',
	'signature',
	'alarm',
	'alarm-code',
	'machine'
] as const;

export const CSV_COLUMNS = [
	'id',
	'at_utc',
	'actor_user_id',
	'actor',
	'action',
	'entity_type',
	'entity_id',
	'old_values',
	'new_values',
	'reason',
	'prev_hash',
	'hash'
] as const;

/** One CSV row; jsonb columns as canonical JSON text so an auditor can re-hash them. */
export function csvRow(e: AuditEventView): (string | number | null)[] {
	return [
		e.id,
		e.at,
		e.actorUserId,
		e.actor,
		e.action,
		e.entityType,
		e.entityId,
		e.oldValues === null ? null : JSON.stringify(e.oldValues),
		e.newValues === null ? null : JSON.stringify(e.newValues),
		e.reason,
		e.prevHash,
		e.hash
	];
}
