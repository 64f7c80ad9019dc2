/**
 * Sessions in the Lucia style (STACK.md pitfall 6): a random token lives only in the browser's
 * cookie; the database keeps its SHA-256 as the session id. Expiry slides with activity but is
 * renewed only at half-life (one write per half idle period, not per request), and never beyond
 * the absolute limit counted from sign-in.
 *
 * Idle timeout: a session unused for `idleMs` is over; since renewals happen at half-life, a
 * session is refused between idleMs/2 and idleMs after its last renewal-causing request, never
 * later. Ending sessions (logout, password change, disabling) emits on `authEvents`, which the
 * hub uses to disconnect that session's sockets.
 */
import { and, eq, isNull, ne } from 'drizzle-orm';
import type { Database } from '../db';
import { appUser, roleGrant, session } from '../db/schema';
import type { Role } from '$lib/auth/roles';
import { authEvents } from './events';
import type { Principal, RoleGrantScope } from './policy';
import { generateToken, sha256Hex } from './tokens';

export interface SessionSettings {
	idleMs: number;
	absoluteMs: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
	idleMs: 15 * 60_000,
	absoluteMs: 12 * 3600_000
};

export type SessionEndReason =
	| 'logout'
	| 'idle-timeout'
	| 'absolute-timeout'
	| 'password-changed'
	| 'user-disabled'
	| 'signed-out-by-user'
	| 'signed-out-by-admin';

export interface SessionInfo {
	id: string;
	userId: number;
	createdAt: Date;
	expiresAt: Date;
	absoluteExpiresAt: Date;
	lastSeenAt: Date;
	signedAt: Date | null;
	ip: string | null;
	userAgent: string | null;
}

export interface ValidatedSession {
	session: SessionInfo;
	principal: Extract<Principal, { kind: 'user' }>;
	/** The expiry changed: the cookie must be re-sent with the new expiry. */
	renewed: boolean;
}

export interface NewSession {
	token: string;
	session: SessionInfo;
}

export async function createSession(
	database: Database,
	userId: number,
	settings: SessionSettings,
	meta: { ip?: string | null; userAgent?: string | null; now?: Date } = {}
): Promise<NewSession> {
	const token = generateToken();
	const now = meta.now ?? new Date();
	const absoluteExpiresAt = new Date(now.getTime() + settings.absoluteMs);
	const expiresAt = new Date(
		Math.min(now.getTime() + settings.idleMs, absoluteExpiresAt.getTime())
	);
	const [row] = await database.db
		.insert(session)
		.values({
			id: sha256Hex(token),
			userId,
			createdAt: now,
			expiresAt,
			absoluteExpiresAt,
			lastSeenAt: now,
			ip: meta.ip ?? null,
			userAgent: meta.userAgent?.slice(0, 300) ?? null
		})
		.returning();
	return { token, session: toInfo(row) };
}

function toInfo(row: typeof session.$inferSelect): SessionInfo {
	return {
		id: row.id,
		userId: row.userId,
		createdAt: row.createdAt,
		expiresAt: row.expiresAt,
		absoluteExpiresAt: row.absoluteExpiresAt,
		lastSeenAt: row.lastSeenAt,
		signedAt: row.signedAt,
		ip: row.ip,
		userAgent: row.userAgent
	};
}

export async function loadGrants(database: Database, userId: number): Promise<RoleGrantScope[]> {
	const rows = await database.db
		.select({ role: roleGrant.role, siteId: roleGrant.siteId, lineId: roleGrant.lineId })
		.from(roleGrant)
		.where(eq(roleGrant.userId, userId));
	return rows.map((r) => ({ role: r.role as Role, siteId: r.siteId, lineId: r.lineId }));
}

/**
 * The session and user behind `token`, or null when unknown, ended, expired (then it is ended
 * with the reason), or when the user is disabled. Renews the idle expiry at half-life, unless
 * `renew: false` (a socket handshake or reconnect is not a person's activity).
 */
export async function validateSessionToken(
	database: Database,
	token: string,
	settings: SessionSettings,
	now: Date = new Date(),
	options: { renew?: boolean } = {}
): Promise<ValidatedSession | null> {
	if (!/^[a-z2-7]{32}$/.test(token)) return null;
	const id = sha256Hex(token);
	const [row] = await database.db
		.select({ s: session, u: appUser })
		.from(session)
		.innerJoin(appUser, eq(appUser.id, session.userId))
		.where(and(eq(session.id, id), isNull(session.endedAt)));
	if (!row) return null;
	const t = now.getTime();
	if (t >= row.s.absoluteExpiresAt.getTime()) {
		await endSession(database, id, 'absolute-timeout');
		return null;
	}
	if (t >= row.s.expiresAt.getTime()) {
		await endSession(database, id, 'idle-timeout');
		return null;
	}
	if (row.u.disabledAt) {
		await endSession(database, id, 'user-disabled');
		return null;
	}
	let info = toInfo(row.s);
	let renewed = false;
	if (options.renew !== false && row.s.expiresAt.getTime() - t < settings.idleMs / 2) {
		const expiresAt = new Date(Math.min(t + settings.idleMs, row.s.absoluteExpiresAt.getTime()));
		await database.db.update(session).set({ expiresAt, lastSeenAt: now }).where(eq(session.id, id));
		info = { ...info, expiresAt, lastSeenAt: now };
		renewed = true;
	}
	const grants = await loadGrants(database, row.u.id);
	return {
		session: info,
		renewed,
		principal: {
			kind: 'user',
			userId: row.u.id,
			username: row.u.username,
			fullName: row.u.fullName,
			sessionId: id,
			canSign: row.u.canSign,
			grants,
			customerId: row.u.customerId
		}
	};
}

/** End one session (idempotent). */
export async function endSession(
	database: Database,
	sessionId: string,
	reason: SessionEndReason
): Promise<void> {
	const ended = await database.db
		.update(session)
		.set({ endedAt: new Date(), endReason: reason })
		.where(and(eq(session.id, sessionId), isNull(session.endedAt)))
		.returning({ id: session.id });
	if (ended.length > 0)
		authEvents.emit({ kind: 'sessions-ended', sessionIds: [sessionId], reason });
}

/** End every open session of a user, optionally keeping one (the one that asked). */
export async function endUserSessions(
	database: Database,
	userId: number,
	reason: SessionEndReason,
	keepSessionId?: string
): Promise<number> {
	const ended = await database.db
		.update(session)
		.set({ endedAt: new Date(), endReason: reason })
		.where(
			and(
				eq(session.userId, userId),
				isNull(session.endedAt),
				keepSessionId === undefined ? undefined : ne(session.id, keepSessionId)
			)
		)
		.returning({ id: session.id });
	const ids = ended.map((e) => e.id);
	if (ids.length > 0) authEvents.emit({ kind: 'sessions-ended', sessionIds: ids, reason });
	return ids.length;
}

/** Open sessions of a user, newest first (the account page's list). */
export async function listUserSessions(database: Database, userId: number): Promise<SessionInfo[]> {
	const rows = await database.db
		.select()
		.from(session)
		.where(and(eq(session.userId, userId), isNull(session.endedAt)));
	return rows
		.filter((r) => r.expiresAt.getTime() > Date.now())
		.map(toInfo)
		.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}
