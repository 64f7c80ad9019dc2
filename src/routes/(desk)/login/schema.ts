/** Input of the sign-in form (parsed on the server). */
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '$lib/server/auth/passwords';

export const loginForm = z.object({
	username: z.string().trim().min(1, 'Enter your username.').max(100, 'That is not a username.'),
	password: z
		.string()
		.min(1, 'Enter your password.')
		.max(MAX_PASSWORD_LENGTH, 'That is not a password.')
});
