/** Inputs of the user administration forms (parsed on the server). */
import { z } from 'zod';
import { ROLES, type Role } from '$lib/auth/roles';

const optionalText = (max: number) =>
	z
		.string()
		.max(max)
		.optional()
		.transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()));

export const reason = z
	.string()
	.trim()
	.min(3, 'Give a reason (it goes into the audit trail).')
	.max(500, 'Keep the reason under 500 characters.');

/** A role row of the form: a role and its scope, `all`, `site:<id>` or `line:<id>`. */
const grant = z
	.object({
		role: z.enum(ROLES, 'Choose a role.'),
		scope: z.string().regex(/^(all|site:\d{1,9}|line:\d{1,9})$/, 'Choose a scope.')
	})
	.transform(({ role, scope }): { role: Role; siteId: number | null; lineId: number | null } => {
		const [kind, id] = scope.split(':');
		return {
			role,
			siteId: kind === 'site' ? Number(id) : null,
			lineId: kind === 'line' ? Number(id) : null
		};
	});

const grants = z.array(grant).min(1, 'Give the user at least one role.').max(20);

const profile = {
	fullName: z
		.string()
		.trim()
		.min(1, 'Enter the full name (it is printed on signatures).')
		.max(120, 'At most 120 characters.'),
	email: optionalText(200).pipe(z.email('Not an e-mail address.').nullable()),
	canSign: z.boolean(),
	grants,
	/** Customer accounts: the customer whose lots they see ('' = none). */
	customerId: z
		.string()
		.optional()
		.transform((v) => (v === undefined ? '' : v.trim()))
		.pipe(z.string().regex(/^(\d{1,9})?$/, 'Choose a customer.'))
		.transform((v) => (v === '' ? null : Number(v)))
};

export const createForm = z.object({
	username: z
		.string()
		.trim()
		.toLowerCase()
		.regex(
			/^[a-z][a-z0-9._-]{1,39}$/,
			'2-40 characters: lower-case letters, digits, dot, dash, underscore; starting with a letter.'
		),
	...profile
});

export const accessForm = z.object({ ...profile, reason });

export const reasonForm = z.object({ reason });

export const userParams = z.object({ id: z.string().regex(/^\d{1,9}$/) });

/** The form's fields as the schemas expect them (repeated role/scope pairs become a list). */
export interface FormInput {
	username: string | undefined;
	fullName: string | undefined;
	email: string | undefined;
	canSign: boolean;
	grants: { role: string; scope: string }[];
	customerId: string | undefined;
	reason: string | undefined;
}

export function formInput(form: FormData): FormInput {
	const roles = form.getAll('role').map(String);
	const scopes = form.getAll('scope').map(String);
	const text = (name: string) => {
		const v = form.get(name);
		return typeof v === 'string' ? v : undefined;
	};
	return {
		username: text('username'),
		fullName: text('fullName'),
		email: text('email'),
		canSign: form.get('canSign') === 'on',
		grants: roles.map((role, i) => ({ role, scope: scopes[i] ?? '' })),
		customerId: text('customer'),
		reason: text('reason')
	};
}

/** First message per field, for `fail(400, { errors })`. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const issue of error.issues) {
		const key = String(issue.path[0] ?? 'form');
		out[key] ??= issue.message;
	}
	return out;
}
