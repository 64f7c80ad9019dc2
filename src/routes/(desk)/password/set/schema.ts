/** Input of the password-set form (parsed on the server). */
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '$lib/server/auth/passwords';

export const setForm = z
	.object({
		code: z
			.string()
			.trim()
			.min(1, 'Enter the one-time code you were given.')
			.max(40, 'That is not a one-time code.'),
		password: z
			.string()
			.min(1, 'Choose a password.')
			.max(MAX_PASSWORD_LENGTH, `Use at most ${MAX_PASSWORD_LENGTH} characters.`),
		confirm: z.string().max(MAX_PASSWORD_LENGTH)
	})
	.refine((v) => v.password === v.confirm, {
		path: ['confirm'],
		message: 'The two passwords differ.'
	});

export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) {
		const key = String(issue.path[0] ?? 'form');
		out[key] ??= issue.message;
	}
	return out;
}
