/**
 * The lot as a signable record (release and rejection signatures, lots/release.ts).
 *
 * What a lot signature binds to: the lot row as it stands after the decision (status, the
 * quantities, the process version it was made under, every status time and who decided) plus
 * its genealogy (material lots consumed, with quantities and runs, and the runs' ids), hashed
 * canonically, at the lot's `revision`. The runs, consumption and status times do not change
 * after completion, so a later change of any of it shows the signature as not valid for the
 * record — never as a changed signature. Deviations and CAPA of the lot go on after release
 * (effectiveness checks) and are deliberately not part of the signed content.
 *
 * Only raw statements (RawQuery): the lot history reads the same content with its own
 * connection to judge the signatures it shows (history.ts loadSignatures).
 */
import type { SignatureMeaning } from '$lib/auth/roles';
import type { RawQuery } from '../db/raw';
import { epochMs } from '../db/raw';
import { contentSha256 } from '../records/canonical';
import { insertDemoSignatures } from '../records/demo-signatures';
import type { SignableAdapter, SignableVersion } from '../records/signatures';

/** Record type under which lot signatures (release, rejection) are stored. */
export const LOT_RECORD_TYPE = 'lot';

/** Statuses a release decision can be signed from (the service moves `completed` on first). */
export const DECIDABLE_STATUSES = ['completed', 'in_review'] as const;

interface LotContentRow {
	id: number;
	code: string;
	status: string;
	revision: number;
	product_id: number;
	product_code: string;
	line_id: number;
	site_id: number;
	process_version_id: number | null;
	planned_qty: number;
	good_qty: number;
	scrap_qty: number;
	rework_qty: number;
	created_at: number;
	started_at: number | null;
	completed_at: number | null;
	review_started_at: number | null;
	decided_at: number | null;
	decided_by: number | null;
	materials: { materialLotId: number; quantity: number; runId: number | null }[];
	runs: number[];
}

/** The lot row and genealogy that a lot signature binds to (one row per lot). */
const LOT_CONTENT_SELECT = `SELECT l.id, l.code, l.status, l.revision, l.product_id, p.code AS product_code, l.line_id,
		        ln.site_id, l.process_version_id, l.planned_qty, l.good_qty, l.scrap_qty, l.rework_qty,
		        ${epochMs('l.created_at')} AS created_at, ${epochMs('l.started_at')} AS started_at,
		        ${epochMs('l.completed_at')} AS completed_at,
		        ${epochMs('l.review_started_at')} AS review_started_at,
		        ${epochMs('l.decided_at')} AS decided_at, l.decided_by,
		        (SELECT coalesce(jsonb_agg(jsonb_build_object('materialLotId', lm.material_lot_id,
		                  'quantity', lm.quantity, 'runId', lm.run_id) ORDER BY lm.id), '[]'::jsonb)
		           FROM lot_material lm WHERE lm.lot_id = l.id) AS materials,
		        (SELECT coalesce(jsonb_agg(r.id ORDER BY r.id), '[]'::jsonb)
		           FROM run r WHERE r.lot_id = l.id) AS runs
		 FROM lot l
		 JOIN product p ON p.id = l.product_id
		 JOIN line ln ON ln.id = l.line_id`;

const iso = (v: number | null): string | null => (v === null ? null : new Date(v).toISOString());

/** The lot's signable content and what signatures need around it; null when no such lot. */
export async function loadLotSignable(
	db: RawQuery,
	lotId: number,
	options: { lock?: boolean } = {}
): Promise<SignableVersion | null> {
	if (!Number.isSafeInteger(lotId) || lotId <= 0 || lotId > 2_147_483_647) return null;
	// Lock first, alone (a locking read cannot carry the aggregates below).
	if (options.lock) {
		const locked = await db.query('SELECT id FROM lot WHERE id = $1 FOR UPDATE', [lotId]);
		if (locked.length === 0) return null;
	}
	const [r] = await db.query<LotContentRow>(
		`${LOT_CONTENT_SELECT}
		 WHERE l.id = $1`,
		[lotId]
	);
	if (!r) return null;
	const decidable = (DECIDABLE_STATUSES as readonly string[]).includes(r.status);
	return {
		recordType: LOT_RECORD_TYPE,
		recordId: String(r.id),
		version: r.revision,
		content: lotContent(r),
		summary: `Lot ${r.code} (${r.product_code}): ${r.good_qty} good, ${r.scrap_qty} scrap, ${r.rework_qty} rework of ${r.planned_qty} planned; ${r.status.replace('_', ' ')}`,
		scope: { lineId: r.line_id, siteId: r.site_id },
		meanings: decidable ? (['released', 'rejected'] as SignatureMeaning[]) : [],
		dualSignature: false,
		// A release signature IS the status change: only lots/release.ts may apply it.
		transitionRequired: true
	};
}

function lotContent(r: LotContentRow): Record<string, unknown> {
	return {
		lot: {
			id: r.id,
			code: r.code,
			status: r.status,
			productId: r.product_id,
			productCode: r.product_code,
			lineId: r.line_id,
			processVersionId: r.process_version_id,
			plannedQty: r.planned_qty,
			goodQty: r.good_qty,
			scrapQty: r.scrap_qty,
			reworkQty: r.rework_qty,
			createdAt: iso(r.created_at),
			startedAt: iso(r.started_at),
			completedAt: iso(r.completed_at),
			reviewStartedAt: iso(r.review_started_at),
			decidedAt: iso(r.decided_at),
			decidedBy: r.decided_by
		},
		materials: r.materials,
		runs: r.runs
	};
}

/** The current revision of the lot and the SHA-256 of its signable content, or null. */
export async function lotContentHash(
	db: RawQuery,
	lotId: number
): Promise<{ version: number; sha256: string } | null> {
	const s = await loadLotSignable(db, lotId);
	return s ? { version: s.version, sha256: contentSha256(s.content) } : null;
}

/**
 * Release/rejection signatures for decided lots that have none, as the demo history's QA
 * reviewers gave them (signed at the decision time, bound to the lot's current content and
 * revision, so the lot page shows them valid). Only for seeding demo data: a real decision is
 * signed through lots/release.ts with re-authentication. Returns the number written.
 */
export async function signDecidedLotsForDemo(db: RawQuery, sessionId: string): Promise<number> {
	const rows = await db.query<LotContentRow & { full_name: string; username: string }>(
		`SELECT c.*, u.full_name, u.username FROM (
		   ${LOT_CONTENT_SELECT}
		   WHERE l.status IN ('released', 'rejected') AND l.decided_by IS NOT NULL
		     AND l.decided_at IS NOT NULL
		     AND NOT EXISTS (SELECT 1 FROM signature s WHERE s.record_type = '${LOT_RECORD_TYPE}'
		                       AND s.record_id = l.id::text)
		 ) c JOIN app_user u ON u.id = c.decided_by
		 ORDER BY c.id`
	);
	return insertDemoSignatures(
		db,
		sessionId,
		rows.map((r) => ({
			recordType: LOT_RECORD_TYPE,
			recordId: String(r.id),
			recordVersion: r.revision,
			contentSha256: contentSha256(lotContent(r)),
			signerUserId: r.decided_by as number,
			signerFullName: r.full_name,
			signerUsername: r.username,
			meaning: r.status === 'released' ? 'released' : 'rejected',
			signedAt: new Date(r.decided_at as number)
		}))
	);
}

export const lotSignable: SignableAdapter = {
	recordType: LOT_RECORD_TYPE,
	load: (database, recordId, options) =>
		/^\d{1,10}$/.test(recordId)
			? loadLotSignable(database, Number(recordId), options)
			: Promise.resolve(null)
};
