/** Inputs of the wall-screen administration forms (parsed on the server). */
import { z } from 'zod';

const id = z
	.string()
	.regex(/^\d{1,9}$/, 'Not a screen id.')
	.transform(Number);

export const registerForm = z.object({
	name: z
		.string()
		.trim()
		.min(1, 'Name the screen, e.g. "Line 1 hall".')
		.max(80, 'At most 80 characters.'),
	lineIds: z
		.array(
			z
				.string()
				.regex(/^\d{1,9}$/)
				.transform(Number)
		)
		.min(1, 'Choose at least one line.')
		.max(50)
});

export const reissueForm = z.object({ deviceId: id });

export const revokeForm = z.object({
	deviceId: id,
	reason: z
		.string()
		.trim()
		.min(3, 'Give a reason (it goes into the audit trail).')
		.max(500, 'Keep the reason under 500 characters.')
});

export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) {
		const key = String(issue.path[0] ?? 'form');
		out[key] ??= issue.message;
	}
	return out;
}
