/**
 * Demo history only: signature rows written as the workflows would have written them, bound to
 * the record as stored (version and content hash), so the pages show them valid. Real
 * signatures are made only by signRecord (signatures.ts), with re-authentication. No imports
 * from signatures.ts: the signable modules that call this are imported by it.
 */
import type { SignatureMeaning } from '$lib/auth/roles';
import type { RawQuery } from '../db/raw';

export interface DemoSignature {
	recordType: string;
	recordId: string;
	recordVersion: number;
	contentSha256: string;
	signerUserId: number;
	signerFullName: string;
	signerUsername: string;
	meaning: SignatureMeaning;
	signedAt: Date;
}

/** Inserts `rows` under the demo session `sessionId`, in batches; returns how many. */
export async function insertDemoSignatures(
	db: RawQuery,
	sessionId: string,
	rows: readonly DemoSignature[]
): Promise<number> {
	const BATCH = 500; // 10 parameters a row, well under the protocol's 65,535
	for (let i = 0; i < rows.length; i += BATCH) {
		const params: unknown[] = [];
		const values = rows.slice(i, i + BATCH).map((r) => {
			params.push(
				r.recordType,
				r.recordId,
				r.recordVersion,
				r.contentSha256,
				r.signerUserId,
				r.signerFullName,
				r.signerUsername,
				r.meaning,
				r.signedAt.toISOString(),
				sessionId
			);
			const n = params.length;
			return `($${n - 9}, $${n - 8}, $${n - 7}::int, $${n - 6}, $${n - 5}::int, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}::timestamptz, $${n})`;
		});
		await db.query(
			`INSERT INTO signature (record_type, record_id, record_version, content_sha256, signer_user_id,
			   signer_full_name, signer_username, meaning, signed_at, session_id)
			 VALUES ${values.join(', ')}`,
			params
		);
	}
	return rows.length;
}
