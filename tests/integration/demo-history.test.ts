/**
 * The demo history seeding on both backends: it writes a year of history once (a second
 * seeding adds nothing), audits itself as one event, and leaves every line of the demo plant
 * with a lot running now — open runs on every machine, started before now by people certified
 * at that moment, consuming material validated before it was consumed — so a live alarm maps
 * to a running lot.
 *
 * The seeding time is logged (the figure quoted in docs/demo-history.md), never asserted:
 * timings on a shared machine are noisy.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '$lib/server/app';
import { createLog } from '$lib/server/log';
import { createMetrics } from '$lib/server/metrics';
import { DEMO_PLANT } from '$lib/demo/plant';
import { seedDemoUsers } from '$lib/server/auth/users';
import { parseEnv } from '$lib/server/env';
import { lotsActiveAt } from '$lib/server/lots/at-time';
import { lotContentHash } from '$lib/server/lots/signing';
import { loadIngestConfig, seedDemoPlant } from '$lib/server/plant/service';
import { currentCertificationFor } from '$lib/server/production/certifications';
import {
	DEMO_HISTORY_ENTITY,
	DEMO_WORKFLOWS_ENTITY,
	seedDemoHistory,
	type SeedDemoHistoryResult
} from '$lib/server/production/demo-history';
import { appendAudit, SYSTEM_ACTOR } from '$lib/server/audit/append';
import { generateDemoHistory } from '$lib/demo/history';
import {
	CHANGE_RECORD,
	changeContent,
	signChangeRequestsForDemo
} from '$lib/server/change/signable';
import { changeRequest } from '$lib/server/db/schema';
import { contentSha256 } from '$lib/server/records/canonical';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';

const TABLES = [
	'customer',
	'product',
	'process_version',
	'process_spec',
	'supplier',
	'material',
	'material_lot',
	'certification',
	'inspection_plan',
	'lot',
	'run',
	'lot_material',
	'inspection',
	'deviation',
	'alarm',
	'shipment',
	'lot_parameter_summary',
	'capa',
	'change_request',
	'kpi_target',
	'app_user',
	'role_grant',
	'audit_event'
];
// PGlite boot, migrations, argon2 for the demo users and a year of history on a loaded machine.
const SLOW = 240_000;

describe('TRACEWALL_DEMO_HISTORY', () => {
	it('is on by default and off with 0 or false', () => {
		expect(parseEnv({}).TRACEWALL_DEMO_HISTORY).toBe(true);
		expect(parseEnv({ TRACEWALL_DEMO_HISTORY: '0' }).TRACEWALL_DEMO_HISTORY).toBe(false);
		expect(parseEnv({ TRACEWALL_DEMO_HISTORY: 'false' }).TRACEWALL_DEMO_HISTORY).toBe(false);
	});
});

describe('app start with the demo history (PGlite directory)', () => {
	it(
		'seeds the history at the first start and starts again without adding anything',
		async () => {
			const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracewall-history-'));
			const env = parseEnv({ TRACEWALL_DATA_DIR: dir, TRACEWALL_DEMO: 'true' });
			const lotCount = async () => {
				const app = await startApp(http.createServer(), env, {
					log: createLog({ level: 'silent' }),
					metrics: createMetrics()
				});
				try {
					const [row] = await app.database.query<{ n: number; running: number }>(
						`SELECT count(*)::float8 AS n, count(*) FILTER (WHERE status = 'running')::float8 AS running FROM lot`
					);
					return row;
				} finally {
					await app.close();
				}
			};
			try {
				const t0 = performance.now();
				const first = await lotCount();
				const firstMs = performance.now() - t0;
				const t1 = performance.now();
				const second = await lotCount();
				console.log(
					`[app start, PGlite] first start ${(firstMs / 1000).toFixed(1)} s, second ${((performance.now() - t1) / 1000).toFixed(1)} s`
				);
				expect(first.n).toBeGreaterThan(2000);
				expect(first.running).toBe(DEMO_PLANT.lines.length);
				expect(second).toEqual(first);
			} finally {
				fs.rmSync(dir, { recursive: true, force: true });
			}
		},
		SLOW
	);
});

describe.each(BACKENDS)('demo history seeding (%s)', (backend) => {
	let t: TestDatabase;
	let first: SeedDemoHistoryResult;
	const now = new Date();

	async function counts(): Promise<Record<string, number>> {
		const out: Record<string, number> = {};
		for (const table of TABLES) {
			const [row] = await t.database.query<{ n: number }>(
				`SELECT count(*)::float8 AS n FROM ${table}`
			);
			out[table] = row.n;
		}
		return out;
	}

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, DEMO_PLANT);
		await seedDemoUsers(t.database, 'wall-demo-Tracewall');
		first = await seedDemoHistory(t.database, { now });
		console.log(
			`[${backend}] demo history seeded in ${(first.ms / 1000).toFixed(1)} s`,
			first.counts
		);
	}, SLOW);

	afterAll(async () => {
		await t?.dispose();
	});

	it(
		'writes a year of history once: a second seeding adds nothing',
		async () => {
			expect(first.seeded).toBe(true);
			const before = await counts();
			expect(before.lot).toBe(first.counts.lots);
			expect(before.run).toBe(first.counts.runs);
			expect(before.lot_parameter_summary).toBe(first.counts.lotParameterSummaries);
			expect(before.lot).toBeGreaterThan(2000);
			const again = await seedDemoHistory(t.database, { now: new Date(now.getTime() + 3_600_000) });
			expect(again.seeded).toBe(false);
			expect(await counts()).toEqual(before);
		},
		SLOW
	);

	it('signs every decided lot once, at its decision, valid for the lot as it stands', async () => {
		const [{ decided, signed, wrong }] = await t.database.query<{
			decided: number;
			signed: number;
			wrong: number;
		}>(
			`SELECT (SELECT count(*) FROM lot WHERE status IN ('released', 'rejected'))::float8 AS decided,
			        (SELECT count(*) FROM signature WHERE record_type = 'lot')::float8 AS signed,
			        (SELECT count(*) FROM signature s JOIN lot l ON l.id::text = s.record_id
			          WHERE s.record_type = 'lot' AND (s.signed_at <> l.decided_at
			            OR s.signer_user_id <> l.decided_by OR s.record_version <> l.revision
			            OR s.meaning <> CASE l.status WHEN 'released' THEN 'released' ELSE 'rejected' END)
			        )::float8 AS wrong`
		);
		expect(decided).toBeGreaterThan(2000);
		expect(signed).toBe(decided);
		expect(wrong).toBe(0);
		expect(first.counts.lotSignatures).toBe(decided);
		// The hash binds to the content the lot page recomputes.
		const [lot] = await t.database.query<{ id: number }>(
			`SELECT id FROM lot WHERE status = 'released' ORDER BY id DESC LIMIT 1`
		);
		const [sig] = await t.database.query<{ content_sha256: string }>(
			`SELECT content_sha256 FROM signature WHERE record_type = 'lot' AND record_id = $1`,
			[String(lot.id)]
		);
		expect((await lotContentHash(t.database, lot.id))?.sha256).toBe(sig.content_sha256);
	});

	it('signs change requests as their workflow did: authored at review, approved at approval, valid', async () => {
		const [{ reviewed, approved, authored, approvals, wrong }] = await t.database.query<{
			reviewed: number;
			approved: number;
			authored: number;
			approvals: number;
			wrong: number;
		}>(
			`SELECT (SELECT count(*) FROM change_request WHERE review_at IS NOT NULL)::float8 AS reviewed,
			        (SELECT count(*) FROM change_request WHERE approved_at IS NOT NULL)::float8 AS approved,
			        (SELECT count(*) FROM signature WHERE record_type = 'change-request' AND meaning = 'authored')::float8 AS authored,
			        (SELECT count(*) FROM signature WHERE record_type = 'change-request' AND meaning = 'approved')::float8 AS approvals,
			        (SELECT count(*) FROM signature s JOIN change_request cr ON cr.id::text = s.record_id
			          WHERE s.record_type = 'change-request' AND (s.record_version <> cr.revision
			            OR (s.meaning = 'authored' AND (s.signer_user_id <> cr.author_id OR s.signed_at <> cr.review_at))
			            OR (s.meaning = 'approved' AND (s.signer_user_id <> cr.approver_id OR s.signed_at <> cr.approved_at)))
			        )::float8 AS wrong`
		);
		expect(reviewed).toBeGreaterThan(40);
		expect(authored).toBe(reviewed);
		expect(approvals).toBe(approved);
		expect(wrong).toBe(0);
		expect(first.counts.changeSignatures).toBe(reviewed + approved);
		// Each hash binds to the request as the change page recomputes it.
		const rows = await t.database.db.select().from(changeRequest);
		const sigs = await t.database.query<{ record_id: string; content_sha256: string }>(
			`SELECT record_id, content_sha256 FROM signature WHERE record_type = 'change-request'`
		);
		const byId = new Map(rows.map((r) => [String(r.id), contentSha256(changeContent(r))]));
		expect(sigs.filter((s) => byId.get(s.record_id) !== s.content_sha256)).toEqual([]);

		// Never for a request used through the app (it has audit events): only seeded ones.
		// (Signatures cannot be deleted: two unsigned copies of a reviewed request stand in.)
		const template = rows.find((r) => r.reviewAt !== null && r.approvedAt !== null)!;
		const copy = async (code: string) => {
			const { id: _id, ...rest } = template;
			const [row] = await t.database.db
				.insert(changeRequest)
				.values({ ...rest, code })
				.returning({ id: changeRequest.id });
			return row.id;
		};
		const used = await copy('CR-TEST-USED');
		const seeded = await copy('CR-TEST-SEEDED');
		await t.database.transaction((tx) =>
			appendAudit(tx, {
				actor: SYSTEM_ACTOR,
				action: 'update',
				entityType: CHANGE_RECORD,
				entityId: used,
				newValues: { title: template.title },
				reason: 'edited through the app'
			})
		);
		expect(await signChangeRequestsForDemo(t.database, 'demo-history')).toBe(2);
		const signedNow = await t.database.query<{ record_id: string; meaning: string }>(
			`SELECT record_id, meaning FROM signature WHERE record_type = 'change-request'
			 AND record_id IN ($1, $2) ORDER BY meaning`,
			[String(used), String(seeded)]
		);
		expect(signedNow).toEqual([
			{ record_id: String(seeded), meaning: 'approved' },
			{ record_id: String(seeded), meaning: 'authored' }
		]);
		// The copies go again (their signatures stay: signatures are append-only).
		await t.database.query(`DELETE FROM change_request WHERE id IN ($1, $2)`, [used, seeded]);
	});

	it('audits the seeding as one create event per marker, not one per row', async () => {
		const rows = await t.database.query<{
			entity_type: string;
			action: string;
			actor_label: string;
		}>(
			`SELECT entity_type, action, actor_label FROM audit_event WHERE entity_type IN ($1, $2) ORDER BY id`,
			[DEMO_HISTORY_ENTITY, DEMO_WORKFLOWS_ENTITY]
		);
		expect(rows).toEqual([
			{ entity_type: DEMO_HISTORY_ENTITY, action: 'create', actor_label: 'system' },
			{ entity_type: DEMO_WORKFLOWS_ENTITY, action: 'create', actor_label: 'system' }
		]);
		const [{ n }] = await t.database.query<{ n: number }>(
			`SELECT count(*)::float8 AS n FROM audit_event WHERE entity_type IN ('lot', 'run', 'inspection')`
		);
		expect(n).toBe(0);
	});

	it('leaves every line with a running lot: open runs on every machine, begun before now, by certified people', async () => {
		for (const line of DEMO_PLANT.lines) {
			const lots = await t.database.query<{ id: number; code: string }>(
				`SELECT l.id, l.code FROM lot l JOIN line ln ON ln.id = l.line_id
				 WHERE ln.code = $1 AND l.status = 'running'`,
				[line.code]
			);
			expect(lots).toHaveLength(1);
			const runs = await t.database.query<{
				id: number;
				machineId: number;
				machine: string;
				operatorId: number;
				username: string;
				operation: string;
				startedAt: number;
				certificationId: number | null;
			}>(
				`SELECT r.id, r.machine_id AS "machineId", m.code AS machine, r.operator_id AS "operatorId",
				        u.username, r.operation, (extract(epoch FROM r.started_at) * 1000)::float8 AS "startedAt",
				        r.certification_id AS "certificationId"
				 FROM run r JOIN machine m ON m.id = r.machine_id JOIN app_user u ON u.id = r.operator_id
				 WHERE r.lot_id = $1 AND r.ended_at IS NULL`,
				[lots[0].id]
			);
			expect(runs.map((r) => r.machine).sort()).toEqual(line.machines.map((m) => m.code).sort());
			expect(runs.some((r) => r.username === 'operator')).toBe(true);
			for (const r of runs) {
				expect(r.startedAt).toBeLessThan(now.getTime());
				const cert = await currentCertificationFor(
					t.database,
					r.operatorId,
					r.operation,
					r.machineId,
					new Date(r.startedAt)
				);
				expect(cert, `${r.username} on ${r.machine}`).not.toBeNull();
				// Still certified now: a live alarm on this machine finds a qualified operator.
				expect(
					await currentCertificationFor(t.database, r.operatorId, r.operation, r.machineId, now)
				).not.toBeNull();
				// A live alarm on the machine now maps to this lot.
				const active = await lotsActiveAt(t.database, r.machineId, now);
				expect(active.map((a) => a.lotCode)).toEqual([lots[0].code]);
			}
		}
	});

	it('consumes only material lots validated before consumption; quarantined and rejected lots are never used', async () => {
		const [bad] = await t.database.query<{ n: number }>(
			`SELECT count(*)::float8 AS n FROM lot_material lm JOIN material_lot ml ON ml.id = lm.material_lot_id
			 WHERE ml.status <> 'validated' OR ml.decided_at > lm.consumed_at`
		);
		expect(bad.n).toBe(0);
		const statuses = await t.database.query<{ status: string; n: number }>(
			`SELECT status, count(*)::float8 AS n FROM material_lot GROUP BY status ORDER BY status`
		);
		expect(statuses.map((s) => s.status)).toEqual(['quarantine', 'rejected', 'validated']);
		expect(statuses.find((s) => s.status === 'rejected')?.n).toBe(1);
	});

	it('keeps runs inside their lot, operators certified at start but for the one documented exception', async () => {
		const [outside] = await t.database.query<{ n: number }>(
			`SELECT count(*)::float8 AS n FROM run r JOIN lot l ON l.id = r.lot_id
			 WHERE r.started_at < l.started_at OR (l.completed_at IS NOT NULL AND (r.ended_at IS NULL OR r.ended_at > l.completed_at))`
		);
		expect(outside.n).toBe(0);
		const uncertified = await t.database.query<{ standing: string }>(
			`SELECT checks->'certification'->>'standing' AS standing FROM run WHERE certification_id IS NULL`
		);
		expect(uncertified).toEqual([{ standing: 'expired' }]);
	});

	it('links the demo customer account to its customer and names operators who cannot sign in', async () => {
		const [customer] = await t.database.query<{ code: string | null }>(
			`SELECT c.code FROM app_user u LEFT JOIN customer c ON c.id = u.customer_id WHERE u.username = 'customer'`
		);
		expect(customer.code).toBe('AVALON');
		const [ops] = await t.database.query<{ n: number; withPassword: number }>(
			`SELECT count(*)::float8 AS n, count(password_hash)::float8 AS "withPassword"
			 FROM app_user WHERE username LIKE '%.%'`
		);
		// Ten operators and two quality staff.
		expect(ops.n).toBe(12);
		expect(ops.withPassword).toBe(0);
	});
	it('writes the quality workflows: deviations with CAPA, change requests, KPI targets', async () => {
		const q = async (text: string) =>
			(await t.database.query<{ n: number }>(`SELECT (${text})::float8 AS n`))[0].n;
		expect(await q(`SELECT count(*) FROM change_request`)).toBe(first.counts.changeRequests);
		expect(first.counts.changeRequests).toBeGreaterThanOrEqual(55);
		expect(await q(`SELECT count(*) FROM kpi_target WHERE site_id IS NULL`)).toBe(12);
		expect(await q(`SELECT count(*) FROM capa`)).toBe(first.counts.capas);
		// Deviations: a dozen open in several states, some overdue; every step consistent.
		const open = await q(`SELECT count(*) FROM deviation WHERE status <> 'closed'`);
		expect(open).toBeGreaterThanOrEqual(10);
		expect(
			await q(`SELECT count(DISTINCT status) FROM deviation WHERE status <> 'closed'`)
		).toBeGreaterThanOrEqual(4);
		expect(
			await q(`SELECT count(*) FROM deviation WHERE status <> 'closed' AND due_at < now()`)
		).toBeGreaterThan(0);
		expect(
			await q(`SELECT count(*) FROM deviation WHERE owner_id IS NULL OR due_at IS NULL
			         OR (status = 'closed') <> (closed_at IS NOT NULL AND closed_by IS NOT NULL)
			         OR (status = 'closed' AND (effective IS NOT TRUE OR effectiveness_checked_at > closed_at))
			         OR (status <> 'open') <> (contained_at IS NOT NULL AND containment IS NOT NULL)
			         OR (status IN ('investigated', 'actions', 'effectiveness', 'closed')) <> (root_cause IS NOT NULL)
			         OR contained_at < opened_at OR investigated_at < contained_at OR closed_at < investigated_at`)
		).toBe(0);
		// CAPA: 1-3 per deviation past investigation; none open on a closed deviation; a few overdue.
		expect(
			await q(`SELECT count(*) FROM deviation d WHERE d.status IN ('actions', 'effectiveness', 'closed')
			         AND (SELECT count(*) FROM capa c WHERE c.deviation_id = d.id) NOT BETWEEN 1 AND 3`)
		).toBe(0);
		expect(
			await q(`SELECT count(*) FROM capa c JOIN deviation d ON d.id = c.deviation_id
			         WHERE c.status = 'open' AND d.status IN ('effectiveness', 'closed')`)
		).toBe(0);
		expect(
			await q(`SELECT count(*) FROM capa WHERE status = 'open' AND due_at < now()`)
		).toBeGreaterThan(0);
		// Lots: released only after every deviation on them closed; decided after review.
		expect(
			await q(`SELECT count(*) FROM lot l JOIN deviation d ON d.lot_id = l.id
			         WHERE l.status = 'released' AND (d.closed_at IS NULL OR d.closed_at > l.decided_at)`)
		).toBe(0);
		expect(
			await q(`SELECT count(*) FROM lot WHERE status IN ('released', 'rejected')
			         AND (decided_by IS NULL OR NOT (completed_at <= review_started_at AND review_started_at <= decided_at))`)
		).toBe(0);
		expect(
			await q(`SELECT count(*) FROM shipment s JOIN lot l ON l.id = s.lot_id
			         WHERE l.status <> 'released' OR s.shipped_at < l.decided_at`)
		).toBe(0);
		const hours =
			await q(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - completed_at) / 3600)
		                       FROM lot WHERE status = 'released'`);
		expect(hours).toBeGreaterThan(24);
		expect(hours).toBeLessThan(48);
		expect(
			await q(`SELECT count(*) FROM lot WHERE status IN ('completed', 'in_review')`)
		).toBeGreaterThan(3);
		// Change requests: approver never the author, steps in order, a handful open now.
		expect(
			await q(`SELECT count(*) FROM change_request WHERE approver_id = author_id
			         OR impact_at < opened_at OR review_at < impact_at OR approved_at < review_at
			         OR implemented_at < approved_at OR closed_at < implemented_at
			         OR (status = 'draft') <> (impact IS NULL)
			         OR (approved_at IS NOT NULL) <> (effective_from IS NOT NULL)`)
		).toBe(0);
		// Implemented and closed requests name what they made, effective from their date.
		expect(
			await q(`SELECT count(*) FROM change_request cr
			         LEFT JOIN control_limit_version v ON v.id = cr.result_limit_version_id
			         WHERE cr.kind = 'control-limit' AND cr.status IN ('implemented', 'closed')
			           AND (v.id IS NULL OR v.effective_from <> cr.effective_from
			                OR v.characteristic_id <> cr.characteristic_id)`)
		).toBe(0);
		expect(
			await q(`SELECT count(*) FROM change_request cr
			         WHERE cr.kind IN ('rule-set', 'sampling-plan') AND cr.status IN ('implemented', 'closed')
			           AND NOT EXISTS (SELECT 1 FROM characteristic_config_version v
			                           WHERE v.change_request_id = cr.id AND v.effective_from = cr.effective_from)`)
		).toBe(0);
		// What they made is what the plant runs: the configuration applied last equals the
		// characteristic (a restart re-asserts it and changes nothing), and the limits in force stay
		// within a few per cent of the plant's known process.
		expect(
			await q(`SELECT count(*) FROM (
			           SELECT DISTINCT ON (characteristic_id) * FROM characteristic_config_version
			           WHERE applied_at IS NOT NULL ORDER BY characteristic_id, effective_from DESC, version DESC
			         ) v JOIN characteristic c ON c.id = v.characteristic_id
			         WHERE v.rules <> c.rules OR v.subgroup_size <> c.subgroup_size
			            OR v.sampling_interval_ms <> c.sampling_interval_ms`)
		).toBe(0);
		const config = await loadIngestConfig(t.database);
		const known = new Map(
			DEMO_PLANT.lines
				.flatMap((l) => l.machines.flatMap((m) => m.characteristics))
				.map((c) => [c.code, c.process])
		);
		let replaced = 0;
		for (const c of config.characteristics) {
			const process = known.get(c.code)!;
			if (c.limits!.version > 1) replaced++;
			// On the chart's scale: an attribute chart's centre is the rate (a u chart's 0.3 per
			// unit, not the 6 per inspected lot of 20).
			expect(Math.abs(c.limits!.centre - process.mean), c.code).toBeLessThanOrEqual(
				c.kind === 'variable' ? 0.5 * process.sigma : 0.1 * process.mean
			);
			if (c.kind !== 'variable') continue;
			expect(Math.abs(c.limits!.sigma / process.sigma - 1), c.code).toBeLessThan(0.1);
		}
		expect(replaced).toBeGreaterThan(0);
		const statuses = await t.database.query<{ status: string }>(
			`SELECT DISTINCT status FROM change_request ORDER BY status`
		);
		expect(statuses.map((s) => s.status)).toEqual([
			'approved',
			'closed',
			'draft',
			'impact',
			'implemented',
			'rejected',
			'review',
			'withdrawn'
		]);
	});
});

describe.each(BACKENDS)('demo history upgrade to the quality workflows (%s)', (backend) => {
	let t: TestDatabase;
	const now = new Date(Date.now() - 3 * 86_400_000);

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, DEMO_PLANT);
		await seedDemoUsers(t.database, 'wall-demo-Tracewall');
		// As the earlier version left it: first marker only, deviations without workflow, no
		// plant deviations, earlier release times.
		await seedDemoHistory(t.database, { now, withoutWorkflows: true });
		await t.database
			.query(`DELETE FROM deviation WHERE lot_id IS NULL AND alarm_id IS NULL AND inspection_id IS NULL
			AND title NOT LIKE 'Run on %'`);
		await t.database.query(`UPDATE deviation SET severity = 'minor', owner_id = NULL, due_at = NULL,
			containment = NULL, contained_at = NULL, contained_by = NULL, root_cause = NULL,
			investigated_at = NULL, investigated_by = NULL, effectiveness_due_at = NULL,
			effectiveness_result = NULL, effective = NULL, effectiveness_checked_at = NULL,
			effectiveness_checked_by = NULL, revision = 1,
			status = CASE WHEN status = 'closed' THEN 'closed' ELSE 'open' END`);
		await t.database.query(`UPDATE lot SET decided_at = decided_at - interval '5 hours'
			WHERE status = 'released'`);
	}, SLOW);

	afterAll(async () => {
		await t?.dispose();
	});

	it(
		'adds the workflows once to a history seeded before them, leaving rows changed by real use alone',
		async () => {
			// A lot changed by real use since the seeding (its own audit event).
			const [used] = await t.database.query<{ id: number; decided_at: string }>(
				`SELECT id, decided_at::text FROM lot WHERE status = 'released' ORDER BY id LIMIT 1`
			);
			await t.database.transaction((tx) =>
				appendAudit(tx, {
					actor: SYSTEM_ACTOR,
					action: 'update',
					entityType: 'lot',
					entityId: used.id,
					reason: 'test: a lot touched by real use'
				})
			);
			const upgraded = await seedDemoHistory(t.database, { now: new Date() });
			console.log(`[${backend}] upgrade in ${(upgraded.ms / 1000).toFixed(1)} s`, upgraded.counts);
			expect(upgraded).toMatchObject({ seeded: false, upgraded: true });
			const h = generateDemoHistory({ now, seed: 1 });
			expect(upgraded.counts.changeRequests).toBe(h.changeRequests.length);
			expect(upgraded.counts.capas).toBe(h.capas.length);
			expect(upgraded.counts.kpiTargets).toBe(12);
			expect(upgraded.counts.deviationsUpdated + upgraded.counts.deviationsInserted).toBe(
				h.deviations.length
			);
			expect(upgraded.counts.lotsUpdated).toBe(h.lots.length - 1);
			// The release times are the generator's again, but for the lot used since.
			const lots = await t.database.query<{ code: string; decided: number | null }>(
				`SELECT code, (extract(epoch FROM decided_at) * 1000)::float8 AS decided FROM lot WHERE id <> $1`,
				[used.id]
			);
			const byCode = new Map(h.lots.map((l) => [l.code, l.decidedAt]));
			expect(lots.filter((l) => l.decided !== byCode.get(l.code))).toEqual([]);
			const [same] = await t.database.query<{ decided_at: string }>(
				`SELECT decided_at::text FROM lot WHERE id = $1`,
				[used.id]
			);
			expect(same.decided_at).toBe(used.decided_at);
			const [owners] = await t.database.query<{ n: number }>(
				`SELECT count(*)::float8 AS n FROM deviation WHERE owner_id IS NULL`
			);
			expect(owners.n).toBe(0);

			const again = await seedDemoHistory(t.database, { now: new Date() });
			expect(again).toMatchObject({ seeded: false, upgraded: false, counts: {} });
			const [markers] = await t.database.query<{ n: number }>(
				`SELECT count(*)::float8 AS n FROM audit_event WHERE entity_type = $1`,
				[DEMO_WORKFLOWS_ENTITY]
			);
			expect(markers.n).toBe(1);
		},
		SLOW
	);
});
