/**
 * Plant structure: site → line → machine → characteristic (what is measured).
 *
 * Codes are the natural keys (unique, stable across re-seeding); ids are surrogate keys used
 * everywhere on the wire because they are small integers (sample tuples carry them).
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
	timestamp
} from 'drizzle-orm/pg-core';
import type { ChartType, RuleSetSpec, SuspectConfig } from '../../../spc/types';

export const site = pgTable('site', {
	id: serial('id').primaryKey(),
	code: text('code').notNull().unique(),
	name: text('name').notNull(),
	createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
});

export const line = pgTable(
	'line',
	{
		id: serial('id').primaryKey(),
		siteId: integer('site_id')
			.notNull()
			.references(() => site.id),
		code: text('code').notNull().unique(),
		name: text('name').notNull(),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [index('line_site_idx').on(t.siteId)]
);

export const machine = pgTable(
	'machine',
	{
		id: serial('id').primaryKey(),
		lineId: integer('line_id')
			.notNull()
			.references(() => line.id),
		code: text('code').notNull().unique(),
		name: text('name').notNull(),
		/** The operation it performs (moulding, assembly, leak-test, …); certifications name it. */
		operation: text('operation'),
		/** running | changeover | idle: alarms are suppressed by design outside `running`. */
		mode: text('mode').$type<'running' | 'changeover' | 'idle'>().notNull().default('running'),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		index('machine_line_idx').on(t.lineId),
		check('machine_mode_check', sql`${t.mode} in ('running', 'changeover', 'idle')`)
	]
);

export const characteristic = pgTable(
	'characteristic',
	{
		id: serial('id').primaryKey(),
		machineId: integer('machine_id')
			.notNull()
			.references(() => machine.id),
		code: text('code').notNull().unique(),
		name: text('name').notNull(),
		/** UCUM unit code, e.g. `Cel`, `bar`, `N`, `mL/min`. */
		unit: text('unit').notNull(),
		kind: text('kind').$type<'variable' | 'attribute'>().notNull(),
		chart: text('chart').$type<ChartType>().notNull(),
		subgroupSize: integer('subgroup_size').notNull().default(1),
		samplingIntervalMs: integer('sampling_interval_ms').notNull(),
		specLsl: doublePrecision('spec_lsl'),
		specTarget: doublePrecision('spec_target'),
		specUsl: doublePrecision('spec_usl'),
		suspect: jsonb('suspect').$type<SuspectConfig>().notNull().default({}),
		rules: jsonb('rules').$type<RuleSetSpec>().notNull(),
		decimals: integer('decimals').notNull().default(2),
		/** Where the value comes from at the source (PLC tag, gauge id, simulator channel). */
		sourceTag: text('source_tag'),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
		/** Bumped on every configuration change; feeds IngestConfig.revision. */
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		index('characteristic_machine_idx').on(t.machineId),
		check('characteristic_kind_check', sql`${t.kind} in ('variable', 'attribute')`),
		check(
			'characteristic_chart_check',
			sql`${t.chart} in ('imr', 'xbar-r', 'xbar-s', 'p', 'np', 'c', 'u', 'ewma', 'cusum')`
		),
		check('characteristic_subgroup_size_check', sql`${t.subgroupSize} >= 1`),
		check('characteristic_sampling_interval_check', sql`${t.samplingIntervalMs} > 0`),
		check('characteristic_decimals_check', sql`${t.decimals} between 0 and 9`)
	]
);
