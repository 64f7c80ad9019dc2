/**
 * The cause and action code lists an acknowledgement draws from (`master-data:manage`).
 * Codes are never deleted — acknowledged alarms refer to them — only relabelled or deactivated;
 * every change is audited by the codes service.
 */
import { fail } from '@sveltejs/kit';
import { createAlarmCode, listAlarmCodes, updateAlarmCode } from '$lib/server/alarms/codes';
import { requireUserWith } from '$lib/server/auth/guard';
import { runningApp } from '$lib/server/running-app';
import type { Actions, PageServerLoad } from './$types';
import { createForm, updateForm } from './schema';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'master-data:manage');
	return { codes: await listAlarmCodes(runningApp().database) };
};

export const actions: Actions = {
	create: async (event) => {
		const user = requireUserWith(event, 'master-data:manage');
		const values = Object.fromEntries(await event.request.formData());
		const parsed = createForm.safeParse(values);
		if (!parsed.success) {
			return fail(400, { action: 'create', values, message: parsed.error.issues[0].message });
		}
		const result = await createAlarmCode(
			runningApp().database,
			{ userId: user.userId, label: user.username },
			parsed.data
		);
		if (!result.ok) return fail(409, { action: 'create', values, message: result.message });
		return { action: 'create', done: true };
	},
	update: async (event) => {
		const user = requireUserWith(event, 'master-data:manage');
		const values = Object.fromEntries(await event.request.formData());
		const parsed = updateForm.safeParse(values);
		if (!parsed.success) {
			return fail(400, {
				action: 'update',
				id: values.id,
				message: parsed.error.issues[0].message
			});
		}
		const { id, ...change } = parsed.data;
		const result = await updateAlarmCode(
			runningApp().database,
			{ userId: user.userId, label: user.username },
			id,
			change
		);
		if (!result.ok) return fail(404, { action: 'update', id: values.id, message: result.message });
		return { action: 'update', done: true };
	}
};
