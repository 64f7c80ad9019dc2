/**
 * Versioned control limits (phase II), under change control.
 *
 * A limit change starts as a `draft` version: its author may edit it (each edit raises
 * `revision`, the record version that signatures bind to, so a signature of revision N shows
 * as not valid for revision N+1). It becomes `effective` only when it carries a valid
 * `authored` signature and a valid `approved` signature by a different person
 * (src/lib/server/records/limit-versions.ts); from then on the row is frozen (a trigger in
 * migration 0005 refuses to change or delete it) and a further change is a new version.
 *
 * The active version of a characteristic is the effective one with the latest `effective_from`
 * that is not in the future (ties broken by the higher version). Drafts are never active.
 */
import { sql } from 'drizzle-orm';
import {
	check,
	doublePrecision,
	integer,
	pgTable,
	serial,
	text,
	timestamp,
	unique
} from 'drizzle-orm/pg-core';
import { appUser } from './auth';
import { characteristic } from './plant';

export const LIMIT_VERSION_STATUSES = ['draft', 'effective'] as const;
export type LimitVersionStatus = (typeof LIMIT_VERSION_STATUSES)[number];

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
		/** draft (editable, not active) | effective (approved, frozen). */
		status: text('status').$type<LimitVersionStatus>().notNull().default('effective'),
		/** Record version for signatures: 1 at creation, +1 on every edit of the draft. */
		revision: integer('revision').notNull().default(1),
		/** Why the limits change (change-control justification); part of the signed content. */
		justification: text('justification'),
		createdBy: integer('created_by').references(() => appUser.id),
		effectiveFrom: timestamp('effective_from', { withTimezone: true }).notNull().defaultNow(),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		unique('control_limit_version_characteristic_version_key').on(t.characteristicId, t.version),
		check('control_limit_version_status_check', sql`${t.status} in ('draft', 'effective')`),
		check('control_limit_version_revision_check', sql`${t.revision} >= 1`)
	]
);
