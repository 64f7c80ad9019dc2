/**
 * The second guard of the audit trail: privileges. Production runs the app as a role that does
 * not own audit_event (docs/security.md); such a role cannot UPDATE, DELETE or TRUNCATE it even
 * before the triggers are reached. PostgreSQL only: PGlite is single-user and has no roles to
 * separate (its guard is the trigger, tested in audit-append.test.ts).
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, SYSTEM_ACTOR } from '$lib/server/audit/append';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../factories/db';

describe('the application role on PostgreSQL', () => {
	const role = `tw_app_${randomBytes(4).toString('hex')}`;
	let t: TestDatabase;
	let app: postgres.Sql;
	beforeAll(async () => {
		t = await openTestDatabase('postgres');
		await t.database.transaction((tx) =>
			appendAudit(tx, { actor: SYSTEM_ACTOR, action: 'create', entityType: 'thing', entityId: 1 })
		);
		const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
		await admin.unsafe(`CREATE ROLE ${role} LOGIN`);
		await admin.end();
		// What the app needs on the trail: read and append, nothing else.
		await t.database.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
		await t.database.query(`GRANT SELECT, INSERT ON audit_event TO ${role}`);
		const url = new URL(t.url!);
		url.username = role;
		app = postgres(url.toString(), { max: 1, onnotice: () => undefined });
	});
	afterAll(async () => {
		await app?.end();
		await t?.dispose();
		const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
		await admin.unsafe(`DROP ROLE IF EXISTS ${role}`);
		await admin.end();
	});

	it('can read the trail', async () => {
		const rows = await app.unsafe('SELECT count(*)::int AS n FROM audit_event');
		expect(rows[0].n).toBe(1);
	});

	it.each([
		['UPDATE', `UPDATE audit_event SET reason = 'x'`],
		['DELETE', 'DELETE FROM audit_event'],
		['TRUNCATE', 'TRUNCATE audit_event']
	])('is refused %s by privileges, before any trigger', async (_op, statement) => {
		await expect(app.unsafe(statement)).rejects.toThrow(/permission denied/);
	});
});
