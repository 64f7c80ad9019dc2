/** Inputs of the release review page's form actions (parsed on the server). */
import { z } from 'zod';
import { MAX_REASON } from '$lib/server/lots/release';

export const lotParams = z.object({ id: z.string().regex(/^\d{1,9}$/, 'Not a lot id.') });

/** Form fields arrive as strings; an empty field is "not given". */
const optionalText = (max: number) =>
	z
		.string()
		.max(max, `Keep it under ${max} characters.`)
		.optional()
		.transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()));

/** The sign dialog's fields (src/lib/ui/sign-dialog.svelte), for a release or a rejection. */
export const decideForm = z.object({
	recordVersion: z.coerce.number().int().positive('The lot revision is missing.'),
	meaning: z.enum(['released', 'rejected'], 'Choose release or rejection.'),
	username: optionalText(64),
	password: z.string().min(1, 'Enter your password.').max(256),
	reason: optionalText(MAX_REASON)
});
