/** Inputs of the characteristic record page's form actions (parsed on the server). */
import { z } from 'zod';
import { SIGNATURE_MEANINGS } from '$lib/auth/roles';

const id = z.string().regex(/^\d{1,9}$/, 'Not a record id.');
/** Form fields arrive as strings; an empty field is "not given". */
const optionalText = (max: number) =>
	z
		.string()
		.max(max)
		.optional()
		.transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()));
const number = (label: string) =>
	z
		.string()
		.trim()
		.min(1, `Enter the ${label}.`)
		.transform(Number)
		.refine(Number.isFinite, `The ${label} must be a number.`);

export const pageParams = z.object({ id });

export const signForm = z.object({
	// Only limit versions are signed here; change requests are signed on their own page, where
	// the change service checks who may author and who may approve.
	recordType: z.literal('control-limit-version'),
	recordId: id,
	recordVersion: z.coerce.number().int().positive(),
	meaning: z.enum(SIGNATURE_MEANINGS, 'Choose the meaning of the signature.'),
	username: optionalText(64),
	password: z.string().min(1, 'Enter your password.').max(256),
	reason: optionalText(500)
});

export const limitsForm = z.object({
	centre: number('centre'),
	sigma: number('sigma'),
	source: z.string().max(200),
	justification: z.string().max(2000)
});

export const editForm = limitsForm.extend({
	versionId: id,
	expectedRevision: z.coerce.number().int().positive(),
	reason: z.string().trim().min(3, 'Give the reason for this edit.').max(500)
});

/** First message per field, for `fail(400, { errors })`. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) {
		const key = String(issue.path[0] ?? 'form');
		out[key] ??= issue.message;
	}
	return out;
}
