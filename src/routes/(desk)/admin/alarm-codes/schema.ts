/** Inputs of the alarm code list page (parsed on the server). */
import { z } from 'zod';
import { codeSchema } from '$lib/server/alarms/codes';

export const createForm = codeSchema;

export const updateForm = z.object({
	id: z.coerce.number('Not a code.').int().positive('Not a code.'),
	label: z.string().trim().min(2, 'At least 2 characters').max(120, 'At most 120 characters'),
	active: z.enum(['true', 'false'], 'Choose active or inactive.').transform((v) => v === 'true')
});
