/**
 * Traceability: forward from a material lot to every lot that consumed it and every shipment of
 * those lots (the recall scope), and the lot search of the desk (by lot, part number, material
 * lot or supplier lot, customer, status, date range, or machine + moment).
 *
 * Both apply the lot visibility of access.ts in SQL: a customer never sees another customer's
 * lots, a line-scoped person only the lines granted.
 */
import { z } from 'zod';
import { LOT_STATUSES } from '../db/schema/production';
import { epochMs, fromEpochMs, type RawQuery } from '../db/raw';
import { lotVisibilitySql, type LotViewer } from './access';

const ms = (v: number | null): Date | null => (v === null ? null : new Date(v));

/* ---------------------------------------------------------------------------------------- */
/* Trace forward                                                                             */
/* ---------------------------------------------------------------------------------------- */

export interface MaterialLotView {
	id: number;
	code: string;
	supplierLot: string;
	quantity: number;
	status: string;
	receivedAt: Date;
	expiresAt: Date | null;
	decidedBy: string | null;
	decidedAt: Date | null;
	evidence: string | null;
	material: { id: number; code: string; name: string; unit: string };
	supplier: { id: number; code: string; name: string; approved: boolean };
}

export interface TracedLot {
	lotId: number;
	code: string;
	status: string;
	product: { code: string; name: string };
	customer: { code: string; name: string };
	line: { code: string };
	/** Sum of this material lot's consumption by the lot, in the material's unit. */
	quantityConsumed: number;
	firstConsumedAt: Date;
	startedAt: Date | null;
	completedAt: Date | null;
}

export interface TracedShipment {
	id: number;
	code: string;
	lotId: number;
	lotCode: string;
	quantity: number;
	shippedAt: Date;
	customer: { code: string; name: string };
}

export interface ForwardTrace {
	materialLot: MaterialLotView;
	lots: TracedLot[];
	shipments: TracedShipment[];
}

async function loadMaterialLot(db: RawQuery, id: number): Promise<MaterialLotView | null> {
	const rows = await db.query<{
		id: number;
		code: string;
		supplier_lot: string;
		quantity: number;
		status: string;
		received_at: number;
		expires_at: number | null;
		decided_by: string | null;
		decided_at: number | null;
		evidence: string | null;
		m_id: number;
		m_code: string;
		m_name: string;
		m_unit: string;
		s_id: number;
		s_code: string;
		s_name: string;
		s_approved: boolean;
	}>(
		`SELECT ml.id, ml.code, ml.supplier_lot, ml.quantity, ml.status,
		        ${epochMs('ml.received_at')} AS received_at, ${epochMs('ml.expires_at')} AS expires_at,
		        du.full_name AS decided_by, ${epochMs('ml.decided_at')} AS decided_at, ml.evidence,
		        m.id AS m_id, m.code AS m_code, m.name AS m_name, m.unit AS m_unit,
		        s.id AS s_id, s.code AS s_code, s.name AS s_name, s.approved AS s_approved
		 FROM material_lot ml
		 JOIN material m ON m.id = ml.material_id
		 JOIN supplier s ON s.id = ml.supplier_id
		 LEFT JOIN app_user du ON du.id = ml.decided_by
		 WHERE ml.id = $1`,
		[id]
	);
	const r = rows[0];
	if (!r) return null;
	return {
		id: r.id,
		code: r.code,
		supplierLot: r.supplier_lot,
		quantity: r.quantity,
		status: r.status,
		receivedAt: new Date(r.received_at),
		expiresAt: ms(r.expires_at),
		decidedBy: r.decided_by,
		decidedAt: ms(r.decided_at),
		evidence: r.evidence,
		material: { id: r.m_id, code: r.m_code, name: r.m_name, unit: r.m_unit },
		supplier: { id: r.s_id, code: r.s_code, name: r.s_name, approved: r.s_approved }
	};
}

/**
 * Every lot that consumed `materialLotId` directly, and every shipment of those lots, limited to
 * the lots `viewer` may see; null when there is no such material lot. Two statements on
 * lot_material_material_lot_idx and shipment_lot_idx.
 */
export async function traceForward(
	database: RawQuery,
	materialLotId: number,
	viewer: LotViewer
): Promise<ForwardTrace | null> {
	if (!Number.isSafeInteger(materialLotId) || materialLotId <= 0 || materialLotId > 2_147_483_647) {
		return null;
	}
	const materialLot = await loadMaterialLot(database, materialLotId);
	if (!materialLot) return null;
	const params: unknown[] = [materialLotId];
	const visible = lotVisibilitySql(
		viewer,
		{ line: 'l.line_id', site: 'ln.site_id', customer: 'p.customer_id' },
		params
	);
	const consumers = `SELECT l.id FROM lot l
		JOIN product p ON p.id = l.product_id
		JOIN line ln ON ln.id = l.line_id
		WHERE l.id IN (SELECT lot_id FROM lot_material WHERE material_lot_id = $1) AND ${visible}`;
	const [lots, shipments] = await Promise.all([
		database.query<{
			id: number;
			code: string;
			status: string;
			p_code: string;
			p_name: string;
			c_code: string;
			c_name: string;
			line_code: string;
			qty: number;
			first_at: number;
			started_at: number | null;
			completed_at: number | null;
		}>(
			`SELECT l.id, l.code, l.status, p.code AS p_code, p.name AS p_name, c.code AS c_code,
			        c.name AS c_name, ln.code AS line_code, u.qty, ${epochMs('u.first_at')} AS first_at,
			        ${epochMs('l.started_at')} AS started_at, ${epochMs('l.completed_at')} AS completed_at
			 FROM (SELECT lot_id, sum(quantity) AS qty, min(consumed_at) AS first_at
			       FROM lot_material WHERE material_lot_id = $1 GROUP BY lot_id) u
			 JOIN lot l ON l.id = u.lot_id
			 JOIN product p ON p.id = l.product_id
			 JOIN customer c ON c.id = p.customer_id
			 JOIN line ln ON ln.id = l.line_id
			 WHERE ${visible}
			 ORDER BY u.first_at, l.id`,
			params
		),
		database.query<{
			id: number;
			code: string;
			lot_id: number;
			lot_code: string;
			quantity: number;
			shipped_at: number;
			c_code: string;
			c_name: string;
		}>(
			`SELECT sh.id, sh.code, sh.lot_id, l.code AS lot_code, sh.quantity,
			        ${epochMs('sh.shipped_at')} AS shipped_at, c.code AS c_code, c.name AS c_name
			 FROM shipment sh
			 JOIN lot l ON l.id = sh.lot_id
			 JOIN customer c ON c.id = sh.customer_id
			 WHERE sh.lot_id IN (${consumers})
			 ORDER BY sh.shipped_at, sh.id`,
			params
		)
	]);
	return {
		materialLot,
		lots: lots.map((r) => ({
			lotId: r.id,
			code: r.code,
			status: r.status,
			product: { code: r.p_code, name: r.p_name },
			customer: { code: r.c_code, name: r.c_name },
			line: { code: r.line_code },
			quantityConsumed: r.qty,
			firstConsumedAt: new Date(r.first_at),
			startedAt: ms(r.started_at),
			completedAt: ms(r.completed_at)
		})),
		shipments: shipments.map((r) => ({
			id: r.id,
			code: r.code,
			lotId: r.lot_id,
			lotCode: r.lot_code,
			quantity: r.quantity,
			shippedAt: new Date(r.shipped_at),
			customer: { code: r.c_code, name: r.c_name }
		}))
	};
}

export const TRACE_CSV_COLUMNS = [
	'material_lot',
	'supplier_lot',
	'material',
	'supplier',
	'material_lot_status',
	'lot',
	'lot_status',
	'part_number',
	'lot_customer',
	'line',
	'quantity_consumed',
	'first_consumed_at',
	'shipment',
	'shipment_customer',
	'quantity_shipped',
	'shipped_at'
] as const;

/**
 * The recall scope as CSV rows (header first): one row per shipment of each lot, and one row
 * with empty shipment columns for a lot not shipped (yet) — every affected lot appears.
 */
export function traceCsvRows(trace: ForwardTrace): (string | number)[][] {
	const ml = trace.materialLot;
	const rows: (string | number)[][] = [[...TRACE_CSV_COLUMNS]];
	const byLot = new Map<number, TracedShipment[]>();
	for (const s of trace.shipments) {
		const list = byLot.get(s.lotId) ?? [];
		list.push(s);
		byLot.set(s.lotId, list);
	}
	for (const l of trace.lots) {
		const base = [
			ml.code,
			ml.supplierLot,
			ml.material.code,
			ml.supplier.code,
			ml.status,
			l.code,
			l.status,
			l.product.code,
			l.customer.code,
			l.line.code,
			l.quantityConsumed,
			l.firstConsumedAt.toISOString()
		];
		const shipped = byLot.get(l.lotId) ?? [];
		if (shipped.length === 0) rows.push([...base, '', '', '', '']);
		for (const s of shipped) {
			rows.push([...base, s.code, s.customer.code, s.quantity, s.shippedAt.toISOString()]);
		}
	}
	return rows;
}

/* ---------------------------------------------------------------------------------------- */
/* Search                                                                                    */
/* ---------------------------------------------------------------------------------------- */

export const LOT_SEARCH_PAGE_SIZE = 50;

const text = z
	.string()
	.trim()
	.max(100)
	.transform((v) => (v === '' ? undefined : v))
	.optional();
const dateOnly = z
	.string()
	.trim()
	.transform((v) => (v === '' ? undefined : v))
	.pipe(
		z
			.string()
			.regex(/^\d{4}-\d{2}-\d{2}$/, 'Use a date like 2026-03-31.')
			.refine((v) => {
				const d = new Date(`${v}T00:00:00Z`);
				// Date rolls 2026-02-31 over to March: only a round trip proves the day exists.
				return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
			}, 'Not a calendar date.')
			.optional()
	)
	.optional();
const positiveInt = (max: number) =>
	z
		.string()
		.trim()
		.transform((v) => (v === '' ? undefined : v))
		.pipe(z.coerce.number<string | undefined>().int().positive().max(max).optional())
		.optional();

/** The search form, as it arrives in the URL (every field optional, all strings). */
export const lotSearchSchema = z
	.object({
		/** Lot code (or part of it). */
		lot: text,
		/** Part number / serial: the product code (or part of it). */
		part: text,
		/** Material lot: our receiving code or the supplier's lot number (or part of either). */
		material: text,
		/** Customer code or name (or part of it). */
		customer: text,
		status: z
			.string()
			.trim()
			.transform((v) => (v === '' ? undefined : v))
			.pipe(z.enum(LOT_STATUSES).optional())
			.optional(),
		/** Lots started (or created, if not started) on or after `from`, before the end of `to`. */
		from: dateOnly,
		to: dateOnly,
		/** Machine id: lots that ran on it; with `at` (epoch ms), the lots running there then. */
		machine: positiveInt(2_147_483_647),
		at: positiveInt(8_640_000_000_000_000),
		/** Operator (user id): lots with a run by that person. */
		operator: positiveInt(2_147_483_647),
		page: positiveInt(10_000)
	})
	.refine((q) => q.at === undefined || q.machine !== undefined, {
		message: 'A moment needs the machine it is about.',
		path: ['at']
	})
	.refine((q) => !q.from || !q.to || q.from <= q.to, {
		message: 'The end date is before the start date.',
		path: ['to']
	});

export type LotSearchQuery = z.infer<typeof lotSearchSchema>;

export interface LotSearchHit {
	id: number;
	code: string;
	status: string;
	product: { code: string; name: string };
	customer: { code: string; name: string };
	line: { id: number; code: string };
	plannedQty: number;
	goodQty: number;
	startedAt: Date | null;
	completedAt: Date | null;
	createdAt: Date;
}

export interface LotSearchResult {
	lots: LotSearchHit[];
	page: number;
	hasMore: boolean;
}

/** LIKE pattern for "contains", with the user's own % and _ taken literally. */
function contains(value: string): string {
	return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * One page of the lots matching every given filter that `viewer` may see, newest first.
 * `hasMore` instead of a total: a count over a year of lots on every keystroke buys nothing.
 */
export async function searchLots(
	database: RawQuery,
	query: LotSearchQuery,
	viewer: LotViewer
): Promise<LotSearchResult> {
	const params: unknown[] = [];
	const add = (value: unknown) => {
		params.push(value);
		return `$${params.length}`;
	};
	const where: string[] = [
		lotVisibilitySql(
			viewer,
			{ line: 'l.line_id', site: 'ln.site_id', customer: 'p.customer_id' },
			params
		)
	];
	if (query.lot) where.push(`l.code ILIKE ${add(contains(query.lot))}`);
	if (query.part) where.push(`p.code ILIKE ${add(contains(query.part))}`);
	if (query.customer) {
		const c = add(contains(query.customer));
		where.push(`(c.code ILIKE ${c} OR c.name ILIKE ${c})`);
	}
	if (query.material) {
		const m = add(contains(query.material));
		where.push(`l.id IN (SELECT lm.lot_id FROM lot_material lm
			JOIN material_lot ml ON ml.id = lm.material_lot_id
			WHERE ml.code ILIKE ${m} OR ml.supplier_lot ILIKE ${m})`);
	}
	if (query.status) where.push(`l.status = ${add(query.status)}`);
	const when = 'coalesce(l.started_at, l.created_at)';
	if (query.from) where.push(`${when} >= ${add(query.from)}::date::timestamp AT TIME ZONE 'UTC'`);
	if (query.to) {
		where.push(`${when} < (${add(query.to)}::date + 1)::timestamp AT TIME ZONE 'UTC'`);
	}
	if (query.machine !== undefined && query.at !== undefined) {
		const machine = add(query.machine);
		const at = fromEpochMs(`${add(query.at)}::float8`);
		where.push(`l.id IN (SELECT r.lot_id FROM run r WHERE r.machine_id = ${machine}
			AND r.started_at <= ${at} AND (r.ended_at IS NULL OR r.ended_at > ${at}))`);
	} else if (query.machine !== undefined) {
		where.push(`l.id IN (SELECT r.lot_id FROM run r WHERE r.machine_id = ${add(query.machine)})`);
	}
	if (query.operator !== undefined) {
		where.push(`l.id IN (SELECT r.lot_id FROM run r WHERE r.operator_id = ${add(query.operator)})`);
	}
	const page = query.page ?? 1;
	const rows = await database.query<{
		id: number;
		code: string;
		status: string;
		p_code: string;
		p_name: string;
		c_code: string;
		c_name: string;
		line_id: number;
		line_code: string;
		planned_qty: number;
		good_qty: number;
		started_at: number | null;
		completed_at: number | null;
		created_at: number;
	}>(
		`SELECT l.id, l.code, l.status, p.code AS p_code, p.name AS p_name, c.code AS c_code,
		        c.name AS c_name, ln.id AS line_id, ln.code AS line_code, l.planned_qty, l.good_qty,
		        ${epochMs('l.started_at')} AS started_at, ${epochMs('l.completed_at')} AS completed_at,
		        ${epochMs('l.created_at')} AS created_at
		 FROM lot l
		 JOIN product p ON p.id = l.product_id
		 JOIN customer c ON c.id = p.customer_id
		 JOIN line ln ON ln.id = l.line_id
		 WHERE ${where.join(' AND ')}
		 ORDER BY ${when} DESC, l.id DESC
		 LIMIT ${LOT_SEARCH_PAGE_SIZE + 1} OFFSET ${(page - 1) * LOT_SEARCH_PAGE_SIZE}`,
		params
	);
	return {
		lots: rows.slice(0, LOT_SEARCH_PAGE_SIZE).map((r) => ({
			id: r.id,
			code: r.code,
			status: r.status,
			product: { code: r.p_code, name: r.p_name },
			customer: { code: r.c_code, name: r.c_name },
			line: { id: r.line_id, code: r.line_code },
			plannedQty: r.planned_qty,
			goodQty: r.good_qty,
			startedAt: ms(r.started_at),
			completedAt: ms(r.completed_at),
			createdAt: new Date(r.created_at)
		})),
		page,
		hasMore: rows.length > LOT_SEARCH_PAGE_SIZE
	};
}
