/**
 * Alarms, minimal for now (acknowledgement, shelving and the rest of ISA-18.2 come later).
 *
 * One row is one alarm CONDITION (characteristic × rule) from raise to clear, not one
 * violation: at most one open row per (characteristic, rule) — enforced by `alarm_open_key` —
 * absorbs every further violation (last_ts, occurrences). `ts` is when it was raised; the
 * unique (characteristic, rule, ts) key keeps a re-sent batch from raising it twice.
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
	unique,
	uniqueIndex
} from 'drizzle-orm/pg-core';
import type { LiveAlarm } from '../../../realtime/events';
import { characteristic } from './plant';

export const alarm = pgTable(
	'alarm',
	{
		id: serial('id').primaryKey(),
		characteristicId: integer('characteristic_id')
			.notNull()
			.references(() => characteristic.id),
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
		returnedAt: timestamp('returned_at', { withTimezone: true })
	},
	(t) => [
		unique('alarm_characteristic_rule_ts_key').on(t.characteristicId, t.rule, t.ts),
		uniqueIndex('alarm_open_key')
			.on(t.characteristicId, t.rule)
			.where(sql`${t.state} in ('unacknowledged', 'acknowledged', 'returned')`),
		index('alarm_state_idx').on(t.state, t.ts),
		check(
			'alarm_state_check',
			sql`${t.state} in ('unacknowledged', 'acknowledged', 'returned', 'cleared')`
		)
	]
);
