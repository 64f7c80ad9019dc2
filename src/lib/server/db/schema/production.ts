/**
 * The production domain (DESIGN.md §3): customers and products, process versions with spec
 * limits, materials and their lots, lots and runs, genealogy, shipments, certifications,
 * inspection plans and inspections, deviations, and the per-lot parameter summaries kept for
 * the life of the lot record.
 *
 * Codes are natural keys (unique, human-facing, stable across re-seeding); ids are surrogates.
 * Regulated rows are never deleted: they change state, and every change is audited by the
 * service that makes it (src/lib/server/production/*). Statuses are closed lists enforced by
 * CHECK constraints so a bug or a hand-written statement cannot invent a state.
 */
import { sql } from 'drizzle-orm';
import {
	boolean,
	check,
	doublePrecision,
	index,
	integer,
	jsonb,
	pgTable,
	primaryKey,
	serial,
	text,
	timestamp,
	unique
} from 'drizzle-orm/pg-core';
import { appUser } from './auth';
import { characteristic, line, machine } from './plant';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** An OEM customer: owns products, receives shipments, and (as a portal user) sees only its lots. */
export const customer = pgTable('customer', {
	id: serial('id').primaryKey(),
	code: text('code').notNull().unique(),
	name: text('name').notNull(),
	createdAt: tz('created_at').notNull().defaultNow()
});

/** A part made for one customer on one line (part number = code). */
export const product = pgTable(
	'product',
	{
		id: serial('id').primaryKey(),
		code: text('code').notNull().unique(),
		name: text('name').notNull(),
		customerId: integer('customer_id')
			.notNull()
			.references(() => customer.id),
		lineId: integer('line_id')
			.notNull()
			.references(() => line.id),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [index('product_customer_idx').on(t.customerId), index('product_line_idx').on(t.lineId)]
);

export const PROCESS_VERSION_STATUSES = ['draft', 'effective', 'superseded'] as const;
export type ProcessVersionStatus = (typeof PROCESS_VERSION_STATUSES)[number];

/**
 * How a product is made, effective-dated. The version a lot was made under is fixed on the lot
 * when it starts, so the lot record keeps the specs that applied to it.
 */
export const processVersion = pgTable(
	'process_version',
	{
		id: serial('id').primaryKey(),
		productId: integer('product_id')
			.notNull()
			.references(() => product.id),
		version: integer('version').notNull(),
		status: text('status').$type<ProcessVersionStatus>().notNull().default('draft'),
		effectiveFrom: tz('effective_from'),
		description: text('description').notNull().default(''),
		approvedBy: integer('approved_by').references(() => appUser.id),
		approvedAt: tz('approved_at'),
		createdBy: integer('created_by').references(() => appUser.id),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		unique('process_version_product_version_key').on(t.productId, t.version),
		check('process_version_status_check', sql`${t.status} in ('draft', 'effective', 'superseded')`)
	]
);

/** Spec limits of one characteristic under one process version. */
export const processSpec = pgTable(
	'process_spec',
	{
		processVersionId: integer('process_version_id')
			.notNull()
			.references(() => processVersion.id),
		characteristicId: integer('characteristic_id')
			.notNull()
			.references(() => characteristic.id),
		lsl: doublePrecision('lsl'),
		target: doublePrecision('target'),
		usl: doublePrecision('usl')
	},
	(t) => [
		primaryKey({ name: 'process_spec_pkey', columns: [t.processVersionId, t.characteristicId] })
	]
);

export const supplier = pgTable('supplier', {
	id: serial('id').primaryKey(),
	code: text('code').notNull().unique(),
	name: text('name').notNull(),
	/** On the approved supplier list (ISO 13485 §7.4.1). */
	approved: boolean('approved').notNull().default(true),
	createdAt: tz('created_at').notNull().defaultNow()
});

export const material = pgTable('material', {
	id: serial('id').primaryKey(),
	code: text('code').notNull().unique(),
	name: text('name').notNull(),
	/** UCUM unit the material is counted in (kg, g, {each}). */
	unit: text('unit').notNull(),
	createdAt: tz('created_at').notNull().defaultNow()
});

export const MATERIAL_LOT_STATUSES = ['quarantine', 'validated', 'rejected'] as const;
export type MaterialLotStatus = (typeof MATERIAL_LOT_STATUSES)[number];

/** A received lot of a material. Only `validated` lots may be consumed by a run. */
export const materialLot = pgTable(
	'material_lot',
	{
		id: serial('id').primaryKey(),
		/** Internal receiving number. */
		code: text('code').notNull().unique(),
		materialId: integer('material_id')
			.notNull()
			.references(() => material.id),
		supplierId: integer('supplier_id')
			.notNull()
			.references(() => supplier.id),
		supplierLot: text('supplier_lot').notNull(),
		quantity: doublePrecision('quantity').notNull(),
		receivedAt: tz('received_at').notNull(),
		expiresAt: tz('expires_at'),
		status: text('status').$type<MaterialLotStatus>().notNull().default('quarantine'),
		/** Who validated or rejected it, when, and on what evidence (CoA, incoming inspection). */
		decidedBy: integer('decided_by').references(() => appUser.id),
		decidedAt: tz('decided_at'),
		evidence: text('evidence'),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		index('material_lot_material_idx').on(t.materialId),
		index('material_lot_supplier_lot_idx').on(t.supplierLot),
		check('material_lot_status_check', sql`${t.status} in ('quarantine', 'validated', 'rejected')`)
	]
);

export const LOT_STATUSES = [
	'planned',
	'running',
	'completed',
	'in_review',
	'released',
	'rejected'
] as const;
export type LotStatus = (typeof LOT_STATUSES)[number];

/** A production lot (batch) of one product. */
export const lot = pgTable(
	'lot',
	{
		id: serial('id').primaryKey(),
		/** Lot number printed on labels and the dossier. */
		code: text('code').notNull().unique(),
		productId: integer('product_id')
			.notNull()
			.references(() => product.id),
		/** Fixed when the lot starts (the version effective then). */
		processVersionId: integer('process_version_id').references(() => processVersion.id),
		lineId: integer('line_id')
			.notNull()
			.references(() => line.id),
		plannedQty: integer('planned_qty').notNull(),
		goodQty: integer('good_qty').notNull().default(0),
		scrapQty: integer('scrap_qty').notNull().default(0),
		reworkQty: integer('rework_qty').notNull().default(0),
		status: text('status').$type<LotStatus>().notNull().default('planned'),
		plannedStart: tz('planned_start'),
		startedAt: tz('started_at'),
		completedAt: tz('completed_at'),
		reviewStartedAt: tz('review_started_at'),
		/** Released or rejected: the decision time and the person (signature holds the rest). */
		decidedAt: tz('decided_at'),
		decidedBy: integer('decided_by').references(() => appUser.id),
		/** Record version for signatures: +1 on every change. */
		revision: integer('revision').notNull().default(1),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		index('lot_product_idx').on(t.productId),
		index('lot_line_started_idx').on(t.lineId, t.startedAt),
		index('lot_status_idx').on(t.status),
		index('lot_completed_idx').on(t.completedAt),
		check(
			'lot_status_check',
			sql`${t.status} in ('planned', 'running', 'completed', 'in_review', 'released', 'rejected')`
		),
		check(
			'lot_quantities_check',
			sql`${t.plannedQty} > 0 AND ${t.goodQty} >= 0 AND ${t.scrapQty} >= 0 AND ${t.reworkQty} >= 0`
		)
	]
);

/**
 * One machine working on one lot, run by one operator, over an interval (ended_at null while
 * running). The certification and material checks made at start are stored with the run
 * (`checks`): the lot record shows what was verified and what it found, not today's state.
 */
export const run = pgTable(
	'run',
	{
		id: serial('id').primaryKey(),
		lotId: integer('lot_id')
			.notNull()
			.references(() => lot.id),
		machineId: integer('machine_id')
			.notNull()
			.references(() => machine.id),
		operatorId: integer('operator_id')
			.notNull()
			.references(() => appUser.id),
		/** The operation performed (moulding, assembly, leak-test, …); certifications name it. */
		operation: text('operation').notNull(),
		startedAt: tz('started_at').notNull(),
		endedAt: tz('ended_at'),
		/** The certification that qualified the operator at start. */
		certificationId: integer('certification_id').references(() => certification.id),
		/** What the start checks found: { certification: {...}, materials: [...] }. */
		checks: jsonb('checks').$type<Record<string, unknown>>().notNull().default({}),
		startedBy: integer('started_by').references(() => appUser.id),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		index('run_lot_idx').on(t.lotId),
		index('run_machine_started_idx').on(t.machineId, t.startedAt),
		// The open runs: what each machine is making now (the spec in force, plant/service.ts).
		index('run_open_idx')
			.on(t.machineId)
			.where(sql`${t.endedAt} IS NULL`),
		index('run_operator_idx').on(t.operatorId)
	]
);

/** Genealogy: a material lot consumed by a lot (through a run where known). */
export const lotMaterial = pgTable(
	'lot_material',
	{
		id: serial('id').primaryKey(),
		lotId: integer('lot_id')
			.notNull()
			.references(() => lot.id),
		materialLotId: integer('material_lot_id')
			.notNull()
			.references(() => materialLot.id),
		runId: integer('run_id').references(() => run.id),
		quantity: doublePrecision('quantity').notNull(),
		consumedAt: tz('consumed_at').notNull()
	},
	(t) => [
		index('lot_material_lot_idx').on(t.lotId),
		index('lot_material_material_lot_idx').on(t.materialLotId)
	]
);

export const shipment = pgTable(
	'shipment',
	{
		id: serial('id').primaryKey(),
		code: text('code').notNull().unique(),
		lotId: integer('lot_id')
			.notNull()
			.references(() => lot.id),
		customerId: integer('customer_id')
			.notNull()
			.references(() => customer.id),
		quantity: integer('quantity').notNull(),
		shippedAt: tz('shipped_at').notNull(),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [index('shipment_lot_idx').on(t.lotId), index('shipment_customer_idx').on(t.customerId)]
);

/**
 * A person's qualification for an operation, optionally narrowed to one line or one machine
 * (both null = that operation anywhere). Current means valid_from <= t < valid_to and not
 * revoked at t; the history stays for the lot records that cite it.
 */
export const certification = pgTable(
	'certification',
	{
		id: serial('id').primaryKey(),
		userId: integer('user_id')
			.notNull()
			.references(() => appUser.id),
		operation: text('operation').notNull(),
		lineId: integer('line_id').references(() => line.id),
		machineId: integer('machine_id').references(() => machine.id),
		validFrom: tz('valid_from').notNull(),
		validTo: tz('valid_to').notNull(),
		/** Training record, assessment or certificate reference. */
		evidence: text('evidence').notNull(),
		grantedBy: integer('granted_by').references(() => appUser.id),
		revokedAt: tz('revoked_at'),
		revokedBy: integer('revoked_by').references(() => appUser.id),
		revokeReason: text('revoke_reason'),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		index('certification_user_idx').on(t.userId, t.operation),
		index('certification_valid_to_idx').on(t.validTo),
		check('certification_interval_check', sql`${t.validTo} > ${t.validFrom}`)
	]
);

export const INSPECTION_TRIGGERS = [
	'every-n-parts',
	'every-t-minutes',
	'lot-start',
	'lot-end'
] as const;
export type InspectionTrigger = (typeof INSPECTION_TRIGGERS)[number];

/**
 * When a product must be inspected and what: a measured characteristic (the result is judged
 * against its spec, and far outside it is suspect) or a pass/fail check (characteristic null).
 */
export const inspectionPlan = pgTable(
	'inspection_plan',
	{
		id: serial('id').primaryKey(),
		productId: integer('product_id')
			.notNull()
			.references(() => product.id),
		name: text('name').notNull(),
		characteristicId: integer('characteristic_id').references(() => characteristic.id),
		trigger: text('trigger').$type<InspectionTrigger>().notNull(),
		everyParts: integer('every_parts'),
		everyMinutes: integer('every_minutes'),
		/** Minutes after the due time before the inspection counts as missed. */
		graceMinutes: integer('grace_minutes').notNull().default(15),
		active: boolean('active').notNull().default(true),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		index('inspection_plan_product_idx').on(t.productId),
		check(
			'inspection_plan_trigger_check',
			sql`${t.trigger} in ('every-n-parts', 'every-t-minutes', 'lot-start', 'lot-end')`
		),
		check(
			'inspection_plan_interval_check',
			sql`(${t.trigger} <> 'every-n-parts' OR ${t.everyParts} > 0) AND (${t.trigger} <> 'every-t-minutes' OR ${t.everyMinutes} > 0)`
		)
	]
);

export const INSPECTION_STATUSES = ['due', 'done', 'missed', 'suspect', 'waived'] as const;
export type InspectionStatus = (typeof INSPECTION_STATUSES)[number];

/**
 * One inspection falling due for a lot. `suspect` = a result far outside spec that waits for a
 * second person's confirmation (then `done`, with confirmed_by); `missed` = not done within the
 * grace period (an alarm is raised); `waived` = covered by a deviation.
 */
export const inspection = pgTable(
	'inspection',
	{
		id: serial('id').primaryKey(),
		lotId: integer('lot_id')
			.notNull()
			.references(() => lot.id),
		planId: integer('plan_id')
			.notNull()
			.references(() => inspectionPlan.id),
		runId: integer('run_id').references(() => run.id),
		/** 1, 2, 3, … per (lot, plan). */
		seq: integer('seq').notNull(),
		dueAt: tz('due_at').notNull(),
		status: text('status').$type<InspectionStatus>().notNull().default('due'),
		doneAt: tz('done_at'),
		doneBy: integer('done_by').references(() => appUser.id),
		/** Measured value (characteristic plans) or null for pass/fail. */
		value: doublePrecision('value'),
		passed: boolean('passed'),
		note: text('note'),
		suspectReason: text('suspect_reason'),
		confirmedBy: integer('confirmed_by').references(() => appUser.id),
		confirmedAt: tz('confirmed_at'),
		deviationId: integer('deviation_id').references(() => deviation.id),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		unique('inspection_lot_plan_seq_key').on(t.lotId, t.planId, t.seq),
		index('inspection_status_due_idx').on(t.status, t.dueAt),
		check(
			'inspection_status_check',
			sql`${t.status} in ('due', 'done', 'missed', 'suspect', 'waived')`
		)
	]
);

/**
 * Deviation workflow (issue 6): opened (prefilled from an alarm, inspection or lot) →
 * contained (containment recorded) → investigated (root cause recorded) → actions (CAPA
 * actions owned and dated) → effectiveness (actions done; effectiveness check due) → closed
 * (electronic signature, meaning "closed"). Every state but `closed` is open: it covers an
 * overdue inspection and counts as an open exception in lot release.
 */
export const DEVIATION_STATUSES = [
	'open',
	'contained',
	'investigated',
	'actions',
	'effectiveness',
	'closed'
] as const;
export type DeviationStatus = (typeof DEVIATION_STATUSES)[number];
export const DEVIATION_SEVERITIES = ['minor', 'major', 'critical'] as const;
export type DeviationSeverity = (typeof DEVIATION_SEVERITIES)[number];

/**
 * A recorded departure from the approved process, opened from an alarm, an inspection or a lot
 * (or by hand), with its containment, root cause, CAPA actions (table `capa`) and
 * effectiveness check. `revision` is the record version signatures bind to.
 */
export const deviation = pgTable(
	'deviation',
	{
		id: serial('id').primaryKey(),
		code: text('code').notNull().unique(),
		title: text('title').notNull(),
		description: text('description').notNull(),
		lotId: integer('lot_id').references(() => lot.id),
		alarmId: integer('alarm_id'),
		inspectionId: integer('inspection_id'),
		lineId: integer('line_id').references(() => line.id),
		severity: text('severity').$type<DeviationSeverity>().notNull().default('minor'),
		status: text('status').$type<DeviationStatus>().notNull().default('open'),
		ownerId: integer('owner_id').references(() => appUser.id),
		/** When the whole deviation should be closed (aging and overdue are measured from it). */
		dueAt: tz('due_at'),
		containment: text('containment'),
		containedAt: tz('contained_at'),
		containedBy: integer('contained_by').references(() => appUser.id),
		rootCause: text('root_cause'),
		investigatedAt: tz('investigated_at'),
		investigatedBy: integer('investigated_by').references(() => appUser.id),
		effectivenessDueAt: tz('effectiveness_due_at'),
		effectivenessResult: text('effectiveness_result'),
		/** The effectiveness check's verdict: true = actions effective. */
		effective: boolean('effective'),
		effectivenessCheckedAt: tz('effectiveness_checked_at'),
		effectivenessCheckedBy: integer('effectiveness_checked_by').references(() => appUser.id),
		revision: integer('revision').notNull().default(1),
		openedBy: integer('opened_by').references(() => appUser.id),
		openedAt: tz('opened_at').notNull().defaultNow(),
		closedAt: tz('closed_at'),
		closedBy: integer('closed_by').references(() => appUser.id),
		updatedAt: tz('updated_at').notNull().defaultNow()
	},
	(t) => [
		index('deviation_lot_idx').on(t.lotId),
		index('deviation_alarm_idx').on(t.alarmId),
		index('deviation_status_idx').on(t.status),
		index('deviation_opened_idx').on(t.openedAt),
		check(
			'deviation_status_check',
			sql`${t.status} in ('open', 'contained', 'investigated', 'actions', 'effectiveness', 'closed')`
		),
		check('deviation_severity_check', sql`${t.severity} in ('minor', 'major', 'critical')`),
		check('deviation_revision_check', sql`${t.revision} >= 1`)
	]
);

export const CAPA_KINDS = ['corrective', 'preventive'] as const;
export type CapaKind = (typeof CAPA_KINDS)[number];
export const CAPA_STATUSES = ['open', 'done', 'cancelled'] as const;
export type CapaStatus = (typeof CAPA_STATUSES)[number];

/** A corrective or preventive action of a deviation, with its owner and due date. */
export const capa = pgTable(
	'capa',
	{
		id: serial('id').primaryKey(),
		code: text('code').notNull().unique(),
		deviationId: integer('deviation_id')
			.notNull()
			.references(() => deviation.id),
		kind: text('kind').$type<CapaKind>().notNull(),
		description: text('description').notNull(),
		ownerId: integer('owner_id')
			.notNull()
			.references(() => appUser.id),
		dueAt: tz('due_at').notNull(),
		status: text('status').$type<CapaStatus>().notNull().default('open'),
		/** What was done (or why cancelled). */
		outcome: text('outcome'),
		doneAt: tz('done_at'),
		doneBy: integer('done_by').references(() => appUser.id),
		createdBy: integer('created_by').references(() => appUser.id),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		index('capa_deviation_idx').on(t.deviationId),
		index('capa_open_due_idx').on(t.status, t.dueAt),
		check('capa_kind_check', sql`${t.kind} in ('corrective', 'preventive')`),
		check('capa_status_check', sql`${t.status} in ('open', 'done', 'cancelled')`)
	]
);

/**
 * Per-lot statistics of one characteristic over the lot's runs, computed when the lot completes
 * and kept for the life of the lot record (raw samples may be dropped by retention earlier).
 * `histogram`: { lo, hi, counts[] } with equal-width bins.
 */
export const lotParameterSummary = pgTable(
	'lot_parameter_summary',
	{
		lotId: integer('lot_id')
			.notNull()
			.references(() => lot.id),
		characteristicId: integer('characteristic_id')
			.notNull()
			.references(() => characteristic.id),
		count: integer('count').notNull(),
		min: doublePrecision('min'),
		max: doublePrecision('max'),
		mean: doublePrecision('mean'),
		sd: doublePrecision('sd'),
		histogram: jsonb('histogram').$type<{ lo: number; hi: number; counts: number[] }>().notNull(),
		computedAt: tz('computed_at').notNull().defaultNow()
	},
	(t) => [
		primaryKey({ name: 'lot_parameter_summary_pkey', columns: [t.lotId, t.characteristicId] })
	]
);
