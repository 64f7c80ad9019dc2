import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	attemptLogin,
	inNetworks,
	passwordExpired,
	safeNext,
	type LoginSettings
} from '$lib/server/auth/login';
import {
	endUserSessions,
	validateSessionToken,
	type SessionSettings
} from '$lib/server/auth/sessions';
import { createUser, setPassword } from '$lib/server/auth/users';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';

const SESSIONS: SessionSettings = { idleMs: 15 * 60_000, absoluteMs: 12 * 3600_000 };
const SETTINGS: LoginSettings = {
	sessions: SESSIONS,
	lockoutThreshold: 3,
	throttlePerIp: 10,
	passwordMaxAgeDays: 0,
	trustedNetworks: ['10.0.0.0/8', '127.0.0.0/8']
};
const PASSWORD = 'correct horse battery staple';
const SYSTEM = { userId: null, label: 'system' };

async function makeUser(t: TestDatabase, username: string): Promise<number> {
	return t.database.transaction(async (tx) => {
		const id = await createUser(tx, SYSTEM, {
			username,
			fullName: `User ${username}`,
			grants: [{ role: 'operator' }]
		});
		await setPassword(tx, SYSTEM, id, PASSWORD, 'test');
		return id;
	});
}

const login = (t: TestDatabase, username: string, password: string, ip = '10.0.0.1') =>
	attemptLogin(t.database, SETTINGS, { username, password, ip, userAgent: 'vitest' });

describe.each(BACKENDS)('signing in on %s', (backend) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
		for (const u of ['ann', 'bob', 'cid', 'dan', 'eve']) await makeUser(t, u);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('opens a session whose token validates, for the right password, case-insensitively', async () => {
		const result = await login(t, 'ANN', PASSWORD);
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		const valid = await validateSessionToken(t.database, result.session.token, SESSIONS);
		expect(valid?.principal.username).toBe('ann');
		expect(valid?.principal.grants).toEqual([{ role: 'operator', siteId: null, lineId: null }]);
	});

	it('answers an unknown user exactly like a wrong password', async () => {
		expect(await login(t, 'nobody', PASSWORD)).toEqual({ ok: false, reason: 'bad-credentials' });
		expect(await login(t, 'bob', 'wrong password here')).toEqual({
			ok: false,
			reason: 'bad-credentials'
		});
	});

	it('locks an account after the threshold of consecutive failures, and says so only to its owner', async () => {
		for (let i = 0; i < SETTINGS.lockoutThreshold; i++) {
			expect((await login(t, 'cid', `wrong ${i} password`, '10.0.0.2')).ok).toBe(false);
		}
		expect(await login(t, 'cid', 'another wrong one', '10.0.0.2')).toEqual({
			ok: false,
			reason: 'bad-credentials'
		});
		expect(await login(t, 'cid', PASSWORD, '10.0.0.2')).toEqual({ ok: false, reason: 'locked' });
		const alerts = await t.database.query<{ kind: string }>(
			`SELECT a.kind FROM security_alert a JOIN app_user u ON u.id = a.user_id WHERE u.username = 'cid'`
		);
		expect(alerts.map((a) => a.kind)).toEqual(['account-locked']);
		const audit = await t.database.query<{ action: string }>(
			`SELECT action FROM audit_event WHERE action = 'lockout'`
		);
		expect(audit).toHaveLength(1);
	});

	it('a successful sign-in resets the failure count', async () => {
		await login(t, 'dan', 'wrong password one', '10.0.0.3');
		await login(t, 'dan', 'wrong password two', '10.0.0.3');
		expect((await login(t, 'dan', PASSWORD, '10.0.0.3')).ok).toBe(true);
		await login(t, 'dan', 'wrong password three', '10.0.0.3');
		await login(t, 'dan', 'wrong password four', '10.0.0.3');
		expect((await login(t, 'dan', PASSWORD, '10.0.0.3')).ok).toBe(true);
	});

	it('throttles an outside address and never lets it lock the account it guesses at', async () => {
		const ip = '203.0.113.9';
		const results = [];
		for (let i = 0; i < SETTINGS.throttlePerIp + 5; i++) {
			results.push(await login(t, 'eve', `guess number ${i}`, ip));
		}
		expect(
			results.slice(0, SETTINGS.throttlePerIp).every((r) => !r.ok && r.reason === 'bad-credentials')
		).toBe(true);
		expect(
			results.slice(SETTINGS.throttlePerIp).every((r) => !r.ok && r.reason === 'throttled')
		).toBe(true);
		// The attacker's address is refused even with the right password...
		expect(await login(t, 'eve', PASSWORD, ip)).toEqual({ ok: false, reason: 'throttled' });
		// ...while eve, inside the plant, signs in: her account was never locked.
		const [eve] = await t.database.query<{ failed_logins: number; locked: boolean }>(
			`SELECT failed_logins, locked_at IS NOT NULL AS locked FROM app_user WHERE username = 'eve'`
		);
		expect(eve).toEqual({ failed_logins: 0, locked: false });
		expect((await login(t, 'eve', PASSWORD, '10.1.2.3')).ok).toBe(true);
		const alerts = await t.database.query<{ n: number }>(
			`SELECT count(*)::int AS n FROM security_alert WHERE kind = 'address-throttled' AND ip = $1`,
			[ip]
		);
		expect(alerts[0].n).toBe(1);
	});

	it('refuses a disabled user like a wrong password, and its sessions end', async () => {
		const result = await login(t, 'ann', PASSWORD, '10.0.0.4');
		if (!result.ok) throw new Error('sign-in failed');
		await t.database.query(`UPDATE app_user SET disabled_at = now() WHERE username = 'ann'`);
		expect(await validateSessionToken(t.database, result.session.token, SESSIONS)).toBeNull();
		expect(await login(t, 'ann', PASSWORD, '10.0.0.4')).toEqual({
			ok: false,
			reason: 'bad-credentials'
		});
		await t.database.query(`UPDATE app_user SET disabled_at = NULL WHERE username = 'ann'`);
	});

	it('expires sessions when idle and at the absolute limit, renewing at half-life', async () => {
		const result = await login(t, 'bob', PASSWORD, '10.0.0.5');
		if (!result.ok) throw new Error('sign-in failed');
		const { token, session } = result.session;
		const start = session.createdAt.getTime();
		// Before half-life: no renewal.
		const early = await validateSessionToken(t.database, token, SESSIONS, new Date(start + 60_000));
		expect(early?.renewed).toBe(false);
		// Past half-life: renewed to a full idle period from now.
		const at = start + SESSIONS.idleMs * 0.6;
		const renewed = await validateSessionToken(t.database, token, SESSIONS, new Date(at));
		expect(renewed?.renewed).toBe(true);
		expect(renewed?.session.expiresAt.getTime()).toBe(at + SESSIONS.idleMs);
		// Idle past the renewed expiry: over.
		expect(
			await validateSessionToken(t.database, token, SESSIONS, new Date(at + SESSIONS.idleMs + 1))
		).toBeNull();
		// And once over, always over.
		expect(await validateSessionToken(t.database, token, SESSIONS, new Date(at))).toBeNull();
	});

	it('ends a session at the absolute limit however active it is', async () => {
		const short: SessionSettings = { idleMs: 60_000, absoluteMs: 150_000 };
		const result = await attemptLogin(
			t.database,
			{ ...SETTINGS, sessions: short },
			{ username: 'bob', password: PASSWORD, ip: '10.0.0.6', userAgent: null }
		);
		if (!result.ok) throw new Error('sign-in failed');
		const start = result.session.session.createdAt.getTime();
		for (const dt of [40_000, 80_000, 120_000]) {
			expect(
				await validateSessionToken(t.database, result.session.token, short, new Date(start + dt))
			).not.toBeNull();
		}
		expect(
			await validateSessionToken(t.database, result.session.token, short, new Date(start + 150_001))
		).toBeNull();
	});

	it('ends all of a user’s sessions but the one kept', async () => {
		const a = await login(t, 'dan', PASSWORD, '10.0.0.7');
		const b = await login(t, 'dan', PASSWORD, '10.0.0.7');
		if (!a.ok || !b.ok) throw new Error('sign-in failed');
		const ended = await endUserSessions(
			t.database,
			a.userId,
			'password-changed',
			a.session.session.id
		);
		expect(ended).toBeGreaterThanOrEqual(1);
		expect(await validateSessionToken(t.database, a.session.token, SESSIONS)).not.toBeNull();
		expect(await validateSessionToken(t.database, b.session.token, SESSIONS)).toBeNull();
	});
});

describe('after signing in', () => {
	it.each([
		['/wall/L1', '/wall/L1'],
		['/audit?user=qe', '/audit?user=qe'],
		['//evil.example/x', '/'],
		['/\\evil.example', '/'],
		['https://evil.example/', '/'],
		['', '/'],
		[null, '/']
	])('goes to %s → %s', (next, expected) => {
		expect(safeNext(next)).toBe(expected);
	});

	it.each([
		['10.2.3.4', true],
		['::ffff:10.2.3.4', true],
		['127.0.0.1', true],
		['203.0.113.9', false],
		['2001:db8::1', false],
		[null, false]
	])('treats %s as inside the trusted networks: %s', (ip, inside) => {
		expect(inNetworks(ip, ['10.0.0.0/8', '127.0.0.0/8', 'fc00::/7'])).toBe(inside);
	});

	it('expires passwords only when a maximum age is configured', () => {
		const now = new Date('2026-11-22T00:00:00Z');
		const old = new Date('2026-01-01T00:00:00Z');
		expect(passwordExpired(old, 0, now)).toBe(false);
		expect(passwordExpired(old, 90, now)).toBe(true);
		expect(passwordExpired(new Date('2026-11-01T00:00:00Z'), 90, now)).toBe(false);
	});
});
