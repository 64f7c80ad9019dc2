/** Inputs of the change-control pages (parsed on the server). */
import { z } from 'zod';
import { CHANGE_KINDS, CHANGE_STATUSES } from '$lib/change/workflow';

const optionalId = z
	.string()
	.regex(/^\d{1,9}$/)
	.transform(Number)
	.optional()
	.catch(undefined);

/** List filters live in the URL; anything unknown is ignored rather than refused. */
export const listFilters = z.object({
	status: z.enum(CHANGE_STATUSES).optional().catch(undefined),
	kind: z.enum(CHANGE_KINDS).optional().catch(undefined),
	line: optionalId
});

export const idParam = z.object({ id: z.string().regex(/^\d{1,9}$/) });

/** Form numbers arrive as strings; empty means "no value" (a spec limit may be absent). */
const num = (label: string) =>
	z
		.string()
		.trim()
		.min(1, `Enter the ${label}.`)
		.transform(Number)
		.refine(Number.isFinite, `The ${label} must be a number.`);
const optionalNum = (label: string) =>
	z
		.string()
		.trim()
		.optional()
		.transform((v) => (v === undefined || v === '' ? null : Number(v)))
		.refine((v) => v === null || Number.isFinite(v), `The ${label} must be a number.`);

/** The proposal fields of each kind, as the forms post them, turned into the service's shape. */
export const proposalFields = {
	'control-limit': z.object({ centre: num('centre'), sigma: num('sigma'), source: z.string() }),
	'spec-limit': z.object({
		lsl: optionalNum('lower spec limit'),
		target: optionalNum('target'),
		usl: optionalNum('upper spec limit')
	}),
	'process-version': z.object({
		description: z.string(),
		specCharacteristic: optionalNum('characteristic'),
		lsl: optionalNum('lower spec limit'),
		target: optionalNum('target'),
		usl: optionalNum('upper spec limit')
	}),
	'rule-set': z.object({ rules: z.string() }),
	'sampling-plan': z.object({
		subgroupSize: num('subgroup size'),
		samplingSeconds: num('sampling interval')
	})
} as const;

export const changeForm = z.object({
	kind: z.enum(CHANGE_KINDS, 'Choose what kind of change this is.'),
	title: z.string().max(200),
	justification: z.string().max(4000),
	characteristicId: optionalNum('characteristic'),
	productId: optionalNum('product')
});

export const editForm = z.object({
	title: z.string().max(200),
	justification: z.string().max(4000),
	productId: optionalNum('product'),
	expectedRevision: z.coerce.number().int().positive()
});

export const reasonForm = z.object({ reason: z.string().max(2000).optional() });

export const signForm = z.object({
	recordVersion: z.coerce.number().int().positive(),
	username: z.string().max(64).optional(),
	password: z.string().min(1, 'Enter your password.').max(256),
	reason: z.string().max(500).optional()
});

/** Turn the posted fields of `kind` into the proposal object (or the first problem). */
export function proposalOf(
	kind: keyof typeof proposalFields,
	values: Record<string, unknown>
): { ok: true; proposal: unknown } | { ok: false; field: string; message: string } {
	const parsed = proposalFields[kind].safeParse(values);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		return { ok: false, field: String(issue.path[0] ?? ''), message: issue.message };
	}
	const p = parsed.data as Record<string, unknown>;
	switch (kind) {
		case 'sampling-plan':
			return {
				ok: true,
				proposal: {
					subgroupSize: p.subgroupSize,
					samplingIntervalMs: Math.round((p.samplingSeconds as number) * 1000)
				}
			};
		case 'process-version':
			return {
				ok: true,
				proposal: {
					description: p.description,
					specs:
						p.specCharacteristic === null
							? []
							: [
									{
										characteristicId: p.specCharacteristic,
										lsl: p.lsl,
										target: p.target,
										usl: p.usl
									}
								]
				}
			};
		default:
			return { ok: true, proposal: p };
	}
}

/** First message per field, for `fail(400, { errors })`. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) out[String(issue.path[0] ?? 'form')] ??= issue.message;
	return out;
}
