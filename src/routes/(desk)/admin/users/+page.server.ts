/**
 * User administration: the list of every user (none is ever deleted) and the creation form.
 * A new user gets no password: the administrator receives a one-time code and link to hand
 * over, shown once, so the administrator never knows or chooses the user's password.
 */
import { fail } from '@sveltejs/kit';
import { runningApp as app } from '$lib/server/running-app';
import { requireUserWith } from '$lib/server/auth/guard';
import {
	createUserWithCode,
	listCustomers,
	listScopes,
	listUsers,
	UserInputError
} from '$lib/server/auth/users';
import type { Actions, PageServerLoad } from './$types';
import { createForm, fieldErrors, formInput } from './schema';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'users:manage');
	const { database } = app();
	const [users, scopes, customers] = await Promise.all([
		listUsers(database),
		listScopes(database),
		listCustomers(database)
	]);
	return { users, scopes, customers };
};

export const actions: Actions = {
	create: async (event) => {
		const admin = requireUserWith(event, 'users:manage');
		const { database } = app();
		const input = formInput(await event.request.formData());
		const values = {
			username: input.username,
			fullName: input.fullName,
			email: input.email,
			canSign: input.canSign,
			customerId: input.customerId
		};
		const parsed = createForm.safeParse(input);
		if (!parsed.success) return fail(400, { values, errors: fieldErrors(parsed.error) });
		try {
			const created = await createUserWithCode(
				database,
				{ userId: admin.userId, label: admin.username },
				parsed.data
			);
			return {
				issued: {
					userId: created.userId,
					username: parsed.data.username,
					fullName: parsed.data.fullName,
					code: created.code,
					link: `${event.url.origin}/password/set?code=${encodeURIComponent(created.code)}`,
					expiresAt: created.expiresAt
				}
			};
		} catch (e) {
			if (e instanceof UserInputError) {
				return fail(400, { values, errors: { [e.field]: e.message } });
			}
			throw e;
		}
	}
};
