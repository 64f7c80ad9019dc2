/** Acquisition workers allowed to feed the hub. Only the SHA-256 of a token is ever stored. */
import { pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';

export const worker = pgTable('worker', {
	id: serial('id').primaryKey(),
	name: text('name').notNull().unique(),
	/** Hex SHA-256 of the bearer token. */
	tokenSha256: text('token_sha256').notNull().unique(),
	createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
	revokedAt: timestamp('revoked_at', { withTimezone: true }),
	lastSeenAt: timestamp('last_seen_at', { withTimezone: true })
});
