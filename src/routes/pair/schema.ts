/** Input of the screen pairing form (parsed on the server). */
import { z } from 'zod';

export const pairForm = z.object({
	code: z
		.string()
		.trim()
		.min(1, 'Type the pairing code shown on the administrator’s screen.')
		.max(40, 'That is not a pairing code.')
		.regex(/^[A-Za-z0-9\s-]+$/, 'A pairing code has only letters, digits and a dash.')
});
