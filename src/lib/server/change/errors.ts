/**
 * The closed list of change-control refusals. Pages show `message` beside the form; a JSON
 * answer is `{ error: code, message }` with `changeHttpStatus(code)`; /metrics counts them.
 */
import type { SignatureErrorCode } from '../records/signatures';

export const CHANGE_ERROR_CODES = [
	'forbidden',
	'invalid',
	'not-found',
	'illegal-transition',
	'not-author',
	'author-cannot-approve',
	'stale',
	'unchanged',
	'not-signed',
	'effective-in-past',
	'signature'
] as const;
export type ChangeErrorCode = (typeof CHANGE_ERROR_CODES)[number];

/** A refusal the page shows beside its form and the API answers as `{ error: code, message }`. */
export class ChangeError extends Error {
	constructor(
		readonly code: ChangeErrorCode,
		message: string,
		readonly field?: string,
		/** The signature service's own code when the signature was refused. */
		readonly signatureCode?: SignatureErrorCode
	) {
		super(message);
		this.name = 'ChangeError';
	}
}

export function changeHttpStatus(code: ChangeErrorCode): number {
	// Not the author / the author approving: the person may act on change requests, but the
	// state of this one refuses it (like production's `same-person`): 409, not 403.
	if (code === 'forbidden') return 403;
	if (code === 'invalid' || code === 'effective-in-past' || code === 'signature') return 400;
	if (code === 'not-found') return 404;
	return 409;
}
