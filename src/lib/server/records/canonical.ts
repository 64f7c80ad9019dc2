/**
 * The content a signature binds to: SHA-256 over the canonical JSON of a record version (the
 * same canonical form the audit chain hashes, so key order and jsonb reordering never change a
 * hash). Records hand in plain JSON values: numbers, strings, booleans, null, arrays, objects.
 */
import { canonicalJson, sha256Hex } from '../audit/chain';

export function contentSha256(content: Record<string, unknown>): string {
	return sha256Hex(canonicalJson(content));
}
