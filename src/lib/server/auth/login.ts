/**
 * Signing in: one function, testable without HTTP, used by the /login action.
 *
 * Order of checks, and why:
 * 1. Per-address throttle first: an address with too many recent failures is refused before any
 *    password is looked at.
 *    Lockout counts only failures from trusted networks (TRACEWALL_TRUSTED_NETWORKS: the plant's
 *    own, by default loopback and private ranges). Someone outside guessing at `admin` is
 *    throttled and raises an alert, but cannot lock the administrators out; inside the plant,
 *    N consecutive failures lock the account as Part 11 procedures expect.
 * 2. Unknown user, disabled user and wrong password give the same answer and cost the same
 *    time (a dummy Argon2 verification for unknown users): no username enumeration. From
 *    outside the trusted networks every failure writes one row, so the answers match to the
 *    database write too; inside, a known user's failure also bumps the lockout counter (one
 *    transaction more), a difference only someone on the plant network could measure.
 * 3. A locked account is reported as locked only to someone who knows its password; a wrong
 *    password on a locked account gets the ordinary answer. Legitimate users learn why they
 *    cannot get in; guessers learn nothing.
 * Every attempt is recorded in `login_attempt`; lockouts and throttled addresses raise a
 * security alert for administrators, and lockouts are audited.
 */
import { BlockList, isIP } from 'node:net';
import { and, eq, gte, isNull, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/append';
import type { Database } from '../db';
import { appUser, loginAttempt, securityAlert } from '../db/schema';
import { dummyPasswordHash, verifyPassword } from './passwords';
import { createSession, type NewSession, type SessionSettings } from './sessions';

export const THROTTLE_WINDOW_MS = 15 * 60_000;

export interface LoginSettings {
	sessions: SessionSettings;
	lockoutThreshold: number;
	throttlePerIp: number;
	passwordMaxAgeDays: number;
	/** CIDRs whose failures count toward lockout; see the comment at the top. */
	trustedNetworks: readonly string[];
}

const blockLists = new Map<string, BlockList>();

/** Whether `ip` lies in one of `cidrs` (IPv4-mapped IPv6 addresses count as IPv4). */
export function inNetworks(ip: string | null, cidrs: readonly string[]): boolean {
	if (!ip) return false;
	const key = cidrs.join(',');
	let list = blockLists.get(key);
	if (!list) {
		list = new BlockList();
		for (const cidr of cidrs) {
			const [net, bits] = cidr.split('/');
			const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
			list.addSubnet(net, Number(bits), family);
		}
		blockLists.set(key, list);
	}
	const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
	const family = isIP(plain);
	if (family === 0) return false;
	return list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
}

export interface LoginInput {
	username: string;
	password: string;
	ip: string | null;
	userAgent: string | null;
}

export type LoginResult =
	| { ok: true; userId: number; session: NewSession; passwordExpired: boolean }
	| { ok: false; reason: 'bad-credentials' | 'locked' | 'throttled' };

/** Failed attempts from `ip` within the throttle window. */
export async function recentFailures(
	database: Database,
	ip: string | null,
	now = new Date()
): Promise<number> {
	if (!ip) return 0;
	const [row] = await database.db
		.select({ n: sql<number>`count(*)::int` })
		.from(loginAttempt)
		.where(
			and(
				eq(loginAttempt.ip, ip),
				eq(loginAttempt.ok, false),
				gte(loginAttempt.at, new Date(now.getTime() - THROTTLE_WINDOW_MS))
			)
		);
	return row?.n ?? 0;
}

/** Raise a throttle alert for `ip` unless one was raised within the window. */
export async function alertThrottled(
	database: Database,
	ip: string,
	detail: string,
	now = new Date()
): Promise<void> {
	const recent = await database.db
		.select({ id: securityAlert.id })
		.from(securityAlert)
		.where(
			and(
				eq(securityAlert.kind, 'address-throttled'),
				eq(securityAlert.ip, ip),
				gte(securityAlert.at, new Date(now.getTime() - THROTTLE_WINDOW_MS))
			)
		)
		.limit(1);
	if (recent.length === 0) {
		await database.db
			.insert(securityAlert)
			.values({ at: now, kind: 'address-throttled', ip, detail });
	}
}

/**
 * Count one failed password entry of a known, enabled user towards the account's lockout, in
 * its own transaction (it must commit although the request is refused). At the threshold the
 * account locks once: the `locked_at IS NULL` condition makes exactly one of several
 * concurrent failures raise the alert and the audit event.
 */
export async function countPasswordFailure(
	database: Database,
	settings: Pick<LoginSettings, 'lockoutThreshold'>,
	user: { id: number; username: string },
	attempt: { ip: string | null; outcome: string; what: string },
	now = new Date()
): Promise<{ locked: boolean }> {
	return database.transaction(async (tx) => {
		const [updated] = await tx.db
			.update(appUser)
			.set({ failedLogins: sql`${appUser.failedLogins} + 1` })
			.where(eq(appUser.id, user.id))
			.returning({ failedLogins: appUser.failedLogins });
		await tx.db.insert(loginAttempt).values({
			at: now,
			username: user.username,
			userId: user.id,
			ip: attempt.ip,
			ok: false,
			outcome: attempt.outcome
		});
		if (updated.failedLogins < settings.lockoutThreshold) return { locked: false };
		const locked = await tx.db
			.update(appUser)
			.set({ lockedAt: now })
			.where(and(eq(appUser.id, user.id), isNull(appUser.lockedAt)))
			.returning({ id: appUser.id });
		if (locked.length === 0) return { locked: true };
		await tx.db.insert(securityAlert).values({
			at: now,
			kind: 'account-locked',
			userId: user.id,
			ip: attempt.ip,
			detail: `Account ${user.username} locked after ${updated.failedLogins} consecutive failed ${attempt.what} (last from ${attempt.ip ?? 'unknown address'}).`
		});
		await appendAudit(tx, {
			actor: { userId: null, label: 'system' },
			action: 'lockout',
			entityType: 'user',
			entityId: user.id,
			oldValues: { locked: false },
			newValues: { locked: true, failedLogins: updated.failedLogins },
			reason: `${updated.failedLogins} consecutive failed ${attempt.what}`
		});
		return { locked: true };
	});
}

export async function attemptLogin(
	database: Database,
	settings: LoginSettings,
	input: LoginInput,
	now = new Date()
): Promise<LoginResult> {
	const username = input.username.trim().toLowerCase().slice(0, 100);
	const record = (ok: boolean, outcome: string, userId: number | null = null) =>
		database.db
			.insert(loginAttempt)
			.values({ at: now, username, userId, ip: input.ip, ok, outcome });

	// Refused before any password is looked at, and before the account is even read: a
	// throttled address's guesses never reach the lockout counter.
	if (input.ip && (await recentFailures(database, input.ip, now)) >= settings.throttlePerIp) {
		await record(false, 'throttled');
		await alertThrottled(
			database,
			input.ip,
			`More than ${settings.throttlePerIp} failed sign-ins or codes within 15 minutes; further attempts refused.`,
			now
		);
		return { ok: false, reason: 'throttled' };
	}

	const [user] = await database.db.select().from(appUser).where(eq(appUser.username, username));
	if (!user || !user.passwordHash) {
		// Same Argon2 cost as a real verification: an unknown name takes as long as a known one.
		await verifyPassword(await dummyPasswordHash(), input.password);
		await record(false, 'bad-credentials', user?.id ?? null);
		return { ok: false, reason: 'bad-credentials' };
	}
	const passwordOk = await verifyPassword(user.passwordHash, input.password);
	if (user.disabledAt) {
		await record(false, 'disabled', user.id);
		return { ok: false, reason: 'bad-credentials' };
	}
	if (user.lockedAt) {
		// "Locked" is told only to someone who knows the password (see the top of this file).
		await record(false, 'locked', user.id);
		return { ok: false, reason: passwordOk ? 'locked' : 'bad-credentials' };
	}
	if (!passwordOk) {
		if (!inNetworks(input.ip, settings.trustedNetworks)) {
			// From outside the plant: throttled per address (above), never toward lockout.
			await record(false, 'bad-credentials', user.id);
			return { ok: false, reason: 'bad-credentials' };
		}
		await countPasswordFailure(
			database,
			settings,
			{ id: user.id, username },
			{ ip: input.ip, outcome: 'bad-credentials', what: 'sign-ins' },
			now
		);
		return { ok: false, reason: 'bad-credentials' };
	}

	const session = await createSession(database, user.id, settings.sessions, {
		ip: input.ip,
		userAgent: input.userAgent,
		now
	});
	const expired = passwordExpired(user.passwordChangedAt, settings.passwordMaxAgeDays, now);
	await database.transaction(async (tx) => {
		await tx.db.update(appUser).set({ failedLogins: 0 }).where(eq(appUser.id, user.id));
		await tx.db.insert(loginAttempt).values({
			at: now,
			username,
			userId: user.id,
			ip: input.ip,
			ok: true,
			outcome: expired ? 'expired' : 'ok'
		});
		await appendAudit(tx, {
			actor: { userId: user.id, label: user.username },
			action: 'login',
			entityType: 'session',
			entityId: session.session.id.slice(0, 12),
			newValues: {
				ip: input.ip,
				userAgent: input.userAgent?.slice(0, 120) ?? null,
				...(expired ? { passwordExpired: true } : {})
			}
		});
	});
	return { ok: true, userId: user.id, session, passwordExpired: expired };
}

/** Whether a password set at `changedAt` is past its maximum age (0 days = never expires). */
export function passwordExpired(
	changedAt: Date | null,
	maxAgeDays: number,
	now = new Date()
): boolean {
	if (maxAgeDays <= 0) return false;
	if (!changedAt) return true;
	return now.getTime() - changedAt.getTime() > maxAgeDays * 86_400_000;
}

/**
 * Whether the user's password is past its maximum age: for guards of pages other than
 * /account (which a person with an expired password must visit first). One small query.
 */
export async function passwordExpiredFor(
	database: Database,
	userId: number,
	maxAgeDays: number,
	now = new Date()
): Promise<boolean> {
	if (maxAgeDays <= 0) return false;
	const [row] = await database.db
		.select({ changedAt: appUser.passwordChangedAt })
		.from(appUser)
		.where(eq(appUser.id, userId));
	return row ? passwordExpired(row.changedAt, maxAgeDays, now) : false;
}

/**
 * Where to go after signing in: only a path on this site, else the landing page.
 *
 * Browsers drop tabs and newlines inside URLs and read a backslash as a slash, so a tab between
 * two slashes, or a slash then a backslash, before `evil.example` leaves the site although the
 * value starts with one slash. So control characters and backslashes are refused, the value is
 * parsed as a browser would (WHATWG URL, against a placeholder origin) and accepted only when
 * it stays on that origin; the normalised path is returned.
 */
const PLACEHOLDER_ORIGIN = 'http://next.invalid';
export function safeNext(next: string | null | undefined): string {
	if (!next || next.length > 1000 || !next.startsWith('/')) return '/';
	// Control characters and backslashes have no business in a path of ours.
	// eslint-disable-next-line no-control-regex
	if (/[\u0000-\u001f\u007f\\]/.test(next)) return '/';
	let url: URL;
	try {
		url = new URL(next, PLACEHOLDER_ORIGIN);
	} catch {
		return '/';
	}
	if (url.origin !== PLACEHOLDER_ORIGIN || next.startsWith('//')) return '/';
	return url.pathname + url.search + url.hash;
}
