/**
 * The signed-in user's own account: password change and open sessions. Every action acts on
 * the caller's own user only (the user id comes from the session, never from the form).
 */
import { fail, redirect } from '@sveltejs/kit';
import { eq } from 'drizzle-orm';
import { ROLE_LABEL } from '$lib/auth/roles';
import { runningApp as app } from '$lib/server/running-app';
import {
	changeOwnPassword,
	endOtherSessions,
	endOwnSession,
	sessionKey
} from '$lib/server/auth/account';
import { clearCookie, SESSION_COOKIE } from '$lib/server/auth/cookies';
import { requireUser } from '$lib/server/auth/guard';
import { passwordExpired, passwordExpiredFor } from '$lib/server/auth/login';
import { listUserSessions } from '$lib/server/auth/sessions';
import { appUser } from '$lib/server/db/schema';
import type { Actions, PageServerLoad } from './$types';
import { fieldErrors, passwordForm, sessionForm } from './schema';
import { describeUserAgent } from './user-agent';

export const load: PageServerLoad = async (event) => {
	const user = requireUser(event);
	const { database, auth } = app();
	const [row] = await database.db
		.select({
			email: appUser.email,
			canSign: appUser.canSign,
			passwordChangedAt: appUser.passwordChangedAt,
			esignPolicyAckAt: appUser.esignPolicyAckAt
		})
		.from(appUser)
		.where(eq(appUser.id, user.userId));
	const sessions = await listUserSessions(database, user.userId);
	return {
		account: {
			username: user.username,
			fullName: user.fullName,
			email: row?.email ?? null,
			canSign: row?.canSign ?? false,
			esignPolicyAcknowledged: row?.esignPolicyAckAt !== null,
			passwordChangedAt: row?.passwordChangedAt?.toISOString() ?? null,
			passwordExpiresAt:
				auth.passwordMaxAgeDays > 0 && row?.passwordChangedAt
					? new Date(
							row.passwordChangedAt.getTime() + auth.passwordMaxAgeDays * 86_400_000
						).toISOString()
					: null,
			grants: user.grants.map((g) => ({
				role: ROLE_LABEL[g.role],
				scope:
					g.lineId !== null
						? `line ${g.lineId}`
						: g.siteId !== null
							? `site ${g.siteId}`
							: 'all sites'
			}))
		},
		// From the database, not from ?expired=1: the banner goes once the password is changed.
		expired: passwordExpired(row?.passwordChangedAt ?? null, auth.passwordMaxAgeDays),
		sessions: sessions.map((s) => ({
			key: sessionKey(s.id),
			current: s.id === user.sessionId,
			createdAt: s.createdAt.toISOString(),
			lastSeenAt: s.lastSeenAt.toISOString(),
			ip: s.ip,
			userAgent: s.userAgent,
			browser: describeUserAgent(s.userAgent)
		}))
	};
};

export const actions: Actions = {
	password: async (event) => {
		const user = requireUser(event);
		const { database, auth } = app();
		const form = await event.request.formData();
		const text = (name: string) => {
			const v = form.get(name);
			return typeof v === 'string' ? v : '';
		};
		const parsed = passwordForm.safeParse({
			current: text('current'),
			password: text('password'),
			confirm: text('confirm')
		});
		if (!parsed.success)
			return fail(400, { action: 'password', errors: fieldErrors(parsed.error) });
		// Read before the change: was this the forced change after sign-in with an expired one?
		const wasExpired = await passwordExpiredFor(database, user.userId, auth.passwordMaxAgeDays);
		const result = await changeOwnPassword(database, auth, user, {
			current: parsed.data.current,
			password: parsed.data.password,
			ip: event.getClientAddress()
		});
		if (!result.ok) {
			return fail(400, { action: 'password', errors: { [result.field]: result.message } });
		}
		// The forced change is done: on to the desk, as a normal sign-in would have gone.
		if (wasExpired) redirect(303, '/');
		return {
			action: 'password',
			done: `Password changed. ${result.endedSessions} other session(s) signed out.`
		};
	},

	endSession: async (event) => {
		const user = requireUser(event);
		const { database } = app();
		const parsed = sessionForm.safeParse({
			session: (await event.request.formData()).get('session')
		});
		if (!parsed.success)
			return fail(400, { action: 'sessions', errors: fieldErrors(parsed.error) });
		const result = await endOwnSession(database, user, parsed.data.session);
		if (!result.ok)
			return fail(400, { action: 'sessions', errors: { session: 'Unknown session.' } });
		if (result.current) {
			clearCookie(event.cookies, SESSION_COOKIE, event.url.protocol === 'https:');
			redirect(303, '/login');
		}
		return { action: 'sessions', done: 'Session signed out.' };
	},

	endOthers: async (event) => {
		const user = requireUser(event);
		const { database } = app();
		const ended = await endOtherSessions(database, user);
		return { action: 'sessions', done: `${ended} other session(s) signed out.` };
	}
};
