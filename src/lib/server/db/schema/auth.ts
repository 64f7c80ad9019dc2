/**
 * People and access: users, their role grants (scoped to a site or line), sessions, wall-screen
 * devices, and the login attempts that drive lockout and per-address throttling.
 *
 * Secrets are never stored: sessions and devices keep only the SHA-256 of their tokens
 * (a database leak cannot be replayed), passwords only their Argon2id hash.
 * Users are never deleted and usernames never reused (21 CFR 11.300(a)): `disabled_at` ends
 * access while every record that names the user stays attributable.
 */
import { sql } from 'drizzle-orm';
import {
	bigserial,
	boolean,
	check,
	index,
	integer,
	pgTable,
	primaryKey,
	serial,
	text,
	timestamp,
	uniqueIndex
} from 'drizzle-orm/pg-core';
import { line, site } from './plant';
import { customer } from './production';

const tz = (name: string) => timestamp(name, { withTimezone: true });

export const appUser = pgTable(
	'app_user',
	{
		id: serial('id').primaryKey(),
		/** Login name, stored lower-case; unique forever (a disabled user keeps it). */
		username: text('username').notNull(),
		/** The printed name shown in every signature manifestation (11.50(a)(1)). */
		fullName: text('full_name').notNull(),
		email: text('email'),
		/** Argon2id PHC string; null until the user sets a password through a one-time code. */
		passwordHash: text('password_hash'),
		passwordChangedAt: tz('password_changed_at'),
		/** Consecutive failed logins; reset by a successful login or an administrator's unlock. */
		failedLogins: integer('failed_logins').notNull().default(0),
		lockedAt: tz('locked_at'),
		disabledAt: tz('disabled_at'),
		/** For customer (portal) users: the one customer whose lots they may see. */
		customerId: integer('customer_id').references(() => customer.id),
		/** May apply electronic signatures (an administrator grants it). */
		canSign: boolean('can_sign').notNull().default(false),
		/** When the user acknowledged the electronic-signature policy (11.100(c)); null = not yet. */
		esignPolicyAckAt: tz('esign_policy_ack_at'),
		createdAt: tz('created_at').notNull().defaultNow(),
		createdBy: integer('created_by')
	},
	(t) => [
		uniqueIndex('app_user_username_key').on(t.username),
		check('app_user_username_lower', sql`${t.username} = lower(${t.username})`)
	]
);

/**
 * A role granted to a user, optionally narrowed to one site or one line (both null = every
 * site). A user may hold several grants; what they may do on a line is the union.
 */
export const roleGrant = pgTable(
	'role_grant',
	{
		id: serial('id').primaryKey(),
		userId: integer('user_id')
			.notNull()
			.references(() => appUser.id),
		role: text('role').notNull(),
		siteId: integer('site_id').references(() => site.id),
		lineId: integer('line_id').references(() => line.id),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		index('role_grant_user_idx').on(t.userId),
		check('role_grant_one_scope', sql`${t.siteId} IS NULL OR ${t.lineId} IS NULL`)
	]
);

export const session = pgTable(
	'session',
	{
		/** Hex SHA-256 of the session token; the token itself only ever lives in the cookie. */
		id: text('id').primaryKey(),
		userId: integer('user_id')
			.notNull()
			.references(() => appUser.id),
		createdAt: tz('created_at').notNull().defaultNow(),
		/** Sliding expiry: renewed at half-life by activity; never beyond absoluteExpiresAt. */
		expiresAt: tz('expires_at').notNull(),
		absoluteExpiresAt: tz('absolute_expires_at').notNull(),
		lastSeenAt: tz('last_seen_at').notNull().defaultNow(),
		/**
		 * Set by the first signing of this session (user ID + password); later signings in the
		 * same continuous session need the password only (11.200(a)(1)(i)).
		 */
		signedAt: tz('signed_at'),
		ip: text('ip'),
		userAgent: text('user_agent'),
		endedAt: tz('ended_at'),
		endReason: text('end_reason')
	},
	(t) => [index('session_user_idx').on(t.userId)]
);

/** Wall screens: paired once with a short code, then hold a long-lived read-only token. */
export const device = pgTable(
	'device',
	{
		id: serial('id').primaryKey(),
		name: text('name').notNull(),
		/** Hex SHA-256 of the pairing code while pairing is pending. */
		pairingCodeSha256: text('pairing_code_sha256'),
		pairingExpiresAt: tz('pairing_expires_at'),
		/** Hex SHA-256 of the device token, set when the screen is paired. */
		tokenSha256: text('token_sha256'),
		pairedAt: tz('paired_at'),
		revokedAt: tz('revoked_at'),
		lastSeenAt: tz('last_seen_at'),
		createdAt: tz('created_at').notNull().defaultNow(),
		createdBy: integer('created_by').references(() => appUser.id)
	},
	(t) => [
		uniqueIndex('device_token_key').on(t.tokenSha256),
		uniqueIndex('device_pairing_key').on(t.pairingCodeSha256)
	]
);

/** The lines a device may show. */
export const deviceLine = pgTable(
	'device_line',
	{
		deviceId: integer('device_id')
			.notNull()
			.references(() => device.id),
		lineId: integer('line_id')
			.notNull()
			.references(() => line.id)
	},
	(t) => [primaryKey({ columns: [t.deviceId, t.lineId] })]
);

/** One-time password-set codes (new user, reset). Only the hash is kept; used once. */
export const passwordReset = pgTable(
	'password_reset',
	{
		id: serial('id').primaryKey(),
		userId: integer('user_id')
			.notNull()
			.references(() => appUser.id),
		codeSha256: text('code_sha256').notNull(),
		expiresAt: tz('expires_at').notNull(),
		usedAt: tz('used_at'),
		createdAt: tz('created_at').notNull().defaultNow(),
		createdBy: integer('created_by').references(() => appUser.id)
	},
	(t) => [uniqueIndex('password_reset_code_key').on(t.codeSha256)]
);

/** Every login attempt, for lockout, throttling, and the security view. */
export const loginAttempt = pgTable(
	'login_attempt',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		at: tz('at').notNull().defaultNow(),
		username: text('username').notNull(),
		userId: integer('user_id').references(() => appUser.id),
		ip: text('ip'),
		ok: boolean('ok').notNull(),
		/** ok | bad-credentials | locked | disabled | throttled | expired */
		outcome: text('outcome').notNull()
	},
	(t) => [index('login_attempt_ip_at_idx').on(t.ip, t.at)]
);
