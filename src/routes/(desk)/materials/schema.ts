/** Inputs of the material-lot forms (parsed on the server). */
import { z } from 'zod';
import { MATERIAL_LOT_STATUSES } from '$lib/server/db/schema/production';

const id = z.coerce.number<string>('Choose one.').int().positive().max(2_000_000_000);

export const statusFilter = z.enum(MATERIAL_LOT_STATUSES).optional().catch(undefined);

export const receiveForm = z.object({
	materialId: id,
	supplierId: id,
	supplierLot: z.string().trim().min(1, "Enter the supplier's lot number.").max(80),
	quantity: z.coerce.number<string>('Enter the quantity.').positive('Above zero.').max(1e9),
	code: z
		.string()
		.trim()
		.max(60)
		.optional()
		.transform((v) => (v ? v : undefined)),
	expiresAt: z
		.string()
		.optional()
		.transform((v) => (v ? v : undefined))
		.pipe(
			z
				.string()
				.regex(/^\d{4}-\d{2}-\d{2}$/, 'Pick a date.')
				.transform((v) => new Date(`${v}T00:00:00Z`))
				.optional()
		)
});

export const decideForm = z.object({
	id,
	decision: z.enum(['validated', 'rejected'], 'Validate or reject.'),
	evidence: z
		.string()
		.trim()
		.min(3, 'Name the evidence (certificate of analysis, inspection report).')
		.max(500)
});

export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) out[String(issue.path[0] ?? 'form')] ??= issue.message;
	return out;
}
