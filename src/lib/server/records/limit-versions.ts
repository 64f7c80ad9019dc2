/**
 * Control-limit versions as signable records under SPC change control.
 *
 * Life of a limit change: a quality engineer proposes a `draft` version (new centre/sigma and
 * the justification); the draft may be edited until it is approved, each edit raising its
 * `revision` (the record version signatures bind to) and so invalidating signatures of the
 * earlier revision. It becomes `effective` when it carries an `authored` signature and an
 * `approved` signature by a different person, both of the current revision; then it is
 * frozen (database trigger) and the hub pushes the new limits to workers and walls.
 *
 * Every change is audited in the transaction that makes it, with old and new values and the
 * reason given.
 */
import { and, desc, eq, max, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { SignatureMeaning } from '$lib/auth/roles';
import { primaryLimits } from '$lib/spc/points';
import type { ChartType, RuleSetSpec } from '$lib/spc/types';
import { appendAudit, diff, type Actor } from '../audit/append';
import type { Database, TxContext } from '../db';
import type { RawQuery } from '../db/raw';
import type { AppDb } from '../db';
import {
	appUser,
	characteristic,
	controlLimitVersion,
	line,
	machine,
	site,
	type LimitVersionStatus
} from '../db/schema';
import type { SignableAdapter, SignableVersion } from './signatures';

export const LIMIT_VERSION_RECORD = 'control-limit-version';

/** The database or an open transaction: both can run builder queries and raw statements. */
type Queryable = RawQuery & { db: AppDb };

export type LimitVersionErrorCode =
	'not-found' | 'not-draft' | 'stale' | 'draft-exists' | 'unchanged' | 'invalid';

/** A refusal the page shows next to the form (never a database message). */
export class LimitVersionError extends Error {
	constructor(
		readonly code: LimitVersionErrorCode,
		message: string,
		readonly field?: string
	) {
		super(message);
		this.name = 'LimitVersionError';
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Reading                                                                                   */
/* ---------------------------------------------------------------------------------------- */

export interface CharacteristicRecord {
	id: number;
	code: string;
	name: string;
	unit: string;
	kind: 'variable' | 'attribute';
	chart: ChartType;
	subgroupSize: number;
	decimals: number;
	rules: RuleSetSpec;
	spec: { lsl: number | null; target: number | null; usl: number | null };
	machine: { id: number; code: string; name: string };
	line: { id: number; code: string; name: string };
	site: { id: number; name: string };
}

export async function loadCharacteristicRecord(
	database: Queryable,
	characteristicId: number
): Promise<CharacteristicRecord | null> {
	const [row] = await database.db
		.select({ c: characteristic, m: machine, l: line, s: site })
		.from(characteristic)
		.innerJoin(machine, eq(machine.id, characteristic.machineId))
		.innerJoin(line, eq(line.id, machine.lineId))
		.innerJoin(site, eq(site.id, line.siteId))
		.where(eq(characteristic.id, characteristicId));
	if (!row) return null;
	const { c, m, l, s } = row;
	return {
		id: c.id,
		code: c.code,
		name: c.name,
		unit: c.unit,
		kind: c.kind,
		chart: c.chart,
		subgroupSize: c.subgroupSize,
		decimals: c.decimals,
		rules: c.rules,
		spec: { lsl: c.specLsl, target: c.specTarget, usl: c.specUsl },
		machine: { id: m.id, code: m.code, name: m.name },
		line: { id: l.id, code: l.code, name: l.name },
		site: { id: s.id, name: s.name }
	};
}

export interface LimitVersion {
	id: number;
	characteristicId: number;
	version: number;
	status: LimitVersionStatus;
	revision: number;
	centre: number;
	sigma: number;
	source: string;
	justification: string | null;
	createdBy: { username: string; fullName: string } | null;
	effectiveFrom: Date;
	createdAt: Date;
	updatedAt: Date;
}

type VersionRow = typeof controlLimitVersion.$inferSelect;

function toLimitVersion(
	row: VersionRow,
	creator: { username: string; fullName: string } | null
): LimitVersion {
	return {
		id: row.id,
		characteristicId: row.characteristicId,
		version: row.version,
		status: row.status,
		revision: row.revision,
		centre: row.centre,
		sigma: row.sigma,
		source: row.source,
		justification: row.justification,
		createdBy: creator,
		effectiveFrom: row.effectiveFrom,
		createdAt: row.createdAt,
		updatedAt: row.updatedAt
	};
}

/** Every version of a characteristic's limits, newest first. */
export async function listLimitVersions(
	database: Queryable,
	characteristicId: number
): Promise<LimitVersion[]> {
	const rows = await database.db
		.select({ v: controlLimitVersion, username: appUser.username, fullName: appUser.fullName })
		.from(controlLimitVersion)
		.leftJoin(appUser, eq(appUser.id, controlLimitVersion.createdBy))
		.where(eq(controlLimitVersion.characteristicId, characteristicId))
		.orderBy(desc(controlLimitVersion.version));
	return rows.map((r) =>
		toLimitVersion(
			r.v,
			r.username && r.fullName ? { username: r.username, fullName: r.fullName } : null
		)
	);
}

/**
 * The id of the version the engine runs on now (effective, latest effective_from not in the
 * future, then highest version): the same rule as plant/service.ts readCharacteristicConfigs.
 */
export async function activeLimitVersionId(
	database: Queryable,
	characteristicId: number
): Promise<number | null> {
	const [row] = await database.db
		.select({ id: controlLimitVersion.id })
		.from(controlLimitVersion)
		.where(
			and(
				eq(controlLimitVersion.characteristicId, characteristicId),
				eq(controlLimitVersion.status, 'effective'),
				sql`${controlLimitVersion.effectiveFrom} <= now()`
			)
		)
		.orderBy(desc(controlLimitVersion.effectiveFrom), desc(controlLimitVersion.version))
		.limit(1);
	return row?.id ?? null;
}

/** UCL/LCL of the plotted statistic at the characteristic's subgroup size, where defined. */
export function controlLimitsOf(
	chart: ChartType,
	subgroupSize: number,
	v: Pick<LimitVersion, 'centre' | 'sigma'>
): { lcl: number | null; ucl: number | null } | null {
	// EWMA/CUSUM limits depend on the point index and parameters: no single pair to show.
	if (chart === 'ewma' || chart === 'cusum') return null;
	try {
		const l = primaryLimits(chart, { centre: v.centre, sigma: v.sigma }, subgroupSize);
		return { lcl: l.lcl, ucl: l.ucl };
	} catch (error) {
		if (error instanceof RangeError) return null;
		throw error;
	}
}

/**
 * Exactly what a signature of a limit version binds to. Status and effective time are left
 * out on purpose: approval makes the draft effective without changing what was signed.
 */
export function limitVersionContent(v: VersionRow | LimitVersion): Record<string, unknown> {
	return {
		recordType: LIMIT_VERSION_RECORD,
		id: v.id,
		characteristicId: v.characteristicId,
		version: v.version,
		revision: v.revision,
		centre: v.centre,
		sigma: v.sigma,
		source: v.source,
		justification: v.justification
	};
}

/* ---------------------------------------------------------------------------------------- */
/* Drafts                                                                                    */
/* ---------------------------------------------------------------------------------------- */

const finite = z.number().refine(Number.isFinite, 'Enter a number.');

/** What a person enters for a draft (routes coerce form strings to numbers before this). */
export const limitDraftSchema = z.object({
	centre: finite,
	sigma: finite.refine((s) => s >= 0, 'Sigma cannot be negative.'),
	source: z.string().trim().min(3, 'Say where the limits come from.').max(200),
	justification: z
		.string()
		.trim()
		.min(10, 'Give the reason for the change (10 characters at least).')
		.max(2000)
});
export type LimitDraftInput = z.infer<typeof limitDraftSchema>;

/** Chart-specific sanity: a p chart's centre is a fraction, variable charts need sigma > 0. */
function checkForChart(chart: ChartType, input: LimitDraftInput): void {
	if ((chart === 'p' || chart === 'np') && (input.centre < 0 || input.centre > 1)) {
		throw new LimitVersionError(
			'invalid',
			'For a p or np chart the centre is a fraction between 0 and 1.',
			'centre'
		);
	}
	if ((chart === 'c' || chart === 'u') && input.centre < 0) {
		throw new LimitVersionError(
			'invalid',
			'The centre of a count chart cannot be negative.',
			'centre'
		);
	}
	const attribute = chart === 'p' || chart === 'np' || chart === 'c' || chart === 'u';
	if (!attribute && !(input.sigma > 0)) {
		throw new LimitVersionError('invalid', 'Sigma must be greater than zero.', 'sigma');
	}
}

function parseDraft(input: unknown): LimitDraftInput {
	const parsed = limitDraftSchema.safeParse(input);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		throw new LimitVersionError('invalid', issue.message, String(issue.path[0] ?? ''));
	}
	return parsed.data;
}

/** Propose new limits: a draft version (one open draft per characteristic). */
export async function createDraftLimitVersion(
	database: Database,
	actor: Actor,
	input: { characteristicId: number } & LimitDraftInput
): Promise<LimitVersion> {
	const draft = parseDraft(input);
	return database.transaction(async (tx) => {
		const [c] = await tx.db
			.select({ id: characteristic.id, chart: characteristic.chart })
			.from(characteristic)
			.where(eq(characteristic.id, input.characteristicId))
			.for('update');
		if (!c) throw new LimitVersionError('not-found', 'No such characteristic.');
		checkForChart(c.chart, draft);
		const open = await tx.db
			.select({ version: controlLimitVersion.version })
			.from(controlLimitVersion)
			.where(
				and(eq(controlLimitVersion.characteristicId, c.id), eq(controlLimitVersion.status, 'draft'))
			);
		if (open.length > 0) {
			throw new LimitVersionError(
				'draft-exists',
				`Version ${open[0].version} is still a draft: edit or approve it first.`
			);
		}
		const [{ last }] = await tx.db
			.select({ last: max(controlLimitVersion.version) })
			.from(controlLimitVersion)
			.where(eq(controlLimitVersion.characteristicId, c.id));
		const [row] = await tx.db
			.insert(controlLimitVersion)
			.values({
				characteristicId: c.id,
				version: (last ?? 0) + 1,
				centre: draft.centre,
				sigma: draft.sigma,
				source: draft.source,
				justification: draft.justification,
				status: 'draft',
				revision: 1,
				createdBy: actor.userId
			})
			.returning();
		await appendAudit(tx, {
			actor,
			action: 'create',
			entityType: LIMIT_VERSION_RECORD,
			entityId: row.id,
			newValues: { ...limitVersionContent(row), status: row.status },
			reason: draft.justification
		});
		return toLimitVersion(row, null);
	});
}

/**
 * Edit a draft. `expectedRevision` is the revision the editor saw: a concurrent edit makes
 * this one fail ('stale') instead of silently overwriting it. Raises the revision, so any
 * signature of the previous revision is no longer valid for the record.
 */
export async function editDraftLimitVersion(
	database: Database,
	actor: Actor,
	input: { id: number; expectedRevision: number; reason: string } & LimitDraftInput
): Promise<LimitVersion> {
	const draft = parseDraft(input);
	const reason = input.reason.trim();
	if (reason.length < 3) {
		throw new LimitVersionError('invalid', 'Give the reason for this edit.', 'reason');
	}
	return database.transaction(async (tx) => {
		const [current] = await tx.db
			.select({ v: controlLimitVersion, chart: characteristic.chart })
			.from(controlLimitVersion)
			.innerJoin(characteristic, eq(characteristic.id, controlLimitVersion.characteristicId))
			.where(eq(controlLimitVersion.id, input.id))
			.for('update', { of: controlLimitVersion });
		if (!current) throw new LimitVersionError('not-found', 'No such limit version.');
		const before = current.v;
		if (before.status !== 'draft') {
			throw new LimitVersionError(
				'not-draft',
				'This version is effective and cannot change; propose a new version instead.'
			);
		}
		if (before.revision !== input.expectedRevision) {
			throw new LimitVersionError(
				'stale',
				`Someone else changed this draft (now revision ${before.revision}); reload and retry.`
			);
		}
		checkForChart(current.chart, draft);
		const changed =
			before.centre !== draft.centre ||
			before.sigma !== draft.sigma ||
			before.source !== draft.source ||
			before.justification !== draft.justification;
		if (!changed) throw new LimitVersionError('unchanged', 'Nothing was changed.');
		const [after] = await tx.db
			.update(controlLimitVersion)
			.set({
				centre: draft.centre,
				sigma: draft.sigma,
				source: draft.source,
				justification: draft.justification,
				revision: before.revision + 1,
				updatedAt: sql`now()`
			})
			.where(eq(controlLimitVersion.id, before.id))
			.returning();
		const { oldValues, newValues } = diff(limitVersionContent(before), limitVersionContent(after));
		await appendAudit(tx, {
			actor,
			action: 'update',
			entityType: LIMIT_VERSION_RECORD,
			entityId: after.id,
			oldValues,
			newValues,
			reason
		});
		return toLimitVersion(after, null);
	});
}

/* ---------------------------------------------------------------------------------------- */
/* As a signable record                                                                      */
/* ---------------------------------------------------------------------------------------- */

const DRAFT_MEANINGS: readonly SignatureMeaning[] = ['authored', 'reviewed', 'approved'];
const EFFECTIVE_MEANINGS: readonly SignatureMeaning[] = ['reviewed', 'verified'];

/** Meanings a limit version can be signed with in its current status. */
export function limitVersionMeanings(status: LimitVersionStatus): readonly SignatureMeaning[] {
	return status === 'draft' ? DRAFT_MEANINGS : EFFECTIVE_MEANINGS;
}

export const limitVersionSignable: SignableAdapter = {
	recordType: LIMIT_VERSION_RECORD,

	async load(database, recordId, options): Promise<SignableVersion | null> {
		const id = Number(recordId);
		if (!Number.isSafeInteger(id) || id <= 0) return null;
		const query = database.db
			.select({
				v: controlLimitVersion,
				code: characteristic.code,
				lineId: machine.lineId,
				siteId: line.siteId
			})
			.from(controlLimitVersion)
			.innerJoin(characteristic, eq(characteristic.id, controlLimitVersion.characteristicId))
			.innerJoin(machine, eq(machine.id, characteristic.machineId))
			.innerJoin(line, eq(line.id, machine.lineId))
			.where(eq(controlLimitVersion.id, id));
		// Locking the row keeps an edit from slipping in between hashing and signing.
		const [row] = options?.lock
			? await query.for('update', { of: controlLimitVersion })
			: await query;
		if (!row) return null;
		const v = row.v;
		return {
			recordType: LIMIT_VERSION_RECORD,
			recordId: String(v.id),
			version: v.revision,
			content: limitVersionContent(v),
			summary: `${row.code} control limits v${v.version} (${v.status}): centre ${v.centre}, sigma ${v.sigma}`,
			scope: { lineId: row.lineId, siteId: row.siteId },
			meanings: limitVersionMeanings(v.status),
			dualSignature: v.status === 'draft'
		};
	},

	async onApproved(tx: TxContext, record: SignableVersion, actor: Actor): Promise<void> {
		const [after] = await tx.db
			.update(controlLimitVersion)
			.set({ status: 'effective', effectiveFrom: sql`clock_timestamp()`, updatedAt: sql`now()` })
			.where(
				and(
					eq(controlLimitVersion.id, Number(record.recordId)),
					eq(controlLimitVersion.status, 'draft')
				)
			)
			.returning({ effectiveFrom: controlLimitVersion.effectiveFrom });
		if (!after) throw new LimitVersionError('not-draft', 'This version is no longer a draft.');
		await appendAudit(tx, {
			actor,
			action: 'state',
			entityType: LIMIT_VERSION_RECORD,
			entityId: record.recordId,
			oldValues: { status: 'draft' },
			newValues: { status: 'effective', effectiveFrom: after.effectiveFrom.toISOString() },
			reason: 'authored and approved by two different people'
		});
	}
};
