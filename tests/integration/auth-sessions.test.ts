/**
 * Session lifetime (idle, absolute, renewal at half-life, ending) and the account page's
 * services (own password change, own sessions), on both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	changeOwnPassword,
	endOtherSessions,
	endOwnSession,
	sessionKey,
	type AccountHolder
} from '$lib/server/auth/account';
import { authEvents, type AuthEvent } from '$lib/server/auth/events';
import { attemptLogin, type LoginSettings } from '$lib/server/auth/login';
import {
	createSession,
	endSession,
	endUserSessions,
	listUserSessions,
	validateSessionToken,
	type SessionSettings
} from '$lib/server/auth/sessions';
import { createUser, setPassword } from '$lib/server/auth/users';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';

const SESSIONS: SessionSettings = { idleMs: 15 * 60_000, absoluteMs: 12 * 3600_000 };
const SETTINGS: LoginSettings = {
	sessions: SESSIONS,
	lockoutThreshold: 3,
	throttlePerIp: 50,
	passwordMaxAgeDays: 0,
	trustedNetworks: ['10.0.0.0/8']
};
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'granite lathe spindle morning';
const SYSTEM = { userId: null, label: 'system' };

async function makeUser(t: TestDatabase, username: string): Promise<number> {
	return t.database.transaction(async (tx) => {
		const id = await createUser(tx, SYSTEM, {
			username,
			fullName: `User ${username}`,
			grants: [{ role: 'quality-engineer' }]
		});
		await setPassword(tx, SYSTEM, id, PASSWORD, 'test');
		return id;
	});
}

/** Collects authEvents while `body` runs (the hub disconnects sockets from these). */
async function collectEvents(body: () => Promise<unknown>): Promise<AuthEvent[]> {
	const seen: AuthEvent[] = [];
	const off = authEvents.on((e) => seen.push(e));
	try {
		await body();
	} finally {
		off();
	}
	return seen;
}

describe.each(BACKENDS)('session lifetime on %s', (backend) => {
	let t: TestDatabase;
	let userId: number;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
		userId = await makeUser(t, 'sam');
	});
	afterAll(async () => {
		await t?.dispose();
	});

	const start = new Date('2026-11-22T08:00:00Z');
	const at = (ms: number) => new Date(start.getTime() + ms);
	const open = () => createSession(t.database, userId, SESSIONS, { now: start, ip: '10.0.0.1' });

	it('refuses a session left idle for the idle period, and ends it with that reason', async () => {
		const { token, session } = await open();
		expect(await validateSessionToken(t.database, token, SESSIONS, at(60_000))).not.toBeNull();
		expect(await validateSessionToken(t.database, token, SESSIONS, at(SESSIONS.idleMs))).toBeNull();
		// Once over, always over: an earlier clock does not revive it.
		expect(await validateSessionToken(t.database, token, SESSIONS, at(60_000))).toBeNull();
		const [row] = await t.database.query<{ end_reason: string }>(
			`SELECT end_reason FROM session WHERE id = $1`,
			[session.id]
		);
		expect(row.end_reason).toBe('idle-timeout');
	});

	it('renews only past half-life, to a full idle period from the request', async () => {
		const { token } = await open();
		const early = await validateSessionToken(t.database, token, SESSIONS, at(SESSIONS.idleMs / 4));
		expect(early?.renewed).toBe(false);
		expect(early?.session.expiresAt.getTime()).toBe(start.getTime() + SESSIONS.idleMs);
		const late = SESSIONS.idleMs * 0.6;
		const renewed = await validateSessionToken(t.database, token, SESSIONS, at(late));
		expect(renewed?.renewed).toBe(true);
		expect(renewed?.session.expiresAt.getTime()).toBe(start.getTime() + late + SESSIONS.idleMs);
		// The renewal was stored: past the original expiry the session still lives...
		expect(
			await validateSessionToken(t.database, token, SESSIONS, at(SESSIONS.idleMs + 1000))
		).not.toBeNull();
		// ...until the renewed one.
		expect(
			await validateSessionToken(t.database, token, SESSIONS, at(late + SESSIONS.idleMs))
		).toBeNull();
	});

	it('does not renew when asked not to (a socket handshake is not activity)', async () => {
		const { token } = await open();
		const seen = await validateSessionToken(
			t.database,
			token,
			SESSIONS,
			at(SESSIONS.idleMs * 0.9),
			{ renew: false }
		);
		expect(seen?.renewed).toBe(false);
		expect(await validateSessionToken(t.database, token, SESSIONS, at(SESSIONS.idleMs))).toBeNull();
	});

	it('ends a session at the absolute limit however active it is', async () => {
		const short: SessionSettings = { idleMs: 60_000, absoluteMs: 150_000 };
		const { token, session } = await createSession(t.database, userId, short, { now: start });
		for (const dt of [40_000, 80_000, 120_000]) {
			expect(await validateSessionToken(t.database, token, short, at(dt))).not.toBeNull();
		}
		// Renewal never goes beyond the absolute limit.
		const last = await validateSessionToken(t.database, token, short, at(140_000));
		expect(last?.session.expiresAt.getTime()).toBe(start.getTime() + 150_000);
		expect(await validateSessionToken(t.database, token, short, at(150_000))).toBeNull();
		const [row] = await t.database.query<{ end_reason: string }>(
			`SELECT end_reason FROM session WHERE id = $1`,
			[session.id]
		);
		expect(row.end_reason).toBe('absolute-timeout');
	});

	it('refuses malformed and unknown tokens', async () => {
		expect(await validateSessionToken(t.database, 'x'.repeat(32), SESSIONS)).toBeNull();
		expect(await validateSessionToken(t.database, 'a'.repeat(32), SESSIONS)).toBeNull();
	});

	it('refuses the sessions of a disabled user', async () => {
		const other = await makeUser(t, 'dora');
		const { token } = await createSession(t.database, other, SESSIONS);
		expect(await validateSessionToken(t.database, token, SESSIONS)).not.toBeNull();
		await t.database.query(`UPDATE app_user SET disabled_at = now() WHERE id = $1`, [other]);
		expect(await validateSessionToken(t.database, token, SESSIONS)).toBeNull();
		// Re-enabling does not bring an ended session back.
		await t.database.query(`UPDATE app_user SET disabled_at = NULL WHERE id = $1`, [other]);
		expect(await validateSessionToken(t.database, token, SESSIONS)).toBeNull();
	});

	it('ends all of a user’s sessions but the one kept, and tells the hub which', async () => {
		const kept = await createSession(t.database, userId, SESSIONS);
		const a = await createSession(t.database, userId, SESSIONS);
		const b = await createSession(t.database, userId, SESSIONS);
		let count = 0;
		const events = await collectEvents(async () => {
			count = await endUserSessions(t.database, userId, 'password-changed', kept.session.id);
		});
		expect(count).toBeGreaterThanOrEqual(2);
		expect(await validateSessionToken(t.database, kept.token, SESSIONS)).not.toBeNull();
		expect(await validateSessionToken(t.database, a.token, SESSIONS)).toBeNull();
		expect(await validateSessionToken(t.database, b.token, SESSIONS)).toBeNull();
		expect(events).toHaveLength(1);
		const [event] = events;
		expect(event.kind === 'sessions-ended' && event.reason).toBe('password-changed');
		expect(event.kind === 'sessions-ended' && event.sessionIds).toEqual(
			expect.arrayContaining([a.session.id, b.session.id])
		);
	});

	it('ends one session once: a second end changes nothing and tells nobody', async () => {
		const { token, session } = await createSession(t.database, userId, SESSIONS);
		const first = await collectEvents(() => endSession(t.database, session.id, 'logout'));
		const second = await collectEvents(() => endSession(t.database, session.id, 'idle-timeout'));
		expect(first).toHaveLength(1);
		expect(second).toHaveLength(0);
		expect(await validateSessionToken(t.database, token, SESSIONS)).toBeNull();
		const [row] = await t.database.query<{ end_reason: string }>(
			`SELECT end_reason FROM session WHERE id = $1`,
			[session.id]
		);
		expect(row.end_reason).toBe('logout');
	});
});

describe.each(BACKENDS)('own account on %s', (backend) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
		for (const u of ['amy', 'ben', 'col', 'deb']) await makeUser(t, u);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	async function signIn(username: string, password = PASSWORD) {
		const result = await attemptLogin(t.database, SETTINGS, {
			username,
			password,
			ip: '10.0.0.9',
			userAgent: 'vitest'
		});
		if (!result.ok) throw new Error(`sign-in of ${username} refused: ${result.reason}`);
		const holder: AccountHolder = {
			userId: result.userId,
			username,
			sessionId: result.session.session.id
		};
		return { holder, token: result.session.token };
	}

	it('changes the password, keeps this session and ends the others', async () => {
		const here = await signIn('amy');
		const there = await signIn('amy');
		const result = await changeOwnPassword(t.database, SETTINGS, here.holder, {
			current: PASSWORD,
			password: NEW_PASSWORD,
			ip: '10.0.0.9'
		});
		expect(result).toEqual({ ok: true, endedSessions: 1 });
		expect(await validateSessionToken(t.database, here.token, SESSIONS)).not.toBeNull();
		expect(await validateSessionToken(t.database, there.token, SESSIONS)).toBeNull();
		// The new password signs in; the old one no longer does.
		await signIn('amy', NEW_PASSWORD);
		const old = await attemptLogin(t.database, SETTINGS, {
			username: 'amy',
			password: PASSWORD,
			ip: '10.0.0.9',
			userAgent: null
		});
		expect(old).toEqual({ ok: false, reason: 'bad-credentials' });
		const audit = await t.database.query<{ action: string; reason: string }>(
			`SELECT action, reason FROM audit_event WHERE action = 'password' AND entity_id = $1`,
			[String(here.holder.userId)]
		);
		expect(audit.map((a) => a.reason)).toContain('changed by the user');
	});

	it('refuses a weak new password or the same one, naming the field', async () => {
		const { holder } = await signIn('ben');
		const change = (password: string) =>
			changeOwnPassword(t.database, SETTINGS, holder, {
				current: PASSWORD,
				password,
				ip: '10.0.0.9'
			});
		const short = await change('short');
		expect(short).toMatchObject({ ok: false, field: 'password' });
		expect(!short.ok && short.message).toContain('at least 12');
		expect(await change('password2026!')).toMatchObject({ ok: false, field: 'password' });
		expect(await change('my name is ben, hello')).toMatchObject({ ok: false, field: 'password' });
		expect(await change(PASSWORD)).toEqual({
			ok: false,
			field: 'password',
			message: 'Choose a password different from the current one.'
		});
	});

	it('counts a wrong current password toward lockout, so a stolen session cannot guess on', async () => {
		const { holder } = await signIn('col');
		const wrong = () =>
			changeOwnPassword(t.database, SETTINGS, holder, {
				current: 'not my password at all',
				password: NEW_PASSWORD,
				ip: '10.0.0.9'
			});
		for (let i = 1; i < SETTINGS.lockoutThreshold; i++) {
			expect(await wrong()).toEqual({
				ok: false,
				field: 'current',
				message: 'This is not your current password.'
			});
		}
		const last = await wrong();
		expect(!last.ok && last.message).toContain('now locked');
		// Locked: even the right current password no longer changes anything.
		const right = await changeOwnPassword(t.database, SETTINGS, holder, {
			current: PASSWORD,
			password: NEW_PASSWORD,
			ip: '10.0.0.9'
		});
		expect(right.ok).toBe(false);
		const alerts = await t.database.query<{ kind: string }>(
			`SELECT kind FROM security_alert WHERE user_id = $1`,
			[holder.userId]
		);
		expect(alerts.map((a) => a.kind)).toEqual(['account-locked']);
		expect(
			await attemptLogin(t.database, SETTINGS, {
				username: 'col',
				password: PASSWORD,
				ip: '10.0.0.9',
				userAgent: null
			})
		).toEqual({ ok: false, reason: 'locked' });
	});

	it('ends only the holder’s own sessions, whatever key is sent', async () => {
		const deb = await signIn('deb');
		const debElsewhere = await signIn('deb');
		const ben = await signIn('ben');
		// Someone else's session key gets the answer of an unknown one, and nothing ends.
		expect(await endOwnSession(t.database, deb.holder, sessionKey(ben.holder.sessionId))).toEqual({
			ok: false
		});
		expect(await validateSessionToken(t.database, ben.token, SESSIONS)).not.toBeNull();
		expect(await endOwnSession(t.database, deb.holder, '0'.repeat(16))).toEqual({ ok: false });

		expect(
			await endOwnSession(t.database, deb.holder, sessionKey(debElsewhere.holder.sessionId))
		).toEqual({ ok: true, current: false });
		expect(await validateSessionToken(t.database, debElsewhere.token, SESSIONS)).toBeNull();
		expect(await validateSessionToken(t.database, deb.token, SESSIONS)).not.toBeNull();

		expect(await endOwnSession(t.database, deb.holder, sessionKey(deb.holder.sessionId))).toEqual({
			ok: true,
			current: true
		});
		expect(await validateSessionToken(t.database, deb.token, SESSIONS)).toBeNull();
	});

	it('signs out all other sessions of the holder only, and audits it', async () => {
		const here = await signIn('ben');
		await signIn('ben');
		await signIn('ben');
		const amy = await signIn('amy', NEW_PASSWORD);
		const ended = await endOtherSessions(t.database, here.holder);
		expect(ended).toBeGreaterThanOrEqual(2);
		const open = await listUserSessions(t.database, here.holder.userId);
		expect(open.map((s) => s.id)).toEqual([here.holder.sessionId]);
		expect(await validateSessionToken(t.database, amy.token, SESSIONS)).not.toBeNull();
		const audit = await t.database.query<{ n: number }>(
			`SELECT count(*)::int AS n FROM audit_event WHERE action = 'logout' AND entity_type = 'user' AND entity_id = $1`,
			[String(here.holder.userId)]
		);
		expect(audit[0].n).toBe(1);
	});
});
