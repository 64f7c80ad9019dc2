/**
 * The rows behind every KPI: one statement per KPI, each returning exactly the lots, change
 * requests or open items a figure is computed from (the drill-down lists them, the board sums
 * them in board.ts). So a board number is explainable by construction: it is the total of its
 * drill-down list. Tests recompute every figure with separately written SQL.
 *
 * Conventions: all times UTC; a range is [from, to). Filters match codes (site, line, product,
 * customer); a row whose site/line/product/customer is unknown (a change request about a
 * characteristic only has a line, for instance) is left out when that filter is set.
 * Only int4, float8, bool, text are selected (both drivers parse them alike; raw.ts).
 */
import { epochMs, type RawQuery } from '../db/raw';

/**
 * Record type of lot signatures (release, rejection): the value lots/signing.ts stores. Kept as
 * a literal here so the KPI queries do not load the signing module.
 */
export const LOT_RECORD_TYPE = 'lot';

export interface KpiQueryScope {
	from: Date;
	to: Date;
	/** Clock of "still running" and "grace passed". */
	now: Date;
	site?: string;
	line?: string;
	product?: string;
	customer?: string;
}

/** $1 from, $2 to, $3 site, $4 line, $5 product, $6 customer, $7 now. */
function params(s: KpiQueryScope): unknown[] {
	return [
		s.from.toISOString(),
		s.to.toISOString(),
		s.site ?? null,
		s.line ?? null,
		s.product ?? null,
		s.customer ?? null,
		s.now.toISOString()
	];
}

const LOT_FROM = `lot l
	JOIN product p ON p.id = l.product_id
	JOIN customer c ON c.id = p.customer_id
	JOIN line ln ON ln.id = l.line_id
	JOIN site s ON s.id = ln.site_id`;

const FILTER = `($3::text IS NULL OR s.code = $3::text)
	AND ($4::text IS NULL OR ln.code = $4::text)
	AND ($5::text IS NULL OR p.code = $5::text)
	AND ($6::text IS NULL OR c.code = $6::text)`;

const LOT_COLUMNS = `l.id, l.code, l.status, p.code AS product, c.code AS customer, ln.code AS line`;

/** What every lot row carries (drill-down columns and links). */
export interface LotRowBase {
	id: number;
	code: string;
	status: string;
	product: string;
	customer: string;
	line: string;
}

/* ---------------------------------------------------------------------------------------- */
/* Quantities: batch yield, first-pass yield, rework rate, scrap rate                        */
/* ---------------------------------------------------------------------------------------- */

export interface QuantityRow extends LotRowBase {
	/** Anchor: completion time (epoch ms). */
	at: number;
	good: number;
	rework: number;
	scrap: number;
}

/**
 * Lots COMPLETED in the range (completed_at in [from, to), whatever their status since).
 * started = good + rework + scrap: every part a lot made ends up as exactly one of the three.
 */
export async function quantityRows(db: RawQuery, scope: KpiQueryScope): Promise<QuantityRow[]> {
	return db.query<QuantityRow>(
		`SELECT ${LOT_COLUMNS}, ${epochMs('l.completed_at')} AS at,
		        l.good_qty AS good, l.rework_qty AS rework, l.scrap_qty AS scrap
		 FROM ${LOT_FROM}
		 WHERE l.completed_at >= $1::timestamptz AND l.completed_at < $2::timestamptz AND ${FILTER}
		 ORDER BY l.completed_at, l.id`,
		params(scope)
	);
}

/* ---------------------------------------------------------------------------------------- */
/* Lot release time                                                                           */
/* ---------------------------------------------------------------------------------------- */

export interface ReleaseRow extends LotRowBase {
	/** Anchor: release decision time. */
	at: number;
	completedAt: number;
	hours: number;
}

/** Lots RELEASED with their decision in the range; hours = decided_at − completed_at. */
export async function releaseRows(db: RawQuery, scope: KpiQueryScope): Promise<ReleaseRow[]> {
	return db.query<ReleaseRow>(
		`SELECT ${LOT_COLUMNS}, ${epochMs('l.decided_at')} AS at,
		        ${epochMs('l.completed_at')} AS "completedAt",
		        (extract(epoch FROM l.decided_at - l.completed_at) / 3600)::float8 AS hours
		 FROM ${LOT_FROM}
		 WHERE l.status = 'released' AND l.completed_at IS NOT NULL
		   AND l.decided_at >= $1::timestamptz AND l.decided_at < $2::timestamptz AND ${FILTER}
		 ORDER BY l.decided_at, l.id`,
		params(scope)
	);
}

/* ---------------------------------------------------------------------------------------- */
/* Change-processing time                                                                     */
/* ---------------------------------------------------------------------------------------- */

export interface ChangeRow {
	id: number;
	code: string;
	title: string;
	kind: string;
	status: string;
	line: string | null;
	product: string | null;
	/** Anchor: approval (or closure) time. */
	at: number;
	openedAt: number;
	hours: number;
}

/**
 * Change requests APPROVED (step = 'approved') or CLOSED (step = 'closed') in the range; hours
 * from opened_at to that step. A request's line is its own, else its characteristic's machine's,
 * else its product's; its product is its own, else its process version's.
 */
export async function changeRows(
	db: RawQuery,
	scope: KpiQueryScope,
	step: 'approved' | 'closed'
): Promise<ChangeRow[]> {
	const column = step === 'approved' ? 'cr.approved_at' : 'cr.closed_at';
	return db.query<ChangeRow>(
		`SELECT cr.id, cr.code, cr.title, cr.kind, cr.status, ln.code AS line, p.code AS product,
		        ${epochMs(column)} AS at, ${epochMs('cr.opened_at')} AS "openedAt",
		        (extract(epoch FROM ${column} - cr.opened_at) / 3600)::float8 AS hours
		 FROM change_request cr
		 LEFT JOIN process_version pv ON pv.id = cr.process_version_id
		 LEFT JOIN product p ON p.id = coalesce(cr.product_id, pv.product_id)
		 LEFT JOIN customer c ON c.id = p.customer_id
		 LEFT JOIN characteristic ch ON ch.id = cr.characteristic_id
		 LEFT JOIN machine m ON m.id = ch.machine_id
		 LEFT JOIN line ln ON ln.id = coalesce(cr.line_id, m.line_id, p.line_id)
		 LEFT JOIN site s ON s.id = ln.site_id
		 WHERE ${column} >= $1::timestamptz AND ${column} < $2::timestamptz AND ${FILTER}
		 ORDER BY ${column}, cr.id`,
		params(scope)
	);
}

/* ---------------------------------------------------------------------------------------- */
/* On-time inspections                                                                        */
/* ---------------------------------------------------------------------------------------- */

export interface InspectionRow extends LotRowBase {
	/** Anchor: the trend bucket of the due times (start, epoch ms). */
	at: number;
	due: number;
	onTime: number;
	late: number;
	notDone: number;
}

/**
 * Per lot and trend bucket: inspections DUE in the range that are judged — done, or with their
 * grace period (due_at + grace_minutes) over by `now`. On time = done_at ≤ due_at + grace; late =
 * done after that; not done = missed, waived or still open past grace.
 */
export async function inspectionRows(
	db: RawQuery,
	scope: KpiQueryScope,
	bucket: 'day' | 'week' | 'month'
): Promise<InspectionRow[]> {
	// Counted per lot first, then joined to the lot and its place: one pass over the inspections
	// instead of a probe of product, customer, line and site per inspection.
	const grace = `i.due_at + ip.grace_minutes * interval '1 minute'`;
	return db.query<InspectionRow>(
		`WITH judged AS (
		   SELECT i.lot_id,
		          (extract(epoch FROM date_trunc('${bucket}', i.due_at AT TIME ZONE 'UTC')) * 1000)::float8 AS at,
		          count(*)::float8 AS due,
		          count(*) FILTER (WHERE i.done_at <= ${grace})::float8 AS "onTime",
		          count(*) FILTER (WHERE i.done_at > ${grace})::float8 AS late,
		          count(*) FILTER (WHERE i.done_at IS NULL)::float8 AS "notDone"
		   FROM inspection i JOIN inspection_plan ip ON ip.id = i.plan_id
		   WHERE i.due_at >= $1::timestamptz AND i.due_at < $2::timestamptz
		     AND (i.done_at IS NOT NULL OR ${grace} <= $7::timestamptz)
		   GROUP BY 1, 2
		 )
		 SELECT ${LOT_COLUMNS}, j.at, j.due, j."onTime", j.late, j."notDone"
		 FROM judged j JOIN ${LOT_FROM} ON l.id = j.lot_id
		 WHERE ${FILTER}
		 ORDER BY j.at, l.id`,
		params(scope)
	);
}

/* ---------------------------------------------------------------------------------------- */
/* Record completeness                                                                        */
/* ---------------------------------------------------------------------------------------- */

export interface CompletenessRow extends LotRowBase {
	at: number;
	/** Inspections neither done, waived, nor missed-and-covered-by-a-deviation. */
	openInspections: number;
	/** At least one parameter summary is stored. */
	summaries: boolean;
	decided: boolean;
	signed: boolean;
	complete: boolean;
}

/**
 * Lots COMPLETED in the range, each judged complete when (1) every inspection of the lot is done,
 * waived, or missed with a deviation covering it; (2) at least one parameter summary is stored;
 * (3) a released or rejected lot carries a `released`/`rejected` signature on the lot record.
 */
export async function completenessRows(
	db: RawQuery,
	scope: KpiQueryScope
): Promise<CompletenessRow[]> {
	const rows = await db.query<Omit<CompletenessRow, 'complete'>>(
		`SELECT ${LOT_COLUMNS}, ${epochMs('l.completed_at')} AS at,
		        (SELECT count(*) FROM inspection i WHERE i.lot_id = l.id
		           AND NOT (i.status IN ('done', 'waived') OR (i.status = 'missed' AND i.deviation_id IS NOT NULL))
		        )::float8 AS "openInspections",
		        EXISTS (SELECT 1 FROM lot_parameter_summary ps WHERE ps.lot_id = l.id) AS summaries,
		        l.status IN ('released', 'rejected') AS decided,
		        EXISTS (SELECT 1 FROM signature sg WHERE sg.record_type = '${LOT_RECORD_TYPE}'
		                  AND sg.record_id = l.id::text AND sg.meaning IN ('released', 'rejected')) AS signed
		 FROM ${LOT_FROM}
		 WHERE l.completed_at >= $1::timestamptz AND l.completed_at < $2::timestamptz AND ${FILTER}
		 ORDER BY l.completed_at, l.id`,
		params(scope)
	);
	return rows.map((r) => ({
		...r,
		complete: r.openInspections === 0 && r.summaries && (!r.decided || r.signed)
	}));
}

/* ---------------------------------------------------------------------------------------- */
/* Alarms per line                                                                            */
/* ---------------------------------------------------------------------------------------- */

export interface AlarmLotRow extends LotRowBase {
	/** The part of the lot's run inside the range: [start, end) epoch ms. */
	start: number;
	end: number;
	hours: number;
}

export interface AlarmCountRow {
	/** The lot running on the alarm's line when it was raised. */
	lotId: number;
	line: string;
	/** Trend bucket of the raise time. */
	at: number;
	alarms: number;
}

/**
 * Lots that RAN in the range (started, and completed after `from` or still running), with the
 * part of their run inside the range (a running lot runs until `now`).
 */
export async function alarmLotRows(db: RawQuery, scope: KpiQueryScope): Promise<AlarmLotRow[]> {
	return db.query<AlarmLotRow>(
		`WITH ran AS (
		   SELECT ${LOT_COLUMNS},
		          greatest(l.started_at, $1::timestamptz) AS t0,
		          least(coalesce(l.completed_at, $7::timestamptz), $2::timestamptz) AS t1
		   FROM ${LOT_FROM}
		   WHERE l.started_at IS NOT NULL AND l.started_at < $2::timestamptz
		     AND coalesce(l.completed_at, $7::timestamptz) > $1::timestamptz AND ${FILTER}
		 )
		 SELECT r.id, r.code, r.status, r.product, r.customer, r.line,
		        ${epochMs('r.t0')} AS start, ${epochMs('r.t1')} AS "end",
		        greatest(0, extract(epoch FROM r.t1 - r.t0) / 3600)::float8 AS hours
		 FROM ran r
		 ORDER BY r.t0, r.id`,
		params(scope)
	);
}

/**
 * Alarms raised in the range WHILE A LOT RAN on their line, counted per lot and trend bucket.
 * Each alarm finds its lot by one index probe (the line's last lot started at or before the
 * alarm, lot_line_started_idx) and counts when that lot had not completed yet: lots of a line
 * never overlap, so an alarm belongs to at most one lot; alarms between lots (changeover, when
 * alarms are suppressed by design) count for none.
 */
export async function alarmCountRows(
	db: RawQuery,
	scope: KpiQueryScope,
	bucket: 'day' | 'week' | 'month'
): Promise<AlarmCountRow[]> {
	return db.query<AlarmCountRow>(
		`SELECT l.id AS "lotId", ln.code AS line,
		        (extract(epoch FROM date_trunc('${bucket}', a.ts AT TIME ZONE 'UTC')) * 1000)::float8 AS at,
		        count(*)::float8 AS alarms
		 FROM alarm a
		 CROSS JOIN LATERAL (
		   SELECT x.id, x.product_id, x.line_id, x.completed_at FROM lot x
		   WHERE x.line_id = a.line_id AND x.started_at <= a.ts
		   ORDER BY x.started_at DESC LIMIT 1
		 ) lx
		 JOIN ${LOT_FROM} ON l.id = lx.id
		 WHERE a.ts >= $1::timestamptz AND a.ts < $2::timestamptz AND a.ts < $7::timestamptz
		   AND (lx.completed_at IS NULL OR a.ts < lx.completed_at) AND ${FILTER}
		 GROUP BY 1, 2, 3
		 ORDER BY 3, 1`,
		params(scope)
	);
}

/* ---------------------------------------------------------------------------------------- */
/* CAPA aging                                                                                 */
/* ---------------------------------------------------------------------------------------- */

export interface OpenItemRow {
	kind: 'deviation' | 'capa';
	id: number;
	code: string;
	title: string;
	severity: string | null;
	status: string;
	lotId: number | null;
	lotCode: string | null;
	line: string | null;
	openedAt: number;
	/** When it stopped being open (null: still open). */
	closedAt: number | null;
	dueAt: number | null;
}

/**
 * Deviations and CAPA actions opened before `to` and not closed before `from` — every item that
 * was open at some moment of the range (board.ts picks the ones open at each instant). A
 * deviation is open from opened_at until closed_at; a CAPA action from created_at until done_at
 * while its status is done or cancelled (a cancelled one without done_at was never open).
 * Place: the deviation's line (else its lot's); product and customer through its lot.
 */
export async function openItemRows(db: RawQuery, scope: KpiQueryScope): Promise<OpenItemRow[]> {
	const place = `FROM deviation d
		 LEFT JOIN lot l ON l.id = d.lot_id
		 LEFT JOIN product p ON p.id = l.product_id
		 LEFT JOIN customer c ON c.id = p.customer_id
		 LEFT JOIN line ln ON ln.id = coalesce(d.line_id, l.line_id)
		 LEFT JOIN site s ON s.id = ln.site_id`;
	return db.query<OpenItemRow>(
		`SELECT 'deviation' AS kind, d.id, d.code, d.title, d.severity, d.status,
		        l.id AS "lotId", l.code AS "lotCode", ln.code AS line,
		        ${epochMs('d.opened_at')} AS "openedAt", ${epochMs('d.closed_at')} AS "closedAt",
		        ${epochMs('d.due_at')} AS "dueAt"
		 ${place}
		 WHERE d.opened_at < $2::timestamptz AND (d.closed_at IS NULL OR d.closed_at >= $1::timestamptz)
		   AND ${FILTER}
		 UNION ALL
		 SELECT 'capa', k.id, k.code, k.description, d.severity, k.status,
		        l.id, l.code, ln.code,
		        ${epochMs('k.created_at')}, ${epochMs(`CASE WHEN k.status = 'open' THEN NULL ELSE coalesce(k.done_at, k.created_at) END`)},
		        ${epochMs('k.due_at')}
		 FROM capa k JOIN deviation d ON d.id = k.deviation_id
		 LEFT JOIN lot l ON l.id = d.lot_id
		 LEFT JOIN product p ON p.id = l.product_id
		 LEFT JOIN customer c ON c.id = p.customer_id
		 LEFT JOIN line ln ON ln.id = coalesce(d.line_id, l.line_id)
		 LEFT JOIN site s ON s.id = ln.site_id
		 WHERE k.created_at < $2::timestamptz
		   AND (k.status = 'open' OR coalesce(k.done_at, k.created_at) >= $1::timestamptz)
		   AND ${FILTER}
		 ORDER BY 10, 1, 2`,
		params(scope)
	);
}

/* ---------------------------------------------------------------------------------------- */
/* Plan achievement                                                                           */
/* ---------------------------------------------------------------------------------------- */

export interface PlanRow extends LotRowBase {
	/** Anchor: planned start. */
	at: number;
	planned: number;
	/** Good parts of the lot; 0 for a lot never started or rejected. */
	made: number;
}

/**
 * Lots PLANNED to start in the range (and before `now`), except those still running (not yet
 * judgeable). Made = good_qty, except 0 for a lot that never started or was rejected (its parts
 * are not usable output).
 */
export async function planRows(db: RawQuery, scope: KpiQueryScope): Promise<PlanRow[]> {
	return db.query<PlanRow>(
		`SELECT ${LOT_COLUMNS}, ${epochMs('l.planned_start')} AS at,
		        l.planned_qty AS planned,
		        CASE WHEN l.status IN ('planned', 'rejected') THEN 0 ELSE l.good_qty END AS made
		 FROM ${LOT_FROM}
		 WHERE l.planned_start >= $1::timestamptz AND l.planned_start < $2::timestamptz
		   AND l.planned_start <= $7::timestamptz AND l.status <> 'running' AND ${FILTER}
		 ORDER BY l.planned_start, l.id`,
		params(scope)
	);
}

/* ---------------------------------------------------------------------------------------- */
/* Targets and filter choices                                                                 */
/* ---------------------------------------------------------------------------------------- */

export interface TargetRow {
	kpi: string;
	siteCode: string | null;
	target: number;
	better: 'higher' | 'lower';
}

export async function targetRows(db: RawQuery): Promise<TargetRow[]> {
	return db.query<TargetRow>(
		`SELECT t.kpi, s.code AS "siteCode", t.target, t.better
		 FROM kpi_target t LEFT JOIN site s ON s.id = t.site_id`
	);
}

export interface FilterChoices {
	sites: { code: string; name: string }[];
	lines: { code: string; name: string; site: string }[];
	products: { code: string; name: string; line: string; customer: string }[];
	customers: { code: string; name: string }[];
}

export async function filterChoices(db: RawQuery): Promise<FilterChoices> {
	const [sites, lines, products, customers] = await Promise.all([
		db.query<FilterChoices['sites'][number]>(`SELECT code, name FROM site ORDER BY code`),
		db.query<FilterChoices['lines'][number]>(
			`SELECT ln.code, ln.name, s.code AS site FROM line ln JOIN site s ON s.id = ln.site_id ORDER BY ln.code`
		),
		db.query<FilterChoices['products'][number]>(
			`SELECT p.code, p.name, ln.code AS line, c.code AS customer
			 FROM product p JOIN line ln ON ln.id = p.line_id JOIN customer c ON c.id = p.customer_id
			 ORDER BY p.code`
		),
		db.query<FilterChoices['customers'][number]>(`SELECT code, name FROM customer ORDER BY code`)
	]);
	return { sites, lines, products, customers };
}
