/** Inputs of the station forms (parsed on the server; the services check the rules). */
import { z } from 'zod';

const id = z.coerce.number<string>('Missing.').int().positive().max(2_000_000_000);
const qty = z.coerce
	.number<string>('Enter a number.')
	.int('Whole parts only.')
	.min(0, 'Zero or more.')
	.max(100_000_000);
const optionalText = (max: number) =>
	z
		.string()
		.max(max, `At most ${max} characters.`)
		.optional()
		.transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const stationParams = z.object({ line: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/) });

export const planForm = z.object({
	productId: id,
	plannedQty: z.coerce
		.number<string>('Enter the planned quantity.')
		.int('Whole parts only.')
		.positive('Above zero.')
		.max(100_000_000),
	code: optionalText(60),
	plannedStart: optionalText(30).pipe(
		z
			.string()
			.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'Pick a date and time.')
			.transform((v) => new Date(`${v}:00Z`))
			.optional()
	)
});

export const startForm = z.object({
	lotId: id,
	machineId: id,
	operation: optionalText(80),
	materials: z
		.array(
			z.object({
				code: z.string().trim().min(1).max(80),
				quantity: z.coerce.number<string>('Enter the quantity.').positive('Above zero.').max(1e9)
			})
		)
		.max(10)
});

export const runForm = z.object({ runId: id });
export const lotForm = z.object({ lotId: id });
export const quantitiesForm = z.object({ lotId: id, goodQty: qty, scrapQty: qty, reworkQty: qty });

export const recordForm = z.object({
	inspectionId: id,
	value: optionalText(40).pipe(z.coerce.number<string>('Enter a number.').finite().optional()),
	passed: z
		.enum(['pass', 'fail', ''])
		.optional()
		.transform((v) => (v === 'pass' ? true : v === 'fail' ? false : undefined)),
	note: optionalText(500)
});

export const confirmForm = z.object({ inspectionId: id, note: optionalText(500) });

export const deviationForm = z.object({
	inspectionId: id.optional(),
	lotId: id.optional(),
	title: z.string().trim().min(3, 'Give it a title.').max(120),
	description: z.string().trim().min(3, 'Say what departed from the plan.').max(2000)
});

/** Material rows of the start form: repeated code/quantity pairs, blank rows left out. */
export function materialRows(form: FormData): { code: string; quantity: string }[] {
	const codes = form.getAll('materialCode').map(String);
	const quantities = form.getAll('materialQty').map(String);
	return codes
		.map((code, i) => ({ code: code.trim(), quantity: (quantities[i] ?? '').trim() }))
		.filter((r) => r.code !== '' || r.quantity !== '');
}

/** First message per field. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) {
		const key = String(issue.path[0] ?? 'form');
		out[key] ??= issue.message;
	}
	return out;
}
