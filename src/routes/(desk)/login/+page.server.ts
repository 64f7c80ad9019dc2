/**
 * Sign-in. The decisions (throttle, lockout, equal answers for unknown users and wrong
 * passwords) live in $lib/server/auth/login.ts; this route only translates them.
 */
import { fail, redirect } from '@sveltejs/kit';
import { runningApp } from '$lib/server/running-app';
import { SESSION_COOKIE, writeCookie } from '$lib/server/auth/cookies';
import { attemptLogin, safeNext } from '$lib/server/auth/login';
import type { Actions, PageServerLoad } from './$types';
import { loginForm } from './schema';

const MESSAGES = {
	'bad-credentials': 'Incorrect username or password.',
	locked: 'This account is locked after repeated failed sign-ins. An administrator must unlock it.',
	throttled: 'Too many failed attempts from this network address. Wait 15 minutes, then try again.'
} as const;

export const load: PageServerLoad = ({ locals, url }) => {
	const next = safeNext(url.searchParams.get('next'));
	// Already signed in: nothing to do here.
	if (locals.principal.kind === 'user') redirect(303, next);
	return {
		next,
		notice:
			url.searchParams.get('password') === 'set' ? 'Your password is set. Sign in with it.' : null
	};
};

export const actions: Actions = {
	default: async (event) => {
		const app = runningApp();
		const form = await event.request.formData();
		const text = (name: string) => {
			const v = form.get(name);
			return typeof v === 'string' ? v : '';
		};
		const username = text('username').slice(0, 100);
		const next = safeNext(text('next') || event.url.searchParams.get('next'));
		const parsed = loginForm.safeParse({ username, password: text('password') });
		if (!parsed.success) {
			return fail(400, { username, message: parsed.error.issues[0]?.message ?? 'Sign in.' });
		}
		const result = await attemptLogin(app.database, app.auth, {
			username: parsed.data.username,
			password: parsed.data.password,
			ip: event.getClientAddress(),
			userAgent: event.request.headers.get('user-agent')
		});
		if (!result.ok) {
			return fail(result.reason === 'throttled' ? 429 : 400, {
				username,
				message: MESSAGES[result.reason]
			});
		}
		writeCookie(
			event.cookies,
			SESSION_COOKIE,
			result.session.token,
			event.url.protocol === 'https:',
			result.session.session.expiresAt
		);
		redirect(303, result.passwordExpired ? '/account?expired=1' : next);
	}
};
