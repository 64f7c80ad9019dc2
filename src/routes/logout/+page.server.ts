/**
 * Sign-out: a POST only (a link or an image cannot sign anyone out); GET goes to the sign-in
 * page. Signing out ends every session of the user, on every desk and tablet, and their
 * sockets (authEvents → hub), as issue #4 asks: a person who signs out is out everywhere.
 * Ending a single other session is on the account page.
 */
import { redirect } from '@sveltejs/kit';
import { getApp } from '$lib/server/app';
import { appendAudit } from '$lib/server/audit/append';
import { clearCookie, SESSION_COOKIE } from '$lib/server/auth/cookies';
import { endUserSessions } from '$lib/server/auth/sessions';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => {
	redirect(303, '/login');
};

export const actions: Actions = {
	default: async (event) => {
		const app = getApp();
		const principal = event.locals.principal;
		if (app && principal.kind === 'user') {
			await endUserSessions(app.database, principal.userId, 'logout');
			await app.database.transaction((tx) =>
				appendAudit(tx, {
					actor: { userId: principal.userId, label: principal.username },
					action: 'logout',
					entityType: 'session',
					entityId: principal.sessionId.slice(0, 12)
				})
			);
		}
		clearCookie(event.cookies, SESSION_COOKIE, event.url.protocol === 'https:');
		redirect(303, '/login');
	}
};
