import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '$lib/server/audit/append';
import { authEvents, type AuthEvent } from '$lib/server/auth/events';
import { createSession, validateSessionToken } from '$lib/server/auth/sessions';
import {
	bootstrapAdministrator,
	createUser,
	createUserWithCode,
	disableUser,
	enableUser,
	failedAttemptsFromIp,
	findPasswordCode,
	listUsers,
	redeemPasswordCode,
	resetPassword,
	unlockUser,
	updateUserAccess,
	UserInputError
} from '$lib/server/auth/users';
import { seedDemoPlant } from '$lib/server/plant/service';
import { BACKENDS, openTestDatabase, smallPlant, type TestDatabase } from '../factories/db';

const SETTINGS = { idleMs: 60_000, absoluteMs: 3600_000 };
const PASSWORD = 'violet-harbour-engine-42';

interface AuditRow {
	actor_label: string;
	action: string;
	entity_type: string;
	entity_id: string;
	old_values: Record<string, unknown> | null;
	new_values: Record<string, unknown> | null;
	reason: string | null;
}

async function lastAudit(t: TestDatabase): Promise<AuditRow> {
	const [row] = await t.database.query<AuditRow>(
		`SELECT actor_label, action, entity_type, entity_id, old_values, new_values, reason
		 FROM audit_event ORDER BY id DESC LIMIT 1`
	);
	return row;
}

async function auditCount(t: TestDatabase): Promise<number> {
	const [row] = await t.database.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event');
	return row.n;
}

async function refusal(promise: Promise<unknown>): Promise<UserInputError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof UserInputError) return error;
		throw error;
	}
	throw new Error('the change was not refused');
}

describe.each(BACKENDS)('user administration on %s', (backend) => {
	let t: TestDatabase;
	let admin: Actor;
	let lineId: number;
	let n = 0;
	const unique = (stem: string) => `${stem}${++n}`;

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		const [l] = await t.database.query<{ id: number }>("SELECT id FROM line WHERE code = 'L1'");
		lineId = l.id;
		const id = await t.database.transaction((tx) =>
			createUser(
				tx,
				{ userId: null, label: 'system' },
				{
					username: 'root-admin',
					fullName: 'Root Admin',
					grants: [{ role: 'administrator' }]
				}
			)
		);
		admin = { userId: id, label: 'root-admin' };
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('creates a user with scoped roles and a one-time code, audited without the code', async () => {
		const username = unique('olga');
		const created = await createUserWithCode(t.database, admin, {
			username,
			fullName: 'Olga Operator',
			canSign: true,
			grants: [{ role: 'operator', lineId }]
		});
		expect(created.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
		expect(created.expiresAt.getTime() - Date.now()).toBeGreaterThan(23.9 * 3600_000);
		const [stored] = await t.database.query<{ code_sha256: string }>(
			'SELECT code_sha256 FROM password_reset WHERE user_id = $1',
			[created.userId]
		);
		expect(stored.code_sha256).toMatch(/^[0-9a-f]{64}$/);
		expect(JSON.stringify(await t.database.query('SELECT * FROM audit_event'))).not.toContain(
			created.code
		);
		const listed = (await listUsers(t.database)).find((u) => u.id === created.userId);
		expect(listed).toMatchObject({
			username,
			fullName: 'Olga Operator',
			canSign: true,
			status: 'active',
			awaitingPassword: true,
			grants: [{ role: 'operator', siteId: null, lineId }],
			lastLoginAt: null
		});
		const audit = await t.database.query<AuditRow>(
			"SELECT action, entity_type, entity_id, new_values FROM audit_event WHERE entity_id = $1 AND entity_type = 'user' ORDER BY id",
			[String(created.userId)]
		);
		expect(audit.map((a) => a.action)).toEqual(['create', 'password']);
		expect(audit[0].new_values).toMatchObject({ username, canSign: true });
		expect(audit[1].new_values).toMatchObject({ oneTimeCodeIssued: true });
	});

	it('refuses a user without a role, an unknown line and a reused username', async () => {
		const username = unique('x');
		expect(
			(
				await refusal(
					createUserWithCode(t.database, admin, { username, fullName: 'X', grants: [] })
				)
			).field
		).toBe('grants');
		expect(
			(
				await refusal(
					createUserWithCode(t.database, admin, {
						username,
						fullName: 'X',
						grants: [{ role: 'operator', lineId: 999_999 }]
					})
				)
			).message
		).toMatch(/line does not exist/);
		await createUserWithCode(t.database, admin, {
			username,
			fullName: 'X',
			grants: [{ role: 'operator' }]
		});
		expect(
			(
				await refusal(
					createUserWithCode(t.database, admin, {
						username,
						fullName: 'Y',
						grants: [{ role: 'operator' }]
					})
				)
			).message
		).toMatch(/never reused/);
	});

	it('sets the password with a code once; the code then stops working', async () => {
		const username = unique('quinn');
		const { userId, code } = await createUserWithCode(t.database, admin, {
			username,
			fullName: 'Quinn',
			grants: [{ role: 'quality-engineer' }]
		});
		const meta = { ip: '10.0.0.1', throttlePerIp: 100 };
		// Policy problems keep the code valid and are not counted as failed attempts.
		const weak = await redeemPasswordCode(t.database, code, 'short', meta);
		expect(weak).toMatchObject({ ok: false, reason: 'password' });
		expect(await failedAttemptsFromIp(t.database, '10.0.0.1')).toBe(0);
		// Typed loosely: lower case, space instead of dash.
		const typed = code.toLowerCase().replace('-', ' ');
		expect(await redeemPasswordCode(t.database, typed, PASSWORD, meta)).toEqual({
			ok: true,
			userId,
			username
		});
		const [row] = await t.database.query<{ password_hash: string | null }>(
			'SELECT password_hash FROM app_user WHERE id = $1',
			[userId]
		);
		expect(row.password_hash).toMatch(/^\$argon2id\$/);
		expect(await lastAudit(t)).toMatchObject({
			action: 'password',
			entity_type: 'user',
			entity_id: String(userId),
			actor_label: username
		});
		expect(await redeemPasswordCode(t.database, code, PASSWORD, meta)).toEqual({
			ok: false,
			reason: 'invalid'
		});
		expect(await failedAttemptsFromIp(t.database, '10.0.0.1')).toBe(1);
	});

	it('ends every session of the user when the password is set', async () => {
		const { userId, code } = await createUserWithCode(t.database, admin, {
			username: unique('lee'),
			fullName: 'Lee',
			grants: [{ role: 'shift-lead' }]
		});
		const { token } = await createSession(t.database, userId, SETTINGS);
		const events: AuthEvent[] = [];
		const off = authEvents.on((e) => events.push(e));
		try {
			const result = await redeemPasswordCode(t.database, code, PASSWORD, {
				ip: '10.0.0.2',
				throttlePerIp: 100
			});
			expect(result.ok).toBe(true);
		} finally {
			off();
		}
		expect(await validateSessionToken(t.database, token, SETTINGS)).toBeNull();
		expect(events).toContainEqual(
			expect.objectContaining({ kind: 'sessions-ended', reason: 'password-changed' })
		);
	});

	it('refuses an expired code, and a reset retires the older code', async () => {
		const { userId, code } = await createUserWithCode(t.database, admin, {
			username: unique('rita'),
			fullName: 'Rita',
			grants: [{ role: 'qa-reviewer' }]
		});
		const later = new Date(Date.now() + 25 * 3600_000);
		expect(await findPasswordCode(t.database, code, later)).toBeNull();
		expect(await findPasswordCode(t.database, code)).not.toBeNull();

		const fresh = await resetPassword(t.database, admin, userId, 'forgotten password');
		expect(fresh.code).not.toBe(code);
		expect(await findPasswordCode(t.database, code)).toBeNull();
		expect(await findPasswordCode(t.database, fresh.code)).toMatchObject({ userId });
		expect(await lastAudit(t)).toMatchObject({
			action: 'password',
			entity_id: String(userId),
			reason: 'forgotten password'
		});
	});

	it('throttles code attempts per address through login_attempt rows', async () => {
		const meta = { ip: '10.9.9.9', throttlePerIp: 3 };
		for (let i = 0; i < 3; i++) {
			expect(await redeemPasswordCode(t.database, 'AAAA-AAAA', PASSWORD, meta)).toMatchObject({
				reason: 'invalid'
			});
		}
		const { code } = await createUserWithCode(t.database, admin, {
			username: unique('max'),
			fullName: 'Max',
			grants: [{ role: 'manager' }]
		});
		// Even the right code is refused from a throttled address; another address is fine.
		expect(await redeemPasswordCode(t.database, code, PASSWORD, meta)).toEqual({
			ok: false,
			reason: 'throttled'
		});
		const rows = await t.database.query<{ outcome: string }>(
			"SELECT outcome FROM login_attempt WHERE ip = '10.9.9.9' ORDER BY id"
		);
		expect(rows.map((r) => r.outcome)).toEqual(['bad-code', 'bad-code', 'bad-code', 'throttled']);
		// The same security alert as a throttled sign-in.
		const alerts = await t.database.query<{ kind: string }>(
			"SELECT kind FROM security_alert WHERE ip = '10.9.9.9'"
		);
		expect(alerts).toEqual([{ kind: 'address-throttled' }]);
		expect(
			(await redeemPasswordCode(t.database, code, PASSWORD, { ip: '10.9.9.10', throttlePerIp: 3 }))
				.ok
		).toBe(true);
	});

	it('disables with a reason, ends sessions, refuses codes; enables again', async () => {
		const { userId, code } = await createUserWithCode(t.database, admin, {
			username: unique('dana'),
			fullName: 'Dana',
			grants: [{ role: 'operator' }]
		});
		const { token } = await createSession(t.database, userId, SETTINGS);
		expect((await refusal(disableUser(t.database, admin, userId, ' '))).field).toBe('reason');

		const events: AuthEvent[] = [];
		const off = authEvents.on((e) => events.push(e));
		try {
			await disableUser(t.database, admin, userId, 'left the company');
		} finally {
			off();
		}
		expect(events).toContainEqual(
			expect.objectContaining({ kind: 'sessions-ended', reason: 'user-disabled' })
		);
		expect(await validateSessionToken(t.database, token, SETTINGS)).toBeNull();
		expect(await findPasswordCode(t.database, code)).toBeNull();
		expect(await lastAudit(t)).toMatchObject({
			action: 'state',
			entity_type: 'user',
			entity_id: String(userId),
			old_values: { status: 'active', disabledAt: null },
			new_values: { status: 'disabled' },
			reason: 'left the company'
		});
		expect((await listUsers(t.database)).find((u) => u.id === userId)?.status).toBe('disabled');
		expect((await refusal(resetPassword(t.database, admin, userId, 'try'))).message).toMatch(
			/Enable/
		);

		await enableUser(t.database, admin, userId, 'rehired');
		expect((await listUsers(t.database)).find((u) => u.id === userId)?.status).toBe('active');
		expect(await lastAudit(t)).toMatchObject({
			action: 'state',
			new_values: { status: 'active', disabledAt: null },
			reason: 'rehired'
		});
	});

	it('unlocks a locked user with a reason, audited with old and new values', async () => {
		const { userId } = await createUserWithCode(t.database, admin, {
			username: unique('lock'),
			fullName: 'Locked',
			grants: [{ role: 'operator' }]
		});
		expect((await refusal(unlockUser(t.database, admin, userId, 'nothing'))).message).toMatch(
			/not locked/
		);
		await t.database.query(
			'UPDATE app_user SET locked_at = now(), failed_logins = 5 WHERE id = $1',
			[userId]
		);
		expect((await listUsers(t.database)).find((u) => u.id === userId)?.status).toBe('locked');
		expect((await refusal(unlockUser(t.database, admin, userId, ''))).field).toBe('reason');
		await unlockUser(t.database, admin, userId, 'identity checked by phone');
		const [row] = await t.database.query<{ locked_at: Date | null; failed_logins: number }>(
			'SELECT locked_at, failed_logins FROM app_user WHERE id = $1',
			[userId]
		);
		expect(row).toEqual({ locked_at: null, failed_logins: 0 });
		expect(await lastAudit(t)).toMatchObject({
			action: 'state',
			old_values: { failedLogins: 5 },
			new_values: { lockedAt: null, failedLogins: 0 },
			reason: 'identity checked by phone'
		});
	});

	it('edits roles, scopes and signing right, audited as a diff', async () => {
		const { userId } = await createUserWithCode(t.database, admin, {
			username: unique('edit'),
			fullName: 'Edit Me',
			grants: [{ role: 'operator', lineId }]
		});
		await updateUserAccess(
			t.database,
			admin,
			userId,
			{
				fullName: 'Edit Me',
				email: null,
				canSign: true,
				grants: [{ role: 'shift-lead', lineId }, { role: 'operator' }]
			},
			'promoted'
		);
		expect((await listUsers(t.database)).find((u) => u.id === userId)).toMatchObject({
			canSign: true,
			grants: [
				{ role: 'shift-lead', siteId: null, lineId },
				{ role: 'operator', siteId: null, lineId: null }
			]
		});
		const audit = await lastAudit(t);
		expect(audit).toMatchObject({
			action: 'update',
			entity_id: String(userId),
			reason: 'promoted'
		});
		expect(audit.old_values).toEqual({
			canSign: false,
			grants: [{ role: 'operator', siteId: null, lineId }]
		});
		expect(audit.new_values).toMatchObject({ canSign: true });
		expect(audit.new_values).not.toHaveProperty('fullName');
	});

	it('protects the last active administrator and the acting administrator', async () => {
		const before = await auditCount(t);
		const self = admin.userId as number;
		expect((await refusal(disableUser(t.database, admin, self, 'oops'))).message).toMatch(
			/your own/
		);
		expect(
			(
				await refusal(
					updateUserAccess(
						t.database,
						admin,
						self,
						{ fullName: 'Root Admin', email: null, canSign: false, grants: [{ role: 'manager' }] },
						'demote myself'
					)
				)
			).message
		).toMatch(/your own administrator role/);
		// The system (or a second administrator) cannot take away the last one either.
		const system: Actor = { userId: null, label: 'system' };
		expect((await refusal(disableUser(t.database, system, self, 'cleanup'))).message).toMatch(
			/last active administrator/
		);
		expect(await auditCount(t)).toBe(before);

		// With a second active administrator, the first can be disabled by the second.
		const { userId: second, code } = await createUserWithCode(t.database, admin, {
			username: unique('admin'),
			fullName: 'Second Admin',
			grants: [{ role: 'administrator' }]
		});
		await redeemPasswordCode(t.database, code, PASSWORD, { ip: null, throttlePerIp: 100 });
		const secondActor: Actor = { userId: second, label: 'second' };
		await disableUser(t.database, secondActor, self, 'handover');
		// Now `second` is the last one: removing its role is refused even for the system.
		expect(
			(
				await refusal(
					updateUserAccess(
						t.database,
						system,
						second,
						{
							fullName: 'Second Admin',
							email: null,
							canSign: false,
							grants: [{ role: 'operator' }]
						},
						'cleanup'
					)
				)
			).message
		).toMatch(/last active administrator/);
		await enableUser(t.database, secondActor, self, 'back from holiday');
	});
});

describe.each(BACKENDS)('first administrator bootstrap on %s', (backend) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('creates admin without a password and a code, then reissues only while unused', async () => {
		const first = await bootstrapAdministrator(t.database);
		expect(first).not.toBeNull();
		expect(first?.path).toBe(`/password/set?code=${first?.code}`);
		const users = await listUsers(t.database);
		expect(users).toHaveLength(1);
		expect(users[0]).toMatchObject({
			username: 'admin',
			fullName: 'Administrator',
			awaitingPassword: true,
			grants: [{ role: 'administrator', siteId: null, lineId: null }]
		});
		// A restart before the password is set: a fresh code, the old one retired.
		const second = await bootstrapAdministrator(t.database);
		expect(second?.userId).toBe(first?.userId);
		expect(await findPasswordCode(t.database, first?.code ?? '')).toBeNull();
		const done = await redeemPasswordCode(t.database, second?.code ?? '', PASSWORD, {
			ip: null,
			throttlePerIp: 10
		});
		expect(done.ok).toBe(true);
		expect(await bootstrapAdministrator(t.database)).toBeNull();
		expect(await listUsers(t.database)).toHaveLength(1);
	});
});
