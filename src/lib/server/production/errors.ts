/**
 * The closed list of refusals of the production services. Pages show `message`; the JSON API
 * answers `{ error: code, message }` with `httpStatus(code)`; /metrics counts them by code.
 * Messages are written for the person at the station: what was refused and what to do.
 */
export const PRODUCTION_ERROR_CODES = [
	'unauthorized',
	'forbidden',
	'invalid',
	'not-found',
	'operator-not-certified',
	'material-not-validated',
	'machine-busy',
	'illegal-transition',
	'run-open',
	'run-ended',
	'inspection-overdue',
	'inspection-unconfirmed',
	'inspection-closed',
	'same-person',
	'material-not-pending',
	// Lot release (lots/release.ts): exceptions still open; the electronic signature refused.
	'exceptions-open',
	'signature-refused'
] as const;
export type ProductionErrorCode = (typeof PRODUCTION_ERROR_CODES)[number];

export class ProductionError extends Error {
	readonly code: ProductionErrorCode;
	/** Structured facts behind the refusal (which material lots, which inspections). */
	readonly details: Record<string, unknown>;
	/** Form field the refusal is about, when there is one. */
	readonly field: string | undefined;

	constructor(
		code: ProductionErrorCode,
		message: string,
		options: { details?: Record<string, unknown>; field?: string } = {}
	) {
		super(message);
		this.name = 'ProductionError';
		this.code = code;
		this.details = options.details ?? {};
		this.field = options.field;
	}
}

export function httpStatus(code: ProductionErrorCode): number {
	switch (code) {
		case 'unauthorized':
			return 401;
		case 'forbidden':
			return 403;
		case 'invalid':
			return 400;
		case 'not-found':
			return 404;
		case 'signature-refused':
			// Re-authentication or signing right failed: not allowed, whatever the lot's state.
			return 403;
		default:
			// The request was understood and authorised, but the state of the records refuses it.
			return 409;
	}
}
