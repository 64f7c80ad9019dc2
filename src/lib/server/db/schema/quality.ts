/**
 * Alarms and their ISA-18.2 lifecycle (DESIGN.md §5).
 *
 * States: `unacknowledged` (active, not yet seen), `acknowledged` (active, seen), `returned`
 * (returned to normal, still unacknowledged), `cleared` (normal: returned and acknowledged),
 * `shelved` (hidden by a person for a limited time, `shelved_until`; auto-unshelve is a
 * persisted deadline, so a restart does not lose it), `suppressed` (by design: the machine is in
 * changeover or idle) and `out_of_service` (taken out with an authorised reason). The transition
 * table lives in src/lib/alarms/lifecycle.ts; every transition is audited.
 *
 * Kinds: `spc` (a control-chart rule), `spec` (outside spec limits), `inspection` (a missed
 * inspection: no characteristic, the machine and lot say where) and `stale` (data stopped).
 *
 * One row is one alarm CONDITION (characteristic × rule) from raise to clear, not one
 * violation: at most one open row per (characteristic, rule) — enforced by `alarm_open_key` —
 * absorbs every further violation (last_ts, occurrences). `ts` is when it was raised; the
 * unique (characteristic, rule, ts) key keeps a re-sent batch from raising it twice.
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
	serial,
	text,
	timestamp,
	unique,
	uniqueIndex
} from 'drizzle-orm/pg-core';
import type { LiveAlarm } from '../../../realtime/events';
import { appUser } from './auth';
import { characteristic, line, machine } from './plant';

export const ALARM_STATES = [
	'unacknowledged',
	'acknowledged',
	'returned',
	'cleared',
	'shelved',
	'suppressed',
	'out_of_service'
] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export const ALARM_KINDS = ['spc', 'spec', 'inspection', 'stale'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export const alarm = pgTable(
	'alarm',
	{
		id: serial('id').primaryKey(),
		/** Null for alarms that are not about one characteristic (a missed inspection). */
		characteristicId: integer('characteristic_id').references(() => characteristic.id),
		kind: text('kind').$type<AlarmKind>().notNull().default('spc'),
		/** Where it is: always set (denormalised from the characteristic for spc/spec/stale). */
		machineId: integer('machine_id').references(() => machine.id),
		lineId: integer('line_id').references(() => line.id),
		/** The inspection a missed-inspection alarm is about. */
		inspectionId: integer('inspection_id'),
		rule: text('rule').$type<LiveAlarm['rule']>().notNull(),
		/** Time of the point that completed the pattern. */
		ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull(),
		message: text('message').notNull(),
		side: text('side').$type<'upper' | 'lower'>(),
		chart: text('chart').$type<'primary' | 'dispersion'>().notNull().default('primary'),
		value: doublePrecision('value'),
		/** Epoch-ms timestamps of every point of the pattern. */
		pointTs: jsonb('point_ts').$type<number[]>().notNull().default([]),
		state: text('state').$type<LiveAlarm['state']>().notNull().default('unacknowledged'),
		raisedAt: timestamp('raised_at', { withTimezone: true }).notNull().defaultNow(),
		/** Time of the latest violation absorbed by this alarm. */
		lastTs: timestamp('last_ts', { withTimezone: true, mode: 'date' }).notNull(),
		occurrences: integer('occurrences').notNull().default(1),
		/** When the condition was last seen to return to normal (server clock). */
		returnedAt: timestamp('returned_at', { withTimezone: true }),
		acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
		acknowledgedBy: integer('acknowledged_by').references(() => appUser.id),
		/** Assignable cause and action (codes from alarm_code), required to acknowledge. */
		causeCode: text('cause_code'),
		actionCode: text('action_code'),
		ackNote: text('ack_note'),
		/** Shelving: by whom, why, until when (auto-unshelve deadline, persisted). */
		shelvedAt: timestamp('shelved_at', { withTimezone: true }),
		shelvedBy: integer('shelved_by').references(() => appUser.id),
		shelvedUntil: timestamp('shelved_until', { withTimezone: true }),
		shelveReason: text('shelve_reason'),
		/** State to return to when unshelved or returned to service. */
		stateBefore: text('state_before').$type<AlarmState>(),
		/** Suppressed by design / out of service: why, by whom (or 'system'). */
		setAsideReason: text('set_aside_reason'),
		setAsideBy: integer('set_aside_by').references(() => appUser.id),
		clearedAt: timestamp('cleared_at', { withTimezone: true }),
		/** Deviation opened from this alarm, if any. */
		deviationId: integer('deviation_id'),
		/** +1 on every transition (optimistic concurrency for people acting on the same alarm). */
		revision: integer('revision').notNull().default(1)
	},
	(t) => [
		unique('alarm_characteristic_rule_ts_key').on(t.characteristicId, t.rule, t.ts),
		uniqueIndex('alarm_open_key')
			.on(t.characteristicId, t.rule)
			.where(sql`${t.state} <> 'cleared'`),
		index('alarm_state_idx').on(t.state, t.ts),
		index('alarm_line_ts_idx').on(t.lineId, t.ts),
		index('alarm_machine_ts_idx').on(t.machineId, t.ts),
		index('alarm_shelved_until_idx')
			.on(t.shelvedUntil)
			.where(sql`${t.state} = 'shelved'`),
		check(
			'alarm_state_check',
			sql`${t.state} in ('unacknowledged', 'acknowledged', 'returned', 'cleared', 'shelved', 'suppressed', 'out_of_service')`
		),
		check('alarm_kind_check', sql`${t.kind} in ('spc', 'spec', 'inspection', 'stale')`)
	]
);

/** Configurable code lists for acknowledging alarms: assignable causes and actions taken. */
export const alarmCode = pgTable(
	'alarm_code',
	{
		id: serial('id').primaryKey(),
		list: text('list').$type<'cause' | 'action'>().notNull(),
		code: text('code').notNull(),
		label: text('label').notNull(),
		active: boolean('active').notNull().default(true),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		unique('alarm_code_list_code_key').on(t.list, t.code),
		check('alarm_code_list_check', sql`${t.list} in ('cause', 'action')`)
	]
);
