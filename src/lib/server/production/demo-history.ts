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
import {
	generateDemoHistory,
	HISTORY_DEMO_USERS,
	type DemoHistory,
	type HistoryDeviation,
	DAY_MS
} from '../../demo/history';
import { DEMO_PLANT, type DemoPlant } from '../../demo/plant';
import { seedAlarmCodes } from '../alarms/codes';
import { appendAudit, SYSTEM_ACTOR } from '../audit/append';
import type { Database, TxContext } from '../db';
import { fromEpochMs } from '../db/raw';
import { signChangeRequestsForDemo } from '../change/signable';
import { signDecidedLotsForDemo } from '../lots/signing';

/** Entity type of the one audit event a seeding writes (also the "already seeded" marker). */
export const DEMO_HISTORY_ENTITY = 'demo-history';
/**
 * Second marker: the quality workflows (deviation workflow and CAPA, change requests, lot
 * release times, KPI targets). A database seeded before they existed holds the first marker
 * only and receives them once at its next start (an upgrade); a fresh one gets both at once.
 */
export const DEMO_WORKFLOWS_ENTITY = 'demo-history-workflows';
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
	/**
	 * Tests only: seed as the version before the quality workflows did — no CAPA, change
	 * requests or KPI targets and no second marker — so the upgrade can be exercised.
	 */
	withoutWorkflows?: boolean;
}

export interface SeedDemoHistoryResult {
	/** False when the database already held a demo history (nothing was written). */
	seeded: boolean;
	/** True when a history seeded by an earlier version received the quality workflows. */
	upgraded: boolean;
	/** Rows written per table (empty when not seeded). */
	counts: Record<string, number>;
	ms: number;
}

/** Has a demo history been seeded into this database? */
export async function demoHistorySeeded(database: Pick<Database, 'query'>): Promise<boolean> {
	return (await markerOf(database, DEMO_HISTORY_ENTITY)) !== null;
}

/** Have the quality workflows of the demo history been seeded into this database? */
export async function demoWorkflowsSeeded(database: Pick<Database, 'query'>): Promise<boolean> {
	return (await markerOf(database, DEMO_WORKFLOWS_ENTITY)) !== null;
}

/** The new values of a marker event (the first seeding's now, from and seed), or null. */
async function markerOf(
	database: Pick<Database, 'query'>,
	entityType: string
): Promise<Record<string, unknown> | null> {
	const rows = await database.query<{ values: Record<string, unknown> | string | null }>(
		`SELECT new_values AS values FROM audit_event WHERE entity_type = $1 AND action = 'create'
		 ORDER BY id LIMIT 1`,
		[entityType]
	);
	if (rows.length === 0) return null;
	const v = rows[0].values;
	return typeof v === 'string' ? (JSON.parse(v) as Record<string, unknown>) : (v ?? {});
}

/**
 * Session id on the demo's historical release signatures: the QA decisions of the generated
 * year, signed at their decision time over the lot's content (lots/signing.ts), so the lot pages
 * show them valid and record completeness counts them. Real decisions carry real sessions.
 */
const DEMO_SIGNATURE_SESSION = 'demo-history';

export async function seedDemoHistory(
	database: Database,
	options: SeedDemoHistoryOptions = {}
): Promise<SeedDemoHistoryResult> {
	const t0 = performance.now();
	const done = (seeded: boolean, upgraded: boolean, counts: Record<string, number> = {}) => ({
		seeded,
		upgraded,
		counts,
		ms: performance.now() - t0
	});
	if (await demoHistorySeeded(database)) {
		if (await demoWorkflowsSeeded(database)) {
			// Histories seeded before lot signatures existed get them once (none are added twice).
			const signed = await signDecidedLotsForDemo(database, DEMO_SIGNATURE_SESSION);
			const changes = await signChangeRequestsForDemo(database, DEMO_SIGNATURE_SESSION);
			return signed + changes > 0
				? done(false, true, { lotSignatures: signed, changeSignatures: changes })
				: done(false, false);
		}
		return upgradeDemoHistory(database, options, t0);
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
		if (await demoHistorySeeded(tx)) return done(false, false);
		const counts = await write(tx, history);
		if (!options.withoutWorkflows) {
			Object.assign(counts, await writeWorkflowExtras(tx, history, await idMaps(tx, history)));
			counts.lotSignatures = await signDecidedLotsForDemo(tx, DEMO_SIGNATURE_SESSION);
			counts.changeSignatures = await signChangeRequestsForDemo(tx, DEMO_SIGNATURE_SESSION);
		}
		const values = {
			seed,
			now: new Date(history.now).toISOString(),
			from: new Date(history.from).toISOString()
		};
		await appendAudit(tx, {
			actor: SYSTEM_ACTOR,
			action: 'create',
			entityType: DEMO_HISTORY_ENTITY,
			entityId: `seed-${seed}`,
			newValues: { ...values, ...counts },
			reason: 'demo history seeded at first start (demo only, never on a real plant)'
		});
		if (!options.withoutWorkflows) {
			await appendWorkflowsMarker(tx, seed, values, counts, 'seeded with the history');
		}
		return done(true, false, counts);
	});
}

async function appendWorkflowsMarker(
	tx: TxContext,
	seed: number,
	values: Record<string, unknown>,
	counts: Record<string, number>,
	how: string
): Promise<void> {
	await appendAudit(tx, {
		actor: SYSTEM_ACTOR,
		action: 'create',
		entityType: DEMO_WORKFLOWS_ENTITY,
		entityId: `seed-${seed}`,
		newValues: { ...values, ...counts },
		reason: `demo quality workflows (deviations and CAPA, change requests, release times, KPI targets) ${how} (demo only)`
	});
}

/**
 * A database holding a history seeded before the quality workflows existed: regenerate that
 * history from the first marker's `now` and `seed` (the generator is deterministic, so lot and
 * deviation codes are the same) and bring its rows to what the current generator writes —
 * lot review/decision/plan times, deviation workflows, shipments after release — plus the new
 * rows (plant deviations, CAPA, change requests, KPI targets). Rows changed by real use since
 * (an audit event names them) are left as they are. Once: the second marker.
 */
async function upgradeDemoHistory(
	database: Database,
	options: SeedDemoHistoryOptions,
	t0: number
): Promise<SeedDemoHistoryResult> {
	const marker = (await markerOf(database, DEMO_HISTORY_ENTITY)) ?? {};
	const now = Date.parse(String(marker.now));
	const from = Date.parse(String(marker.from));
	const seed = typeof marker.seed === 'number' ? marker.seed : (options.seed ?? 1);
	if (!Number.isFinite(now) || !Number.isFinite(from)) {
		throw new Error('seedDemoHistory: the demo-history marker has no now/from to upgrade from');
	}
	const days = Math.round((now - from) / DAY_MS);
	const history = generateDemoHistory({ now, seed, plant: options.plant ?? DEMO_PLANT, days });
	return database.transaction(async (tx) => {
		await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_KEY]);
		if (await demoWorkflowsSeeded(tx)) {
			return { seeded: false, upgraded: false, counts: {}, ms: performance.now() - t0 };
		}
		const counts = await upgrade(tx, history);
		counts.lotSignatures = await signDecidedLotsForDemo(tx, DEMO_SIGNATURE_SESSION);
		counts.changeSignatures = await signChangeRequestsForDemo(tx, DEMO_SIGNATURE_SESSION);
		await appendWorkflowsMarker(
			tx,
			seed,
			{ seed, now: new Date(now).toISOString(), from: new Date(from).toISOString() },
			counts,
			'added to a history seeded by an earlier version'
		);
		return { seeded: false, upgraded: true, counts, ms: performance.now() - t0 };
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
	await writeStaff(tx, h);
	const usernames = [
		...HISTORY_DEMO_USERS,
		...h.people.map((p) => p.username),
		...h.staff.map((p) => p.username)
	];
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
		{ id: ['int', null], ...DEVIATION_COLUMNS },
		h.deviations.map((d, i) => ({
			id: deviationIds[i],
			...deviationRow(d, {
				user,
				line,
				lot: (k) => lotIds[k],
				alarm: (k) => alarmIds[k],
				inspection: (k) => inspectionIds[k]
			})
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

// ------------------------------------------------------------------------------------------
// Quality workflows: staff, deviation workflow and CAPA, change requests, KPI targets
// ------------------------------------------------------------------------------------------

/** Columns of a deviation row with its workflow (the id is added by the fresh seeding). */
const DEVIATION_COLUMNS: Record<string, [string, string | null]> = {
	code: ['text', null],
	title: ['text', null],
	description: ['text', null],
	lot_id: ['int', null],
	alarm_id: ['int', null],
	inspection_id: ['int', null],
	line_id: ['int', null],
	severity: ['text', null],
	status: ['text', null],
	owner_id: ['int', null],
	due_at: ts('due_at'),
	containment: ['text', null],
	contained_at: ts('contained_at'),
	contained_by: ['int', null],
	root_cause: ['text', null],
	investigated_at: ts('investigated_at'),
	investigated_by: ['int', null],
	effectiveness_due_at: ts('effectiveness_due_at'),
	effectiveness_result: ['text', null],
	effective: ['boolean', null],
	effectiveness_checked_at: ts('effectiveness_checked_at'),
	effectiveness_checked_by: ['int', null],
	revision: ['int', null],
	opened_by: ['int', null],
	opened_at: ts('opened_at'),
	closed_at: ts('closed_at'),
	closed_by: ['int', null],
	updated_at: ts('updated_at')
};

interface DeviationRefs {
	user: (name: string) => number;
	line: (code: string) => number;
	lot: (index: number) => number | undefined;
	alarm: (index: number) => number | undefined;
	inspection: (index: number) => number | undefined;
}

function deviationRow(d: HistoryDeviation, r: DeviationRefs): Json {
	const u = (name: string | null) => (name === null ? null : r.user(name));
	return {
		code: d.code,
		title: d.title,
		description: d.description,
		lot_id: d.lot === null ? null : (r.lot(d.lot) ?? null),
		alarm_id: d.alarm === null ? null : (r.alarm(d.alarm) ?? null),
		inspection_id: d.inspection === null ? null : (r.inspection(d.inspection) ?? null),
		line_id: d.line === null ? null : r.line(d.line),
		severity: d.severity,
		status: d.status,
		owner_id: u(d.owner),
		due_at: d.dueAt,
		containment: d.containment,
		contained_at: d.containedAt,
		contained_by: u(d.containedBy),
		root_cause: d.rootCause,
		investigated_at: d.investigatedAt,
		investigated_by: u(d.investigatedBy),
		effectiveness_due_at: d.effectivenessDueAt,
		effectiveness_result: d.effectivenessResult,
		effective: d.effective,
		effectiveness_checked_at: d.effectivenessCheckedAt,
		effectiveness_checked_by: u(d.effectivenessCheckedBy),
		revision: d.revision,
		opened_by: u(d.openedBy),
		opened_at: d.openedAt,
		closed_at: d.closedAt,
		closed_by: u(d.closedBy),
		updated_at: d.updatedAt
	};
}

/** The quality staff of the history (no password) with their role, plant-wide. */
async function writeStaff(tx: TxContext, h: DemoHistory): Promise<void> {
	await bulkInsert(
		tx,
		'app_user',
		{ username: ['text', null], full_name: ['text', null] },
		h.staff.map((p) => ({ username: p.username, full_name: p.fullName })),
		'ON CONFLICT (username) DO NOTHING'
	);
	const ids = await idsByCode(
		tx,
		'app_user',
		'username',
		h.staff.map((p) => p.username)
	);
	await bulkInsert(
		tx,
		'role_grant',
		{ user_id: ['int', null], role: ['text', null] },
		h.staff.map((p) => ({ user_id: need(ids, p.username, 'staff user'), role: p.role })),
		'WHERE NOT EXISTS (SELECT 1 FROM role_grant g WHERE g.user_id = x.user_id)'
	);
}

interface IdMaps {
	user: (name: string) => number;
	line: (code: string) => number;
	product: (code: string) => number;
	characteristic: (code: string) => number;
	processVersion: (product: string, version: number) => number | null;
	/** Deviation ids by code, only for the deviations this seeding wrote. */
	deviations: Map<string, number>;
}

/** Ids of everything the workflow rows reference, by natural key. */
async function idMaps(tx: TxContext, h: DemoHistory): Promise<IdMaps> {
	const users = await idsByCode(tx, 'app_user', 'username', [
		...HISTORY_DEMO_USERS,
		...h.people.map((p) => p.username),
		...h.staff.map((p) => p.username)
	]);
	const lines = await tx.query<{ id: number; code: string }>(`SELECT id, code FROM line`);
	const lineIds = new Map(lines.map((r) => [r.code, r.id]));
	const products = await idsByCode(
		tx,
		'product',
		'code',
		h.products.map((p) => p.code)
	);
	const chars = await tx.query<{ id: number; code: string }>(`SELECT id, code FROM characteristic`);
	const charIds = new Map(chars.map((r) => [r.code, r.id]));
	const pvs = await tx.query<{ id: number; code: string; version: number }>(
		`SELECT v.id, p.code, v.version FROM process_version v JOIN product p ON p.id = v.product_id`
	);
	const pvIds = new Map(pvs.map((r) => [`${r.code}|${r.version}`, r.id]));
	const deviations = await idsByCode(
		tx,
		'deviation',
		'code',
		h.deviations.map((d) => d.code)
	);
	return {
		user: (name) => need(users, name, 'user (are the demo users seeded?)'),
		line: (code) => need(lineIds, code, 'line'),
		product: (code) => need(products, code, 'product'),
		characteristic: (code) => need(charIds, code, 'characteristic'),
		processVersion: (product, version) => pvIds.get(`${product}|${version}`) ?? null,
		deviations
	};
}

/** CAPA actions, change requests and KPI targets (both the fresh seeding and the upgrade). */
async function writeWorkflowExtras(
	tx: TxContext,
	h: DemoHistory,
	ids: IdMaps
): Promise<Record<string, number>> {
	const counts: Record<string, number> = {};
	const u = (name: string | null) => (name === null ? null : ids.user(name));
	const capas = h.capas.filter((c) => ids.deviations.has(h.deviations[c.deviation].code));
	counts.capas = await bulkInsert(
		tx,
		'capa',
		{
			code: ['text', null],
			deviation_id: ['int', null],
			kind: ['text', null],
			description: ['text', null],
			owner_id: ['int', null],
			due_at: ts('due_at'),
			status: ['text', null],
			outcome: ['text', null],
			done_at: ts('done_at'),
			done_by: ['int', null],
			created_by: ['int', null],
			created_at: ts('created_at')
		},
		capas.map((c) => ({
			code: c.code,
			deviation_id: ids.deviations.get(h.deviations[c.deviation].code),
			kind: c.kind,
			description: c.description,
			owner_id: u(c.owner),
			due_at: c.dueAt,
			status: c.status,
			outcome: c.outcome,
			done_at: c.doneAt,
			done_by: u(c.doneBy),
			created_by: u(c.createdBy),
			created_at: c.createdAt
		})),
		'ON CONFLICT (code) DO NOTHING'
	);
	counts.changeRequests = await bulkInsert(
		tx,
		'change_request',
		{
			code: ['text', null],
			kind: ['text', null],
			title: ['text', null],
			justification: ['text', null],
			status: ['text', null],
			characteristic_id: ['int', null],
			product_id: ['int', null],
			process_version_id: ['int', null],
			line_id: ['int', null],
			proposal: ['jsonb', null],
			impact: ['jsonb', null],
			effective_from: ts('effective_from'),
			revision: ['int', null],
			author_id: ['int', null],
			approver_id: ['int', null],
			result_process_version_id: ['int', null],
			opened_at: ts('opened_at'),
			impact_at: ts('impact_at'),
			review_at: ts('review_at'),
			approved_at: ts('approved_at'),
			implemented_at: ts('implemented_at'),
			closed_at: ts('closed_at'),
			rejected_at: ts('rejected_at'),
			withdrawn_at: ts('withdrawn_at'),
			decision_reason: ['text', null],
			updated_at: ts('updated_at')
		},
		h.changeRequests.map((c) => ({
			code: c.code,
			kind: c.kind,
			title: c.title,
			justification: c.justification,
			status: c.status,
			characteristic_id: c.characteristic === null ? null : ids.characteristic(c.characteristic),
			product_id: c.product === null ? null : ids.product(c.product),
			process_version_id:
				c.processVersion === null
					? null
					: ids.processVersion(c.processVersion.product, c.processVersion.version),
			line_id: ids.line(c.line),
			proposal: c.proposal,
			impact: c.impact,
			effective_from: c.effectiveFrom,
			revision: c.revision,
			author_id: ids.user(c.author),
			approver_id: u(c.approver),
			result_process_version_id:
				c.resultProcessVersion === null
					? null
					: ids.processVersion(c.resultProcessVersion.product, c.resultProcessVersion.version),
			opened_at: c.openedAt,
			impact_at: c.impactAt,
			review_at: c.reviewAt,
			approved_at: c.approvedAt,
			implemented_at: c.implementedAt,
			closed_at: c.closedAt,
			rejected_at: c.rejectedAt,
			withdrawn_at: c.withdrawnAt,
			decision_reason: c.decisionReason,
			updated_at: c.updatedAt
		})),
		'ON CONFLICT (code) DO NOTHING'
	);
	Object.assign(counts, await writeChangeResults(tx));
	// Plant-wide targets, only where none is set yet (an edited target stays).
	counts.kpiTargets = await bulkInsert(
		tx,
		'kpi_target',
		{ kpi: ['text', null], target: ['float8', null], better: ['text', null] },
		h.kpiTargets.map((k) => ({ kpi: k.kpi, target: k.target, better: k.better })),
		'WHERE NOT EXISTS (SELECT 1 FROM kpi_target t WHERE t.kpi = x.kpi AND t.site_id IS NULL)'
	);
	return counts;
}

/**
 * The versions the implemented (and closed) demo change requests created, as the change service
 * creates them: a control-limit change an effective control_limit_version from its effective
 * date, a rule-set or sampling-plan change a complete characteristic_config_version (applied at
 * its date when that has passed). Without them an implemented request named no result and the
 * characteristic listed no version it made. The generator moves done requests *to* the plant's
 * current configuration, so the versions in force match what the simulator runs. Only requests
 * without a result are touched: safe on every seeding and upgrade.
 */
async function writeChangeResults(tx: TxContext): Promise<Record<string, number>> {
	const limits = await tx.query<{ id: number }>(
		`WITH done AS (
		   SELECT cr.id, cr.characteristic_id, cr.code, cr.justification, cr.author_id,
		          cr.effective_from, coalesce(cr.implemented_at, cr.effective_from) AS made_at,
		          (cr.proposal->>'centre')::float8 AS centre, (cr.proposal->>'sigma')::float8 AS sigma,
		          coalesce(cr.proposal->>'source', 'change request') AS source,
		          coalesce((SELECT max(v.version) FROM control_limit_version v
		                    WHERE v.characteristic_id = cr.characteristic_id), 0)
		            + row_number() OVER (PARTITION BY cr.characteristic_id
		                                 ORDER BY cr.effective_from, cr.id) AS version
		   FROM change_request cr
		   WHERE cr.kind = 'control-limit' AND cr.status IN ('implemented', 'closed')
		     AND cr.result_limit_version_id IS NULL AND cr.characteristic_id IS NOT NULL
		     AND cr.effective_from IS NOT NULL
		     AND jsonb_typeof(cr.proposal->'centre') = 'number'
		     AND jsonb_typeof(cr.proposal->'sigma') = 'number' AND (cr.proposal->>'sigma')::float8 > 0
		 ), made AS (
		   INSERT INTO control_limit_version (characteristic_id, version, centre, sigma, source,
		          justification, status, revision, created_by, effective_from, created_at, updated_at)
		   SELECT characteristic_id, version, centre, sigma, source, code || ': ' || justification,
		          'effective', 1, author_id, effective_from, made_at, made_at
		   FROM done
		   RETURNING id, characteristic_id, version
		 )
		 UPDATE change_request cr SET result_limit_version_id = m.id
		 FROM done d JOIN made m ON m.characteristic_id = d.characteristic_id AND m.version = d.version
		 WHERE cr.id = d.id
		 RETURNING cr.id`
	);
	const configs = await tx.query<{ id: number }>(
		`WITH done AS (
		   SELECT cr.id, cr.characteristic_id, cr.effective_from,
		          coalesce(cr.implemented_at, cr.effective_from) AS made_at,
		          CASE WHEN cr.kind = 'rule-set' THEN cr.proposal->'rules' ELSE c.rules END AS rules,
		          CASE WHEN cr.kind = 'sampling-plan' THEN (cr.proposal->>'subgroupSize')::int
		               ELSE c.subgroup_size END AS subgroup_size,
		          CASE WHEN cr.kind = 'sampling-plan' THEN (cr.proposal->>'samplingIntervalMs')::int
		               ELSE c.sampling_interval_ms END AS sampling_interval_ms,
		          coalesce((SELECT max(v.version) FROM characteristic_config_version v
		                    WHERE v.characteristic_id = cr.characteristic_id), 0)
		            + row_number() OVER (PARTITION BY cr.characteristic_id
		                                 ORDER BY cr.effective_from, cr.id) AS version
		   FROM change_request cr JOIN characteristic c ON c.id = cr.characteristic_id
		   WHERE cr.kind IN ('rule-set', 'sampling-plan') AND cr.status IN ('implemented', 'closed')
		     AND cr.effective_from IS NOT NULL
		     AND NOT EXISTS (SELECT 1 FROM characteristic_config_version v
		                     WHERE v.change_request_id = cr.id)
		     AND (cr.kind = 'sampling-plan' OR cr.proposal ? 'rules')
		     AND (cr.kind = 'rule-set' OR (jsonb_typeof(cr.proposal->'subgroupSize') = 'number'
		          AND jsonb_typeof(cr.proposal->'samplingIntervalMs') = 'number'))
		 )
		 INSERT INTO characteristic_config_version (characteristic_id, version, rules, subgroup_size,
		        sampling_interval_ms, effective_from, change_request_id, applied_at, created_at)
		 SELECT characteristic_id, version, rules, subgroup_size, sampling_interval_ms, effective_from,
		        id, CASE WHEN effective_from <= now() THEN effective_from END, made_at
		 FROM done
		 RETURNING id`
	);
	return { changeLimitVersions: limits.length, changeConfigVersions: configs.length };
}

/**
 * Brings a history seeded by an earlier version to what the current generator writes (see
 * upgradeDemoHistory). Lots and deviations are matched by code (deviations also by title);
 * a row with an audit event of its own was changed by real use and is left alone.
 */
async function upgrade(tx: TxContext, h: DemoHistory): Promise<Record<string, number>> {
	const counts: Record<string, number> = {};
	await writeStaff(tx, h);
	let ids = await idMaps(tx, h);
	const u = (name: string | null) => (name === null ? null : ids.user(name));

	// Lots: review, decision and plan times (and the status they imply).
	const touchedLots: { id: number; code: string }[] = [];
	for (let i = 0; i < h.lots.length; i += CHUNK) {
		const rows = h.lots.slice(i, i + CHUNK).map((l) => ({
			code: l.code,
			status: l.status,
			planned_start: l.plannedStart,
			review_started_at: l.reviewStartedAt,
			decided_at: l.decidedAt,
			decided_by: u(l.decidedBy),
			revision: l.revision
		}));
		touchedLots.push(
			...(await tx.query<{ id: number; code: string }>(
				`UPDATE lot l SET status = x.status, planned_start = ${fromEpochMs('x.planned_start')},
				        review_started_at = ${fromEpochMs('x.review_started_at')},
				        decided_at = ${fromEpochMs('x.decided_at')}, decided_by = x.decided_by,
				        revision = x.revision
				 FROM jsonb_to_recordset($1::jsonb) AS x(code text, status text, planned_start float8,
				      review_started_at float8, decided_at float8, decided_by int, revision int)
				 WHERE l.code = x.code
				   AND NOT EXISTS (SELECT 1 FROM audit_event a
				                   WHERE a.entity_type = 'lot' AND a.entity_id = l.id::text)
				 RETURNING l.id, l.code`,
				[JSON.stringify(rows)]
			))
		);
	}
	counts.lotsUpdated = touchedLots.length;
	// Their shipments follow the (new) release: written again as the generator has them.
	const lotIdByCode = new Map(touchedLots.map((l) => [l.code, l.id]));
	await tx.query(
		`DELETE FROM shipment WHERE lot_id IN (SELECT jsonb_array_elements_text($1::jsonb)::int)`,
		[JSON.stringify(touchedLots.map((l) => l.id))]
	);
	const customers = await idsByCode(
		tx,
		'customer',
		'code',
		h.customers.map((c) => c.code)
	);
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
		h.shipments
			.filter((s) => lotIdByCode.has(h.lots[s.lot].code))
			.map((s) => ({
				code: s.code,
				lot_id: lotIdByCode.get(h.lots[s.lot].code),
				customer_id: need(customers, s.customer, 'customer'),
				quantity: s.quantity,
				shipped_at: s.shippedAt
			})),
		'ON CONFLICT (code) DO NOTHING'
	);

	// Deviations: the lot deviations' workflow onto their rows; the plant deviations are new.
	const noRef = () => undefined;
	const refs: DeviationRefs = {
		user: ids.user,
		line: ids.line,
		lot: noRef,
		alarm: noRef,
		inspection: noRef
	};
	const existing = h.deviations.filter((d) => d.kind !== 'plant');
	const names = Object.keys(DEVIATION_COLUMNS).filter(
		(n) => !['code', 'title', 'description', 'lot_id', 'alarm_id', 'inspection_id'].includes(n)
	);
	const defs = ['code', 'title', ...names].map((n) => `${n} ${DEVIATION_COLUMNS[n][0]}`).join(', ');
	const sets = names.map((n) => `${n} = ${DEVIATION_COLUMNS[n][1] ?? `x.${n}`}`).join(', ');
	const ours = new Set<string>();
	for (let i = 0; i < existing.length; i += CHUNK) {
		const rows = existing.slice(i, i + CHUNK).map((d) => deviationRow(d, refs));
		const updated = await tx.query<{ code: string }>(
			`UPDATE deviation d SET ${sets}
			 FROM jsonb_to_recordset($1::jsonb) AS x(${defs})
			 WHERE d.code = x.code AND d.title = x.title
			   AND NOT EXISTS (SELECT 1 FROM audit_event a
			                   WHERE a.entity_type = 'deviation' AND a.entity_id = d.id::text)
			 RETURNING d.code`,
			[JSON.stringify(rows)]
		);
		for (const r of updated) ours.add(r.code);
	}
	counts.deviationsUpdated = ours.size;
	const plant = h.deviations.filter((d) => d.kind === 'plant');
	const inserted = await tx.query<{ code: string }>(
		`INSERT INTO deviation (${Object.keys(DEVIATION_COLUMNS).join(', ')})
		 SELECT ${Object.keys(DEVIATION_COLUMNS)
				.map((n) => DEVIATION_COLUMNS[n][1] ?? `x.${n}`)
				.join(', ')}
		 FROM jsonb_to_recordset($1::jsonb) AS x(${Object.keys(DEVIATION_COLUMNS)
				.map((n) => `${n} ${DEVIATION_COLUMNS[n][0]}`)
				.join(', ')})
		 ON CONFLICT (code) DO NOTHING RETURNING code`,
		[JSON.stringify(plant.map((d) => deviationRow(d, refs)))]
	);
	for (const r of inserted) ours.add(r.code);
	counts.deviationsInserted = inserted.length;

	ids = await idMaps(tx, h);
	// CAPA only for the deviations written here (not for rows changed by real use).
	ids.deviations = new Map([...ids.deviations].filter(([code]) => ours.has(code)));
	Object.assign(counts, await writeWorkflowExtras(tx, h, ids));
	return counts;
}
