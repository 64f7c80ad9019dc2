/**
 * Wall-screen devices: an administrator registers a screen and gets a short pairing code; the
 * TV enters it at /pair and receives a long-lived, revocable, read-only token (a cookie) scoped
 * to the lines the device may show. Device tokens are not user sessions: no idle or absolute
 * timeout applies, only revocation.
 */
import { and, asc, desc, eq, gt, inArray, isNull, lt, or } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/append';
import type { Database } from '../db';
import { device, deviceLine, line } from '../db/schema';
import { authEvents } from './events';
import type { Principal } from './policy';
import { generateCode, generateToken, hashCode, normaliseCode, sha256Hex } from './tokens';
import { recordFailedAttempt, throttled } from './users';

export type DevicePrincipal = Extract<Principal, { kind: 'device' }>;

/** The device holding `token`, or null when unknown or revoked. */
export async function validateDeviceToken(
	database: Database,
	token: string
): Promise<DevicePrincipal | null> {
	if (!/^[a-z2-7]{32}$/.test(token)) return null;
	const [row] = await database.db
		.select({ id: device.id, name: device.name })
		.from(device)
		.where(and(eq(device.tokenSha256, sha256Hex(token)), isNull(device.revokedAt)));
	if (!row) return null;
	const lines = await database.db
		.select({ lineId: deviceLine.lineId })
		.from(deviceLine)
		.where(eq(deviceLine.deviceId, row.id));
	return { kind: 'device', deviceId: row.id, name: row.name, lineIds: lines.map((l) => l.lineId) };
}

/** A pairing code works this long after it is shown to the administrator. */
export const PAIRING_CODE_TTL_MS = 15 * 60_000;
/** last_seen_at is written at most this often per device (not on every request). */
export const TOUCH_INTERVAL_MS = 60_000;

export type DeviceStatus = 'pending' | 'paired' | 'revoked';

export interface DeviceListItem {
	id: number;
	name: string;
	status: DeviceStatus;
	lines: { id: number; code: string; name: string }[];
	/** Pending devices: when the current pairing code stops working. */
	pairingExpiresAt: Date | null;
	pairedAt: Date | null;
	revokedAt: Date | null;
	lastSeenAt: Date | null;
	createdAt: Date;
}

export function deviceStatus(d: { revokedAt: Date | null; pairedAt: Date | null }): DeviceStatus {
	if (d.revokedAt) return 'revoked';
	if (d.pairedAt) return 'paired';
	return 'pending';
}

export class DeviceInputError extends Error {
	constructor(
		readonly field: string,
		message: string
	) {
		super(message);
		this.name = 'DeviceInputError';
	}
}

/** Every device ever registered (revoked ones stay listed), newest first. */
export async function listDevices(database: Database): Promise<DeviceListItem[]> {
	const devices = await database.db.select().from(device).orderBy(desc(device.id));
	const lines = await database.db
		.select({ deviceId: deviceLine.deviceId, id: line.id, code: line.code, name: line.name })
		.from(deviceLine)
		.innerJoin(line, eq(line.id, deviceLine.lineId))
		.orderBy(asc(line.id));
	return devices.map((d) => ({
		id: d.id,
		name: d.name,
		status: deviceStatus(d),
		lines: lines
			.filter((l) => l.deviceId === d.id)
			.map((l) => ({ id: l.id, code: l.code, name: l.name })),
		pairingExpiresAt: d.pairingExpiresAt,
		pairedAt: d.pairedAt,
		revokedAt: d.revokedAt,
		lastSeenAt: d.lastSeenAt,
		createdAt: d.createdAt
	}));
}

export interface PairingCode {
	deviceId: number;
	/** Shown once to the administrator; only its SHA-256 is stored. */
	code: string;
	expiresAt: Date;
}

/** Register a screen for `lineIds` and hand out its pairing code. */
export async function registerDevice(
	database: Database,
	actor: Actor,
	input: { name: string; lineIds: number[] },
	now: Date = new Date()
): Promise<PairingCode> {
	const name = input.name.trim();
	if (name.length === 0 || name.length > 80) {
		throw new DeviceInputError('name', 'Name the screen (1-80 characters), e.g. "Line 1 hall".');
	}
	const lineIds = [...new Set(input.lineIds)];
	if (lineIds.length === 0) throw new DeviceInputError('lines', 'Choose at least one line.');
	return database.transaction(async (tx) => {
		const known = await tx.db
			.select({ id: line.id, code: line.code })
			.from(line)
			.where(inArray(line.id, lineIds))
			.orderBy(asc(line.id));
		if (known.length !== lineIds.length) {
			throw new DeviceInputError('lines', 'One of the chosen lines does not exist.');
		}
		const code = generateCode();
		const expiresAt = new Date(now.getTime() + PAIRING_CODE_TTL_MS);
		const [row] = await tx.db
			.insert(device)
			.values({
				name,
				pairingCodeSha256: hashCode(code),
				pairingExpiresAt: expiresAt,
				createdAt: now,
				createdBy: actor.userId
			})
			.returning({ id: device.id });
		await tx.db.insert(deviceLine).values(known.map((l) => ({ deviceId: row.id, lineId: l.id })));
		await appendAudit(tx, {
			actor,
			action: 'create',
			entityType: 'device',
			entityId: row.id,
			newValues: {
				name,
				lines: known.map((l) => l.code),
				status: 'pending',
				pairingExpiresAt: expiresAt
			}
		});
		return { deviceId: row.id, code, expiresAt };
	});
}

/** A fresh pairing code for a screen not yet paired (the first one expired or was lost). */
export async function reissuePairingCode(
	database: Database,
	actor: Actor,
	deviceId: number,
	now: Date = new Date()
): Promise<PairingCode> {
	return database.transaction(async (tx) => {
		const [row] = await tx.db.select().from(device).where(eq(device.id, deviceId)).for('update');
		if (!row) throw new DeviceInputError('device', 'No such screen.');
		if (deviceStatus(row) !== 'pending') {
			throw new DeviceInputError(
				'device',
				'Only a screen waiting to be paired gets a new code; register a new screen instead.'
			);
		}
		const code = generateCode();
		const expiresAt = new Date(now.getTime() + PAIRING_CODE_TTL_MS);
		await tx.db
			.update(device)
			.set({ pairingCodeSha256: hashCode(code), pairingExpiresAt: expiresAt })
			.where(eq(device.id, deviceId));
		await appendAudit(tx, {
			actor,
			action: 'update',
			entityType: 'device',
			entityId: deviceId,
			oldValues: { pairingExpiresAt: row.pairingExpiresAt },
			newValues: { pairingCodeIssued: true, pairingExpiresAt: expiresAt }
		});
		return { deviceId, code, expiresAt };
	});
}

/** Revoke a screen: its token stops working and its sockets are disconnected. */
export async function revokeDevice(
	database: Database,
	actor: Actor,
	deviceId: number,
	reason: string,
	now: Date = new Date()
): Promise<void> {
	const why = reason.trim();
	if (why.length < 3) {
		throw new DeviceInputError('reason', 'Give a reason (it goes into the audit trail).');
	}
	await database.transaction(async (tx) => {
		const [row] = await tx.db.select().from(device).where(eq(device.id, deviceId)).for('update');
		if (!row) throw new DeviceInputError('device', 'No such screen.');
		if (row.revokedAt) throw new DeviceInputError('device', 'This screen is already revoked.');
		await tx.db
			.update(device)
			// A pending code dies with the device.
			.set({ revokedAt: now, pairingCodeSha256: null, pairingExpiresAt: null })
			.where(eq(device.id, deviceId));
		await appendAudit(tx, {
			actor,
			action: 'revoke',
			entityType: 'device',
			entityId: deviceId,
			oldValues: { status: deviceStatus(row), revokedAt: null },
			newValues: { status: 'revoked', revokedAt: now },
			reason: why
		});
	});
	// After the commit: the hub drops the device's sockets.
	authEvents.emit({ kind: 'device-revoked', deviceId });
}

export type PairResult =
	| {
			ok: true;
			deviceId: number;
			name: string;
			/** The device token for the cookie; only its SHA-256 is stored. */
			token: string;
			lines: { id: number; code: string; name: string }[];
	  }
	| { ok: false; reason: 'invalid' | 'throttled' };

/**
 * Pair the screen whose code was typed on it: a long-lived token replaces the code (which
 * therefore works once). Wrong or expired codes answer `invalid` and count against the address.
 */
export async function pairDevice(
	database: Database,
	typed: string,
	meta: { ip: string | null; throttlePerIp: number; now?: Date }
): Promise<PairResult> {
	const now = meta.now ?? new Date();
	if (await throttled(database, meta.ip, meta.throttlePerIp, 'bad-pairing-code', now)) {
		return { ok: false, reason: 'throttled' };
	}
	const token = generateToken();
	const paired =
		normaliseCode(typed).length === 0
			? null
			: await database.transaction(async (tx) => {
					const [row] = await tx.db
						.update(device)
						.set({
							tokenSha256: sha256Hex(token),
							pairedAt: now,
							lastSeenAt: now,
							pairingCodeSha256: null,
							pairingExpiresAt: null
						})
						.where(
							and(
								eq(device.pairingCodeSha256, hashCode(typed)),
								gt(device.pairingExpiresAt, now),
								isNull(device.pairedAt),
								isNull(device.revokedAt)
							)
						)
						.returning({ id: device.id, name: device.name });
					if (!row) return null;
					await appendAudit(tx, {
						actor: { userId: null, label: `device:${row.id}` },
						action: 'pair',
						entityType: 'device',
						entityId: row.id,
						oldValues: { status: 'pending', pairedAt: null },
						newValues: { status: 'paired', pairedAt: now, ip: meta.ip }
					});
					return row;
				});
	if (!paired) {
		await recordFailedAttempt(database, 'bad-pairing-code', meta.ip, now);
		return { ok: false, reason: 'invalid' };
	}
	const lines = await database.db
		.select({ id: line.id, code: line.code, name: line.name })
		.from(deviceLine)
		.innerJoin(line, eq(line.id, deviceLine.lineId))
		.where(eq(deviceLine.deviceId, paired.id))
		.orderBy(asc(line.id));
	return { ok: true, deviceId: paired.id, name: paired.name, token, lines };
}

/**
 * Note that a device was seen. Writes at most once per TOUCH_INTERVAL_MS per device (the
 * condition lives in the UPDATE, so several hub nodes agree); returns whether it wrote.
 * Called by hooks.server.ts for each request carrying a valid device cookie.
 */
export async function touchDevice(
	database: Database,
	deviceId: number,
	now: Date = new Date()
): Promise<boolean> {
	const written = await database.db
		.update(device)
		.set({ lastSeenAt: now })
		.where(
			and(
				eq(device.id, deviceId),
				or(
					isNull(device.lastSeenAt),
					lt(device.lastSeenAt, new Date(now.getTime() - TOUCH_INTERVAL_MS))
				)
			)
		)
		.returning({ id: device.id });
	return written.length > 0;
}
