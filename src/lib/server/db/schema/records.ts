/**
 * Records you can trust (21 CFR Part 11): the audit trail, electronic signatures, and the
 * security alerts administrators must see.
 *
 * `audit_event` is append-only: migration 0004 revokes UPDATE, DELETE and TRUNCATE from
 * PUBLIC, and triggers refuse them for every role (PGlite included). Each event stores the
 * SHA-256 of its predecessor, so a row changed behind the application's back breaks the chain
 * and `npm run audit:verify` names the first broken link.
 */
import {
	bigint,
	bigserial,
	index,
	integer,
	jsonb,
	pgTable,
	serial,
	text,
	timestamp
} from 'drizzle-orm/pg-core';
import { appUser } from './auth';

const tz = (name: string, precision?: 6) => timestamp(name, { withTimezone: true, precision });

export const auditEvent = pgTable(
	'audit_event',
	{
		/** Position in the chain: 1, 2, 3, … without gaps (assigned under a lock). */
		id: bigint('id', { mode: 'number' }).primaryKey(),
		/** Database clock, UTC (microsecond precision); part of the hashed content. */
		at: tz('at', 6).notNull(),
		/** Null for the system itself (seeding, workers, timers); actorLabel then says who. */
		actorUserId: integer('actor_user_id').references(() => appUser.id),
		actorLabel: text('actor_label').notNull(),
		/** create | update | state | login | logout | sign | … (a closed list in audit/types.ts) */
		action: text('action').notNull(),
		entityType: text('entity_type').notNull(),
		entityId: text('entity_id').notNull(),
		oldValues: jsonb('old_values'),
		newValues: jsonb('new_values'),
		reason: text('reason'),
		/** Hex SHA-256 of the previous event's `hash` (64 zeros for the first). */
		prevHash: text('prev_hash').notNull(),
		/** Hex SHA-256 over this event's canonical content and prevHash. */
		hash: text('hash').notNull()
	},
	(t) => [
		index('audit_event_entity_idx').on(t.entityType, t.entityId, t.id),
		index('audit_event_actor_idx').on(t.actorUserId, t.id),
		index('audit_event_at_idx').on(t.at)
	]
);

export const signature = pgTable(
	'signature',
	{
		id: serial('id').primaryKey(),
		recordType: text('record_type').notNull(),
		recordId: text('record_id').notNull(),
		recordVersion: integer('record_version').notNull(),
		/** Hex SHA-256 of the record version's canonical JSON at the time of signing. */
		contentSha256: text('content_sha256').notNull(),
		signerUserId: integer('signer_user_id')
			.notNull()
			.references(() => appUser.id),
		/** Printed name as it was when signed (11.50(a)(1)); later renames do not rewrite it. */
		signerFullName: text('signer_full_name').notNull(),
		signerUsername: text('signer_username').notNull(),
		/** authored | reviewed | approved | released | rejected | verified */
		meaning: text('meaning').notNull(),
		signedAt: tz('signed_at', 6).notNull(),
		sessionId: text('session_id').notNull()
	},
	(t) => [index('signature_record_idx').on(t.recordType, t.recordId, t.recordVersion)]
);

/** Security alerts (account locked, throttled addresses) for administrators. */
export const securityAlert = pgTable(
	'security_alert',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		at: tz('at').notNull().defaultNow(),
		kind: text('kind').notNull(),
		userId: integer('user_id').references(() => appUser.id),
		ip: text('ip'),
		detail: text('detail').notNull(),
		acknowledgedAt: tz('acknowledged_at'),
		acknowledgedBy: integer('acknowledged_by').references(() => appUser.id)
	},
	(t) => [index('security_alert_open_idx').on(t.acknowledgedAt, t.at)]
);
