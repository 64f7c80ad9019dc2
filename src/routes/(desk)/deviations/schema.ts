/** Inputs of the deviation pages (URL filters and form actions), parsed on the server. */
import { z } from 'zod';
import { DEVIATION_SEVERITIES, DEVIATION_STATES } from '$lib/deviations/workflow';

const id = z.string().regex(/^\d{1,9}$/, 'Not a record id.');
const optionalId = z
	.string()
	.optional()
	.transform((v) => (v && /^\d{1,9}$/.test(v) ? Number(v) : null));
/** `<input type="date">`: a calendar day, due at its end (23:59:59.999 UTC). */
const day = (label: string) =>
	z
		.string()
		.regex(/^\d{4}-\d{2}-\d{2}$/, `Choose the ${label}.`)
		.transform((v) => new Date(`${v}T23:59:59.999Z`))
		.refine((d) => !Number.isNaN(d.getTime()), `The ${label} is not a date.`);
const optionalDay = (label: string) =>
	z
		.string()
		.optional()
		.transform((v) => (v === undefined || v.trim() === '' ? undefined : v))
		.pipe(day(label).optional())
		.transform((v) => v ?? null);
const revision = z.coerce.number().int().positive();
const textField = (max: number, message: string) => z.string().trim().min(1, message).max(max);

export const pageParams = z.object({ id });

export const listFilter = z.object({
	status: z.enum(['open', 'all', ...DEVIATION_STATES]).catch('open'),
	severity: z.enum(DEVIATION_SEVERITIES).optional().catch(undefined),
	line: optionalId.catch(null),
	owner: optionalId.catch(null),
	overdue: z
		.string()
		.optional()
		.transform((v) => v === '1' || v === 'on'),
	sort: z.enum(['aging-desc', 'aging-asc', 'due', 'opened']).catch('aging-desc')
});

export const prefillQuery = z.object({
	alarm: optionalId,
	inspection: optionalId,
	lot: optionalId
});

export const openForm = z.object({
	title: textField(200, 'Give the deviation a title.'),
	description: textField(4000, 'Describe what departed from the process or plan.'),
	severity: z.enum(DEVIATION_SEVERITIES, 'Choose the severity.'),
	lineId: optionalId,
	ownerId: optionalId,
	dueAt: optionalDay('due date'),
	alarmId: optionalId,
	inspectionId: optionalId,
	lotId: optionalId
});

export const editForm = z.object({
	revision,
	title: textField(200, 'Give the deviation a title.'),
	description: textField(4000, 'Describe the deviation.'),
	severity: z.enum(DEVIATION_SEVERITIES, 'Choose the severity.'),
	ownerId: optionalId,
	dueAt: optionalDay('due date'),
	reason: textField(500, 'Say why it is changed.')
});

export const containForm = z.object({
	revision,
	containment: textField(4000, 'Describe the containment.')
});

export const investigateForm = z.object({
	revision,
	rootCause: textField(4000, 'Describe the root cause.')
});

export const capaForm = z.object({
	revision,
	kind: z.enum(['corrective', 'preventive'], 'Choose corrective or preventive.'),
	description: textField(2000, 'Describe the action.'),
	ownerId: z
		.string()
		.regex(/^\d{1,9}$/, 'Choose the owner.')
		.transform(Number),
	dueAt: day('due date')
});

export const resolveForm = z.object({
	revision,
	capaId: id.transform(Number),
	status: z.enum(['done', 'cancelled'], 'Choose done or cancelled.'),
	outcome: textField(2000, 'Say what was done, or why it is cancelled.')
});

export const submitForm = z.object({
	revision,
	effectivenessDueAt: day('date of the effectiveness check')
});

export const effectivenessForm = z.object({
	revision,
	result: textField(4000, 'Describe what the check found.'),
	effective: z.enum(['yes', 'no'], 'Give the verdict.').transform((v) => v === 'yes')
});

export const closeForm = z.object({
	revision,
	justification: z
		.string()
		.max(2000)
		.optional()
		.transform((v) => v?.trim() || null),
	username: z
		.string()
		.max(64)
		.optional()
		.transform((v) => v?.trim() || null),
	password: z.string().min(1, 'Enter your password.').max(256),
	comment: z
		.string()
		.max(500)
		.optional()
		.transform((v) => v?.trim() || null)
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
