/** Inputs of the account forms (parsed on the server). */
import { z } from 'zod';
import { SESSION_KEY_LENGTH } from '$lib/server/auth/account';
import { MAX_PASSWORD_LENGTH } from '$lib/server/auth/passwords';

export const passwordForm = z
	.object({
		current: z.string().min(1, 'Enter your current password.').max(MAX_PASSWORD_LENGTH),
		password: z.string().min(1, 'Choose a new password.').max(MAX_PASSWORD_LENGTH),
		confirm: z.string().max(MAX_PASSWORD_LENGTH)
	})
	.refine((v) => v.password === v.confirm, {
		path: ['confirm'],
		message: 'The two passwords differ.'
	});

/** A session is named by a prefix of its id (the SHA-256 of its token), never by its token. */
export const sessionForm = z.object({
	session: z.string().regex(new RegExp(`^[0-9a-f]{${SESSION_KEY_LENGTH}}$`), 'Unknown session.')
});

export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) {
		const key = String(issue.path[0] ?? 'form');
		out[key] ??= issue.message;
	}
	return out;
}
