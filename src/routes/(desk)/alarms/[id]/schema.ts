/** Inputs of the alarm record page's form actions (parsed on the server). */
import { z } from 'zod';
import { MAX_NOTE, MAX_REASON, MAX_SHELVE_MS } from '$lib/server/alarms/service';

export const pageParams = z.object({ id: z.string().regex(/^\d{1,9}$/, 'Not an alarm id.') });

const revision = z.coerce.number().int().positive();
const optionalText = (max: number, label: string) =>
	z
		.string()
		.max(max, `The ${label} is longer than ${max} characters.`)
		.optional()
		.transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()));
const requiredText = (max: number, label: string) =>
	z
		.string(`Give the ${label}.`)
		.trim()
		.min(1, `Give the ${label}.`)
		.max(max, `The ${label} is longer than ${max} characters.`);

export const acknowledgeForm = z.object({
	revision,
	causeCode: z.string('Choose a cause.').min(1, 'Choose a cause.').max(32),
	actionCode: z.string('Choose an action.').min(1, 'Choose an action.').max(32),
	note: optionalText(MAX_NOTE, 'note')
});

/** Shelving durations offered (minutes), all within the configured maximum. */
export const SHELVE_CHOICES = [15, 30, 60, 120, 240, 480].filter(
	(m) => m * 60_000 <= MAX_SHELVE_MS
);

export const shelveForm = z.object({
	revision,
	minutes: z.coerce
		.number('Choose how long.')
		.int()
		.positive('Choose how long.')
		.max(MAX_SHELVE_MS / 60_000, `At most ${MAX_SHELVE_MS / 3600_000} hours.`),
	reason: requiredText(MAX_REASON, 'reason for shelving')
});

export const unshelveForm = z.object({ revision, reason: optionalText(MAX_REASON, 'reason') });

export const outOfServiceForm = z.object({
	revision,
	reason: requiredText(MAX_REASON, 'reason (the authorisation, e.g. a change request)')
});

export const returnToServiceForm = z.object({
	revision,
	reason: optionalText(MAX_REASON, 'reason')
});
