/**
 * Versioned control limits (phase II). Rows are never updated: a change is a new version.
 * The active version of a characteristic is the one with the latest `effective_from` that is
 * not in the future (ties broken by the higher version).
 */
import {
	doublePrecision,
	integer,
	pgTable,
	serial,
	text,
	timestamp,
	unique
} from 'drizzle-orm/pg-core';
import { characteristic } from './plant';

export const controlLimitVersion = pgTable(
	'control_limit_version',
	{
		id: serial('id').primaryKey(),
		characteristicId: integer('characteristic_id')
			.notNull()
			.references(() => characteristic.id),
		version: integer('version').notNull(),
		centre: doublePrecision('centre').notNull(),
		/** Within-subgroup process sigma (see FrozenLimits in src/lib/spc/types.ts). */
		sigma: doublePrecision('sigma').notNull(),
		/** Where the limits came from: baseline, known standard, … */
		source: text('source').notNull(),
		effectiveFrom: timestamp('effective_from', { withTimezone: true }).notNull().defaultNow(),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		unique('control_limit_version_characteristic_version_key').on(t.characteristicId, t.version)
	]
);
