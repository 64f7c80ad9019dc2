/**
 * Public page: set a password with a one-time code (new user, reset, first administrator).
 * Wrong, used and expired codes get one message and count as failed attempts from the
 * address, in the same login_attempt table the sign-in page throttles with.
 */
import { fail, redirect } from '@sveltejs/kit';
import { runningApp as app } from '$lib/server/running-app';
import { MIN_PASSWORD_LENGTH } from '$lib/server/auth/passwords';
import { redeemPasswordCode } from '$lib/server/auth/users';
import type { Actions, PageServerLoad } from './$types';
import { fieldErrors, setForm } from './schema';

export const load: PageServerLoad = ({ url }) => {
	// The code from the link is only pre-filled: it is checked (and counted) on submit.
	const code = url.searchParams.get('code')?.slice(0, 40) ?? '';
	return { code, minLength: MIN_PASSWORD_LENGTH };
};

export const actions: Actions = {
	set: async (event) => {
		const { database, auth } = app();
		const form = await event.request.formData();
		const text = (name: string) => {
			const v = form.get(name);
			return typeof v === 'string' ? v : '';
		};
		const code = text('code');
		const parsed = setForm.safeParse({
			code,
			password: text('password'),
			confirm: text('confirm')
		});
		if (!parsed.success) return fail(400, { code, errors: fieldErrors(parsed.error) });
		const result = await redeemPasswordCode(database, parsed.data.code, parsed.data.password, {
			ip: event.getClientAddress(),
			throttlePerIp: auth.throttlePerIp
		});
		if (result.ok) redirect(303, '/login?password=set');
		if (result.reason === 'password') {
			return fail(400, { code, errors: { password: result.problems.join(' ') } });
		}
		if (result.reason === 'throttled') {
			return fail(429, {
				code,
				errors: {
					form: 'Too many failed attempts from this network address. Wait 15 minutes and try again.'
				}
			});
		}
		return fail(400, {
			code,
			errors: {
				code: 'This code is not valid: it may be mistyped, already used or expired. Ask your administrator for a new one.'
			}
		});
	}
};
