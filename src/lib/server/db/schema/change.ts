/**
 * Change control and KPI targets (issue 6).
 *
 * A change request proposes a change to a process version, spec limits, control limits, a rule
 * set or a sampling plan. Workflow: draft → impact (impact analysis listed automatically:
 * affected products, characteristics, open lots) → review → approved (two electronic
 * signatures, author and approver, different people; effective date set) → implemented (the new
 * effective-dated version exists and the workers apply it from its effective date) → closed;
 * a request can be rejected (at review or approval) or withdrawn (by its author before
 * approval). Each step's time is a column, so processing times (opened → approved, opened →
 * closed) are plain arithmetic for the KPI boards; every transition is also audited.
 *
 * `proposal` holds the proposed values (per kind; validated by the service with zod), `impact`
 * the analysis as computed when the request entered impact analysis. `revision` is the record
 * version the signatures bind to: editing a draft raises it, so an earlier signature shows as
 * not valid for the edited request.
 */
import { sql } from 'drizzle-orm';
import {
	check,
	doublePrecision,
	index,
	integer,
	jsonb,
	pgTable,
	serial,
	text,
	timestamp,
	uniqueIndex
} from 'drizzle-orm/pg-core';
import { appUser } from './auth';
import { controlLimitVersion } from './limits';
import { characteristic, line, site } from './plant';
import { processVersion, product } from './production';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const CHANGE_KINDS = [
	'process-version',
	'spec-limit',
	'control-limit',
	'rule-set',
	'sampling-plan'
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const CHANGE_STATUSES = [
	'draft',
	'impact',
	'review',
	'approved',
	'implemented',
	'closed',
	'rejected',
	'withdrawn'
] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

export const changeRequest = pgTable(
	'change_request',
	{
		id: serial('id').primaryKey(),
		/** CR-YYYY-NNNN, human-facing. */
		code: text('code').notNull().unique(),
		kind: text('kind').$type<ChangeKind>().notNull(),
		title: text('title').notNull(),
		justification: text('justification').notNull(),
		status: text('status').$type<ChangeStatus>().notNull().default('draft'),
		/** What the change is about (whichever applies to the kind). */
		characteristicId: integer('characteristic_id').references(() => characteristic.id),
		productId: integer('product_id').references(() => product.id),
		processVersionId: integer('process_version_id').references(() => processVersion.id),
		lineId: integer('line_id').references(() => line.id),
		proposal: jsonb('proposal').$type<Record<string, unknown>>().notNull(),
		impact: jsonb('impact').$type<Record<string, unknown>>(),
		/** When the approved change takes effect (set at approval; not before approval time). */
		effectiveFrom: tz('effective_from'),
		revision: integer('revision').notNull().default(1),
		authorId: integer('author_id')
			.notNull()
			.references(() => appUser.id),
		approverId: integer('approver_id').references(() => appUser.id),
		/** The version the implemented change created. */
		resultLimitVersionId: integer('result_limit_version_id').references(
			() => controlLimitVersion.id
		),
		resultProcessVersionId: integer('result_process_version_id').references(
			() => processVersion.id
		),
		openedAt: tz('opened_at').notNull().defaultNow(),
		impactAt: tz('impact_at'),
		reviewAt: tz('review_at'),
		approvedAt: tz('approved_at'),
		implementedAt: tz('implemented_at'),
		closedAt: tz('closed_at'),
		rejectedAt: tz('rejected_at'),
		withdrawnAt: tz('withdrawn_at'),
		/** Why rejected or withdrawn, or the closing note. */
		decisionReason: text('decision_reason'),
		updatedAt: tz('updated_at').notNull().defaultNow()
	},
	(t) => [
		index('change_request_status_idx').on(t.status),
		index('change_request_opened_idx').on(t.openedAt),
		index('change_request_characteristic_idx').on(t.characteristicId),
		check(
			'change_request_kind_check',
			sql`${t.kind} in ('process-version', 'spec-limit', 'control-limit', 'rule-set', 'sampling-plan')`
		),
		check(
			'change_request_status_check',
			sql`${t.status} in ('draft', 'impact', 'review', 'approved', 'implemented', 'closed', 'rejected', 'withdrawn')`
		),
		check('change_request_revision_check', sql`${t.revision} >= 1`)
	]
);

/**
 * Versioned rule set and sampling plan of a characteristic, under change control (the limits
 * have control_limit_version). The characteristic's own `rules` / sampling columns hold the
 * version in force; a row here records every version with its effective date and the change
 * request that made it, and the workers apply a version when its effective date is reached.
 */
export const characteristicConfigVersion = pgTable(
	'characteristic_config_version',
	{
		id: serial('id').primaryKey(),
		characteristicId: integer('characteristic_id')
			.notNull()
			.references(() => characteristic.id),
		version: integer('version').notNull(),
		rules: jsonb('rules').$type<unknown>(),
		subgroupSize: integer('subgroup_size'),
		samplingIntervalMs: integer('sampling_interval_ms'),
		effectiveFrom: tz('effective_from').notNull(),
		changeRequestId: integer('change_request_id').references(() => changeRequest.id),
		appliedAt: tz('applied_at'),
		createdAt: tz('created_at').notNull().defaultNow()
	},
	(t) => [
		uniqueIndex('characteristic_config_version_key').on(t.characteristicId, t.version),
		index('characteristic_config_version_pending_idx').on(t.appliedAt, t.effectiveFrom)
	]
);

export const KPI_KEYS = [
	'batch-yield',
	'first-pass-yield',
	'release-time',
	'change-approval-time',
	'change-close-time',
	'rework-rate',
	'scrap-rate',
	'on-time-inspections',
	'record-completeness',
	'alarms-per-line',
	'capa-aging',
	'plan-achievement'
] as const;
export type KpiKey = (typeof KPI_KEYS)[number];

/** A KPI's target, plant-wide (site_id null) or for one site; shown on the trend charts. */
export const kpiTarget = pgTable(
	'kpi_target',
	{
		id: serial('id').primaryKey(),
		kpi: text('kpi').$type<KpiKey>().notNull(),
		siteId: integer('site_id').references(() => site.id),
		target: doublePrecision('target').notNull(),
		/** 'higher' when more is better (yield), 'lower' when less is (release time). */
		better: text('better').$type<'higher' | 'lower'>().notNull(),
		updatedBy: integer('updated_by').references(() => appUser.id),
		updatedAt: tz('updated_at').notNull().defaultNow()
	},
	(t) => [
		uniqueIndex('kpi_target_scope_key').on(t.kpi, sql`coalesce(${t.siteId}, 0)`),
		check('kpi_target_better_check', sql`${t.better} in ('higher', 'lower')`)
	]
);
