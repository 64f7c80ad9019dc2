import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, SYSTEM_ACTOR } from '$lib/server/audit/append';
import { chainHash, GENESIS_HASH } from '$lib/server/audit/chain';
import { AT_TEXT_SQL } from '$lib/server/audit/chain';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';

interface Row {
	id: number;
	at: string;
	actor_user_id: number | null;
	actor_label: string;
	action: string;
	entity_type: string;
	entity_id: string;
	old_values: unknown;
	new_values: unknown;
	reason: string | null;
	prev_hash: string;
	hash: string;
}

/** Drizzle wraps driver errors ("Failed query: …"); the database's own message is the cause. */
async function refusal(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		const cause = (error as { cause?: { message?: string } }).cause;
		return cause?.message ?? (error as Error).message;
	}
	throw new Error('the statement was not refused');
}

async function rows(t: TestDatabase): Promise<Row[]> {
	return t.database.query<Row>(
		`SELECT id::float8 AS id, ${AT_TEXT_SQL('at')} AS at, actor_user_id, actor_label, action,
			entity_type, entity_id, old_values, new_values, reason, prev_hash, hash
		 FROM audit_event ORDER BY id`
	);
}

describe.each(BACKENDS)('the audit trail on %s', (backend) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('chains events in order, each hashing its content and its predecessor', async () => {
		await t.database.transaction(async (tx) => {
			await appendAudit(tx, {
				actor: SYSTEM_ACTOR,
				action: 'create',
				entityType: 'user',
				entityId: 7,
				newValues: { b: 2, a: { z: 1, y: [1, 'x'] }, when: new Date(0) }
			});
			await appendAudit(tx, {
				actor: { userId: null, label: 'worker:sim-1' },
				action: 'update',
				entityType: 'user',
				entityId: '7',
				oldValues: { b: 2 },
				newValues: { b: 3 },
				reason: 'typo'
			});
		});
		const events = await rows(t);
		expect(events.map((e) => e.id)).toEqual([1, 2]);
		expect(events[0].prev_hash).toBe(GENESIS_HASH);
		expect(events[1].prev_hash).toBe(events[0].hash);
		expect(events[0].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
		for (const e of events) {
			expect(
				chainHash({
					id: e.id,
					at: e.at,
					actorUserId: e.actor_user_id,
					actorLabel: e.actor_label,
					action: e.action,
					entityType: e.entity_type,
					entityId: e.entity_id,
					oldValues: e.old_values,
					newValues: e.new_values,
					reason: e.reason,
					prevHash: e.prev_hash
				})
			).toBe(e.hash);
		}
	});

	it('rolls back with the transaction that failed', async () => {
		const before = (await rows(t)).length;
		await expect(
			t.database.transaction(async (tx) => {
				await appendAudit(tx, {
					actor: SYSTEM_ACTOR,
					action: 'create',
					entityType: 'user',
					entityId: 8
				});
				throw new Error('the change itself failed');
			})
		).rejects.toThrow('the change itself failed');
		expect((await rows(t)).length).toBe(before);
	});

	it.each([
		['UPDATE', "UPDATE audit_event SET reason = 'edited' WHERE id = 1"],
		['DELETE', 'DELETE FROM audit_event WHERE id = 1'],
		['TRUNCATE', 'TRUNCATE audit_event']
	])('refuses %s, even to the table owner', async (_op, statement) => {
		expect(await refusal(t.database.query(statement))).toMatch(/append-only/);
		expect((await rows(t)).length).toBeGreaterThanOrEqual(2);
	});

	it('refuses to change or remove a signature', async () => {
		await t.database.query(
			`INSERT INTO app_user (username, full_name) VALUES ('signer', 'Sig Ner')`
		);
		await t.database.query(
			`INSERT INTO signature (record_type, record_id, record_version, content_sha256,
				signer_user_id, signer_full_name, signer_username, meaning, signed_at, session_id)
			 SELECT 'limits', '1', 1, repeat('a', 64), id, full_name, username, 'approved', now(), 's'
			 FROM app_user WHERE username = 'signer'`
		);
		expect(await refusal(t.database.query(`UPDATE signature SET meaning = 'rejected'`))).toMatch(
			/append-only/
		);
		expect(await refusal(t.database.query('DELETE FROM signature'))).toMatch(/append-only/);
	});
});
