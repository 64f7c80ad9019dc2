/**
 * Who is certified for what, at a given moment. Read by run start (enforcement), alarm
 * acknowledgement (only people certified on the alarm's line may acknowledge it) and the lot
 * history (status of each operator's certification at the time of their run).
 *
 * A certification is current at `at` when valid_from <= at < valid_to and it was not revoked
 * at or before `at`. Its scope: a machine (that machine only), a line (every machine of the
 * line), or neither (the operation anywhere).
 */
import { epochMs, fromEpochMs, type RawQuery } from '../db/raw';

export interface CertificationRow {
	id: number;
	userId: number;
	operation: string;
	lineId: number | null;
	machineId: number | null;
	validFrom: Date;
	validTo: Date;
	evidence: string;
	revokedAt: Date | null;
}

/** How a certification stood at one moment, in words the lot record and the UI show. */
export type CertificationStanding = 'current' | 'expired' | 'not-yet-valid' | 'revoked';

export function standingAt(
	cert: Pick<CertificationRow, 'validFrom' | 'validTo' | 'revokedAt'>,
	at: Date
): CertificationStanding {
	if (cert.revokedAt && cert.revokedAt.getTime() <= at.getTime()) return 'revoked';
	if (at.getTime() < cert.validFrom.getTime()) return 'not-yet-valid';
	if (at.getTime() >= cert.validTo.getTime()) return 'expired';
	return 'current';
}

// Timestamps leave as epoch milliseconds: both drivers parse float8 alike (db/raw.ts).
const COLUMNS = `c.id, c.user_id AS "userId", c.operation, c.line_id AS "lineId",
	c.machine_id AS "machineId", ${epochMs('c.valid_from')} AS "validFrom",
	${epochMs('c.valid_to')} AS "validTo", c.evidence, ${epochMs('c.revoked_at')} AS "revokedAt"`;

type RawCertification = Omit<CertificationRow, 'validFrom' | 'validTo' | 'revokedAt'> & {
	validFrom: number;
	validTo: number;
	revokedAt: number | null;
};

const AT3 = fromEpochMs('$3::float8');
const AT4 = fromEpochMs('$4::float8');

function toRow(r: RawCertification): CertificationRow {
	return {
		...r,
		validFrom: new Date(r.validFrom),
		validTo: new Date(r.validTo),
		revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt)
	};
}

/**
 * The certification that qualifies `userId` for `operation` on `machineId` at `at`, the most
 * specific first (machine, then line, then plant-wide), or null when none is current.
 */
export async function currentCertificationFor(
	db: RawQuery,
	userId: number,
	operation: string,
	machineId: number,
	at: Date
): Promise<CertificationRow | null> {
	const rows = await db.query<RawCertification>(
		`SELECT ${COLUMNS}
		 FROM certification c, machine m
		 WHERE m.id = $2 AND c.user_id = $1 AND c.operation = $3
		   AND (c.machine_id = m.id OR (c.machine_id IS NULL AND (c.line_id = m.line_id OR c.line_id IS NULL)))
		   AND c.valid_from <= ${AT4} AND c.valid_to > ${AT4} AND (c.revoked_at IS NULL OR c.revoked_at > ${AT4})
		 ORDER BY (c.machine_id IS NOT NULL) DESC, (c.line_id IS NOT NULL) DESC, c.valid_to DESC
		 LIMIT 1`,
		[userId, machineId, operation, at.getTime()]
	);
	return rows[0] ? toRow(rows[0]) : null;
}

/**
 * Does `userId` hold any certification current at `at` that covers some machine of `lineId`
 * (machine-, line- or plant-scoped, any operation)? Acknowledging an alarm needs it.
 */
export async function isCertifiedForLine(
	db: RawQuery,
	userId: number,
	lineId: number,
	at: Date
): Promise<boolean> {
	const rows = await db.query<{ ok: boolean }>(
		`SELECT EXISTS (
			SELECT 1 FROM certification c LEFT JOIN machine m ON m.id = c.machine_id
			WHERE c.user_id = $1
			  AND (m.line_id = $2 OR (c.machine_id IS NULL AND (c.line_id = $2 OR c.line_id IS NULL)))
			  AND c.valid_from <= ${AT3} AND c.valid_to > ${AT3} AND (c.revoked_at IS NULL OR c.revoked_at > ${AT3})
		) AS ok`,
		[userId, lineId, at.getTime()]
	);
	return rows[0]?.ok === true;
}

/** Every certification of a user (newest first), for the admin page and the lot record. */
export async function certificationsOfUser(
	db: RawQuery,
	userId: number
): Promise<CertificationRow[]> {
	const rows = await db.query<RawCertification>(
		`SELECT ${COLUMNS} FROM certification c WHERE c.user_id = $1 ORDER BY c.valid_to DESC, c.id DESC`,
		[userId]
	);
	return rows.map(toRow);
}
