/**
 * KPI figures against independent SQL, on both backends.
 *
 * 1. Over the SEEDED demo history (whatever the current generator writes): every figure the
 *    service computes equals the same KPI computed here with separately written SQL — plain
 *    aggregates, percentile_cont, NOT EXISTS — not the service's statements or code path. Also:
 *    the drill-down rows add up to the board's figure, and filters narrow both alike.
 * 2. Hand-built lots, inspections, alarms, deviations, CAPA and change requests with known
 *    answers worked out by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PLANT } from '$lib/demo/plant';
import { KPI_ORDER, type KpiKey } from '$lib/kpi/definitions';
import { kpiFilterSchema } from '$lib/kpi/filters';
import { seedDemoUsers } from '$lib/server/auth/users';
import { seedDemoPlant } from '$lib/server/plant/service';
import { seedDemoHistory } from '$lib/server/production/demo-history';
import { computeFigures, kpiContext, type KpiFigure } from '$lib/server/kpi/board';
import { kpiDrilldown } from '$lib/server/kpi/drilldown';
import type { Database } from '$lib/server/db';
import { BACKENDS, openTestDatabase, smallPlant, type TestDatabase } from '../factories/db';

const SLOW = 240_000;
const DAY = 86_400_000;
const HOUR = 3_600_000;

async function one<T extends object>(db: Database, text: string, params: unknown[]): Promise<T> {
	const rows = await db.query<T>(text, params);
	return rows[0];
}

/** Figures of every KPI under `raw` filters at `now`, keyed. */
async function figures(db: Database, raw: Record<string, string>, now: number) {
	const ctx = kpiContext(kpiFilterSchema.parse(raw), now);
	const list = await computeFigures(db, KPI_ORDER, ctx);
	return { ctx, by: Object.fromEntries(list.map((f) => [f.key, f])) as Record<KpiKey, KpiFigure> };
}

/**
 * The independent computation: one statement per KPI, written from docs/kpi.md, with the line
 * filter as a plain line_id comparison (null = every line).
 */
async function independent(db: Database, from: Date, to: Date, now: Date, line: string | null) {
	const p = [from.toISOString(), to.toISOString(), now.toISOString(), line];
	const lineOf = `($4::text IS NULL OR line_id = (SELECT id FROM line WHERE code = $4::text))`;
	const q = await one<{ good: number; rework: number; scrap: number }>(
		db,
		`SELECT coalesce(sum(good_qty), 0)::float8 AS good, coalesce(sum(rework_qty), 0)::float8 AS rework,
		        coalesce(sum(scrap_qty), 0)::float8 AS scrap
		 FROM lot WHERE completed_at >= $1::timestamptz AND completed_at < $2::timestamptz AND ${lineOf}
		   AND $3::timestamptz IS NOT NULL`,
		p
	);
	const started = q.good + q.rework + q.scrap;
	const release = await one<{ med: number | null; p90: number | null; n: number }>(
		db,
		`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - completed_at) / 3600)::float8 AS med,
		        percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - completed_at) / 3600)::float8 AS p90,
		        count(*)::float8 AS n
		 FROM lot WHERE status = 'released' AND decided_at >= $1::timestamptz AND decided_at < $2::timestamptz
		   AND ${lineOf} AND $3::timestamptz IS NOT NULL`,
		p
	);
	const changeTime = (col: string) =>
		one<{ med: number | null; n: number }>(
			db,
			`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ${col} - opened_at) / 3600)::float8 AS med,
			        count(*)::float8 AS n
			 FROM change_request cr
			 WHERE ${col} >= $1::timestamptz AND ${col} < $2::timestamptz AND $3::timestamptz IS NOT NULL
			   AND ($4::text IS NULL OR (SELECT code FROM line WHERE id = coalesce(cr.line_id,
			         (SELECT m.line_id FROM characteristic ch JOIN machine m ON m.id = ch.machine_id WHERE ch.id = cr.characteristic_id),
			         (SELECT pr.line_id FROM product pr WHERE pr.id = coalesce(cr.product_id,
			            (SELECT pv.product_id FROM process_version pv WHERE pv.id = cr.process_version_id))))) = $4::text)`,
			p
		);
	const inspections = await one<{ due: number; ontime: number }>(
		db,
		`SELECT count(*)::float8 AS due,
		        sum(CASE WHEN i.done_at IS NOT NULL AND i.done_at <= i.due_at + make_interval(mins => ip.grace_minutes) THEN 1 ELSE 0 END)::float8 AS ontime
		 FROM inspection i, inspection_plan ip, lot l
		 WHERE ip.id = i.plan_id AND l.id = i.lot_id AND i.due_at >= $1::timestamptz AND i.due_at < $2::timestamptz
		   AND (i.done_at IS NOT NULL OR i.due_at + make_interval(mins => ip.grace_minutes) <= $3::timestamptz)
		   AND ($4::text IS NULL OR l.line_id = (SELECT id FROM line WHERE code = $4::text))`,
		p
	);
	const completeness = await one<{ n: number; complete: number }>(
		db,
		`SELECT count(*)::float8 AS n, count(*) FILTER (WHERE ok)::float8 AS complete FROM (
		   SELECT l.id,
		     NOT EXISTS (SELECT 1 FROM inspection i WHERE i.lot_id = l.id AND i.status NOT IN ('done', 'waived')
		                   AND NOT (i.status = 'missed' AND i.deviation_id IS NOT NULL))
		     AND EXISTS (SELECT 1 FROM lot_parameter_summary s WHERE s.lot_id = l.id)
		     AND (l.status NOT IN ('released', 'rejected') OR EXISTS (
		           SELECT 1 FROM signature g WHERE g.record_type = 'lot' AND g.record_id = CAST(l.id AS text)
		             AND g.meaning IN ('released', 'rejected'))) AS ok
		   FROM lot l
		   WHERE l.completed_at >= $1::timestamptz AND l.completed_at < $2::timestamptz AND ${lineOf}
		     AND $3::timestamptz IS NOT NULL) x`,
		p
	);
	const alarms = await one<{ n: number }>(
		db,
		`SELECT count(*)::float8 AS n FROM alarm a JOIN lot l ON l.line_id = a.line_id
		   AND a.ts >= l.started_at AND a.ts < coalesce(l.completed_at, $3::timestamptz)
		 WHERE a.ts >= $1::timestamptz AND a.ts < $2::timestamptz AND a.ts < $3::timestamptz
		   AND ($4::text IS NULL OR l.line_id = (SELECT id FROM line WHERE code = $4::text))`,
		p
	);
	const hours = await one<{ h: number }>(
		db,
		`SELECT coalesce(sum(extract(epoch FROM least(coalesce(completed_at, $3::timestamptz), $2::timestamptz)
		                                     - greatest(started_at, $1::timestamptz))) / 3600, 0)::float8 AS h
		 FROM lot WHERE started_at < $2::timestamptz AND coalesce(completed_at, $3::timestamptz) > $1::timestamptz
		   AND ${lineOf}`,
		p
	);
	const at = new Date(Math.min(to.getTime(), now.getTime())).toISOString();
	const open = await one<{ dev: number; capa: number; overdue: number }>(
		db,
		`SELECT
		   (SELECT count(*) FROM deviation d LEFT JOIN lot l ON l.id = d.lot_id
		     WHERE d.opened_at <= $1::timestamptz AND (d.closed_at IS NULL OR d.closed_at > $1::timestamptz)
		       AND ($2::text IS NULL OR coalesce(d.line_id, l.line_id) = (SELECT id FROM line WHERE code = $2::text)))::float8 AS dev,
		   (SELECT count(*) FROM capa k JOIN deviation d ON d.id = k.deviation_id LEFT JOIN lot l ON l.id = d.lot_id
		     WHERE k.created_at <= $1::timestamptz
		       AND (k.status = 'open' OR (k.done_at IS NOT NULL AND k.done_at > $1::timestamptz))
		       AND ($2::text IS NULL OR coalesce(d.line_id, l.line_id) = (SELECT id FROM line WHERE code = $2::text)))::float8 AS capa,
		   ((SELECT count(*) FROM deviation d LEFT JOIN lot l ON l.id = d.lot_id
		     WHERE d.opened_at <= $1::timestamptz AND (d.closed_at IS NULL OR d.closed_at > $1::timestamptz)
		       AND d.due_at < $1::timestamptz
		       AND ($2::text IS NULL OR coalesce(d.line_id, l.line_id) = (SELECT id FROM line WHERE code = $2::text)))
		   + (SELECT count(*) FROM capa k JOIN deviation d ON d.id = k.deviation_id LEFT JOIN lot l ON l.id = d.lot_id
		     WHERE k.created_at <= $1::timestamptz AND k.due_at < $1::timestamptz
		       AND (k.status = 'open' OR (k.done_at IS NOT NULL AND k.done_at > $1::timestamptz))
		       AND ($2::text IS NULL OR coalesce(d.line_id, l.line_id) = (SELECT id FROM line WHERE code = $2::text))))::float8 AS overdue`,
		[at, line]
	);
	const plan = await one<{ planned: number; made: number }>(
		db,
		`SELECT coalesce(sum(planned_qty), 0)::float8 AS planned,
		        coalesce(sum(CASE WHEN status IN ('planned', 'rejected') THEN 0 ELSE good_qty END), 0)::float8 AS made
		 FROM lot WHERE planned_start >= $1::timestamptz AND planned_start < $2::timestamptz
		   AND planned_start <= $3::timestamptz AND status <> 'running' AND ${lineOf}`,
		p
	);
	const [approved, closed] = [await changeTime('approved_at'), await changeTime('closed_at')];
	const ratio = (a: number, b: number) => (b > 0 ? (100 * a) / b : null);
	return {
		'batch-yield': ratio(q.good + q.rework, started),
		'first-pass-yield': ratio(q.good, started),
		'rework-rate': ratio(q.rework, started),
		'scrap-rate': ratio(q.scrap, started),
		'release-time': release.med,
		releaseP90: release.p90,
		'change-approval-time': approved.med,
		'change-close-time': closed.med,
		'on-time-inspections': ratio(inspections.ontime, inspections.due),
		'record-completeness': ratio(completeness.complete, completeness.n),
		'alarms-per-line': hours.h > 0 ? (alarms.n / hours.h) * 1000 : null,
		'capa-aging': open.dev + open.capa,
		overdue: open.overdue,
		'plan-achievement': ratio(plan.made, plan.planned)
	} satisfies Record<KpiKey, number | null> & Record<string, number | null>;
}

function close(actual: number | null, expected: number | null, label: string) {
	if (expected === null) {
		expect(actual, label).toBeNull();
		return;
	}
	expect(actual, label).not.toBeNull();
	expect(actual as number, label).toBeCloseTo(expected, 6);
}

describe.each(BACKENDS)('KPI figures over the seeded demo history (%s)', (backend) => {
	let t: TestDatabase;
	const now = Date.now();

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, DEMO_PLANT);
		await seedDemoUsers(t.database, 'wall-demo-Tracewall');
		await seedDemoHistory(t.database, { now: new Date(now) });
	}, SLOW);

	afterAll(async () => {
		await t?.dispose();
	});

	const cases: { name: string; raw: Record<string, string> }[] = [
		{ name: 'the last 12 months, whole plant', raw: { range: '365d' } },
		{ name: 'the last 30 days, line L1', raw: { range: '30d', line: 'L1' } }
	];

	for (const c of cases) {
		it(
			`equals independent SQL for ${c.name}`,
			async () => {
				const { ctx, by } = await figures(t.database, c.raw, now);
				const want = await independent(
					t.database,
					ctx.scope.from,
					ctx.scope.to,
					ctx.scope.now,
					c.raw.line ?? null
				);
				for (const key of KPI_ORDER) close(by[key].value, want[key], key);
				close(
					by['release-time'].secondary.find((s) => s.label === 'p90')?.value ?? null,
					want.releaseP90,
					'release p90'
				);
				close(
					by['capa-aging'].secondary.find((s) => s.label === 'overdue')?.value ?? null,
					want.overdue,
					'overdue'
				);
				// The history is a year of real-looking production: the lot KPIs have data.
				expect(by['batch-yield'].n).toBeGreaterThan(10);
				expect(by['release-time'].n).toBeGreaterThan(10);
				expect(by['on-time-inspections'].value).not.toBeNull();
			},
			SLOW
		);
	}

	it('lists exactly the rows behind each figure: the drill-down adds up to the board', async () => {
		const { ctx, by } = await figures(t.database, { range: '90d' }, now);
		const quantities = await kpiDrilldown(t.database, 'batch-yield', ctx);
		expect(quantities.rows).toHaveLength(by['batch-yield'].n);
		const s = (k: string) => quantities.rows.reduce((a, r) => a + (r.cells[k] as number), 0);
		close((100 * (s('good') + s('rework'))) / s('started'), by['batch-yield'].value, 'yield rows');
		for (const r of quantities.rows) expect(r.href).toMatch(/^\/lots\/\d+$/);

		const alarms = await kpiDrilldown(t.database, 'alarms-per-line', ctx);
		const a = alarms.rows.reduce((x, r) => x + (r.cells.alarms as number), 0);
		const h = alarms.rows.reduce((x, r) => x + (r.cells.hours as number), 0);
		close((a / h) * 1000, by['alarms-per-line'].value, 'alarm rows');

		const inspections = await kpiDrilldown(t.database, 'on-time-inspections', ctx);
		const due = inspections.rows.reduce((x, r) => x + (r.cells.due as number), 0);
		const onTime = inspections.rows.reduce((x, r) => x + (r.cells.onTime as number), 0);
		close((100 * onTime) / due, by['on-time-inspections'].value, 'inspection rows');

		const release = await kpiDrilldown(t.database, 'release-time', ctx);
		expect(release.rows).toHaveLength(by['release-time'].n);
	});

	it('narrows by product and customer alike on the board and in independent SQL', async () => {
		const [prod] = await t.database.query<{ code: string; customer: string; n: number }>(
			`SELECT p.code, c.code AS customer, count(*)::float8 AS n FROM lot l
			 JOIN product p ON p.id = l.product_id JOIN customer c ON c.id = p.customer_id
			 WHERE l.completed_at > now() - interval '365 days' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1`
		);
		const { by } = await figures(t.database, { range: '365d', product: prod.code }, now);
		const [want] = await t.database.query<{ y: number; n: number }>(
			`SELECT (100.0 * sum(good_qty) / sum(good_qty + rework_qty + scrap_qty))::float8 AS y, count(*)::float8 AS n
			 FROM lot WHERE completed_at >= $1::timestamptz AND completed_at < $2::timestamptz
			   AND product_id = (SELECT id FROM product WHERE code = $3)`,
			[new Date(now - 365 * DAY).toISOString(), new Date(now).toISOString(), prod.code]
		);
		close(by['first-pass-yield'].value, want.y, 'product FPY');
		expect(by['first-pass-yield'].n).toBe(want.n);
		const byCustomer = await figures(t.database, { range: '365d', customer: prod.customer }, now);
		expect(byCustomer.by['first-pass-yield'].n).toBeGreaterThanOrEqual(want.n);
	});
});

describe.each(BACKENDS)('KPI figures on hand-built records with known answers (%s)', (backend) => {
	let t: TestDatabase;
	// A fixed clock: Wednesday 2026-03-18 12:00 UTC.
	const now = Date.UTC(2026, 2, 18, 12);
	const iso = (ms: number) => new Date(ms).toISOString();

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		await seedDemoUsers(t.database, 'wall-demo-Tracewall');
		const db = t.database;
		const [{ id: line1 }] = await db.query<{ id: number }>(`SELECT id FROM line WHERE code = 'L1'`);
		const [{ id: qe }] = await db.query<{ id: number }>(
			`SELECT id FROM app_user WHERE username = 'qe'`
		);
		const [{ id: cust }] = await db.query<{ id: number }>(
			`INSERT INTO customer (code, name) VALUES ('C1', 'Customer one') RETURNING id`
		);
		const [{ id: prod }] = await db.query<{ id: number }>(
			`INSERT INTO product (code, name, customer_id, line_id) VALUES ('P1', 'Part one', $1, $2) RETURNING id`,
			[cust, line1]
		);
		const lot = async (
			code: string,
			status: string,
			q: [number, number, number, number],
			startedAt: number | null,
			completedAt: number | null,
			decidedAt: number | null,
			plannedStart: number
		) => {
			const [{ id }] = await db.query<{ id: number }>(
				`INSERT INTO lot (code, product_id, line_id, planned_qty, good_qty, rework_qty, scrap_qty, status,
				                  planned_start, started_at, completed_at, decided_at)
				 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10::timestamptz, $11::timestamptz, $12::timestamptz)
				 RETURNING id`,
				[
					code,
					prod,
					line1,
					...q,
					status,
					iso(plannedStart),
					startedAt === null ? null : iso(startedAt),
					completedAt === null ? null : iso(completedAt),
					decidedAt === null ? null : iso(decidedAt)
				]
			);
			return id;
		};
		const d0 = now - 6 * DAY; // Thursday 2026-03-12 12:00
		// Three released lots: 10 h, 20 h and 30 h from completion to release.
		const a = await lot('A', 'released', [100, 90, 5, 5], d0, d0 + 10 * HOUR, d0 + 20 * HOUR, d0);
		await lot(
			'B',
			'released',
			[100, 100, 0, 0],
			d0 + DAY,
			d0 + DAY + 10 * HOUR,
			d0 + DAY + 30 * HOUR,
			d0 + DAY
		);
		await lot(
			'C',
			'released',
			[100, 95, 0, 5],
			d0 + 2 * DAY,
			d0 + 2 * DAY + 10 * HOUR,
			d0 + 2 * DAY + 40 * HOUR,
			d0 + 2 * DAY
		);
		// Never started, planned in the range: counts as 0 made in plan achievement.
		await lot('D', 'planned', [100, 0, 0, 0], null, null, null, d0 + 3 * DAY);
		// Outside the range (completed 40 days ago): in none of the figures.
		await lot(
			'OLD',
			'released',
			[100, 50, 0, 50],
			now - 41 * DAY,
			now - 40 * DAY,
			now - 39 * DAY,
			now - 41 * DAY
		);

		// Inspections of lot A: on time, late, and one missed covered by a deviation.
		const [{ id: plan }] = await db.query<{ id: number }>(
			`INSERT INTO inspection_plan (product_id, name, trigger, every_minutes, grace_minutes)
			 VALUES ($1, 'Visual', 'every-t-minutes', 60, 15) RETURNING id`,
			[prod]
		);
		const [{ id: dev }] = await db.query<{ id: number }>(
			`INSERT INTO deviation (code, title, description, lot_id, line_id, opened_at, due_at)
			 VALUES ('DEV-1', 'Missed inspection', 'x', $1, $2, $3::timestamptz, $4::timestamptz) RETURNING id`,
			[a, line1, iso(now - 10 * DAY), iso(now - 2 * DAY)]
		);
		const insp = (
			seq: number,
			due: number,
			done: number | null,
			status: string,
			deviation: number | null
		) =>
			db.query(
				`INSERT INTO inspection (lot_id, plan_id, seq, due_at, done_at, status, deviation_id)
				 VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7)`,
				[a, plan, seq, iso(due), done === null ? null : iso(done), status, deviation]
			);
		await insp(1, d0 + HOUR, d0 + HOUR + 10 * 60_000, 'done', null);
		await insp(2, d0 + 2 * HOUR, d0 + 2 * HOUR + 20 * 60_000, 'done', null);
		await insp(3, d0 + 3 * HOUR, null, 'missed', dev);
		// Due an hour ago, grace not over: not judged yet.
		await insp(4, now - 5 * 60_000, null, 'due', null);

		// A CAPA action of the deviation, due yesterday, still open (overdue); one done (closed).
		await db.query(
			`INSERT INTO capa (code, deviation_id, kind, description, owner_id, due_at, status, created_at)
			 VALUES ('CAPA-1', $1, 'corrective', 'Retrain', $2, $3::timestamptz, 'open', $4::timestamptz),
			        ('CAPA-2', $1, 'preventive', 'Add reminder', $2, $3::timestamptz, 'done', $4::timestamptz)`,
			[dev, qe, iso(now - DAY), iso(now - 9 * DAY)]
		);
		await db.query(`UPDATE capa SET done_at = $1::timestamptz WHERE code = 'CAPA-2'`, [
			iso(now - 8 * DAY)
		]);

		// Two alarms on L1 while lot A ran, one in the changeover after it (counts for no lot).
		const alarm = (ts: number, rule: string) =>
			db.query(
				`INSERT INTO alarm (kind, line_id, rule, ts, last_ts, message, state)
				 VALUES ('inspection', $1, $2, $3::timestamptz, $3::timestamptz, 'm', 'cleared')`,
				[line1, rule, iso(ts)]
			);
		await alarm(d0 + HOUR, 'r1');
		await alarm(d0 + 2 * HOUR, 'r2');
		await alarm(d0 + 12 * HOUR, 'r3');

		// Change requests: approved after 48 h and closed after 96 h; another approved after 24 h.
		const cr = (code: string, approved: number, closed: number | null) =>
			db.query(
				`INSERT INTO change_request (code, kind, title, justification, status, line_id, proposal, author_id,
				                             opened_at, approved_at, closed_at)
				 VALUES ($1, 'spec-limit', 't', 'j', $2, $3, '{}'::jsonb, $4, $5::timestamptz, $6::timestamptz, $7::timestamptz)`,
				[
					code,
					closed === null ? 'approved' : 'closed',
					line1,
					qe,
					iso(d0),
					iso(d0 + approved * HOUR),
					closed === null ? null : iso(d0 + closed * HOUR)
				]
			);
		await cr('CR-1', 48, 96);
		await cr('CR-2', 24, null);
	}, SLOW);

	afterAll(async () => {
		await t?.dispose();
	});

	it('computes every figure of the last 7 days as worked out by hand', async () => {
		const { by } = await figures(t.database, { range: '7d' }, now);
		// Started 300 = good 285 + rework 5 + scrap 10.
		expect(by['batch-yield'].value).toBeCloseTo((100 * 290) / 300, 9);
		expect(by['first-pass-yield'].value).toBeCloseTo(95, 9);
		expect(by['rework-rate'].value).toBeCloseTo((100 * 5) / 300, 9);
		expect(by['scrap-rate'].value).toBeCloseTo((100 * 10) / 300, 9);
		expect(by['batch-yield'].n).toBe(3);
		// 10, 20, 30 h: median 20, p90 = 20 + 0.8 × 10 = 28.
		expect(by['release-time'].value).toBeCloseTo(20, 9);
		expect(by['release-time'].secondary.find((s) => s.label === 'p90')?.value).toBeCloseTo(28, 9);
		// Due and judged: 3 (the 4th is within grace); on time: 1 (10 min ≤ 15; 20 min is late).
		expect(by['on-time-inspections'].value).toBeCloseTo(100 / 3, 9);
		// No lot has parameter summaries: none is complete.
		expect(by['record-completeness'].value).toBe(0);
		// 2 alarms while a lot ran (the changeover one is not counted) over 30 run hours.
		expect(by['alarms-per-line'].value).toBeCloseTo((2 / 30) * 1000, 9);
		// Open now: DEV-1 and CAPA-1; overdue: both (due 2 days and 1 day ago).
		expect(by['capa-aging'].value).toBe(2);
		expect(by['capa-aging'].secondary.find((s) => s.label === 'overdue')?.value).toBe(2);
		expect(by['capa-aging'].breakdown.find((b) => b.label === '8–30 days')?.value).toBe(2);
		// Age limit 30 days by default: both are 9-10 days old.
		expect(by['capa-aging'].met).toBe(true);
		// Planned 400 (A, B, C, D), made 285 (D never started).
		expect(by['plan-achievement'].value).toBeCloseTo((100 * 285) / 400, 9);
		// Approved: 48 h and 24 h → median 36; closed: 96 h.
		expect(by['change-approval-time'].value).toBeCloseTo(36, 9);
		expect(by['change-close-time'].value).toBeCloseTo(96, 9);
		// Targets: the built-in defaults until kpi_target holds one.
		expect(by['batch-yield'].targetSource).toBe('default');
	});

	it('takes a target from kpi_target, and the site target over the plant-wide one', async () => {
		await t.database.query(
			`INSERT INTO kpi_target (kpi, site_id, target, better) VALUES ('batch-yield', NULL, 0.975, 'higher')`
		);
		await t.database.query(
			`INSERT INTO kpi_target (kpi, site_id, target, better)
			 SELECT 'batch-yield', id, 0.99, 'higher' FROM site WHERE code = 'TST'`
		);
		const plant = (await figures(t.database, { range: '7d' }, now)).by['batch-yield'];
		// Stored as a fraction (as the demo history writes it), shown in percent.
		expect(plant.targetSource).toBe('plant');
		expect(plant.target).toBeCloseTo(97.5, 9);
		expect(plant.met).toBe(false);
		const site = (await figures(t.database, { range: '7d', site: 'TST' }, now)).by['batch-yield'];
		expect(site.targetSource).toBe('site');
		expect(site.target).toBeCloseTo(99, 9);
	});

	it('leaves out what another line, part or customer made, and a custom range of other days', async () => {
		const other = (await figures(t.database, { range: '7d', line: 'L2' }, now)).by;
		expect(other['batch-yield'].value).toBeNull();
		expect(other['alarms-per-line'].value).toBeNull();
		expect(
			(await figures(t.database, { range: '7d', customer: 'NOPE' }, now)).by['batch-yield'].n
		).toBe(0);
		const old = (
			await figures(t.database, { range: 'custom', from: '2026-02-05', to: '2026-02-07' }, now)
		).by;
		// Lot OLD completed 2026-02-06 12:00: 50 good of 100 started.
		expect(old['first-pass-yield'].value).toBeCloseTo(50, 9);
	});
});
