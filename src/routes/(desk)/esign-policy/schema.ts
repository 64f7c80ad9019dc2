import { z } from 'zod';

/** A same-site path to return to (never another origin, never a protocol-relative URL). */
export function safeNext(next: string | null | undefined): string | null {
	if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\'))
		return null;
	return next.length > 500 ? null : next;
}

export const acknowledgeForm = z.object({
	confirm: z.literal('yes', 'Tick the box to confirm you have read and understood the policy.'),
	next: z
		.string()
		.optional()
		.transform((v) => safeNext(v))
});
