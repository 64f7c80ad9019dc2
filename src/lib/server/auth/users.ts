/**
 * Users and their grants. Every change is audited in the same transaction. Users are disabled,
 * never deleted, and usernames never reused (21 CFR 11.100(a), 11.300(a)).
 */
import { and, asc, eq, gt, isNull, max, ne } from 'drizzle-orm';
import type { Role } from '$lib/auth/roles';
import { appendAudit, diff, type Actor } from '../audit/append';
import type { Database, TxContext } from '../db';
import {
	appUser,
	customer,
	line,
	loginAttempt,
	passwordReset,
	roleGrant,
	session,
	site
} from '../db/schema';
import { checkPassword, hashPassword, PASSWORD_PROBLEM_TEXT } from './passwords';
import { alertThrottled, recentFailures, THROTTLE_WINDOW_MS } from './login';
import { endUserSessions } from './sessions';
import { generateCode, hashCode, normaliseCode } from './tokens';

export const USERNAME_PATTERN = /^[a-z][a-z0-9._-]{1,39}$/;

export interface NewUser {
	username: string;
	fullName: string;
	email?: string | null;
	canSign?: boolean;
	grants: { role: Role; siteId?: number | null; lineId?: number | null }[];
	/** Customer (portal) accounts: the customer whose lots they see (needs the customer role). */
	customerId?: number | null;
}

export class UserInputError extends Error {
	constructor(
		readonly field: string,
		message: string
	) {
		super(message);
		this.name = 'UserInputError';
	}
}

/** Create a user without a password (they set it through a one-time code). */
export async function createUser(tx: TxContext, actor: Actor, input: NewUser): Promise<number> {
	const username = input.username.trim().toLowerCase();
	if (!USERNAME_PATTERN.test(username)) {
		throw new UserInputError(
			'username',
			'2-40 characters: lower-case letters, digits, dot, dash, underscore; starting with a letter.'
		);
	}
	const taken = await tx.db
		.select({ id: appUser.id })
		.from(appUser)
		.where(eq(appUser.username, username));
	if (taken.length > 0) {
		throw new UserInputError('username', 'This username exists (usernames are never reused).');
	}
	const [row] = await tx.db
		.insert(appUser)
		.values({
			username,
			fullName: input.fullName.trim(),
			email: input.email ?? null,
			canSign: input.canSign ?? false,
			customerId: input.customerId ?? null,
			createdBy: actor.userId
		})
		.returning({ id: appUser.id, createdAt: appUser.createdAt });
	if (input.grants.length > 0) {
		await tx.db.insert(roleGrant).values(
			input.grants.map((g) => ({
				userId: row.id,
				role: g.role,
				siteId: g.siteId ?? null,
				lineId: g.lineId ?? null
			}))
		);
	}
	await appendAudit(tx, {
		actor,
		action: 'create',
		entityType: 'user',
		entityId: row.id,
		newValues: {
			username,
			fullName: input.fullName.trim(),
			email: input.email ?? null,
			canSign: input.canSign ?? false,
			grants: input.grants,
			...(input.customerId != null ? { customerId: input.customerId } : {})
		}
	});
	return row.id;
}

/**
 * Set a user's password after checking the policy; audited (the hash itself never appears in
 * the trail). Ending the user's other sessions is the caller's business (it knows which one
 * to keep).
 */
export async function setPassword(
	tx: TxContext,
	actor: Actor,
	userId: number,
	password: string,
	reason: string
): Promise<void> {
	const [user] = await tx.db
		.select({ username: appUser.username })
		.from(appUser)
		.where(eq(appUser.id, userId));
	if (!user) throw new UserInputError('user', 'No such user.');
	const problems = checkPassword(password, user.username);
	if (problems.length > 0) {
		throw new UserInputError('password', problems.map((p) => PASSWORD_PROBLEM_TEXT[p]).join(' '));
	}
	const passwordHash = await hashPassword(password);
	await tx.db
		.update(appUser)
		.set({ passwordHash, passwordChangedAt: new Date(), failedLogins: 0, lockedAt: null })
		.where(eq(appUser.id, userId));
	await appendAudit(tx, {
		actor,
		action: 'password',
		entityType: 'user',
		entityId: userId,
		newValues: { passwordChanged: true },
		reason
	});
}

/** Seeded demo users: one per role, all with TRACEWALL_DEMO_PASSWORD. */
export const DEMO_USERS: (NewUser & { username: string })[] = [
	{ username: 'admin', fullName: 'Alex Admin', grants: [{ role: 'administrator' }] },
	{ username: 'operator', fullName: 'Olga Operator', grants: [{ role: 'operator' }] },
	{ username: 'lead', fullName: 'Lee Shiftlead', canSign: true, grants: [{ role: 'shift-lead' }] },
	{
		username: 'qe',
		fullName: 'Quinn Engineer',
		canSign: true,
		grants: [{ role: 'quality-engineer' }]
	},
	{ username: 'qa', fullName: 'Rita Reviewer', canSign: true, grants: [{ role: 'qa-reviewer' }] },
	{ username: 'manager', fullName: 'Max Manager', canSign: true, grants: [{ role: 'manager' }] },
	// An OEM customer's read-only account: sees only its own products' lots once lots exist.
	{ username: 'customer', fullName: 'Cora Customer', grants: [{ role: 'customer' }] }
];

/**
 * First start: with no user at all, seed the demo users (demo mode) and report it, or create
 * `admin` without a password and return nothing — the caller then issues a one-time code.
 */
export async function seedDemoUsers(
	database: Database,
	password: string
): Promise<{ created: string[] }> {
	const existing = await database.db.select({ id: appUser.id }).from(appUser).limit(1);
	if (existing.length > 0) return { created: [] };
	const created: string[] = [];
	await database.transaction(async (tx) => {
		for (const u of DEMO_USERS) {
			const id = await createUser(tx, { userId: null, label: 'system' }, u);
			await setPassword(tx, { userId: null, label: 'system' }, id, password, 'demo user seeded');
			created.push(u.username);
		}
	});
	return { created };
}

// ---------------------------------------------------------------------------------------------
// Administration: list, create with a one-time code, disable/enable, unlock, reset, access.
// ---------------------------------------------------------------------------------------------

/** A one-time password-set code lives this long (new users, resets, the bootstrap admin). */
export const PASSWORD_CODE_TTL_MS = 24 * 3600_000;
/** Failed code and login attempts from one address are counted over this window. */
export const ATTEMPT_WINDOW_MS = THROTTLE_WINDOW_MS;

export type UserStatus = 'active' | 'locked' | 'disabled';

export interface GrantInput {
	role: Role;
	siteId?: number | null;
	lineId?: number | null;
}

export interface UserListItem {
	id: number;
	username: string;
	fullName: string;
	email: string | null;
	canSign: boolean;
	customerId: number | null;
	status: UserStatus;
	/** No password yet: the user has not redeemed a one-time code. */
	awaitingPassword: boolean;
	grants: { role: Role; siteId: number | null; lineId: number | null }[];
	lastLoginAt: Date | null;
	createdAt: Date;
	disabledAt: Date | null;
	lockedAt: Date | null;
	failedLogins: number;
}

export function userStatus(u: { disabledAt: Date | null; lockedAt: Date | null }): UserStatus {
	if (u.disabledAt) return 'disabled';
	if (u.lockedAt) return 'locked';
	return 'active';
}

/** Every user (none is ever deleted) with grants and last sign-in, by username. */
export async function listUsers(database: Database): Promise<UserListItem[]> {
	const users = await database.db.select().from(appUser).orderBy(asc(appUser.username));
	const grants = await database.db
		.select({
			userId: roleGrant.userId,
			role: roleGrant.role,
			siteId: roleGrant.siteId,
			lineId: roleGrant.lineId
		})
		.from(roleGrant)
		.orderBy(asc(roleGrant.id));
	// Last sign-in: the newest successful login attempt, else the newest session (sessions
	// created by other means, e.g. tests and future SSO, still count).
	const logins = await database.db
		.select({ userId: loginAttempt.userId, at: max(loginAttempt.at) })
		.from(loginAttempt)
		.where(eq(loginAttempt.ok, true))
		.groupBy(loginAttempt.userId);
	const sessions = await database.db
		.select({ userId: session.userId, at: max(session.createdAt) })
		.from(session)
		.groupBy(session.userId);
	const last = new Map<number, Date>();
	for (const row of [...logins, ...sessions]) {
		if (row.userId === null || row.at === null) continue;
		const at = new Date(row.at);
		const known = last.get(row.userId);
		if (!known || known < at) last.set(row.userId, at);
	}
	return users.map((u) => ({
		id: u.id,
		username: u.username,
		fullName: u.fullName,
		email: u.email,
		canSign: u.canSign,
		customerId: u.customerId,
		status: userStatus(u),
		awaitingPassword: u.passwordHash === null,
		grants: grants
			.filter((g) => g.userId === u.id)
			.map((g) => ({ role: g.role as Role, siteId: g.siteId, lineId: g.lineId })),
		lastLoginAt: last.get(u.id) ?? null,
		createdAt: u.createdAt,
		disabledAt: u.disabledAt,
		lockedAt: u.lockedAt,
		failedLogins: u.failedLogins
	}));
}

export interface IssuedCode {
	/** The code itself: shown once, never stored (only its SHA-256 is). */
	code: string;
	expiresAt: Date;
}

/**
 * Issue a one-time password-set code for `userId`, ending every older unused code of that user
 * (only the newest one handed out works). Audited without the code. Runs inside the caller's
 * transaction.
 */
export async function issuePasswordCode(
	tx: TxContext,
	actor: Actor,
	userId: number,
	reason: string | null = null,
	now: Date = new Date()
): Promise<IssuedCode> {
	await tx.db
		.update(passwordReset)
		.set({ expiresAt: now })
		.where(
			and(
				eq(passwordReset.userId, userId),
				isNull(passwordReset.usedAt),
				gt(passwordReset.expiresAt, now)
			)
		);
	const code = generateCode();
	const expiresAt = new Date(now.getTime() + PASSWORD_CODE_TTL_MS);
	await tx.db.insert(passwordReset).values({
		userId,
		codeSha256: hashCode(code),
		expiresAt,
		createdAt: now,
		createdBy: actor.userId
	});
	await appendAudit(tx, {
		actor,
		action: 'password',
		entityType: 'user',
		entityId: userId,
		newValues: { oneTimeCodeIssued: true, codeExpiresAt: expiresAt },
		reason
	});
	return { code, expiresAt };
}

/** Create a user and their first one-time code in one transaction. */
export async function createUserWithCode(
	database: Database,
	actor: Actor,
	input: NewUser
): Promise<{ userId: number } & IssuedCode> {
	if (input.fullName.trim().length === 0) {
		throw new UserInputError('fullName', 'Enter the full name (it is printed on signatures).');
	}
	return database.transaction(async (tx) => {
		await checkGrantTargets(tx, input.grants);
		await checkCustomerLink(tx, input.customerId ?? null, input.grants);
		const userId = await createUser(tx, actor, input);
		const issued = await issuePasswordCode(tx, actor, userId, 'new user');
		return { userId, ...issued };
	});
}

/**
 * A customer link must name an existing customer and belong to a customer account: on a staff
 * account it would mean nothing (staff see lots by line) and mislead whoever reads the user list.
 */
async function checkCustomerLink(
	tx: TxContext,
	customerId: number | null,
	grants: readonly GrantInput[]
): Promise<void> {
	if (customerId === null) return;
	if (!grants.some((g) => g.role === 'customer')) {
		throw new UserInputError('customerId', 'Only a customer account is linked to a customer.');
	}
	const found = await tx.db
		.select({ id: customer.id })
		.from(customer)
		.where(eq(customer.id, customerId));
	if (found.length === 0) throw new UserInputError('customerId', 'That customer does not exist.');
}

/** Customers a customer account can be linked to (the user forms' choices). */
export async function listCustomers(
	database: Database
): Promise<{ id: number; code: string; name: string }[]> {
	return database.db
		.select({ id: customer.id, code: customer.code, name: customer.name })
		.from(customer)
		.orderBy(asc(customer.name));
}

async function checkGrantTargets(tx: TxContext, grants: readonly GrantInput[]): Promise<void> {
	if (grants.length === 0) throw new UserInputError('grants', 'Give the user at least one role.');
	for (const g of grants) {
		if (g.siteId != null && g.lineId != null) {
			throw new UserInputError('grants', 'A role is scoped to one site or one line, not both.');
		}
		if (g.siteId != null) {
			const found = await tx.db.select({ id: site.id }).from(site).where(eq(site.id, g.siteId));
			if (found.length === 0) throw new UserInputError('grants', 'That site does not exist.');
		}
		if (g.lineId != null) {
			const found = await tx.db.select({ id: line.id }).from(line).where(eq(line.id, g.lineId));
			if (found.length === 0) throw new UserInputError('grants', 'That line does not exist.');
		}
	}
	const keys = grants.map((g) => `${g.role}|${g.siteId ?? ''}|${g.lineId ?? ''}`);
	if (new Set(keys).size !== keys.length) {
		throw new UserInputError('grants', 'The same role and scope is listed twice.');
	}
}

type UserRow = typeof appUser.$inferSelect;

/** Lock the user row for the rest of the transaction (concurrent administrators serialise). */
async function lockUser(tx: TxContext, userId: number): Promise<UserRow> {
	const [row] = await tx.db.select().from(appUser).where(eq(appUser.id, userId)).for('update');
	if (!row) throw new UserInputError('user', 'No such user.');
	return row;
}

/**
 * Active administrators (not disabled, not locked) other than `exceptUserId`. An administrator
 * locked out cannot act, so they do not count as the one who could recover the system.
 */
async function otherActiveAdministrators(tx: TxContext, exceptUserId: number): Promise<number> {
	// Serialise lock-out-relevant changes: two administrators disabling each other at once
	// must not both see the other as "still active".
	await tx.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_GUARD_LOCK_KEY]);
	const rows = await tx.db
		.selectDistinct({ id: appUser.id })
		.from(appUser)
		.innerJoin(roleGrant, eq(roleGrant.userId, appUser.id))
		.where(
			and(
				eq(roleGrant.role, 'administrator'),
				isNull(appUser.disabledAt),
				isNull(appUser.lockedAt),
				ne(appUser.id, exceptUserId)
			)
		);
	return rows.length;
}

/** Arbitrary constant key of the advisory lock around last-administrator checks. */
const ADMIN_GUARD_LOCK_KEY = 7_341_012;

async function isAdministrator(tx: TxContext, userId: number): Promise<boolean> {
	const rows = await tx.db
		.select({ id: roleGrant.id })
		.from(roleGrant)
		.where(and(eq(roleGrant.userId, userId), eq(roleGrant.role, 'administrator')));
	return rows.length > 0;
}

function requireReason(reason: string | null | undefined): string {
	const r = reason?.trim() ?? '';
	if (r.length < 3)
		throw new UserInputError('reason', 'Give a reason (it goes into the audit trail).');
	return r;
}

/** Disable a user (never delete): ends their sessions and open sockets after the commit. */
export async function disableUser(
	database: Database,
	actor: Actor,
	userId: number,
	reason: string
): Promise<void> {
	const why = requireReason(reason);
	if (actor.userId === userId) {
		throw new UserInputError('user', 'You cannot disable your own account.');
	}
	await database.transaction(async (tx) => {
		const user = await lockUser(tx, userId);
		if (user.disabledAt) throw new UserInputError('user', 'This user is already disabled.');
		if (
			(await isAdministrator(tx, userId)) &&
			(await otherActiveAdministrators(tx, userId)) === 0
		) {
			throw new UserInputError(
				'user',
				'This is the last active administrator: enable or unlock another one first.'
			);
		}
		const disabledAt = new Date();
		await tx.db.update(appUser).set({ disabledAt }).where(eq(appUser.id, userId));
		await appendAudit(tx, {
			actor,
			action: 'state',
			entityType: 'user',
			entityId: userId,
			oldValues: { status: userStatus(user), disabledAt: null },
			newValues: { status: 'disabled', disabledAt },
			reason: why
		});
	});
	await endUserSessions(database, userId, 'user-disabled');
}

export async function enableUser(
	database: Database,
	actor: Actor,
	userId: number,
	reason: string
): Promise<void> {
	const why = requireReason(reason);
	await database.transaction(async (tx) => {
		const user = await lockUser(tx, userId);
		if (!user.disabledAt) throw new UserInputError('user', 'This user is not disabled.');
		await tx.db.update(appUser).set({ disabledAt: null }).where(eq(appUser.id, userId));
		await appendAudit(tx, {
			actor,
			action: 'state',
			entityType: 'user',
			entityId: userId,
			oldValues: { status: 'disabled', disabledAt: user.disabledAt },
			newValues: { status: userStatus({ ...user, disabledAt: null }), disabledAt: null },
			reason: why
		});
	});
}

/** Clear a lockout (failed-login counter and lock), with a reason. */
export async function unlockUser(
	database: Database,
	actor: Actor,
	userId: number,
	reason: string
): Promise<void> {
	const why = requireReason(reason);
	await database.transaction(async (tx) => {
		const user = await lockUser(tx, userId);
		if (!user.lockedAt && user.failedLogins === 0) {
			throw new UserInputError('user', 'This user is not locked.');
		}
		await tx.db
			.update(appUser)
			.set({ lockedAt: null, failedLogins: 0 })
			.where(eq(appUser.id, userId));
		await appendAudit(tx, {
			actor,
			action: 'state',
			entityType: 'user',
			entityId: userId,
			oldValues: { lockedAt: user.lockedAt, failedLogins: user.failedLogins },
			newValues: { lockedAt: null, failedLogins: 0 },
			reason: why
		});
	});
}

/** A new one-time code for a user; older unused codes stop working. */
export async function resetPassword(
	database: Database,
	actor: Actor,
	userId: number,
	reason: string
): Promise<IssuedCode> {
	const why = requireReason(reason);
	return database.transaction(async (tx) => {
		const user = await lockUser(tx, userId);
		if (user.disabledAt) {
			throw new UserInputError('user', 'Enable the user before issuing a password code.');
		}
		return issuePasswordCode(tx, actor, userId, why);
	});
}

export interface AccessUpdate {
	fullName: string;
	email: string | null;
	canSign: boolean;
	grants: GrantInput[];
	/** Undefined: leave the customer link as it is. */
	customerId?: number | null;
}

function grantKey(g: { role: string; siteId?: number | null; lineId?: number | null }): string {
	return `${g.role}|${g.siteId ?? ''}|${g.lineId ?? ''}`;
}

/**
 * Replace a user's profile, roles/scopes and signing right. Refuses to remove the actor's own
 * administrator role and the administrator role of the last active administrator.
 */
export async function updateUserAccess(
	database: Database,
	actor: Actor,
	userId: number,
	update: AccessUpdate,
	reason: string
): Promise<void> {
	const why = requireReason(reason);
	const fullName = update.fullName.trim();
	if (fullName.length === 0) {
		throw new UserInputError('fullName', 'Enter the full name (it is printed on signatures).');
	}
	await database.transaction(async (tx) => {
		const user = await lockUser(tx, userId);
		await checkGrantTargets(tx, update.grants);
		const customerId = update.customerId === undefined ? user.customerId : update.customerId;
		await checkCustomerLink(tx, customerId, update.grants);
		const before = await tx.db
			.select({ role: roleGrant.role, siteId: roleGrant.siteId, lineId: roleGrant.lineId })
			.from(roleGrant)
			.where(eq(roleGrant.userId, userId))
			.orderBy(asc(roleGrant.id));
		const wasAdmin = before.some((g) => g.role === 'administrator');
		const staysAdmin = update.grants.some((g) => g.role === 'administrator');
		if (wasAdmin && !staysAdmin) {
			if (actor.userId === userId) {
				throw new UserInputError('grants', 'You cannot remove your own administrator role.');
			}
			if (!user.disabledAt && (await otherActiveAdministrators(tx, userId)) === 0) {
				throw new UserInputError(
					'grants',
					'This is the last active administrator: the role cannot be removed.'
				);
			}
		}
		const oldState = {
			fullName: user.fullName,
			email: user.email,
			canSign: user.canSign,
			customerId: user.customerId,
			grants: before.map((g) => ({ role: g.role, siteId: g.siteId, lineId: g.lineId }))
		};
		const newGrants = update.grants.map((g) => ({
			role: g.role,
			siteId: g.siteId ?? null,
			lineId: g.lineId ?? null
		}));
		const newState = {
			fullName,
			email: update.email,
			canSign: update.canSign,
			customerId,
			grants: newGrants
		};
		const changes = diff(oldState, newState);
		if (Object.keys(changes.newValues).length === 0) {
			throw new UserInputError('user', 'Nothing changed.');
		}
		await tx.db
			.update(appUser)
			.set({ fullName, email: update.email, canSign: update.canSign, customerId })
			.where(eq(appUser.id, userId));
		const sameGrants =
			before.map(grantKey).sort().join(',') === newGrants.map(grantKey).sort().join(',');
		if (!sameGrants) {
			await tx.db.delete(roleGrant).where(eq(roleGrant.userId, userId));
			await tx.db.insert(roleGrant).values(newGrants.map((g) => ({ userId, ...g })));
		}
		await appendAudit(tx, {
			actor,
			action: 'update',
			entityType: 'user',
			entityId: userId,
			...changes,
			reason: why
		});
	});
}

// ---------------------------------------------------------------------------------------------
// Failed-attempt throttling shared by the login, one-time codes and screen pairing: every
// failure is a `login_attempt` row, counted per client address over ATTEMPT_WINDOW_MS.
// ---------------------------------------------------------------------------------------------

export type AttemptOutcome = 'bad-code' | 'bad-pairing-code';

/**
 * Failed attempts of any kind (sign-ins, codes, pairing) from `ip` within the window: the
 * sign-in's own counter (login.ts), so all three share one budget per address.
 */
export async function failedAttemptsFromIp(
	database: Database,
	ip: string | null,
	now: Date = new Date()
): Promise<number> {
	return recentFailures(database, ip, now);
}

/**
 * Is `ip` over its budget? Then the refused attempt is recorded (outcome `throttled`) and a
 * security alert raised, exactly as the sign-in does.
 */
export async function throttled(
	database: Database,
	ip: string | null,
	throttlePerIp: number,
	what: AttemptOutcome,
	now: Date = new Date()
): Promise<boolean> {
	if (!ip || (await recentFailures(database, ip, now)) < throttlePerIp) return false;
	await database.db.insert(loginAttempt).values({
		at: now,
		username: what === 'bad-code' ? '(one-time code)' : '(pairing code)',
		userId: null,
		ip,
		ok: false,
		outcome: 'throttled'
	});
	await alertThrottled(
		database,
		ip,
		`More than ${throttlePerIp} failed sign-ins or codes within 15 minutes; further attempts refused.`,
		now
	);
	return true;
}

export async function recordFailedAttempt(
	database: Database,
	outcome: AttemptOutcome,
	ip: string | null,
	now: Date = new Date()
): Promise<void> {
	await database.db.insert(loginAttempt).values({
		at: now,
		// No user is known from a wrong code; the row still counts against the address.
		username: outcome === 'bad-code' ? '(one-time code)' : '(pairing code)',
		userId: null,
		ip,
		ok: false,
		outcome
	});
}

// ---------------------------------------------------------------------------------------------
// Redeeming a one-time code at /password/set.
// ---------------------------------------------------------------------------------------------

export type RedeemResult =
	| { ok: true; userId: number; username: string }
	| { ok: false; reason: 'invalid' | 'throttled' }
	| { ok: false; reason: 'password'; problems: string[] };

interface CodeOwner {
	resetId: number;
	userId: number;
	username: string;
}

/** The user behind a valid code (unused, unexpired, user not disabled), or null. */
export async function findPasswordCode(
	database: Database,
	typed: string,
	now: Date = new Date()
): Promise<CodeOwner | null> {
	if (normaliseCode(typed).length === 0) return null;
	const [row] = await database.db
		.select({ resetId: passwordReset.id, userId: appUser.id, username: appUser.username })
		.from(passwordReset)
		.innerJoin(appUser, eq(appUser.id, passwordReset.userId))
		.where(
			and(
				eq(passwordReset.codeSha256, hashCode(typed)),
				isNull(passwordReset.usedAt),
				gt(passwordReset.expiresAt, now),
				isNull(appUser.disabledAt)
			)
		);
	return row ?? null;
}

/**
 * Set a password with a one-time code: throttled per address, the code used once, every other
 * code of the user retired, every session of the user ended. A wrong, used or expired code (or
 * a disabled user) all answer `invalid`, and count as a failed attempt from the address.
 */
export async function redeemPasswordCode(
	database: Database,
	typed: string,
	password: string,
	meta: { ip: string | null; throttlePerIp: number; now?: Date }
): Promise<RedeemResult> {
	const now = meta.now ?? new Date();
	if (await throttled(database, meta.ip, meta.throttlePerIp, 'bad-code', now)) {
		return { ok: false, reason: 'throttled' };
	}
	const owner = await findPasswordCode(database, typed, now);
	if (!owner) {
		await recordFailedAttempt(database, 'bad-code', meta.ip, now);
		return { ok: false, reason: 'invalid' };
	}
	// A policy problem is not a failed attempt: the code was right, the password needs work.
	const problems = checkPassword(password, owner.username);
	if (problems.length > 0) {
		return {
			ok: false,
			reason: 'password',
			problems: problems.map((p) => PASSWORD_PROBLEM_TEXT[p])
		};
	}
	const actor: Actor = { userId: owner.userId, label: owner.username };
	const used = await database.transaction(async (tx) => {
		// The conditional update is the single-use guarantee: of two simultaneous redemptions
		// only one finds the row still unused.
		const claimed = await tx.db
			.update(passwordReset)
			.set({ usedAt: now })
			.where(
				and(
					eq(passwordReset.id, owner.resetId),
					isNull(passwordReset.usedAt),
					gt(passwordReset.expiresAt, now)
				)
			)
			.returning({ id: passwordReset.id });
		if (claimed.length === 0) return false;
		await tx.db
			.update(passwordReset)
			.set({ expiresAt: now })
			.where(
				and(
					eq(passwordReset.userId, owner.userId),
					isNull(passwordReset.usedAt),
					gt(passwordReset.expiresAt, now)
				)
			);
		await setPassword(tx, actor, owner.userId, password, 'set with a one-time code');
		return true;
	});
	if (!used) {
		await recordFailedAttempt(database, 'bad-code', meta.ip, now);
		return { ok: false, reason: 'invalid' };
	}
	await endUserSessions(database, owner.userId, 'password-changed');
	return { ok: true, userId: owner.userId, username: owner.username };
}

// ---------------------------------------------------------------------------------------------
// First start without demo data: an administrator without a password, and a code to set it.
// ---------------------------------------------------------------------------------------------

export const BOOTSTRAP_USERNAME = 'admin';

/**
 * With no user at all, create `admin` (role administrator, no password) and a one-time code;
 * the caller logs the /password/set link once. If that administrator still has no password at
 * a later start (the code expired unused) and nobody else exists, a fresh code is issued, so a
 * new installation can never end up without a way in. Otherwise: null.
 */
export async function bootstrapAdministrator(
	database: Database
): Promise<{ userId: number; code: string; path: string; expiresAt: Date } | null> {
	const actor: Actor = { userId: null, label: 'system' };
	return database.transaction(async (tx) => {
		// Two hub nodes starting together must not both create the administrator.
		await tx.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_GUARD_LOCK_KEY]);
		const users = await tx.db
			.select({ id: appUser.id, username: appUser.username, passwordHash: appUser.passwordHash })
			.from(appUser)
			.limit(2);
		let userId: number;
		if (users.length === 0) {
			userId = await createUser(tx, actor, {
				username: BOOTSTRAP_USERNAME,
				fullName: 'Administrator',
				canSign: false,
				grants: [{ role: 'administrator' }]
			});
		} else if (
			users.length === 1 &&
			users[0].username === BOOTSTRAP_USERNAME &&
			users[0].passwordHash === null
		) {
			userId = users[0].id;
		} else {
			return null;
		}
		const issued = await issuePasswordCode(tx, actor, userId, 'first administrator');
		return {
			userId,
			...issued,
			path: `/password/set?code=${encodeURIComponent(issued.code)}`
		};
	});
}

/** Sites and lines a role can be scoped to (the user and device forms' choices). */
export async function listScopes(database: Database): Promise<{
	sites: { id: number; code: string; name: string }[];
	lines: { id: number; siteId: number; code: string; name: string }[];
}> {
	const sites = await database.db
		.select({ id: site.id, code: site.code, name: site.name })
		.from(site)
		.orderBy(asc(site.id));
	const lines = await database.db
		.select({ id: line.id, siteId: line.siteId, code: line.code, name: line.name })
		.from(line)
		.orderBy(asc(line.id));
	return { sites, lines };
}
