/**
 * The verifier against an attacker who has superuser rights: the append-only triggers are
 * switched off (`session_replication_role = replica` skips ordinary triggers, on PostgreSQL and
 * on PGlite alike) and rows are changed or removed directly in SQL. The hash chain must then
 * name exactly the first event that no longer fits.
 *
 * Each case builds its own fresh chain, so one tampering never hides behind another.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit, type Actor } from '$lib/server/audit/append';
import { chainHash } from '$lib/server/audit/chain';
import { CHAIN_COLUMNS_SQL, verifyAuditChain } from '$lib/server/audit/verify';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';

const QE: Actor = { userId: null, label: 'qe' };

/** `n` events about lot 42, one transaction each (as the application writes them). */
async function writeEvents(t: TestDatabase, n: number): Promise<void> {
	for (let i = 1; i <= n; i++) {
		await t.database.transaction((tx) =>
			appendAudit(tx, {
				actor: QE,
				action: i === 1 ? 'create' : 'update',
				entityType: 'lot',
				entityId: 42,
				oldValues: i === 1 ? null : { goodQty: i - 1, note: { text: `v${i - 1}` } },
				newValues: { goodQty: i, note: { text: `v${i}` } },
				reason: i === 1 ? null : `count ${i}`
			})
		);
	}
}

/** Run `statements` as an attacker who bypasses the triggers (superuser, one transaction). */
async function tamper(t: TestDatabase, ...statements: string[]): Promise<void> {
	await t.database.transaction(async (tx) => {
		// LOCAL: the setting ends with the transaction, on the pooled connection it ran on.
		await tx.query('SET LOCAL session_replication_role = replica');
		for (const statement of statements) await tx.query(statement);
	});
}

describe.each(BACKENDS)('verifying the audit chain on %s', (backend) => {
	let t: TestDatabase | undefined;
	afterEach(async () => {
		await t?.dispose();
		t = undefined;
	});

	async function chainOf(n: number): Promise<TestDatabase> {
		t = await openTestDatabase(backend);
		await writeEvents(t, n);
		return t;
	}

	it('accepts an untouched chain, in any batch size, and reports its head', async () => {
		const db = await chainOf(7);
		const [last] = await db.database.query<{ hash: string }>(
			'SELECT hash FROM audit_event WHERE id = 7'
		);
		for (const batchSize of [1, 3, 7, 5000]) {
			expect(await verifyAuditChain(db.database, { batchSize })).toEqual({
				ok: true,
				checked: 7,
				head: { id: 7, hash: last.hash }
			});
		}
	});

	it('accepts an empty trail', async () => {
		t = await openTestDatabase(backend);
		expect(await verifyAuditChain(t.database)).toEqual({ ok: true, checked: 0 });
	});

	it('names the middle event whose new values were changed', async () => {
		const db = await chainOf(7);
		await tamper(db, `UPDATE audit_event SET new_values = '{"goodQty": 999}' WHERE id = 4`);
		const result = await verifyAuditChain(db.database, { batchSize: 2 });
		expect(result.ok).toBe(false);
		expect(result.checked).toBe(3);
		expect(result.firstBroken).toMatchObject({ id: 4, reason: 'hash-mismatch' });
		const [stored] = await db.database.query<{ hash: string }>(
			'SELECT hash FROM audit_event WHERE id = 4'
		);
		expect(result.firstBroken?.actual).toBe(stored.hash);
		expect(result.firstBroken?.expected).not.toBe(stored.hash);
	});

	it('names a reason or a time changed behind its back too', async () => {
		const db = await chainOf(5);
		await tamper(db, `UPDATE audit_event SET reason = 'approved by QA' WHERE id = 2`);
		expect((await verifyAuditChain(db.database)).firstBroken).toMatchObject({
			id: 2,
			reason: 'hash-mismatch'
		});
		await db.dispose();
		const db2 = await chainOf(5);
		await tamper(db2, `UPDATE audit_event SET at = at - interval '1 day' WHERE id = 5`);
		expect((await verifyAuditChain(db2.database)).firstBroken).toMatchObject({
			id: 5,
			reason: 'hash-mismatch'
		});
	});

	it('names the gap a deleted event leaves', async () => {
		const db = await chainOf(7);
		await tamper(db, 'DELETE FROM audit_event WHERE id = 5');
		const result = await verifyAuditChain(db.database, { batchSize: 3 });
		expect(result).toMatchObject({
			ok: false,
			checked: 4,
			firstBroken: { id: 5, reason: 'missing-id', expected: '5', actual: '6' }
		});
	});

	it('names the gap when the very first event is deleted', async () => {
		const db = await chainOf(3);
		await tamper(db, 'DELETE FROM audit_event WHERE id = 1');
		expect((await verifyAuditChain(db.database)).firstBroken).toMatchObject({
			id: 1,
			reason: 'missing-id'
		});
	});

	it('names the next event when a changed event got its own hash recomputed', async () => {
		const db = await chainOf(6);
		// The smarter attacker: edit event 3 and give it a hash that fits its new content.
		const [row] = await db.database.query<{
			id: number;
			at: string;
			actor_user_id: number | null;
			actor_label: string;
			action: string;
			entity_type: string;
			entity_id: string;
			old_values: unknown;
			reason: string | null;
			prev_hash: string;
		}>(`SELECT ${CHAIN_COLUMNS_SQL} FROM audit_event WHERE id = 3`);
		const forged = { goodQty: 3000 };
		const forgedHash = chainHash({
			id: row.id,
			at: row.at,
			actorUserId: row.actor_user_id,
			actorLabel: row.actor_label,
			action: row.action,
			entityType: row.entity_type,
			entityId: row.entity_id,
			oldValues: row.old_values,
			newValues: forged,
			reason: row.reason,
			prevHash: row.prev_hash
		});
		await tamper(
			db,
			`UPDATE audit_event SET new_values = '${JSON.stringify(forged)}', hash = '${forgedHash}'
			 WHERE id = 3`
		);
		const result = await verifyAuditChain(db.database, { batchSize: 4 });
		expect(result).toMatchObject({
			ok: false,
			checked: 3,
			firstBroken: { id: 4, reason: 'prev-hash-mismatch', expected: forgedHash }
		});
	});

	it('refuses a batch size that is not a positive integer', async () => {
		t = await openTestDatabase(backend);
		await expect(verifyAuditChain(t.database, { batchSize: 0 })).rejects.toThrow(/batchSize/);
	});
});
