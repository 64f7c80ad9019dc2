/**
 * High-volume measurement data.
 *
 * `sample` is range-partitioned by `ts` (one partition per UTC day plus a DEFAULT partition).
 * Drizzle cannot express partitioning: the table is re-created partitioned by the hand-written
 * migration drizzle/0001_partition_sample.sql, and `ensurePartitions` in ../partitions.ts keeps
 * daily partitions ahead of time. This definition must keep matching that DDL (same columns,
 * same primary key) so queries type-check and future `drizzle-kit generate` diffs stay right.
 *
 * No foreign key from `sample` to `characteristic` on purpose: a per-row RI trigger on the
 * hottest table costs bulk throughput, and the hub only writes ids it has validated against the
 * plant configuration (characteristics are retired, never deleted).
 */
import {
	bigint,
	bigserial,
	doublePrecision,
	integer,
	pgTable,
	primaryKey,
	smallint,
	text,
	timestamp,
	uniqueIndex
} from 'drizzle-orm/pg-core';
import { characteristic } from './plant';

export const sample = pgTable(
	'sample',
	{
		characteristicId: integer('characteristic_id').notNull(),
		ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull(),
		seq: bigint('seq', { mode: 'number' }).notNull(),
		value: doublePrecision('value').notNull(),
		/** SAMPLE_FLAGS bits (src/lib/realtime/events.ts). */
		flags: smallint('flags').notNull().default(0),
		receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [primaryKey({ name: 'sample_pkey', columns: [t.characteristicId, t.ts, t.seq] })]
);

/**
 * A re-delivered sample key whose value or flags differ from the stored one. The stored sample
 * is never overwritten; both versions are kept here for a person to judge.
 */
export const sampleQuarantine = pgTable(
	'sample_quarantine',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		characteristicId: integer('characteristic_id').notNull(),
		ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull(),
		seq: bigint('seq', { mode: 'number' }).notNull(),
		storedValue: doublePrecision('stored_value').notNull(),
		storedFlags: smallint('stored_flags').notNull(),
		receivedValue: doublePrecision('received_value').notNull(),
		receivedFlags: smallint('received_flags').notNull(),
		batchId: text('batch_id'),
		receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		// One row per distinct conflicting version: a re-sent batch does not quarantine twice.
		uniqueIndex('sample_quarantine_version_idx').on(
			t.characteristicId,
			t.ts,
			t.seq,
			t.receivedValue,
			t.receivedFlags
		)
	]
);

/** One plotted point of a subgroup chart (X̄-R, X̄-S, p, np, c, u); keyed by its last sample's time. */
export const subgroup = pgTable(
	'subgroup',
	{
		characteristicId: integer('characteristic_id')
			.notNull()
			.references(() => characteristic.id),
		ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull(),
		n: integer('n').notNull(),
		value: doublePrecision('value').notNull(),
		dispersion: doublePrecision('dispersion'),
		receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [primaryKey({ name: 'subgroup_pkey', columns: [t.characteristicId, t.ts] })]
);
