/**
 * A signed-in person's own account: changing the password and ending their own sessions. The
 * /account actions call these with the identity taken from the session, never from the form,
 * so nobody can act on someone else's account or sessions.
 *
 * The current-password check is a password entry like a sign-in: a wrong one counts toward
 * the account's lockout. Otherwise a stolen session cookie would be an unthrottled oracle for
 * guessing the password behind it (to keep access after the session ends).
 */
import { eq } from 'drizzle-orm';
import { appendAudit } from '../audit/append';
import type { Database } from '../db';
import { appUser } from '../db/schema';
import { countPasswordFailure, type LoginSettings } from './login';
import { checkPassword, PASSWORD_PROBLEM_TEXT, verifyPassword } from './passwords';
import { endSession, endUserSessions, listUserSessions } from './sessions';
import { setPassword } from './users';

export interface AccountHolder {
	userId: number;
	username: string;
	/** The session making the request (kept open when the others end). */
	sessionId: string;
}

export type ChangePasswordResult =
	| { ok: true; endedSessions: number }
	| { ok: false; field: 'current' | 'password'; message: string };

export async function changeOwnPassword(
	database: Database,
	settings: Pick<LoginSettings, 'lockoutThreshold'>,
	holder: AccountHolder,
	input: { current: string; password: string; ip: string | null },
	now = new Date()
): Promise<ChangePasswordResult> {
	const [row] = await database.db
		.select({ passwordHash: appUser.passwordHash, lockedAt: appUser.lockedAt })
		.from(appUser)
		.where(eq(appUser.id, holder.userId));
	if (!row) return { ok: false, field: 'current', message: 'Your account no longer exists.' };
	if (row.lockedAt) {
		return {
			ok: false,
			field: 'current',
			message: 'Your account is locked after repeated wrong passwords. Ask an administrator.'
		};
	}
	const currentOk =
		row.passwordHash !== null && (await verifyPassword(row.passwordHash, input.current));
	if (!currentOk) {
		const { locked } = await countPasswordFailure(
			database,
			settings,
			{ id: holder.userId, username: holder.username },
			{ ip: input.ip, outcome: 'bad-current-password', what: 'password entries' },
			now
		);
		return {
			ok: false,
			field: 'current',
			message: locked
				? 'Your account is now locked after repeated wrong passwords. Ask an administrator.'
				: 'This is not your current password.'
		};
	}
	if (input.current === input.password) {
		return {
			ok: false,
			field: 'password',
			message: 'Choose a password different from the current one.'
		};
	}
	const problems = checkPassword(input.password, holder.username);
	if (problems.length > 0) {
		return {
			ok: false,
			field: 'password',
			message: problems.map((p) => PASSWORD_PROBLEM_TEXT[p]).join(' ')
		};
	}
	await database.transaction((tx) =>
		setPassword(
			tx,
			{ userId: holder.userId, label: holder.username },
			holder.userId,
			input.password,
			'changed by the user'
		)
	);
	// Whoever else holds a session of this user (another browser, a stolen cookie) is out, and
	// their sockets with them (authEvents → hub).
	const endedSessions = await endUserSessions(
		database,
		holder.userId,
		'password-changed',
		holder.sessionId
	);
	return { ok: true, endedSessions };
}

/** The length of the session key shown on the account page (a prefix of the session id). */
export const SESSION_KEY_LENGTH = 16;

export function sessionKey(sessionId: string): string {
	return sessionId.slice(0, SESSION_KEY_LENGTH);
}

export type EndOwnSessionResult = { ok: true; current: boolean } | { ok: false };

/**
 * End one of the holder's own open sessions, named by its key. A key of anyone else's session
 * gets the same answer as an unknown key: nothing to learn, nothing ended.
 */
export async function endOwnSession(
	database: Database,
	holder: AccountHolder,
	key: string
): Promise<EndOwnSessionResult> {
	const mine = await listUserSessions(database, holder.userId);
	const target = mine.find((s) => sessionKey(s.id) === key);
	if (!target) return { ok: false };
	await endSession(database, target.id, 'signed-out-by-user');
	await database.transaction((tx) =>
		appendAudit(tx, {
			actor: { userId: holder.userId, label: holder.username },
			action: 'logout',
			entityType: 'session',
			entityId: target.id.slice(0, 12),
			reason: 'signed out from the account page'
		})
	);
	return { ok: true, current: target.id === holder.sessionId };
}

/** End every open session of the holder except the one asking; returns how many ended. */
export async function endOtherSessions(database: Database, holder: AccountHolder): Promise<number> {
	const ended = await endUserSessions(
		database,
		holder.userId,
		'signed-out-by-user',
		holder.sessionId
	);
	if (ended > 0) {
		await database.transaction((tx) =>
			appendAudit(tx, {
				actor: { userId: holder.userId, label: holder.username },
				action: 'logout',
				entityType: 'user',
				entityId: holder.userId,
				newValues: { sessionsEnded: ended },
				reason: 'signed out all other sessions from the account page'
			})
		);
	}
	return ended;
}
