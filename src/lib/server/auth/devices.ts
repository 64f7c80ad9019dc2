/**
 * Wall-screen devices: an administrator registers a screen and gets a short pairing code; the
 * TV enters it at /pair and receives a long-lived, revocable, read-only token (a cookie) scoped
 * to the lines the device may show. Device tokens are not user sessions: no idle or absolute
 * timeout applies, only revocation.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../db';
import { device, deviceLine } from '../db/schema';
import type { Principal } from './policy';
import { sha256Hex } from './tokens';

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
