import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '$lib/server/audit/append';
import {
	DeviceInputError,
	listDevices,
	pairDevice,
	registerDevice,
	reissuePairingCode,
	revokeDevice,
	touchDevice,
	validateDeviceToken
} from '$lib/server/auth/devices';
import { authEvents, type AuthEvent } from '$lib/server/auth/events';
import { can } from '$lib/server/auth/policy';
import { createUser } from '$lib/server/auth/users';
import { seedDemoPlant } from '$lib/server/plant/service';
import { BACKENDS, openTestDatabase, smallPlant, type TestDatabase } from '../factories/db';

interface AuditRow {
	actor_label: string;
	action: string;
	entity_type: string;
	entity_id: string;
	old_values: Record<string, unknown> | null;
	new_values: Record<string, unknown> | null;
	reason: string | null;
}

async function deviceAudit(t: TestDatabase, deviceId: number): Promise<AuditRow[]> {
	return t.database.query<AuditRow>(
		`SELECT actor_label, action, entity_type, entity_id, old_values, new_values, reason
		 FROM audit_event WHERE entity_type = 'device' AND entity_id = $1 ORDER BY id`,
		[String(deviceId)]
	);
}

async function refusal(promise: Promise<unknown>): Promise<DeviceInputError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof DeviceInputError) return error;
		throw error;
	}
	throw new Error('the change was not refused');
}

const META = { ip: '10.1.1.1', throttlePerIp: 100 };

describe.each(BACKENDS)('wall-screen devices on %s', (backend) => {
	let t: TestDatabase;
	let admin: Actor;
	let l1: number;
	let l2: number;

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		const lines = await t.database.query<{ id: number; code: string }>(
			'SELECT id, code FROM line ORDER BY id'
		);
		l1 = lines.find((l) => l.code === 'L1')?.id ?? -1;
		l2 = lines.find((l) => l.code === 'L2')?.id ?? -1;
		const id = await t.database.transaction((tx) =>
			createUser(
				tx,
				{ userId: null, label: 'system' },
				{ username: 'root-admin', fullName: 'Root Admin', grants: [{ role: 'administrator' }] }
			)
		);
		admin = { userId: id, label: 'root-admin' };
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('registers a pending screen with a 15-minute code, stored only as a hash', async () => {
		const { deviceId, code, expiresAt } = await registerDevice(t.database, admin, {
			name: 'Hall A',
			lineIds: [l2, l1]
		});
		expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
		expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
		expect(expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000);
		const listed = (await listDevices(t.database)).find((d) => d.id === deviceId);
		expect(listed).toMatchObject({
			name: 'Hall A',
			status: 'pending',
			pairedAt: null,
			lines: [
				{ id: l1, code: 'L1' },
				{ id: l2, code: 'L2' }
			]
		});
		const raw = JSON.stringify(await t.database.query('SELECT * FROM device'));
		expect(raw).not.toContain(code);
		const audit = await deviceAudit(t, deviceId);
		expect(audit).toHaveLength(1);
		expect(audit[0]).toMatchObject({
			action: 'create',
			actor_label: 'root-admin',
			new_values: { name: 'Hall A', lines: ['L1', 'L2'], status: 'pending' }
		});
		expect(JSON.stringify(audit)).not.toContain(code);
	});

	it('refuses a nameless screen, no lines and unknown lines', async () => {
		expect(
			(await refusal(registerDevice(t.database, admin, { name: ' ', lineIds: [l1] }))).field
		).toBe('name');
		expect(
			(await refusal(registerDevice(t.database, admin, { name: 'X', lineIds: [] }))).field
		).toBe('lines');
		expect(
			(await refusal(registerDevice(t.database, admin, { name: 'X', lineIds: [999_999] }))).field
		).toBe('lines');
	});

	it('pairs once with the typed code: a token for its lines only, audited as pair', async () => {
		const { deviceId, code } = await registerDevice(t.database, admin, {
			name: 'Line 1 TV',
			lineIds: [l1]
		});
		const paired = await pairDevice(t.database, ` ${code.toLowerCase()} `, META);
		if (!paired.ok) throw new Error(`pairing failed: ${paired.reason}`);
		expect(paired).toMatchObject({ deviceId, name: 'Line 1 TV', lines: [{ code: 'L1' }] });
		expect(paired.token).toMatch(/^[a-z2-7]{32}$/);

		const principal = await validateDeviceToken(t.database, paired.token);
		expect(principal).toEqual({ kind: 'device', deviceId, name: 'Line 1 TV', lineIds: [l1] });
		if (!principal) throw new Error('unreachable');
		expect(can(principal, 'live:view', { lineId: l1, siteId: 1 })).toBe(true);
		expect(can(principal, 'live:view', { lineId: l2, siteId: 1 })).toBe(false);
		expect(can(principal, 'users:manage')).toBe(false);

		const [row] = await t.database.query<{
			pairing_code_sha256: string | null;
			token_sha256: string | null;
		}>('SELECT pairing_code_sha256, token_sha256 FROM device WHERE id = $1', [deviceId]);
		expect(row.pairing_code_sha256).toBeNull();
		expect(row.token_sha256).toMatch(/^[0-9a-f]{64}$/);
		expect(row.token_sha256).not.toBe(paired.token);
		expect((await listDevices(t.database)).find((d) => d.id === deviceId)?.status).toBe('paired');
		const audit = await deviceAudit(t, deviceId);
		expect(audit.at(-1)).toMatchObject({
			action: 'pair',
			actor_label: `device:${deviceId}`,
			new_values: { status: 'paired', ip: '10.1.1.1' }
		});

		// The same code again: refused and counted.
		expect(await pairDevice(t.database, code, { ...META, ip: '10.1.1.2' })).toEqual({
			ok: false,
			reason: 'invalid'
		});
		const attempts = await t.database.query<{ outcome: string; ok: boolean }>(
			"SELECT outcome, ok FROM login_attempt WHERE ip = '10.1.1.2'"
		);
		expect(attempts).toEqual([{ outcome: 'bad-pairing-code', ok: false }]);
		// A paired screen gets no new code.
		expect((await refusal(reissuePairingCode(t.database, admin, deviceId))).message).toMatch(
			/waiting to be paired/
		);
	});

	it('refuses an expired code, and a reissued code replaces the old one', async () => {
		const { deviceId, code } = await registerDevice(t.database, admin, {
			name: 'Late TV',
			lineIds: [l1]
		});
		const later = new Date(Date.now() + 16 * 60_000);
		expect(await pairDevice(t.database, code, { ...META, now: later })).toMatchObject({
			ok: false,
			reason: 'invalid'
		});
		const fresh = await reissuePairingCode(t.database, admin, deviceId);
		expect(fresh.code).not.toBe(code);
		expect((await pairDevice(t.database, code, META)).ok).toBe(false);
		expect((await pairDevice(t.database, fresh.code, META)).ok).toBe(true);
		const actions = (await deviceAudit(t, deviceId)).map((a) => a.action);
		expect(actions).toEqual(['create', 'update', 'pair']);
	});

	it('throttles pairing attempts per address', async () => {
		const meta = { ip: '10.7.7.7', throttlePerIp: 2 };
		const { code } = await registerDevice(t.database, admin, { name: 'Throttled', lineIds: [l1] });
		expect((await pairDevice(t.database, 'ZZZZ-ZZZZ', meta)).ok).toBe(false);
		expect((await pairDevice(t.database, 'ZZZZ-ZZZY', meta)).ok).toBe(false);
		expect(await pairDevice(t.database, code, meta)).toEqual({ ok: false, reason: 'throttled' });
		expect((await pairDevice(t.database, code, { ...meta, ip: '10.7.7.8' })).ok).toBe(true);
	});

	it('revokes with a reason: the token stops working and the hub is told', async () => {
		const { deviceId, code } = await registerDevice(t.database, admin, {
			name: 'Old TV',
			lineIds: [l2]
		});
		const paired = await pairDevice(t.database, code, META);
		if (!paired.ok) throw new Error('pairing failed');
		expect((await refusal(revokeDevice(t.database, admin, deviceId, ''))).field).toBe('reason');

		const events: AuthEvent[] = [];
		const off = authEvents.on((e) => events.push(e));
		try {
			await revokeDevice(t.database, admin, deviceId, 'screen replaced');
		} finally {
			off();
		}
		expect(events).toEqual([{ kind: 'device-revoked', deviceId }]);
		expect(await validateDeviceToken(t.database, paired.token)).toBeNull();
		expect((await listDevices(t.database)).find((d) => d.id === deviceId)?.status).toBe('revoked');
		expect((await deviceAudit(t, deviceId)).at(-1)).toMatchObject({
			action: 'revoke',
			old_values: { status: 'paired', revokedAt: null },
			new_values: { status: 'revoked' },
			reason: 'screen replaced'
		});
		expect((await refusal(revokeDevice(t.database, admin, deviceId, 'again'))).message).toMatch(
			/already revoked/
		);
	});

	it('a pending screen revoked before pairing can no longer pair', async () => {
		const { deviceId, code } = await registerDevice(t.database, admin, {
			name: 'Never paired',
			lineIds: [l1]
		});
		await revokeDevice(t.database, admin, deviceId, 'registered by mistake');
		expect(await pairDevice(t.database, code, META)).toMatchObject({
			ok: false,
			reason: 'invalid'
		});
	});

	it('records last-seen at most once a minute', async () => {
		const { deviceId, code } = await registerDevice(t.database, admin, {
			name: 'Seen TV',
			lineIds: [l1]
		});
		const t0 = new Date(Date.now() + 3600_000);
		expect((await pairDevice(t.database, code, META)).ok).toBe(true);
		expect(await touchDevice(t.database, deviceId, t0)).toBe(true);
		expect(await touchDevice(t.database, deviceId, new Date(t0.getTime() + 30_000))).toBe(false);
		expect(await touchDevice(t.database, deviceId, new Date(t0.getTime() + 61_000))).toBe(true);
		const seen = (await listDevices(t.database)).find((d) => d.id === deviceId)?.lastSeenAt;
		expect(seen?.getTime()).toBe(t0.getTime() + 61_000);
	});
});
