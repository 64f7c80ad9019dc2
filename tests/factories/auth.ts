/**
 * Principals for integration tests and benchmarks, created through the same services the app
 * uses (users and their grants audited, tokens stored only as hashes).
 */
import { eq } from 'drizzle-orm';
import type { Role } from '$lib/auth/roles';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import {
	createSession,
	DEFAULT_SESSION_SETTINGS,
	type SessionSettings
} from '$lib/server/auth/sessions';
import { generateToken, sha256Hex } from '$lib/server/auth/tokens';
import { createUser } from '$lib/server/auth/users';
import type { Database } from '$lib/server/db';
import { device, deviceLine } from '$lib/server/db/schema';

let counter = 0;

export interface TestUser {
	userId: number;
	token: string;
	sessionId: string;
	/** `Cookie` header value for HTTP requests and socket handshakes. */
	cookie: string;
}

/** A user with `role` (on every site, or on one line) and an open session. */
export async function userWithSession(
	database: Database,
	role: Role,
	options: { lineId?: number; sessions?: SessionSettings; canSign?: boolean } = {}
): Promise<TestUser> {
	const username = `t-${role}-${++counter}-${Math.random().toString(36).slice(2, 7)}`;
	const userId = await database.transaction((tx) =>
		createUser(tx, SYSTEM_ACTOR, {
			username,
			fullName: `Test ${role}`,
			canSign: options.canSign ?? false,
			grants: [{ role, lineId: options.lineId ?? null }]
		})
	);
	const { token, session } = await createSession(
		database,
		userId,
		options.sessions ?? DEFAULT_SESSION_SETTINGS
	);
	return { userId, token, sessionId: session.id, cookie: `tw_session=${token}` };
}

export interface TestDevice {
	deviceId: number;
	token: string;
	cookie: string;
}

/** A paired wall screen allowed to show `lineIds`. */
export async function pairedDevice(database: Database, lineIds: number[]): Promise<TestDevice> {
	const token = generateToken();
	const [row] = await database.db
		.insert(device)
		.values({
			name: `Test screen ${++counter}`,
			tokenSha256: sha256Hex(token),
			pairedAt: new Date()
		})
		.returning({ id: device.id });
	if (lineIds.length > 0) {
		await database.db
			.insert(deviceLine)
			.values(lineIds.map((lineId) => ({ deviceId: row.id, lineId })));
	}
	return { deviceId: row.id, token, cookie: `tw_device=${token}` };
}

/** A device for every line of the plant: the default viewer of hub tests and benchmarks. */
export async function plantWideDevice(database: Database): Promise<TestDevice> {
	const lines = await database.query<{ id: number }>('SELECT id FROM line ORDER BY id');
	return pairedDevice(
		database,
		lines.map((l) => l.id)
	);
}

/** Marks a device revoked directly (tests of the service itself live in auth-devices.test.ts). */
export async function revokeDeviceRow(database: Database, deviceId: number): Promise<void> {
	await database.db.update(device).set({ revokedAt: new Date() }).where(eq(device.id, deviceId));
}
