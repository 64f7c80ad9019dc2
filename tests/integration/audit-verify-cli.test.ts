/**
 * `npm run audit:verify` as an operator runs it: a child process against a real PostgreSQL
 * database, reading DATABASE_URL, exit code and one line of output.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, SYSTEM_ACTOR } from '$lib/server/audit/append';
import { openTestDatabase, type TestDatabase } from '../factories/db';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function verify(env: Record<string, string>) {
	const r = spawnSync(TSX, [join(ROOT, 'scripts', 'audit-verify.ts')], {
		env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
		encoding: 'utf8',
		timeout: 60_000
	});
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run audit:verify', { timeout: 60_000 }, () => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase('postgres');
		for (let i = 1; i <= 5; i++) {
			await t.database.transaction((tx) =>
				appendAudit(tx, {
					actor: SYSTEM_ACTOR,
					action: 'create',
					entityType: 'thing',
					entityId: i,
					newValues: { n: i }
				})
			);
		}
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('reports a sound chain with its head and exits 0', () => {
		const r = verify({ DATABASE_URL: t.url! });
		expect(r.stdout).toMatch(/^audit chain OK: 5 events head #5 [0-9a-f]{64}\n$/);
		expect(r.code).toBe(0);
	});

	it('names the first broken link and exits 1', async () => {
		await t.database.transaction(async (tx) => {
			await tx.query(`SET LOCAL session_replication_role = replica`);
			await tx.query(`UPDATE audit_event SET new_values = '{"n": 42}' WHERE id = 3`);
		});
		const r = verify({ DATABASE_URL: t.url! });
		expect(r.stdout).toMatch(/^audit chain BROKEN at event #3: hash-mismatch/);
		expect(r.code).toBe(1);
	});

	it('exits 2 with a clear message when the database cannot be opened', () => {
		const r = verify({ DATABASE_URL: 'not a url' });
		expect(r.stderr).toMatch(/cannot open the database: .*DATABASE_URL/s);
		expect(r.code).toBe(2);
	});
});
