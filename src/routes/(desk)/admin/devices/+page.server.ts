/**
 * Wall-screen devices: register a screen for some lines (a pairing code is shown once, valid
 * 15 minutes), give a pending screen a new code, revoke a screen. Every action checks
 * `devices:manage` and is audited by the service.
 */
import { fail } from '@sveltejs/kit';
import { runningApp as app } from '$lib/server/running-app';
import {
	DeviceInputError,
	listDevices,
	registerDevice,
	reissuePairingCode,
	revokeDevice
} from '$lib/server/auth/devices';
import { requireUserWith } from '$lib/server/auth/guard';
import { listScopes } from '$lib/server/auth/users';
import type { Actions, PageServerLoad } from './$types';
import { fieldErrors, registerForm, reissueForm, revokeForm } from './schema';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'devices:manage');
	const { database } = app();
	const [devices, scopes] = await Promise.all([listDevices(database), listScopes(database)]);
	return { devices, lines: scopes.lines, sites: scopes.sites };
};

function pairingResult(
	origin: string,
	name: string,
	issued: { deviceId: number; code: string; expiresAt: Date }
) {
	return {
		issued: { ...issued, name, pairUrl: `${origin}/pair` }
	};
}

export const actions: Actions = {
	register: async (event) => {
		const admin = requireUserWith(event, 'devices:manage');
		const { database } = app();
		const form = await event.request.formData();
		const name = typeof form.get('name') === 'string' ? String(form.get('name')) : '';
		const lineIds = form.getAll('line').map(String);
		const parsed = registerForm.safeParse({ name, lineIds });
		if (!parsed.success) {
			return fail(400, {
				action: 'register',
				values: { name, lineIds },
				errors: fieldErrors(parsed.error)
			});
		}
		try {
			const issued = await registerDevice(
				database,
				{ userId: admin.userId, label: admin.username },
				parsed.data
			);
			return { action: 'register', ...pairingResult(event.url.origin, parsed.data.name, issued) };
		} catch (e) {
			if (e instanceof DeviceInputError) {
				return fail(400, {
					action: 'register',
					values: { name, lineIds },
					errors: { [e.field]: e.message }
				});
			}
			throw e;
		}
	},
	reissue: async (event) => {
		const admin = requireUserWith(event, 'devices:manage');
		const { database } = app();
		const form = await event.request.formData();
		const parsed = reissueForm.safeParse({ deviceId: form.get('deviceId') });
		if (!parsed.success) return fail(400, { action: 'reissue', errors: fieldErrors(parsed.error) });
		try {
			const issued = await reissuePairingCode(
				database,
				{ userId: admin.userId, label: admin.username },
				parsed.data.deviceId
			);
			const device = (await listDevices(database)).find((d) => d.id === issued.deviceId);
			return {
				action: 'reissue',
				...pairingResult(event.url.origin, device?.name ?? '', issued)
			};
		} catch (e) {
			if (e instanceof DeviceInputError) {
				return fail(400, { action: 'reissue', errors: { device: e.message } });
			}
			throw e;
		}
	},
	revoke: async (event) => {
		const admin = requireUserWith(event, 'devices:manage');
		const { database } = app();
		const form = await event.request.formData();
		const raw = { deviceId: form.get('deviceId'), reason: form.get('reason') };
		const parsed = revokeForm.safeParse(raw);
		const deviceId = typeof raw.deviceId === 'string' ? raw.deviceId : '';
		if (!parsed.success) {
			return fail(400, { action: 'revoke', deviceId, errors: fieldErrors(parsed.error) });
		}
		try {
			await revokeDevice(
				database,
				{ userId: admin.userId, label: admin.username },
				parsed.data.deviceId,
				parsed.data.reason
			);
		} catch (e) {
			if (e instanceof DeviceInputError) {
				return fail(400, { action: 'revoke', deviceId, errors: { [e.field]: e.message } });
			}
			throw e;
		}
		return {
			action: 'revoke',
			done: 'The screen is revoked: it was disconnected and can no longer show anything.'
		};
	}
};
