import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { appendAudit } from '$lib/server/audit/append';
import { chainHash } from '$lib/server/audit/chain';
import {
	CSV_COLUMNS,
	csvRow,
	recordAuditTrail,
	searchAudit,
	streamAudit
} from '$lib/server/audit/query';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';

describe.each(BACKENDS)('searching the audit trail on %s', (backend) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
		for (let i = 1; i <= 25; i++) {
			await t.database.transaction((tx) =>
				appendAudit(tx, {
					actor: { userId: null, label: i % 2 === 0 ? 'qe' : 'admin' },
					action: i % 5 === 0 ? 'sign' : 'update',
					entityType: i <= 10 ? 'user' : 'control-limit-version',
					entityId: String(i % 3),
					oldValues: { n: i - 1 },
					newValues: { n: i, note: 'a, "quoted"\nvalue' },
					reason: i === 7 ? 'Typo in the 50% limit_note' : null
				})
			);
		}
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('pages newest first with a keyset cursor, covering every event once', async () => {
		const seen: number[] = [];
		let before: number | undefined;
		for (;;) {
			const page = await searchAudit(t.database, { before }, 10);
			seen.push(...page.events.map((e) => e.id));
			if (page.nextBefore === null) break;
			before = page.nextBefore;
		}
		expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
	});

	it('filters by user, record, action and reason text (with % and _ taken literally)', async () => {
		const qe = await searchAudit(t.database, { user: 'qe' });
		expect(qe.events.every((e) => e.actor === 'qe')).toBe(true);
		expect(qe.events).toHaveLength(12);
		const record = await searchAudit(t.database, { entityType: 'user', entityId: '1' });
		expect(record.events.map((e) => e.id)).toEqual([10, 7, 4, 1]);
		const signs = await searchAudit(t.database, { action: 'sign' });
		expect(signs.events.map((e) => e.id)).toEqual([25, 20, 15, 10, 5]);
		expect((await searchAudit(t.database, { text: '50%' })).events.map((e) => e.id)).toEqual([7]);
		expect((await searchAudit(t.database, { text: '5_%' })).events).toEqual([]);
	});

	it('filters by a time range on the database clock', async () => {
		const all = (await searchAudit(t.database, {})).events;
		const fifth = all.find((e) => e.id === 5)!;
		const tenth = all.find((e) => e.id === 10)!;
		const range = await searchAudit(t.database, { from: fifth.at, to: tenth.at });
		expect(range.events.map((e) => e.id)).toEqual([9, 8, 7, 6, 5]);
	});

	it('gives a record its own trail, oldest first', async () => {
		const trail = await recordAuditTrail(t.database, 'control-limit-version', '2');
		expect(trail.map((e) => e.id)).toEqual([11, 14, 17, 20, 23]);
	});

	it('exports CSV rows an auditor can re-hash', async () => {
		let csv = stringify([[...CSV_COLUMNS]]);
		for await (const batch of streamAudit(t.database, {}, 7)) csv += stringify(batch.map(csvRow));
		const rows = parse(csv, { columns: true }) as Record<string, string>[];
		expect(rows).toHaveLength(25);
		for (const r of rows) {
			const hash = chainHash({
				id: Number(r.id),
				at: r.at_utc,
				actorUserId: r.actor_user_id === '' ? null : Number(r.actor_user_id),
				actorLabel: r.actor,
				action: r.action,
				entityType: r.entity_type,
				entityId: r.entity_id,
				oldValues: r.old_values === '' ? null : JSON.parse(r.old_values),
				newValues: r.new_values === '' ? null : JSON.parse(r.new_values),
				reason: r.reason === '' ? null : r.reason,
				prevHash: r.prev_hash
			});
			expect(hash).toBe(r.hash);
		}
	});
});
