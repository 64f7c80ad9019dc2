import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptLogin, passwordExpiredFor, type LoginSettings } from '$lib/server/auth/login';
import { validateSessionToken, type SessionSettings } from '$lib/server/auth/sessions';
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
		for (const u of ['ann', 'bob', 'cid', 'dan', 'eve', 'fay', 'gus', 'hal']) await makeUser(t, u);
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
			`SELECT e.action FROM audit_event e JOIN app_user u ON e.entity_id = u.id::text
			 WHERE e.action = 'lockout' AND e.entity_type = 'user' AND u.username = 'cid'`
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

	it('stops counting an address’s guesses toward lockout once it is throttled, even inside the plant', async () => {
		const tight: LoginSettings = { ...SETTINGS, lockoutThreshold: 5, throttlePerIp: 3 };
		const ip = '10.9.9.9';
		const results = [];
		for (let i = 0; i < 12; i++) {
			results.push(
				await attemptLogin(t.database, tight, {
					username: 'fay',
					password: `guess number ${i}`,
					ip,
					userAgent: null
				})
			);
		}
		expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(9);
		const [fay] = await t.database.query<{ failed_logins: number; locked: boolean }>(
			`SELECT failed_logins, locked_at IS NOT NULL AS locked FROM app_user WHERE username = 'fay'`
		);
		expect(fay).toEqual({ failed_logins: 3, locked: false });
		const outcomes = await t.database.query<{ outcome: string; n: number }>(
			`SELECT outcome, count(*)::int AS n FROM login_attempt WHERE ip = $1 GROUP BY outcome ORDER BY outcome`,
			[ip]
		);
		expect(outcomes).toEqual([
			{ outcome: 'bad-credentials', n: 3 },
			{ outcome: 'throttled', n: 9 }
		]);
		expect((await login(t, 'fay', PASSWORD, '10.9.9.10')).ok).toBe(true);
	});

	it('spends the same Argon2 work on an unknown user as on a wrong password', async () => {
		const median = async (username: string) => {
			const times: number[] = [];
			for (let i = 0; i < 5; i++) {
				const t0 = performance.now();
				await login(t, username, `timing probe ${i}`, '198.51.100.7');
				times.push(performance.now() - t0);
			}
			return times.sort((x, y) => x - y)[2];
		};
		const known = await median('bob');
		const unknown = await median('nobody-at-all');
		// Without the dummy verification an unknown name answers in a fraction of the time.
		expect(unknown / known).toBeGreaterThan(0.4);
	});

	it('signs in with an expired password into the forced change, which ends the expiry', async () => {
		const expiring: LoginSettings = { ...SETTINGS, passwordMaxAgeDays: 90 };
		const now = new Date();
		const [gus] = await t.database.query<{ id: number }>(
			`UPDATE app_user SET password_changed_at = now() - interval '100 days' WHERE username = 'gus' RETURNING id`
		);
		const input = { username: 'gus', password: PASSWORD, ip: '10.0.0.8', userAgent: null };
		const expired = await attemptLogin(t.database, expiring, input, now);
		expect(expired).toMatchObject({ ok: true, passwordExpired: true });
		expect(await passwordExpiredFor(t.database, gus.id, 90, now)).toBe(true);
		// No maximum age configured: the same password is simply valid.
		expect(await attemptLogin(t.database, SETTINGS, input, now)).toMatchObject({
			ok: true,
			passwordExpired: false
		});
		const [attempt] = await t.database.query<{ outcome: string }>(
			`SELECT outcome FROM login_attempt WHERE username = 'gus' AND ok ORDER BY id LIMIT 1`
		);
		expect(attempt.outcome).toBe('expired');
		await t.database.transaction((tx) =>
			setPassword(tx, SYSTEM, gus.id, 'a fresh and long passphrase', 'test')
		);
		expect(await passwordExpiredFor(t.database, gus.id, 90)).toBe(false);
		expect(
			await attemptLogin(t.database, expiring, {
				...input,
				password: 'a fresh and long passphrase'
			})
		).toMatchObject({ ok: true, passwordExpired: false });
	});

	it('locks once under concurrent failures: one alert, one audit event', async () => {
		const [hal] = await t.database.query<{ id: number }>(
			`SELECT id FROM app_user WHERE username = 'hal'`
		);
		await Promise.all(
			Array.from({ length: SETTINGS.lockoutThreshold + 3 }, (_, i) =>
				login(t, 'hal', `parallel guess ${i}`, '10.0.0.11')
			)
		);
		const alerts = await t.database.query<{ n: number }>(
			`SELECT count(*)::int AS n FROM security_alert WHERE kind = 'account-locked' AND user_id = $1`,
			[hal.id]
		);
		expect(alerts[0].n).toBe(1);
		const audit = await t.database.query<{ n: number }>(
			`SELECT count(*)::int AS n FROM audit_event WHERE action = 'lockout' AND entity_id = $1`,
			[String(hal.id)]
		);
		expect(audit[0].n).toBe(1);
		expect(await login(t, 'hal', PASSWORD, '10.0.0.11')).toEqual({ ok: false, reason: 'locked' });
	});
});
