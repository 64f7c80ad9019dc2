/**
 * Writes the demo plant's year of history (src/lib/demo/history.ts) into the database: master
 * data, people and certifications, material lots, lots with runs, consumption, inspections,
 * alarms, deviations, shipments and per-lot parameter summaries — and leaves every line with
 * a lot running now (open runs on every machine, operated by certified people, consuming
 * validated material), so a live alarm from the simulator maps to a running lot.
 *
 * Bulk: each table is written with a few `INSERT … SELECT … FROM jsonb_to_recordset($1)`
 * statements of a few thousand rows (one parameter, the same on both drivers), never row by
 * row. Ids of the generated records are reserved up front from each table's sequence
 * (`nextval` over generate_series), so references between them (run → lot, inspection →
 * deviation, …) are known before anything is written.
 *
 * Idempotent: one transaction, under an advisory lock, and the audit event it appends
 * (entity type `demo-history`) is the marker — a database holding it is left as it is. Master
 * data that already exists under the same natural key (customer, product, supplier, material
 * code; username) is reused, not duplicated.
 */
import { generateDemoHistory, HISTORY_DEMO_USERS, type DemoHistory } from '../../demo/history';
import { DEMO_PLANT, type DemoPlant } from '../../demo/plant';
import { seedAlarmCodes } from '../alarms/codes';
import { appendAudit, SYSTEM_ACTOR } from '../audit/append';
import type { Database, TxContext } from '../db';
import { fromEpochMs } from '../db/raw';

/** Entity type of the one audit event a seeding writes (also the "already seeded" marker). */
export const DEMO_HISTORY_ENTITY = 'demo-history';
/** Arbitrary constant key of the advisory lock that serialises seeding across hub nodes. */
const SEED_LOCK_KEY = 7_341_021;
/** Rows per bulk statement (keeps one JSON parameter to a few MB). */
const CHUNK = 4000;

export interface SeedDemoHistoryOptions {
	now?: Date;
	seed?: number;
	plant?: DemoPlant;
	/** Days of history (default a year). */
	days?: number;
}

export interface SeedDemoHistoryResult {
	/** False when the database already held a demo history (nothing was written). */
	seeded: boolean;
	/** Rows written per table (empty when not seeded). */
	counts: Record<string, number>;
	ms: number;
}

/** Has a demo history been seeded into this database? */
export async function demoHistorySeeded(database: Pick<Database, 'query'>): Promise<boolean> {
	const rows = await database.query<{ one: number }>(
		`SELECT 1 AS one FROM audit_event WHERE entity_type = $1 AND action = 'create' LIMIT 1`,
		[DEMO_HISTORY_ENTITY]
	);
	return rows.length > 0;
}

export async function seedDemoHistory(
	database: Database,
	options: SeedDemoHistoryOptions = {}
): Promise<SeedDemoHistoryResult> {
	const t0 = performance.now();
	if (await demoHistorySeeded(database)) {
		return { seeded: false, counts: {}, ms: performance.now() - t0 };
	}
	const now = options.now ?? new Date();
	const seed = options.seed ?? 1;
	const plant = options.plant ?? DEMO_PLANT;
	const history = generateDemoHistory({ now, seed, plant, days: options.days });
	// The historical acknowledgements cite the default cause/action codes (idempotent, audited).
	await seedAlarmCodes(database);
	return database.transaction(async (tx) => {
		await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_KEY]);
		// Re-check under the lock: another node may have seeded meanwhile.
		if (await demoHistorySeeded(tx)) {
			return { seeded: false, counts: {}, ms: performance.now() - t0 };
		}
		const counts = await write(tx, history);
		await appendAudit(tx, {
			actor: SYSTEM_ACTOR,
			action: 'create',
			entityType: DEMO_HISTORY_ENTITY,
			entityId: `seed-${seed}`,
			newValues: {
				seed,
				now: new Date(history.now).toISOString(),
				from: new Date(history.from).toISOString(),
				...counts
			},
			reason: 'demo history seeded at first start (demo only, never on a real plant)'
		});
		return { seeded: true, counts, ms: performance.now() - t0 };
	});
}

// ------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

/**
 * `INSERT INTO table (cols) SELECT exprs FROM jsonb_to_recordset($1) AS x(defs)` in chunks.
 * `columns` maps each target column to [recordset type, select expression or null = x.col].
 */
async function bulkInsert(
	tx: TxContext,
	table: string,
	columns: Record<string, [string, string | null]>,
	rows: readonly Json[],
	conflict = ''
): Promise<number> {
	const names = Object.keys(columns);
	const defs = names.map((n) => `${n} ${columns[n][0]}`).join(', ');
	const exprs = names.map((n) => columns[n][1] ?? `x.${n}`).join(', ');
	const text = `INSERT INTO ${table} (${names.join(', ')})
		SELECT ${exprs} FROM jsonb_to_recordset($1::jsonb) AS x(${defs}) ${conflict}`;
	for (let i = 0; i < rows.length; i += CHUNK) {
		await tx.query(text, [JSON.stringify(rows.slice(i, i + CHUNK))]);
	}
	return rows.length;
}

/** Epoch-ms column of the recordset as timestamptz. */
const ts = (col: string): [string, string] => ['float8', fromEpochMs(`x.${col}`)];

/** `n` fresh ids from the serial sequence of `table`.id, in order. */
async function reserveIds(tx: TxContext, table: string, n: number): Promise<number[]> {
	if (n === 0) return [];
	const rows = await tx.query<{ id: number }>(
		`SELECT nextval(pg_get_serial_sequence($1, 'id'))::float8 AS id FROM generate_series(1, $2::int)`,
		[table, n]
	);
	return rows.map((r) => r.id).sort((a, b) => a - b);
}

async function idsByCode(
	tx: TxContext,
	table: string,
	column: string,
	codes: readonly string[]
): Promise<Map<string, number>> {
	// The list travels as one JSON parameter: both drivers pass a string through unchanged.
	const rows = await tx.query<{ id: number; code: string }>(
		`SELECT id, ${column} AS code FROM ${table}
		 WHERE ${column} IN (SELECT jsonb_array_elements_text($1::jsonb))`,
		[JSON.stringify(codes)]
	);
	return new Map(rows.map((r) => [r.code, r.id]));
}

function need<K, V>(map: Map<K, V>, key: K, what: string): V {
	const v = map.get(key);
	if (v === undefined) throw new Error(`seedDemoHistory: unknown ${what} ${String(key)}`);
	return v;
}

async function write(tx: TxContext, h: DemoHistory): Promise<Record<string, number>> {
	const counts: Record<string, number> = {};

	// --- the plant (seeded before, by code) ----------------------------------------------
	const lineIds = await idsByCode(
		tx,
		'line',
		'code',
		h.products.map((p) => p.line)
	);
	const machineRows = await tx.query<{ id: number; code: string }>(`SELECT id, code FROM machine`);
	const machineIds = new Map(machineRows.map((r) => [r.code, r.id]));
	const charRows = await tx.query<{ id: number; code: string }>(
		`SELECT id, code FROM characteristic`
	);
	const charIds = new Map(charRows.map((r) => [r.code, r.id]));
	const line = (code: string) => need(lineIds, code, 'line');
	const machine = (code: string) => need(machineIds, code, 'machine');
	const characteristic = (code: string) => need(charIds, code, 'characteristic');

	// --- people ---------------------------------------------------------------------------
	counts.people = await bulkInsert(
		tx,
		'app_user',
		{ username: ['text', null], full_name: ['text', null] },
		h.people.map((p) => ({ username: p.username, full_name: p.fullName })),
		'ON CONFLICT (username) DO NOTHING'
	);
	const usernames = [...HISTORY_DEMO_USERS, ...h.people.map((p) => p.username)];
	const userIds = await idsByCode(tx, 'app_user', 'username', usernames);
	const user = (name: string) => need(userIds, name, 'user (are the demo users seeded?)');
	// Operators get the operator role on their line (only where they have no grant yet).
	await bulkInsert(
		tx,
		'role_grant',
		{ user_id: ['int', null], role: ['text', null], line_id: ['int', null] },
		h.people.map((p) => ({ user_id: user(p.username), role: 'operator', line_id: line(p.line) })),
		'WHERE NOT EXISTS (SELECT 1 FROM role_grant g WHERE g.user_id = x.user_id)'
	);

	// --- customers, products, process versions and specs ----------------------------------
	counts.customers = await bulkInsert(
		tx,
		'customer',
		{ code: ['text', null], name: ['text', null] },
		h.customers.map((c) => ({ code: c.code, name: c.name })),
		'ON CONFLICT (code) DO NOTHING'
	);
	const customerIds = await idsByCode(
		tx,
		'customer',
		'code',
		h.customers.map((c) => c.code)
	);
	const customer = (code: string) => need(customerIds, code, 'customer');
	// The demo customer account sees the catheter maker's lots.
	await tx.query(
		`UPDATE app_user SET customer_id = $1 WHERE username = 'customer' AND customer_id IS NULL`,
		[customer(h.customers[0].code)]
	);
	counts.products = await bulkInsert(
		tx,
		'product',
		{
			code: ['text', null],
			name: ['text', null],
			customer_id: ['int', null],
			line_id: ['int', null]
		},
		h.products.map((p) => ({
			code: p.code,
			name: p.name,
			customer_id: customer(p.customer),
			line_id: line(p.line)
		})),
		'ON CONFLICT (code) DO NOTHING'
	);
	const productIds = await idsByCode(
		tx,
		'product',
		'code',
		h.products.map((p) => p.code)
	);
	const product = (code: string) => need(productIds, code, 'product');
	counts.processVersions = await bulkInsert(
		tx,
		'process_version',
		{
			product_id: ['int', null],
			version: ['int', null],
			status: ['text', null],
			effective_from: ts('effective_from'),
			description: ['text', null],
			approved_by: ['int', null],
			approved_at: ts('approved_at'),
			created_by: ['int', null],
			created_at: ts('created_at')
		},
		h.processVersions.map((v) => ({
			product_id: product(v.product),
			version: v.version,
			status: v.status,
			effective_from: v.effectiveFrom,
			description: v.description,
			approved_by: user(v.approvedBy),
			approved_at: v.approvedAt,
			created_by: user(v.createdBy),
			created_at: v.approvedAt - 86_400_000
		})),
		'ON CONFLICT (product_id, version) DO NOTHING'
	);
	const pvRows = await tx.query<{ id: number; product_id: number; version: number }>(
		`SELECT id, product_id, version FROM process_version
		 WHERE product_id IN (SELECT jsonb_array_elements_text($1::jsonb)::int)`,
		[JSON.stringify([...productIds.values()])]
	);
	const pvIds = new Map(pvRows.map((r) => [`${r.product_id}|${r.version}`, r.id]));
	const processVersion = (productCode: string, version: number) =>
		need(pvIds, `${product(productCode)}|${version}`, 'process version');
	counts.processSpecs = await bulkInsert(
		tx,
		'process_spec',
		{
			process_version_id: ['int', null],
			characteristic_id: ['int', null],
			lsl: ['float8', null],
			target: ['float8', null],
			usl: ['float8', null]
		},
		h.processVersions.flatMap((v) =>
			v.specs.map((s) => ({
				process_version_id: processVersion(v.product, v.version),
				characteristic_id: characteristic(s.characteristic),
				lsl: s.lsl,
				target: s.target,
				usl: s.usl
			}))
		),
		'ON CONFLICT DO NOTHING'
	);

	// --- suppliers, materials, material lots ------------------------------------------------
	counts.suppliers = await bulkInsert(
		tx,
		'supplier',
		{ code: ['text', null], name: ['text', null], approved: ['boolean', null] },
		h.suppliers.map((s) => ({ code: s.code, name: s.name, approved: s.approved })),
		'ON CONFLICT (code) DO NOTHING'
	);
	const supplierIds = await idsByCode(
		tx,
		'supplier',
		'code',
		h.suppliers.map((s) => s.code)
	);
	counts.materials = await bulkInsert(
		tx,
		'material',
		{ code: ['text', null], name: ['text', null], unit: ['text', null] },
		h.materials.map((m) => ({ code: m.code, name: m.name, unit: m.unit })),
		'ON CONFLICT (code) DO NOTHING'
	);
	const materialIds = await idsByCode(
		tx,
		'material',
		'code',
		h.materials.map((m) => m.code)
	);
	counts.materialLots = await bulkInsert(
		tx,
		'material_lot',
		{
			code: ['text', null],
			material_id: ['int', null],
			supplier_id: ['int', null],
			supplier_lot: ['text', null],
			quantity: ['float8', null],
			received_at: ts('received_at'),
			expires_at: ts('expires_at'),
			status: ['text', null],
			decided_by: ['int', null],
			decided_at: ts('decided_at'),
			evidence: ['text', null],
			created_at: ts('received_at')
		},
		h.materialLots.map((ml) => ({
			code: ml.code,
			material_id: need(materialIds, ml.material, 'material'),
			supplier_id: need(supplierIds, ml.supplier, 'supplier'),
			supplier_lot: ml.supplierLot,
			quantity: ml.quantity,
			received_at: ml.receivedAt,
			expires_at: ml.expiresAt,
			status: ml.status,
			decided_by: ml.decidedBy === null ? null : user(ml.decidedBy),
			decided_at: ml.decidedAt,
			evidence: ml.evidence
		})),
		'ON CONFLICT (code) DO NOTHING'
	);
	const materialLotIds = await idsByCode(
		tx,
		'material_lot',
		'code',
		h.materialLots.map((m) => m.code)
	);
	const materialLot = (code: string) => need(materialLotIds, code, 'material lot');

	// --- certifications and inspection plans (no natural key: ids reserved) ---------------
	const certIds = await reserveIds(tx, 'certification', h.certifications.length);
	counts.certifications = await bulkInsert(
		tx,
		'certification',
		{
			id: ['int', null],
			user_id: ['int', null],
			operation: ['text', null],
			line_id: ['int', null],
			valid_from: ts('valid_from'),
			valid_to: ts('valid_to'),
			evidence: ['text', null],
			granted_by: ['int', null],
			revoked_at: ts('revoked_at'),
			revoked_by: ['int', null],
			revoke_reason: ['text', null],
			created_at: ts('valid_from')
		},
		h.certifications.map((c, i) => ({
			id: certIds[i],
			user_id: user(c.username),
			operation: c.operation,
			line_id: line(c.line),
			valid_from: c.validFrom,
			valid_to: c.validTo,
			evidence: c.evidence,
			granted_by: user(c.grantedBy),
			revoked_at: c.revokedAt,
			revoked_by: c.revokedBy === null ? null : user(c.revokedBy),
			revoke_reason: c.revokeReason
		}))
	);
	const planIds = await reserveIds(tx, 'inspection_plan', h.inspectionPlans.length);
	counts.inspectionPlans = await bulkInsert(
		tx,
		'inspection_plan',
		{
			id: ['int', null],
			product_id: ['int', null],
			name: ['text', null],
			characteristic_id: ['int', null],
			trigger: ['text', null],
			every_parts: ['int', null],
			every_minutes: ['int', null],
			grace_minutes: ['int', null],
			created_at: ts('created_at')
		},
		h.inspectionPlans.map((p, i) => ({
			id: planIds[i],
			product_id: product(p.product),
			name: p.name,
			characteristic_id: p.characteristic === null ? null : characteristic(p.characteristic),
			trigger: p.trigger,
			every_parts: p.everyParts,
			every_minutes: p.everyMinutes,
			grace_minutes: p.graceMinutes,
			created_at: h.from - 10 * 86_400_000
		}))
	);

	// --- lots, runs, genealogy -----------------------------------------------------------
	const lotIds = await reserveIds(tx, 'lot', h.lots.length);
	counts.lots = await bulkInsert(
		tx,
		'lot',
		{
			id: ['int', null],
			code: ['text', null],
			product_id: ['int', null],
			process_version_id: ['int', null],
			line_id: ['int', null],
			planned_qty: ['int', null],
			good_qty: ['int', null],
			scrap_qty: ['int', null],
			rework_qty: ['int', null],
			status: ['text', null],
			planned_start: ts('planned_start'),
			started_at: ts('started_at'),
			completed_at: ts('completed_at'),
			review_started_at: ts('review_started_at'),
			decided_at: ts('decided_at'),
			decided_by: ['int', null],
			revision: ['int', null],
			created_at: ts('created_at')
		},
		h.lots.map((l, i) => ({
			id: lotIds[i],
			code: l.code,
			product_id: product(l.product),
			process_version_id: l.version === null ? null : processVersion(l.product, l.version),
			line_id: line(l.line),
			planned_qty: l.plannedQty,
			good_qty: l.goodQty,
			scrap_qty: l.scrapQty,
			rework_qty: l.reworkQty,
			status: l.status,
			planned_start: l.plannedStart,
			started_at: l.startedAt,
			completed_at: l.completedAt,
			review_started_at: l.reviewStartedAt,
			decided_at: l.decidedAt,
			decided_by: l.decidedBy === null ? null : user(l.decidedBy),
			revision: l.revision,
			created_at: Math.min(l.plannedStart, h.now) - 86_400_000
		}))
	);
	const runIds = await reserveIds(tx, 'run', h.runs.length);
	counts.runs = await bulkInsert(
		tx,
		'run',
		{
			id: ['int', null],
			lot_id: ['int', null],
			machine_id: ['int', null],
			operator_id: ['int', null],
			operation: ['text', null],
			started_at: ts('started_at'),
			ended_at: ts('ended_at'),
			certification_id: ['int', null],
			checks: ['jsonb', null],
			started_by: ['int', null],
			created_at: ts('started_at')
		},
		h.runs.map((r, i) => {
			const c = r.checks.certification;
			return {
				id: runIds[i],
				lot_id: lotIds[r.lot],
				machine_id: machine(r.machine),
				operator_id: user(r.operator),
				operation: r.operation,
				started_at: r.startedAt,
				ended_at: r.endedAt,
				certification_id: r.certification === null ? null : certIds[r.certification],
				checks: {
					at: r.startedAt,
					certification: {
						ok: c.standing === 'current',
						certificationId: c.certification === null ? null : certIds[c.certification],
						operation: c.operation,
						standing: c.standing,
						validTo: c.validTo
					},
					materials: r.checks.materials.map((m) => ({
						materialLotId: materialLot(m.materialLot),
						code: m.materialLot,
						status: m.status,
						decidedAt: m.decidedAt,
						ok: true
					})),
					source: 'demo-history'
				},
				started_by: user(r.startedBy)
			};
		})
	);
	counts.lotMaterials = await bulkInsert(
		tx,
		'lot_material',
		{
			lot_id: ['int', null],
			material_lot_id: ['int', null],
			run_id: ['int', null],
			quantity: ['float8', null],
			consumed_at: ts('consumed_at')
		},
		h.consumption.map((c) => ({
			lot_id: lotIds[c.lot],
			material_lot_id: materialLot(c.materialLot),
			run_id: runIds[c.run],
			quantity: c.quantity,
			consumed_at: c.consumedAt
		}))
	);

	// --- deviations, inspections, alarms ---------------------------------------------------
	const deviationIds = await reserveIds(tx, 'deviation', h.deviations.length);
	const inspectionIds = await reserveIds(tx, 'inspection', h.inspections.length);
	const alarmIds = await reserveIds(tx, 'alarm', h.alarms.length);
	counts.deviations = await bulkInsert(
		tx,
		'deviation',
		{
			id: ['int', null],
			code: ['text', null],
			title: ['text', null],
			description: ['text', null],
			lot_id: ['int', null],
			alarm_id: ['int', null],
			inspection_id: ['int', null],
			status: ['text', null],
			opened_by: ['int', null],
			opened_at: ts('opened_at'),
			closed_at: ts('closed_at'),
			closed_by: ['int', null]
		},
		h.deviations.map((d, i) => ({
			id: deviationIds[i],
			code: d.code,
			title: d.title,
			description: d.description,
			lot_id: d.lot === null ? null : lotIds[d.lot],
			alarm_id: d.alarm === null ? null : alarmIds[d.alarm],
			inspection_id: d.inspection === null ? null : inspectionIds[d.inspection],
			status: d.status,
			opened_by: user(d.openedBy),
			opened_at: d.openedAt,
			closed_at: d.closedAt,
			closed_by: d.closedBy === null ? null : user(d.closedBy)
		}))
	);
	counts.inspections = await bulkInsert(
		tx,
		'inspection',
		{
			id: ['int', null],
			lot_id: ['int', null],
			plan_id: ['int', null],
			run_id: ['int', null],
			seq: ['int', null],
			due_at: ts('due_at'),
			status: ['text', null],
			done_at: ts('done_at'),
			done_by: ['int', null],
			value: ['float8', null],
			passed: ['boolean', null],
			note: ['text', null],
			suspect_reason: ['text', null],
			confirmed_by: ['int', null],
			confirmed_at: ts('confirmed_at'),
			deviation_id: ['int', null],
			created_at: ts('due_at')
		},
		h.inspections.map((x, i) => ({
			id: inspectionIds[i],
			lot_id: lotIds[x.lot],
			plan_id: planIds[x.plan],
			run_id: runIds[x.run],
			seq: x.seq,
			due_at: x.dueAt,
			status: x.status,
			done_at: x.doneAt,
			done_by: x.doneBy === null ? null : user(x.doneBy),
			value: x.value,
			passed: x.passed,
			note: x.note,
			suspect_reason: x.suspectReason,
			confirmed_by: x.confirmedBy === null ? null : user(x.confirmedBy),
			confirmed_at: x.confirmedAt,
			deviation_id: x.deviation === null ? null : deviationIds[x.deviation]
		}))
	);
	counts.alarms = await bulkInsert(
		tx,
		'alarm',
		{
			id: ['int', null],
			characteristic_id: ['int', null],
			kind: ['text', null],
			machine_id: ['int', null],
			line_id: ['int', null],
			inspection_id: ['int', null],
			rule: ['text', null],
			ts: ts('ts'),
			message: ['text', null],
			side: ['text', null],
			value: ['float8', null],
			point_ts: ['jsonb', null],
			state: ['text', "'cleared'"],
			raised_at: ts('ts'),
			last_ts: ts('last_ts'),
			occurrences: ['int', null],
			returned_at: ts('returned_at'),
			acknowledged_at: ts('acknowledged_at'),
			acknowledged_by: ['int', null],
			cause_code: ['text', null],
			action_code: ['text', null],
			ack_note: ['text', null],
			cleared_at: ts('cleared_at'),
			deviation_id: ['int', null],
			revision: ['int', '3']
		},
		h.alarms.map((a, i) => ({
			id: alarmIds[i],
			characteristic_id: a.characteristic === null ? null : characteristic(a.characteristic),
			kind: a.kind,
			machine_id: machine(a.machine),
			line_id: line(a.line),
			inspection_id: a.inspection === null ? null : inspectionIds[a.inspection],
			rule: a.rule,
			ts: a.ts,
			message: a.message,
			side: a.side,
			value: a.value,
			point_ts: a.pointTs,
			last_ts: a.lastTs,
			occurrences: a.occurrences,
			returned_at: a.returnedAt,
			acknowledged_at: a.acknowledgedAt,
			acknowledged_by: user(a.acknowledgedBy),
			cause_code: a.causeCode,
			action_code: a.actionCode,
			ack_note: a.ackNote,
			cleared_at: a.clearedAt,
			deviation_id: a.deviation === null ? null : deviationIds[a.deviation]
		}))
	);

	// --- shipments and per-lot parameter summaries -------------------------------------------
	counts.shipments = await bulkInsert(
		tx,
		'shipment',
		{
			code: ['text', null],
			lot_id: ['int', null],
			customer_id: ['int', null],
			quantity: ['int', null],
			shipped_at: ts('shipped_at'),
			created_at: ts('shipped_at')
		},
		h.shipments.map((s) => ({
			code: s.code,
			lot_id: lotIds[s.lot],
			customer_id: customer(s.customer),
			quantity: s.quantity,
			shipped_at: s.shippedAt
		})),
		'ON CONFLICT (code) DO NOTHING'
	);
	counts.lotParameterSummaries = await bulkInsert(
		tx,
		'lot_parameter_summary',
		{
			lot_id: ['int', null],
			characteristic_id: ['int', null],
			count: ['int', null],
			min: ['float8', null],
			max: ['float8', null],
			mean: ['float8', null],
			sd: ['float8', null],
			histogram: ['jsonb', null],
			computed_at: ts('computed_at')
		},
		h.summaries.map((s) => ({
			lot_id: lotIds[s.lot],
			characteristic_id: characteristic(s.characteristic),
			count: s.count,
			min: s.min,
			max: s.max,
			mean: s.mean,
			sd: s.sd,
			histogram: s.histogram,
			computed_at: s.computedAt
		}))
	);
	return counts;
}
