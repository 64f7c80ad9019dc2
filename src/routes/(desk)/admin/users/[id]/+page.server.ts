/**
 * One user: status changes (disable, enable, unlock), a new one-time password code, and the
 * profile, roles/scopes and signing right. Every action checks `users:manage` itself and gives
 * its reason to the audit trail; the services refuse self-lock-out and removing the last
 * active administrator.
 */
import { error, fail, type RequestEvent } from '@sveltejs/kit';
import type { Actor } from '$lib/server/audit/append';
import { runningApp as app } from '$lib/server/running-app';
import { requireUserWith } from '$lib/server/auth/guard';
import {
	disableUser,
	enableUser,
	listCustomers,
	listScopes,
	listUsers,
	resetPassword,
	unlockUser,
	updateUserAccess,
	UserInputError
} from '$lib/server/auth/users';
import type { Database } from '$lib/server/db';
import type { Actions, PageServerLoad } from './$types';
import { accessForm, fieldErrors, formInput, reasonForm, userParams } from '../schema';

function userIdOf(params: Record<string, string>): number {
	const parsed = userParams.safeParse(params);
	if (!parsed.success) error(404, 'No such user.');
	return Number(parsed.data.id);
}

async function findUser(database: Database, id: number) {
	const user = (await listUsers(database)).find((u) => u.id === id);
	if (!user) error(404, 'No such user.');
	return user;
}

export const load: PageServerLoad = async (event) => {
	const admin = requireUserWith(event, 'users:manage');
	const { database } = app();
	const id = userIdOf(event.params);
	const [user, scopes, customers] = await Promise.all([
		findUser(database, id),
		listScopes(database),
		listCustomers(database)
	]);
	return { user, scopes, customers, isSelf: admin.userId === id };
};

type ReasonAction = (
	database: Database,
	actor: Actor,
	userId: number,
	reason: string
) => Promise<unknown>;

/** disable / enable / unlock: a reason, the service, a confirmation message. */
function reasonAction(name: string, run: ReasonAction, done: string) {
	return async (event: RequestEvent<{ id: string }>) => {
		const admin = requireUserWith(event, 'users:manage');
		const { database } = app();
		const id = userIdOf(event.params);
		const parsed = reasonForm.safeParse(formInput(await event.request.formData()));
		if (!parsed.success) return fail(400, { action: name, errors: fieldErrors(parsed.error) });
		try {
			await run(database, { userId: admin.userId, label: admin.username }, id, parsed.data.reason);
		} catch (e) {
			if (e instanceof UserInputError) {
				return fail(400, { action: name, errors: { [e.field]: e.message } });
			}
			throw e;
		}
		return { action: name, done };
	};
}

export const actions: Actions = {
	disable: reasonAction(
		'disable',
		disableUser,
		'The user is disabled; their sessions and open screens were signed out.'
	),
	enable: reasonAction('enable', enableUser, 'The user is enabled again.'),
	unlock: reasonAction('unlock', unlockUser, 'The lockout is cleared.'),
	reset: async (event) => {
		const admin = requireUserWith(event, 'users:manage');
		const { database } = app();
		const id = userIdOf(event.params);
		const parsed = reasonForm.safeParse(formInput(await event.request.formData()));
		if (!parsed.success) return fail(400, { action: 'reset', errors: fieldErrors(parsed.error) });
		try {
			const issued = await resetPassword(
				database,
				{ userId: admin.userId, label: admin.username },
				id,
				parsed.data.reason
			);
			return {
				action: 'reset',
				issued: {
					code: issued.code,
					link: `${event.url.origin}/password/set?code=${encodeURIComponent(issued.code)}`,
					expiresAt: issued.expiresAt
				}
			};
		} catch (e) {
			if (e instanceof UserInputError) {
				return fail(400, { action: 'reset', errors: { [e.field]: e.message } });
			}
			throw e;
		}
	},
	access: async (event) => {
		const admin = requireUserWith(event, 'users:manage');
		const { database } = app();
		const id = userIdOf(event.params);
		const parsed = accessForm.safeParse(formInput(await event.request.formData()));
		if (!parsed.success) return fail(400, { action: 'access', errors: fieldErrors(parsed.error) });
		const { reason, ...update } = parsed.data;
		try {
			await updateUserAccess(
				database,
				{ userId: admin.userId, label: admin.username },
				id,
				update,
				reason
			);
		} catch (e) {
			if (e instanceof UserInputError) {
				return fail(400, { action: 'access', errors: { [e.field]: e.message } });
			}
			throw e;
		}
		return { action: 'access', done: 'Profile, roles and signing right saved.' };
	}
};
