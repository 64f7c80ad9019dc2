/**
 * Which lots were running on a machine at a moment: the first step of the drill-down from an
 * alarm (or a point on the wall) to the lot record.
 *
 * A run's interval is [started_at, ended_at) — ended_at null while it runs. The index
 * run_machine_started_idx (machine_id, started_at) bounds the scan to the machine's runs that
 * started at or before `at`; normally one row matches, several only when a machine works on
 * more than one lot at once (a changeover overlap or a shared tool).
 */
import { epochMs, fromEpochMs, type RawQuery } from '../db/raw';

export interface LotActiveAt {
	lotId: number;
	lotCode: string;
	runId: number;
	productCode: string;
	startedAt: Date;
	endedAt: Date | null;
}

interface RawLotActiveAt {
	lotId: number;
	lotCode: string;
	runId: number;
	productCode: string;
	startedAt: number;
	endedAt: number | null;
}

const AT = fromEpochMs('$2::float8');

/** Runs on `machineId` whose interval contains `at`, newest start first. */
export async function lotsActiveAt(
	db: RawQuery,
	machineId: number,
	at: Date
): Promise<LotActiveAt[]> {
	const rows = await db.query<RawLotActiveAt>(
		`SELECT l.id AS "lotId", l.code AS "lotCode", r.id AS "runId", p.code AS "productCode",
		        ${epochMs('r.started_at')} AS "startedAt", ${epochMs('r.ended_at')} AS "endedAt"
		 FROM run r
		 JOIN lot l ON l.id = r.lot_id
		 JOIN product p ON p.id = l.product_id
		 WHERE r.machine_id = $1 AND r.started_at <= ${AT}
		   AND (r.ended_at IS NULL OR r.ended_at > ${AT})
		 ORDER BY r.started_at DESC, r.id DESC`,
		[machineId, at.getTime()]
	);
	return rows.map((r) => ({
		...r,
		startedAt: new Date(r.startedAt),
		endedAt: r.endedAt === null ? null : new Date(r.endedAt)
	}));
}
