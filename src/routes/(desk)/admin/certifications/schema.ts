/** Inputs of the certification forms (parsed on the server). */
import { z } from 'zod';

const id = z.coerce.number<string>('Choose one.').int().positive().max(2_000_000_000);
const day = (message: string) =>
	z
		.string(message)
		.regex(/^\d{4}-\d{2}-\d{2}$/, message)
		.transform((v) => new Date(`${v}T00:00:00Z`));

export const grantForm = z
	.object({
		userId: id,
		operation: z
			.string()
			.trim()
			.toLowerCase()
			.regex(/^[a-z0-9][a-z0-9 ._-]{0,59}$/, 'Name the operation (letters, digits, dash).'),
		scope: z.string().regex(/^(all|line:\d{1,9}|machine:\d{1,9})$/, 'Choose where it applies.'),
		validFrom: day('Pick the first valid day.'),
		validTo: day('Pick the day it ends.'),
		evidence: z
			.string()
			.trim()
			.min(3, 'Name the evidence: training record, assessment or certificate.')
			.max(300)
	})
	.transform(({ scope, ...rest }) => {
		const [kind, value] = scope.split(':');
		return {
			...rest,
			lineId: kind === 'line' ? Number(value) : null,
			machineId: kind === 'machine' ? Number(value) : null
		};
	});

export const revokeForm = z.object({
	id,
	reason: z.string().trim().min(3, 'Give a reason (it goes into the audit trail).').max(500)
});

export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) out[String(issue.path[0] ?? 'form')] ??= issue.message;
	return out;
}
