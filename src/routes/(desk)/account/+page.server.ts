/**
 * The signed-in user's own account: password change and open sessions. Every action acts on
 * the caller's own user only (the user id comes from the session, never from the form).
 */
import { error, fail, redirect } from '@sveltejs/kit';
import { eq } from 'drizzle-orm';
import { ROLE_LABEL } from '$lib/auth/roles';
import { getApp } from '$lib/server/app';
import { passwordExpired } from '$lib/server/auth/login';
import { requireUser } from '$lib/server/auth/guard';
import { checkPassword, PASSWORD_PROBLEM_TEXT, verifyPassword } from '$lib/server/auth/passwords';
import { endSession, endUserSessions, listUserSessions } from '$lib/server/auth/sessions';
import { setPassword, UserInputError } from '$lib/server/auth/users';
import { appUser } from '$lib/server/db/schema';
import type { Actions, PageServerLoad } from './$types';
import { fieldErrors, passwordForm, sessionForm } from './schema';

function app() {
	const running = getApp();
	if (!running) error(503, 'The server is starting; try again in a moment.');
	return running;
}

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
		expired:
			event.url.searchParams.has('expired') ||
			passwordExpired(row?.passwordChangedAt ?? null, auth.passwordMaxAgeDays),
		sessions: sessions.map((s) => ({
			key: s.id.slice(0, 16),
			current: s.id === user.sessionId,
			createdAt: s.createdAt.toISOString(),
			lastSeenAt: s.lastSeenAt.toISOString(),
			ip: s.ip,
			userAgent: s.userAgent
		}))
	};
};

export const actions: Actions = {
	password: async (event) => {
		const user = requireUser(event);
		const { database } = app();
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
		const [row] = await database.db
			.select({ passwordHash: appUser.passwordHash })
			.from(appUser)
			.where(eq(appUser.id, user.userId));
		if (!row?.passwordHash || !(await verifyPassword(row.passwordHash, parsed.data.current))) {
			return fail(400, {
				action: 'password',
				errors: { current: 'This is not your current password.' }
			});
		}
		if (parsed.data.current === parsed.data.password) {
			return fail(400, {
				action: 'password',
				errors: { password: 'Choose a password different from the current one.' }
			});
		}
		const problems = checkPassword(parsed.data.password, user.username);
		if (problems.length > 0) {
			return fail(400, {
				action: 'password',
				errors: { password: problems.map((p) => PASSWORD_PROBLEM_TEXT[p]).join(' ') }
			});
		}
		try {
			await database.transaction((tx) =>
				setPassword(
					tx,
					{ userId: user.userId, label: user.username },
					user.userId,
					parsed.data.password,
					'changed by the user'
				)
			);
		} catch (e) {
			if (e instanceof UserInputError) {
				return fail(400, { action: 'password', errors: { password: e.message } });
			}
			throw e;
		}
		// Whoever else holds a session of this user (another browser, a stolen cookie) is out.
		const ended = await endUserSessions(database, user.userId, 'password-changed', user.sessionId);
		return { action: 'password', done: `Password changed. ${ended} other session(s) signed out.` };
	},

	endSession: async (event) => {
		const user = requireUser(event);
		const { database } = app();
		const parsed = sessionForm.safeParse({
			session: (await event.request.formData()).get('session')
		});
		if (!parsed.success)
			return fail(400, { action: 'sessions', errors: fieldErrors(parsed.error) });
		const mine = await listUserSessions(database, user.userId);
		const target = mine.find((s) => s.id.startsWith(parsed.data.session));
		// Not one of the caller's own sessions: the same answer as an unknown one.
		if (!target) return fail(400, { action: 'sessions', errors: { session: 'Unknown session.' } });
		await endSession(database, target.id, 'signed-out-by-user');
		if (target.id === user.sessionId) redirect(303, '/login');
		return { action: 'sessions', done: 'Session signed out.' };
	},

	endOthers: async (event) => {
		const user = requireUser(event);
		const { database } = app();
		const ended = await endUserSessions(
			database,
			user.userId,
			'signed-out-by-user',
			user.sessionId
		);
		return { action: 'sessions', done: `${ended} other session(s) signed out.` };
	}
};
