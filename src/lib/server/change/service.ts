/**
 * Change control of process versions, spec limits, control limits, rule sets and sampling plans
 * (the workflow itself is the pure machine in src/lib/change/workflow.ts).
 *
 * Every transition runs in one transaction with its audit event and its step-time column
 * (opened_at … withdrawn_at: the KPI boards compute processing times from them). A refused
 * transition is audited too — in its own committed transaction, as `state` events with
 * `refused` in the new values — and counted in /metrics (tracewall_production_refusals_total,
 * action `change-<event>`), like the production refusals.
 *
 * Approval is an electronic signature: the author signs `authored`, a different person holding
 * change:approve signs `approved` with the effective date; the status change runs inside the
 * signing transaction (signRecord's `transition`), so the approval and its signature commit
 * together or not at all. Implementation creates the new effective-dated version: an effective
 * control_limit_version, a process_version with its process_spec rows, or a
 * characteristic_config_version; effective.ts applies them when their date arrives.
 */
import { and, asc, desc, eq, inArray, max, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import {
	allowedEvents,
	decide,
	EVENT_WORDS,
	type ChangeEvent,
	type ChangeKind,
	type ChangeStatus,
	type Standing
} from '$lib/change/workflow';
import { appendAudit, diff, type Actor } from '../audit/append';
import { can, type Principal } from '../auth/policy';
import type { AppDb, Database, TxContext } from '../db';
import type { RawQuery } from '../db/raw';
import {
	appUser,
	changeRequest,
	characteristic,
	characteristicConfigVersion,
	controlLimitVersion,
	line,
	lot,
	machine,
	processSpec,
	processVersion,
	product
} from '../db/schema';
import type { Metrics } from '../metrics';
import {
	activeLimitVersionId,
	controlLimitsOf,
	loadCharacteristicRecord
} from '../records/limit-versions';
import {
	listSignatures,
	SignatureError,
	signRecord,
	type SignatureView
} from '../records/signatures';
import {
	CHARACTERISTIC_KINDS,
	PRODUCT_KINDS,
	PROPOSAL_SCHEMAS,
	type ControlLimitProposal,
	type ProcessVersionProposal,
	type RuleSetProposal,
	type SamplingPlanProposal,
	type SpecLimitProposal
} from './proposal';
import { CHANGE_RECORD, changeContent } from './signable';
import { ChangeError, type ChangeErrorCode } from './errors';

export { ChangeError, CHANGE_ERROR_CODES, changeHttpStatus, type ChangeErrorCode } from './errors';

export { CHANGE_RECORD };

type Queryable = RawQuery & { db: AppDb };
type Person = Extract<Principal, { kind: 'user' }>;
type ChangeRow = typeof changeRequest.$inferSelect;

/** Where the services get what they need; `metrics` counts refusals when given. */
export interface ChangeContext {
	database: Database;
	metrics?: Pick<Metrics, 'productionRefusals'>;
}

function actorOf(person: Person): Actor {
	return { userId: person.userId, label: person.username };
}

/** What a refusal is counted under: a workflow event, creating a request, or signing it. */
type Attempt = ChangeEvent | 'create' | 'sign';

function count(ctx: ChangeContext, event: Attempt, code: ChangeErrorCode): void {
	ctx.metrics?.productionRefusals.inc({ action: `change-${event}`, reason: code });
}

/** Throw `error` after counting it (every refusal leaves the service through here). */
function refuse(ctx: ChangeContext, event: Attempt, error: ChangeError): never {
	count(ctx, event, error.code);
	throw error;
}

function standingOf(person: Person, row: Pick<ChangeRow, 'authorId'>): Standing {
	return {
		isAuthor: row.authorId === person.userId,
		canAuthor: can(person, 'change:author'),
		canApprove: can(person, 'change:approve')
	};
}

/* ---------------------------------------------------------------------------------------- */
/* Refusals of a transition: audited in their own transaction, counted, thrown               */
/* ---------------------------------------------------------------------------------------- */

async function refuseTransition(
	ctx: ChangeContext,
	person: Person,
	row: Pick<ChangeRow, 'id' | 'status' | 'revision'>,
	event: Attempt,
	error: ChangeError
): Promise<never> {
	// Committed although the attempt is refused: who tried what, and why it was refused.
	await ctx.database.transaction((tx) =>
		appendAudit(tx, {
			actor: actorOf(person),
			action: 'state',
			entityType: CHANGE_RECORD,
			entityId: row.id,
			oldValues: { status: row.status, revision: row.revision },
			newValues: { attempt: event, refused: error.code },
			reason: error.message
		})
	);
	return refuse(ctx, event, error);
}

/** Decide `event` for `person` on `row`; audit and throw the refusal when not allowed. */
async function ensureTransition(
	ctx: ChangeContext,
	person: Person,
	row: ChangeRow,
	event: ChangeEvent
): Promise<ChangeStatus> {
	const d = decide(row.status, event, standingOf(person, row));
	if (d.ok) return d.to;
	const code: ChangeErrorCode = d.refusal;
	return refuseTransition(ctx, person, row, event, new ChangeError(code, d.message));
}

/* ---------------------------------------------------------------------------------------- */
/* Reading                                                                                   */
/* ---------------------------------------------------------------------------------------- */

async function rowOf(database: Queryable, id: number): Promise<ChangeRow | null> {
	const [row] = await database.db.select().from(changeRequest).where(eq(changeRequest.id, id));
	return row ?? null;
}

async function lockedRow(tx: TxContext, id: number): Promise<ChangeRow | null> {
	const [row] = await tx.db
		.select()
		.from(changeRequest)
		.where(eq(changeRequest.id, id))
		.for('update');
	return row ?? null;
}

export interface ChangeFilters {
	status?: ChangeStatus | null;
	kind?: ChangeKind | null;
	lineId?: number | null;
	characteristicId?: number | null;
	limit?: number;
}

export interface ChangeListItem {
	id: number;
	code: string;
	kind: ChangeKind;
	title: string;
	status: ChangeStatus;
	revision: number;
	line: { id: number; code: string } | null;
	characteristic: { id: number; code: string; name: string } | null;
	product: { id: number; code: string } | null;
	author: string;
	openedAt: Date;
	effectiveFrom: Date | null;
	updatedAt: Date;
}

/** Change requests, newest first, filtered by status, kind, line or characteristic. */
export async function listChanges(
	database: Queryable,
	filters: ChangeFilters = {}
): Promise<ChangeListItem[]> {
	const where: SQL[] = [];
	if (filters.status) where.push(eq(changeRequest.status, filters.status));
	if (filters.kind) where.push(eq(changeRequest.kind, filters.kind));
	if (filters.lineId) where.push(eq(changeRequest.lineId, filters.lineId));
	if (filters.characteristicId) {
		where.push(eq(changeRequest.characteristicId, filters.characteristicId));
	}
	const rows = await database.db
		.select({
			r: changeRequest,
			lineCode: line.code,
			charCode: characteristic.code,
			charName: characteristic.name,
			productCode: product.code,
			author: appUser.fullName
		})
		.from(changeRequest)
		.innerJoin(appUser, eq(appUser.id, changeRequest.authorId))
		.leftJoin(line, eq(line.id, changeRequest.lineId))
		.leftJoin(characteristic, eq(characteristic.id, changeRequest.characteristicId))
		.leftJoin(product, eq(product.id, changeRequest.productId))
		.where(where.length ? and(...where) : undefined)
		.orderBy(desc(changeRequest.openedAt), desc(changeRequest.id))
		.limit(Math.min(filters.limit ?? 200, 500));
	return rows.map(({ r, ...j }) => ({
		id: r.id,
		code: r.code,
		kind: r.kind,
		title: r.title,
		status: r.status,
		revision: r.revision,
		line: r.lineId && j.lineCode ? { id: r.lineId, code: j.lineCode } : null,
		characteristic:
			r.characteristicId && j.charCode
				? { id: r.characteristicId, code: j.charCode, name: j.charName ?? '' }
				: null,
		product: r.productId && j.productCode ? { id: r.productId, code: j.productCode } : null,
		author: j.author,
		openedAt: r.openedAt,
		effectiveFrom: r.effectiveFrom,
		updatedAt: r.updatedAt
	}));
}

export interface ImpactAnalysis {
	computedAt: string;
	line: { id: number; code: string; name: string } | null;
	products: { id: number; code: string; name: string }[];
	characteristics: { id: number; code: string; name: string }[];
	openLots: { id: number; code: string; status: string; product: string }[];
	/** All open lots, when more than the list shows. */
	openLotCount: number;
}

const OPEN_LOT_STATUSES = ['planned', 'running', 'completed', 'in_review'] as const;
const IMPACT_LOT_LIST = 100;

/**
 * Listed automatically when the request enters impact analysis: the products made on the
 * affected line (or the product whose process changes), the characteristics touched, and the
 * open lots (planned, running, completed, in review) on that line or of that product.
 */
export async function analyseImpact(
	database: Queryable,
	row: Pick<ChangeRow, 'kind' | 'lineId' | 'characteristicId' | 'productId' | 'proposal'>
): Promise<ImpactAnalysis> {
	const [lineRow] = row.lineId
		? await database.db
				.select({ id: line.id, code: line.code, name: line.name })
				.from(line)
				.where(eq(line.id, row.lineId))
		: [];
	const products = await database.db
		.select({ id: product.id, code: product.code, name: product.name })
		.from(product)
		.where(
			row.productId
				? eq(product.id, row.productId)
				: row.lineId
					? eq(product.lineId, row.lineId)
					: sql`false`
		)
		.orderBy(asc(product.code));
	const characteristicIds = new Set<number>();
	if (row.characteristicId) characteristicIds.add(row.characteristicId);
	if (row.kind === 'process-version') {
		const specs = (row.proposal as Partial<ProcessVersionProposal>).specs ?? [];
		for (const s of specs) characteristicIds.add(s.characteristicId);
	}
	const characteristics = characteristicIds.size
		? await database.db
				.select({ id: characteristic.id, code: characteristic.code, name: characteristic.name })
				.from(characteristic)
				.where(inArray(characteristic.id, [...characteristicIds]))
				.orderBy(asc(characteristic.code))
		: [];
	// Product kinds: that product's open lots; characteristic kinds: every open lot on the line.
	const lotWhere = and(
		inArray(lot.status, [...OPEN_LOT_STATUSES]),
		row.productId ? eq(lot.productId, row.productId) : eq(lot.lineId, row.lineId ?? 0)
	);
	const openLots = await database.db
		.select({ id: lot.id, code: lot.code, status: lot.status, product: product.code })
		.from(lot)
		.innerJoin(product, eq(product.id, lot.productId))
		.where(lotWhere)
		.orderBy(asc(lot.code))
		.limit(IMPACT_LOT_LIST);
	const [{ n }] = await database.db
		.select({ n: sql<number>`count(*)::int` })
		.from(lot)
		.where(lotWhere);
	return {
		computedAt: new Date().toISOString(),
		line: lineRow ?? null,
		products,
		characteristics,
		openLots,
		openLotCount: n
	};
}

/** The values in force now that the proposal would change, for the "current vs proposed" view. */
export interface CurrentValues {
	controlLimits?: {
		version: number;
		centre: number;
		sigma: number;
		source: string;
		lcl: number | null;
		ucl: number | null;
	} | null;
	proposedControlLimits?: { lcl: number | null; ucl: number | null } | null;
	spec?: { lsl: number | null; target: number | null; usl: number | null } | null;
	processVersion?: {
		id: number;
		version: number;
		description: string;
		specs: {
			characteristicId: number;
			code: string;
			lsl: number | null;
			target: number | null;
			usl: number | null;
		}[];
	} | null;
	rules?: unknown;
	subgroupSize?: number;
	samplingIntervalMs?: number;
}

/** The process version of a product effective at `at` (same rule as lots.ts at run start). */
async function effectiveProcessVersionOf(
	database: Queryable,
	productId: number,
	at: Date
): Promise<typeof processVersion.$inferSelect | null> {
	const [row] = await database.db
		.select()
		.from(processVersion)
		.where(
			and(
				eq(processVersion.productId, productId),
				eq(processVersion.status, 'effective'),
				sql`(${processVersion.effectiveFrom} IS NULL OR ${processVersion.effectiveFrom} <= ${at.toISOString()}::timestamptz)`
			)
		)
		.orderBy(sql`${processVersion.effectiveFrom} DESC NULLS LAST`, desc(processVersion.version))
		.limit(1);
	return row ?? null;
}

async function specsOf(database: Queryable, processVersionId: number) {
	return database.db
		.select({
			characteristicId: processSpec.characteristicId,
			code: characteristic.code,
			lsl: processSpec.lsl,
			target: processSpec.target,
			usl: processSpec.usl
		})
		.from(processSpec)
		.innerJoin(characteristic, eq(characteristic.id, processSpec.characteristicId))
		.where(eq(processSpec.processVersionId, processVersionId))
		.orderBy(asc(characteristic.code));
}

export async function currentValues(database: Queryable, row: ChangeRow): Promise<CurrentValues> {
	const out: CurrentValues = {};
	const record = row.characteristicId
		? await loadCharacteristicRecord(database, row.characteristicId)
		: null;
	if (row.kind === 'control-limit' && record) {
		const activeId = await activeLimitVersionId(database, record.id);
		const [active] = activeId
			? await database.db
					.select()
					.from(controlLimitVersion)
					.where(eq(controlLimitVersion.id, activeId))
			: [];
		out.controlLimits = active
			? {
					version: active.version,
					centre: active.centre,
					sigma: active.sigma,
					source: active.source,
					...(controlLimitsOf(record.chart, record.subgroupSize, active) ?? {
						lcl: null,
						ucl: null
					})
				}
			: null;
		const p = row.proposal as Partial<ControlLimitProposal>;
		out.proposedControlLimits =
			typeof p.centre === 'number' && typeof p.sigma === 'number'
				? controlLimitsOf(record.chart, record.subgroupSize, { centre: p.centre, sigma: p.sigma })
				: null;
	}
	if (row.kind === 'spec-limit' || row.kind === 'process-version') {
		if (record) out.spec = record.spec;
		if (row.productId) {
			const pv = await effectiveProcessVersionOf(database, row.productId, new Date());
			if (pv) {
				out.processVersion = {
					id: pv.id,
					version: pv.version,
					description: pv.description,
					specs: await specsOf(database, pv.id)
				};
				if (row.characteristicId) {
					const s = out.processVersion.specs.find(
						(x) => x.characteristicId === row.characteristicId
					);
					out.spec = s ? { lsl: s.lsl, target: s.target, usl: s.usl } : (out.spec ?? null);
				}
			} else {
				out.processVersion = null;
			}
		}
	}
	if ((row.kind === 'rule-set' || row.kind === 'sampling-plan') && record) {
		const [c] = await database.db
			.select({
				rules: characteristic.rules,
				subgroupSize: characteristic.subgroupSize,
				samplingIntervalMs: characteristic.samplingIntervalMs
			})
			.from(characteristic)
			.where(eq(characteristic.id, record.id));
		out.rules = c.rules;
		out.subgroupSize = c.subgroupSize;
		out.samplingIntervalMs = c.samplingIntervalMs;
	}
	return out;
}

export interface ChangeDetail {
	request: ChangeRow & {
		author: { id: number; username: string; fullName: string };
		approver: { id: number; username: string; fullName: string } | null;
		line: { id: number; code: string; name: string } | null;
		characteristic: { id: number; code: string; name: string; unit: string; chart: string } | null;
		product: { id: number; code: string; name: string } | null;
	};
	impact: ImpactAnalysis | null;
	current: CurrentValues;
	signatures: SignatureView[];
	/**
	 * The proposal has the shape of its kind (PROPOSAL_SCHEMAS). Requests imported from elsewhere
	 * (the demo history) may carry a free-form proposal: shown as recorded, never implemented.
	 */
	proposalStructured: boolean;
	/** The events this person can start now (the page offers only these). */
	allowed: ChangeEvent[];
	/** Whether the person may sign `authored` / `approved` now. */
	canSignAuthored: boolean;
	canSignApproved: boolean;
	/** The result version (implemented requests). */
	result: {
		limitVersion: number | null;
		processVersion: number | null;
		configVersion: number | null;
	};
}

/** Impact as stored: this service's shape, or lists of codes (imported history). */
function normaliseImpact(raw: unknown): ImpactAnalysis | null {
	if (!raw || typeof raw !== 'object') return null;
	const r = raw as Record<string, unknown>;
	const list = (v: unknown) =>
		(Array.isArray(v) ? v : []).map((x, i) =>
			typeof x === 'string'
				? { id: -(i + 1), code: x, name: '', status: '', product: '' }
				: (x as { id: number; code: string; name: string; status: string; product: string })
		);
	const openLots = list(r.openLots);
	return {
		computedAt: typeof r.computedAt === 'string' ? r.computedAt : '',
		line: (r.line as ImpactAnalysis['line']) ?? null,
		products: list(r.products),
		characteristics: list(r.characteristics),
		openLots,
		openLotCount: typeof r.openLotCount === 'number' ? r.openLotCount : openLots.length
	};
}

export async function loadChange(
	database: Queryable,
	person: Person,
	id: number
): Promise<ChangeDetail | null> {
	const row = await rowOf(database, id);
	if (!row) return null;
	const users = await database.db
		.select({ id: appUser.id, username: appUser.username, fullName: appUser.fullName })
		.from(appUser)
		.where(inArray(appUser.id, [row.authorId, ...(row.approverId ? [row.approverId] : [])]));
	const author = users.find((u) => u.id === row.authorId)!;
	const approver = row.approverId ? (users.find((u) => u.id === row.approverId) ?? null) : null;
	const [lineRow] = row.lineId
		? await database.db
				.select({ id: line.id, code: line.code, name: line.name })
				.from(line)
				.where(eq(line.id, row.lineId))
		: [];
	const [charRow] = row.characteristicId
		? await database.db
				.select({
					id: characteristic.id,
					code: characteristic.code,
					name: characteristic.name,
					unit: characteristic.unit,
					chart: characteristic.chart
				})
				.from(characteristic)
				.where(eq(characteristic.id, row.characteristicId))
		: [];
	const [productRow] = row.productId
		? await database.db
				.select({ id: product.id, code: product.code, name: product.name })
				.from(product)
				.where(eq(product.id, row.productId))
		: [];
	const signatures = await listSignatures(database, CHANGE_RECORD, String(row.id));
	const standing = standingOf(person, row);
	const valid = signatures.filter((s) => s.valid);
	const authoredValid = valid.some((s) => s.meaning === 'authored');
	const [limitV] = row.resultLimitVersionId
		? await database.db
				.select({ version: controlLimitVersion.version })
				.from(controlLimitVersion)
				.where(eq(controlLimitVersion.id, row.resultLimitVersionId))
		: [];
	const [processV] = row.resultProcessVersionId
		? await database.db
				.select({ version: processVersion.version })
				.from(processVersion)
				.where(eq(processVersion.id, row.resultProcessVersionId))
		: [];
	const [configV] = await database.db
		.select({ version: characteristicConfigVersion.version })
		.from(characteristicConfigVersion)
		.where(eq(characteristicConfigVersion.changeRequestId, row.id));
	return {
		request: {
			...row,
			author,
			approver,
			line: lineRow ?? null,
			characteristic: charRow ?? null,
			product: productRow ?? null
		},
		impact: normaliseImpact(row.impact),
		proposalStructured: PROPOSAL_SCHEMAS[row.kind].safeParse(row.proposal).success,
		current: await currentValues(database, row),
		signatures,
		allowed: allowedEvents(row.status, standing),
		canSignAuthored:
			standing.isAuthor &&
			standing.canAuthor &&
			can(person, 'record:sign') &&
			['draft', 'impact', 'review'].includes(row.status) &&
			!valid.some((s) => s.meaning === 'authored' && s.signerUserId === person.userId),
		canSignApproved:
			!standing.isAuthor &&
			standing.canApprove &&
			can(person, 'record:sign') &&
			row.status === 'review' &&
			authoredValid,
		result: {
			limitVersion: limitV?.version ?? null,
			processVersion: processV?.version ?? null,
			configVersion: configV?.version ?? null
		}
	};
}

/* ---------------------------------------------------------------------------------------- */
/* Creating and editing                                                                      */
/* ---------------------------------------------------------------------------------------- */

export const changeInputSchema = z.object({
	kind: z.enum(
		['process-version', 'spec-limit', 'control-limit', 'rule-set', 'sampling-plan'],
		'Choose what kind of change this is.'
	),
	title: z.string().trim().min(5, 'Give the change a title (5 characters at least).').max(200),
	justification: z
		.string()
		.trim()
		.min(10, 'Give the reason for the change (10 characters at least).')
		.max(4000),
	characteristicId: z.number().int().positive().nullable().optional(),
	productId: z.number().int().positive().nullable().optional(),
	proposal: z.unknown()
});
export type ChangeInput = z.input<typeof changeInputSchema>;

function firstIssue(error: z.ZodError, prefix = ''): ChangeError {
	const issue = error.issues[0];
	const field = prefix + String(issue.path[0] ?? '');
	return new ChangeError('invalid', issue.message, field || undefined);
}

interface Subject {
	kind: ChangeKind;
	characteristicId: number | null;
	productId: number | null;
	processVersionId: number | null;
	lineId: number;
	proposal: Record<string, unknown>;
}

/** Validate the subject and the proposal of `input` against the plant as it is now. */
async function resolveSubject(
	database: Queryable,
	input: z.infer<typeof changeInputSchema>
): Promise<Subject> {
	const kind = input.kind;
	const parsed = PROPOSAL_SCHEMAS[kind].safeParse(input.proposal);
	if (!parsed.success) throw firstIssue(parsed.error);
	const proposal = parsed.data as Record<string, unknown>;
	let lineId: number | null = null;
	let characteristicId: number | null = null;
	let productId: number | null = null;
	let processVersionId: number | null = null;
	if (CHARACTERISTIC_KINDS.includes(kind)) {
		if (!input.characteristicId) {
			throw new ChangeError(
				'invalid',
				'Choose the characteristic this change is about.',
				'characteristicId'
			);
		}
		const record = await loadCharacteristicRecord(database, input.characteristicId);
		if (!record) throw new ChangeError('invalid', 'No such characteristic.', 'characteristicId');
		characteristicId = record.id;
		lineId = record.line.id;
		if (kind === 'sampling-plan') {
			const p = proposal as SamplingPlanProposal;
			if (record.chart === 'imr' && p.subgroupSize !== 1) {
				throw new ChangeError(
					'invalid',
					'An individuals (I-MR) chart has subgroups of 1.',
					'subgroupSize'
				);
			}
			if ((record.chart === 'xbar-r' || record.chart === 'xbar-s') && p.subgroupSize < 2) {
				throw new ChangeError(
					'invalid',
					'An X̄ chart needs subgroups of 2 or more.',
					'subgroupSize'
				);
			}
		}
		if (kind === 'control-limit') {
			const p = proposal as ControlLimitProposal;
			if ((record.chart === 'p' || record.chart === 'np') && (p.centre < 0 || p.centre > 1)) {
				throw new ChangeError(
					'invalid',
					'For a p or np chart the centre is a fraction between 0 and 1.',
					'centre'
				);
			}
		}
	}
	if (PRODUCT_KINDS.includes(kind)) {
		if (!input.productId) {
			throw new ChangeError('invalid', 'Choose the product whose process changes.', 'productId');
		}
		const [p] = await database.db
			.select({ id: product.id, lineId: product.lineId })
			.from(product)
			.where(eq(product.id, input.productId));
		if (!p) throw new ChangeError('invalid', 'No such product.', 'productId');
		if (lineId !== null && p.lineId !== lineId) {
			throw new ChangeError(
				'invalid',
				'That product is not made on the characteristic’s line.',
				'productId'
			);
		}
		productId = p.id;
		lineId = p.lineId;
		const pv = await effectiveProcessVersionOf(database, p.id, new Date());
		processVersionId = pv?.id ?? null;
		if (kind === 'process-version') {
			const specs = (proposal as ProcessVersionProposal).specs;
			if (specs.length > 0) {
				const known = await database.db
					.select({ id: characteristic.id })
					.from(characteristic)
					.innerJoin(machine, eq(machine.id, characteristic.machineId))
					.where(
						and(
							inArray(
								characteristic.id,
								specs.map((s) => s.characteristicId)
							),
							eq(machine.lineId, p.lineId)
						)
					);
				if (known.length !== new Set(specs.map((s) => s.characteristicId)).size) {
					throw new ChangeError(
						'invalid',
						'Every spec must name a characteristic of the product’s line.',
						'specs'
					);
				}
			}
		}
	}
	return { kind, characteristicId, productId, processVersionId, lineId: lineId!, proposal };
}

/** CR-YYYY-NNNN: next number of the year (an advisory lock keeps two creations apart). */
async function nextCode(tx: TxContext): Promise<string> {
	await tx.query('SELECT pg_advisory_xact_lock($1)', [7_341_206]);
	const year = new Date().getUTCFullYear();
	// The highest number of the year, not a count: imported or gapped numbering stays unique.
	const [{ n }] = await tx.query<{ n: number | null }>(
		`SELECT max(substring(code FROM '^CR-[0-9]{4}-([0-9]+)$')::int) AS n
		 FROM change_request WHERE code LIKE $1`,
		[`CR-${year}-%`]
	);
	return `CR-${year}-${String((n ?? 0) + 1).padStart(4, '0')}`;
}

/** Open a change request as a draft (the author is the person creating it). */
export async function createChange(
	ctx: ChangeContext,
	person: Person,
	input: ChangeInput
): Promise<{ id: number; code: string }> {
	if (!can(person, 'change:author')) {
		refuse(ctx, 'create', new ChangeError('forbidden', 'You may not author change requests.'));
	}
	const parsed = changeInputSchema.safeParse(input);
	if (!parsed.success) refuse(ctx, 'create', firstIssue(parsed.error));
	let subject: Subject;
	try {
		subject = await resolveSubject(ctx.database, parsed.data);
	} catch (e) {
		if (e instanceof ChangeError) refuse(ctx, 'create', e);
		throw e;
	}
	return ctx.database.transaction(async (tx) => {
		const code = await nextCode(tx);
		const [row] = await tx.db
			.insert(changeRequest)
			.values({
				code,
				kind: subject.kind,
				title: parsed.data.title,
				justification: parsed.data.justification,
				status: 'draft',
				characteristicId: subject.characteristicId,
				productId: subject.productId,
				processVersionId: subject.processVersionId,
				lineId: subject.lineId,
				proposal: subject.proposal,
				revision: 1,
				authorId: person.userId,
				openedAt: sql`clock_timestamp()`
			})
			.returning();
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'create',
			entityType: CHANGE_RECORD,
			entityId: row.id,
			newValues: { ...changeContent(row), status: row.status },
			reason: row.justification
		});
		return { id: row.id, code: row.code };
	});
}

/**
 * Edit a draft: title, justification, proposal. `expectedRevision` is what the editor saw (a
 * concurrent edit makes this one `stale`). Raises the revision, so every signature of the
 * previous revision shows as not valid for the request.
 */
export async function editChange(
	ctx: ChangeContext,
	person: Person,
	input: {
		id: number;
		expectedRevision: number;
		title: string;
		justification: string;
		proposal: unknown;
		productId?: number | null;
	}
): Promise<{ revision: number }> {
	const before = await rowOf(ctx.database, input.id);
	if (!before) refuse(ctx, 'edit', new ChangeError('not-found', 'No such change request.'));
	await ensureTransition(ctx, person, before, 'edit');
	const parsed = changeInputSchema.safeParse({
		kind: before.kind,
		title: input.title,
		justification: input.justification,
		characteristicId: before.characteristicId,
		productId: input.productId ?? before.productId,
		proposal: input.proposal
	});
	if (!parsed.success) refuse(ctx, 'edit', firstIssue(parsed.error));
	let subject: Subject;
	try {
		subject = await resolveSubject(ctx.database, parsed.data);
	} catch (e) {
		if (e instanceof ChangeError) refuse(ctx, 'edit', e);
		throw e;
	}
	const outcome = await ctx.database.transaction(async (tx) => {
		const row = await lockedRow(tx, input.id);
		if (!row) return new ChangeError('not-found', 'No such change request.');
		if (row.status !== 'draft') {
			return new ChangeError('illegal-transition', 'Only a draft can be edited.');
		}
		if (row.revision !== input.expectedRevision) {
			return new ChangeError(
				'stale',
				`Someone else changed this request (now revision ${row.revision}); reload and retry.`
			);
		}
		const changed =
			row.title !== parsed.data.title ||
			row.justification !== parsed.data.justification ||
			row.productId !== subject.productId ||
			JSON.stringify(row.proposal) !== JSON.stringify(subject.proposal);
		if (!changed) return new ChangeError('unchanged', 'Nothing was changed.');
		const [after] = await tx.db
			.update(changeRequest)
			.set({
				title: parsed.data.title,
				justification: parsed.data.justification,
				productId: subject.productId,
				processVersionId: subject.processVersionId,
				proposal: subject.proposal,
				revision: row.revision + 1,
				updatedAt: sql`now()`
			})
			.where(eq(changeRequest.id, row.id))
			.returning();
		const { oldValues, newValues } = diff(changeContent(row), changeContent(after));
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'update',
			entityType: CHANGE_RECORD,
			entityId: row.id,
			oldValues,
			newValues,
			reason: 'draft edited'
		});
		return { revision: after.revision };
	});
	if (outcome instanceof ChangeError) refuse(ctx, 'edit', outcome);
	return outcome;
}

/* ---------------------------------------------------------------------------------------- */
/* Transitions                                                                               */
/* ---------------------------------------------------------------------------------------- */

const STEP_SET: Partial<Record<ChangeStatus, PgUpdateSetSource<typeof changeRequest>>> = {
	impact: { impactAt: sql`clock_timestamp()` },
	review: { reviewAt: sql`clock_timestamp()` },
	approved: { approvedAt: sql`clock_timestamp()` },
	implemented: { implementedAt: sql`clock_timestamp()` },
	closed: { closedAt: sql`clock_timestamp()` },
	rejected: { rejectedAt: sql`clock_timestamp()` },
	withdrawn: { withdrawnAt: sql`clock_timestamp()` }
};

/** The transitions `moveChange` performs (approve and edit have their own functions). */
export type MoveEvent = Exclude<ChangeEvent, 'approve' | 'edit'>;

const NEEDS_REASON: readonly ChangeEvent[] = ['reject', 'withdraw', 'rework'];

/**
 * submit, to-review, rework, reject, withdraw, implement, close. Reject, withdraw and rework
 * need a reason. Submit lists the impact analysis; implement creates the effective-dated version.
 * Returns the new status and, for implement, whether the version is in force already (the
 * caller then publishes the configuration to workers and walls at once).
 */
export async function moveChange(
	ctx: ChangeContext,
	person: Person,
	input: { id: number; event: MoveEvent; reason?: string | null }
): Promise<{ status: ChangeStatus; effectiveNow: boolean }> {
	const { event } = input;
	const row = await rowOf(ctx.database, input.id);
	if (!row) refuse(ctx, event, new ChangeError('not-found', 'No such change request.'));
	const to = await ensureTransition(ctx, person, row, event);
	const reason = input.reason?.trim() ?? '';
	if (NEEDS_REASON.includes(event) && reason.length < 3) {
		refuse(
			ctx,
			event,
			new ChangeError('invalid', `Say why it is ${EVENT_WORDS[event]}.`, 'reason')
		);
	}
	if (event === 'implement' && !PROPOSAL_SCHEMAS[row.kind].safeParse(row.proposal).success) {
		return refuseTransition(
			ctx,
			person,
			row,
			event,
			new ChangeError(
				'invalid',
				'This request’s proposal is not in the structured form of its kind, so no version can be made from it: raise a new change request.'
			)
		);
	}
	const impact = event === 'submit' ? await analyseImpact(ctx.database, row) : null;
	const outcome = await ctx.database.transaction(async (tx) => {
		const current = await lockedRow(tx, row.id);
		if (!current || current.status !== row.status || current.revision !== row.revision) {
			return new ChangeError('stale', 'The request changed meanwhile; reload and retry.');
		}
		const set: PgUpdateSetSource<typeof changeRequest> = {
			status: to,
			updatedAt: sql`now()`,
			...STEP_SET[to]
		};
		if (event === 'submit') set.impact = impact as unknown as Record<string, unknown>;
		if (event === 'rework') set.impact = null;
		if (event === 'reject' || event === 'withdraw') set.decisionReason = reason;
		if (event === 'close' && reason) set.decisionReason = reason;
		let created: Record<string, unknown> = {};
		let effectiveNow = false;
		if (event === 'implement') {
			const made = await implementVersion(tx, current, actorOf(person));
			Object.assign(set, made.set);
			created = made.created;
			effectiveNow = made.effectiveNow;
		}
		const [after] = await tx.db
			.update(changeRequest)
			.set(set)
			.where(eq(changeRequest.id, row.id))
			.returning();
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'state',
			entityType: CHANGE_RECORD,
			entityId: row.id,
			oldValues: { status: row.status },
			newValues: {
				status: after.status,
				event,
				...(impact
					? {
							impact: {
								products: impact.products.length,
								characteristics: impact.characteristics.length,
								openLots: impact.openLotCount
							}
						}
					: {}),
				...created
			},
			reason: reason || null
		});
		return { status: after.status, effectiveNow };
	});
	if (outcome instanceof ChangeError) refuse(ctx, event, outcome);
	return outcome;
}

/**
 * The new effective-dated version an approved request becomes, inside the implementing
 * transaction. Returns the columns to set on the request and what was created (audited).
 */
async function implementVersion(
	tx: TxContext,
	row: ChangeRow,
	actor: Actor
): Promise<{
	set: Partial<typeof changeRequest.$inferInsert>;
	created: Record<string, unknown>;
	effectiveNow: boolean;
}> {
	const effectiveFrom = row.effectiveFrom ?? new Date();
	const [{ now }] = await tx.query<{ now: string }>(`SELECT clock_timestamp()::text AS now`);
	const effectiveNow = effectiveFrom.getTime() <= new Date(now).getTime();
	const justification = `${row.code}: ${row.justification}`;
	switch (row.kind) {
		case 'control-limit': {
			const p = row.proposal as ControlLimitProposal;
			const characteristicId = row.characteristicId!;
			const [{ last }] = await tx.db
				.select({ last: max(controlLimitVersion.version) })
				.from(controlLimitVersion)
				.where(eq(controlLimitVersion.characteristicId, characteristicId));
			// Effective at once as a row (frozen by trigger); active from its effective date.
			const [v] = await tx.db
				.insert(controlLimitVersion)
				.values({
					characteristicId,
					version: (last ?? 0) + 1,
					centre: p.centre,
					sigma: p.sigma,
					source: p.source,
					justification,
					status: 'effective',
					revision: 1,
					createdBy: row.authorId,
					effectiveFrom
				})
				.returning();
			await appendAudit(tx, {
				actor,
				action: 'create',
				entityType: 'control-limit-version',
				entityId: v.id,
				newValues: {
					characteristicId,
					version: v.version,
					centre: v.centre,
					sigma: v.sigma,
					source: v.source,
					status: v.status,
					effectiveFrom: v.effectiveFrom.toISOString(),
					changeRequest: row.code
				},
				reason: justification
			});
			return {
				set: { resultLimitVersionId: v.id },
				created: { limitVersion: v.version, effectiveFrom: effectiveFrom.toISOString() },
				effectiveNow
			};
		}
		case 'spec-limit':
		case 'process-version': {
			const productId = row.productId!;
			const base = await effectiveProcessVersionOf(tx, productId, new Date(now));
			const specs = new Map<
				number,
				{ lsl: number | null; target: number | null; usl: number | null }
			>();
			if (base) for (const s of await specsOf(tx, base.id)) specs.set(s.characteristicId, s);
			let description: string;
			if (row.kind === 'spec-limit') {
				const p = row.proposal as SpecLimitProposal;
				specs.set(row.characteristicId!, { lsl: p.lsl, target: p.target, usl: p.usl });
				description = `${row.code}: spec limits of one characteristic changed`;
			} else {
				const p = row.proposal as ProcessVersionProposal;
				for (const s of p.specs)
					specs.set(s.characteristicId, { lsl: s.lsl, target: s.target, usl: s.usl });
				description = `${row.code}: ${p.description}`;
			}
			const [{ last }] = await tx.db
				.select({ last: max(processVersion.version) })
				.from(processVersion)
				.where(eq(processVersion.productId, productId));
			const [pv] = await tx.db
				.insert(processVersion)
				.values({
					productId,
					version: (last ?? 0) + 1,
					status: 'effective',
					effectiveFrom,
					description,
					approvedBy: row.approverId,
					approvedAt: row.approvedAt,
					createdBy: row.authorId
				})
				.returning();
			if (specs.size > 0) {
				await tx.db.insert(processSpec).values(
					[...specs].map(([characteristicId, s]) => ({
						processVersionId: pv.id,
						characteristicId,
						lsl: s.lsl,
						target: s.target,
						usl: s.usl
					}))
				);
			}
			await appendAudit(tx, {
				actor,
				action: 'create',
				entityType: 'process-version',
				entityId: pv.id,
				newValues: {
					productId,
					version: pv.version,
					effectiveFrom: effectiveFrom.toISOString(),
					specs: Object.fromEntries(specs),
					basedOn: base?.version ?? null,
					changeRequest: row.code
				},
				reason: justification
			});
			return {
				set: { resultProcessVersionId: pv.id },
				created: { processVersion: pv.version, effectiveFrom: effectiveFrom.toISOString() },
				effectiveNow
			};
		}
		case 'rule-set':
		case 'sampling-plan': {
			const characteristicId = row.characteristicId!;
			const [c] = await tx.db
				.select({
					rules: characteristic.rules,
					subgroupSize: characteristic.subgroupSize,
					samplingIntervalMs: characteristic.samplingIntervalMs
				})
				.from(characteristic)
				.where(eq(characteristic.id, characteristicId));
			// A complete configuration, so the latest applied version alone says what is in force.
			const values =
				row.kind === 'rule-set'
					? {
							rules: (row.proposal as RuleSetProposal).rules,
							subgroupSize: c.subgroupSize,
							samplingIntervalMs: c.samplingIntervalMs
						}
					: {
							rules: c.rules,
							subgroupSize: (row.proposal as SamplingPlanProposal).subgroupSize,
							samplingIntervalMs: (row.proposal as SamplingPlanProposal).samplingIntervalMs
						};
			const [{ last }] = await tx.db
				.select({ last: max(characteristicConfigVersion.version) })
				.from(characteristicConfigVersion)
				.where(eq(characteristicConfigVersion.characteristicId, characteristicId));
			const [v] = await tx.db
				.insert(characteristicConfigVersion)
				.values({
					characteristicId,
					version: (last ?? 0) + 1,
					...values,
					effectiveFrom,
					changeRequestId: row.id
				})
				.returning();
			await appendAudit(tx, {
				actor,
				action: 'create',
				entityType: 'characteristic-config-version',
				entityId: v.id,
				newValues: {
					characteristicId,
					version: v.version,
					...values,
					effectiveFrom: effectiveFrom.toISOString(),
					changeRequest: row.code
				},
				reason: justification
			});
			return {
				set: {},
				created: { configVersion: v.version, effectiveFrom: effectiveFrom.toISOString() },
				effectiveNow
			};
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Signatures and approval                                                                   */
/* ---------------------------------------------------------------------------------------- */

export interface SignChangeInput {
	id: number;
	/** The revision the signer was shown. */
	expectedRevision: number;
	username?: string | null;
	password: string;
	reason?: string | null;
}

function signatureRefusal(e: SignatureError): ChangeError {
	return new ChangeError('signature', e.message, 'password', e.code);
}

/** The author signs `authored` on the current revision (re-authenticated by signRecord). */
export async function signAuthored(
	ctx: ChangeContext,
	person: Person,
	input: SignChangeInput,
	options: { lockoutThreshold: number }
): Promise<{ signatureId: number }> {
	const row = await rowOf(ctx.database, input.id);
	if (!row) refuse(ctx, 'sign', new ChangeError('not-found', 'No such change request.'));
	if (row.authorId !== person.userId || !can(person, 'change:author')) {
		return refuseTransition(
			ctx,
			person,
			row,
			'sign',
			new ChangeError('not-author', 'Only the author signs a change request as authored.')
		);
	}
	try {
		const signed = await signRecord(
			ctx.database,
			{
				principal: person,
				recordType: CHANGE_RECORD,
				recordId: String(row.id),
				expectedVersion: input.expectedRevision,
				meaning: 'authored',
				username: input.username,
				password: input.password,
				reason: input.reason
			},
			options
		);
		return { signatureId: signed.id };
	} catch (e) {
		if (e instanceof SignatureError) refuse(ctx, 'sign', signatureRefusal(e));
		throw e;
	}
}

/**
 * The approver signs `approved` and sets the effective date (not in the past; a time within the
 * current minute counts as now). The status change runs inside the signing transaction, after
 * signRecord checked re-authentication, the revision and the valid `authored` signature by a
 * different person: approval and signature commit together or not at all.
 */
export async function approveChange(
	ctx: ChangeContext,
	person: Person,
	input: SignChangeInput & { effectiveFrom: Date | null },
	options: { lockoutThreshold: number; now?: Date }
): Promise<{ signatureId: number; effectiveFrom: Date }> {
	const row = await rowOf(ctx.database, input.id);
	if (!row) refuse(ctx, 'approve', new ChangeError('not-found', 'No such change request.'));
	await ensureTransition(ctx, person, row, 'approve');
	const now = options.now ?? new Date();
	if (!input.effectiveFrom || Number.isNaN(input.effectiveFrom.getTime())) {
		refuse(
			ctx,
			'approve',
			new ChangeError('invalid', 'Choose the effective date.', 'effectiveFrom')
		);
	}
	// Forms choose minutes: the minute that is running now is "now", an earlier one is the past.
	if (input.effectiveFrom.getTime() < now.getTime() - 60_000) {
		return refuseTransition(
			ctx,
			person,
			row,
			'approve',
			new ChangeError(
				'effective-in-past',
				'The effective date cannot be in the past.',
				'effectiveFrom'
			)
		);
	}
	const effectiveFrom = input.effectiveFrom.getTime() < now.getTime() ? now : input.effectiveFrom;
	// The chosen date goes on the request first (not part of the signed content); the adapter's
	// onApproved makes the request approved with it inside the signing transaction.
	const staged = await ctx.database.transaction(async (tx) => {
		const current = await lockedRow(tx, row.id);
		if (!current || current.status !== 'review' || current.revision !== input.expectedRevision) {
			return new ChangeError(
				'stale',
				'The request changed after you opened it. Review the current revision and sign again.'
			);
		}
		await tx.db
			.update(changeRequest)
			.set({ effectiveFrom, updatedAt: sql`now()` })
			.where(eq(changeRequest.id, row.id));
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'update',
			entityType: CHANGE_RECORD,
			entityId: row.id,
			oldValues: { effectiveFrom: current.effectiveFrom?.toISOString() ?? null },
			newValues: { effectiveFrom: effectiveFrom.toISOString() },
			reason: 'effective date chosen at approval'
		});
		return null;
	});
	if (staged) refuse(ctx, 'approve', staged);
	try {
		const signed = await signRecord(
			ctx.database,
			{
				principal: person,
				recordType: CHANGE_RECORD,
				recordId: String(row.id),
				expectedVersion: input.expectedRevision,
				meaning: 'approved',
				username: input.username,
				password: input.password,
				reason: input.reason
			},
			options
		);
		const [after] = await ctx.database.db
			.select({ effectiveFrom: changeRequest.effectiveFrom })
			.from(changeRequest)
			.where(eq(changeRequest.id, row.id));
		return { signatureId: signed.id, effectiveFrom: after.effectiveFrom ?? effectiveFrom };
	} catch (e) {
		if (e instanceof SignatureError) {
			if (e.code === 'author-cannot-approve' || e.code === 'not-authored') {
				return refuseTransition(
					ctx,
					person,
					row,
					'approve',
					new ChangeError(
						e.code === 'not-authored' ? 'not-signed' : 'author-cannot-approve',
						e.message,
						undefined,
						e.code
					)
				);
			}
			refuse(ctx, 'approve', signatureRefusal(e));
		}
		if (e instanceof ChangeError) {
			if (e.code === 'not-signed') return refuseTransition(ctx, person, row, 'approve', e);
			refuse(ctx, 'approve', e);
		}
		throw e;
	}
}
