/**
 * One principal per column of the route matrix, made the way real ones are made: the demo
 * administrator signs in, creates a fresh user per role (a one-time code, then /password/set,
 * then /login) and registers a wall screen that pairs through /pair. Nothing is planted in the
 * database behind the server's back.
 */
import { randomBytes } from 'node:crypto';
import { request } from '@playwright/test';
import { PRINCIPAL_COLUMNS, type PrincipalColumn } from '../../factories/security-matrix';
import { action, codeIn, cookieFrom, DEMO_PASSWORD, signIn } from '../api';

export interface MatrixPrincipal {
	/** Cookie header to send, or null for anonymous. */
	cookie: string | null;
	/** Values for route parameters, all on the first demo line. */
	params: Record<string, string>;
	/** Payload for a socket event. */
	socketPayload(event: string): unknown;
}

/** The demo plant seeds line L1 first, then its machines and characteristics, and admin first. */
const PARAMS = { line: 'L1', id: '1', kpi: 'batch-yield' };

export async function principalsForMatrix(
	baseURL: string
): Promise<Record<PrincipalColumn, MatrixPrincipal>> {
	const adminCookie = await signIn(baseURL, 'admin', DEMO_PASSWORD);
	const admin = await request.newContext({ baseURL, extraHTTPHeaders: { cookie: adminCookie } });
	const suffix = randomBytes(3).toString('hex');
	const cookies: Partial<Record<PrincipalColumn, string | null>> = { anonymous: null };
	try {
		for (const column of PRINCIPAL_COLUMNS) {
			if (column === 'anonymous' || column === 'device') continue;
			const username = `matrix-${column}-${suffix}`.slice(0, 40);
			const created = await action(admin, baseURL, '/admin/users?/create', {
				username,
				fullName: `Matrix ${column}`,
				role: column,
				scope: 'all',
				// The signing right: signing then depends on the role alone, as the matrix states.
				canSign: 'on'
			});
			if (created.type !== 'success') {
				throw new Error(`creating ${username}: ${JSON.stringify(created).slice(0, 300)}`);
			}
			const password = `matrix ${randomBytes(9).toString('base64url')}`;
			const anon = await request.newContext({ baseURL });
			try {
				const set = await action(anon, baseURL, '/password/set?/set', {
					code: codeIn(created.data),
					password,
					confirm: password
				});
				if (set.type === 'failure' || set.type === 'error') {
					throw new Error(`setting the password of ${username}: ${JSON.stringify(set)}`);
				}
			} finally {
				await anon.dispose();
			}
			cookies[column] = await signIn(baseURL, username, password);
		}

		// A wall screen for line L1: registered by the administrator, paired by the "TV".
		const page = await (await admin.get('/admin/devices')).text();
		const lineId = /name="line"[^>]*value="(\d+)"/.exec(page)?.[1];
		if (!lineId) throw new Error('the device form offers no line');
		const registered = await action(admin, baseURL, '/admin/devices?/register', {
			name: `Matrix screen ${suffix}`,
			line: lineId
		});
		const tv = await request.newContext({ baseURL });
		try {
			const paired = await action(tv, baseURL, '/pair?/pair', { code: codeIn(registered.data) });
			if (paired.type !== 'redirect') throw new Error(`pairing: ${JSON.stringify(paired)}`);
			const state = await tv.storageState();
			cookies.device = cookieFrom(
				undefined,
				'tw_device',
				state.cookies.map((c) => `${c.name}=${c.value}`)
			);
		} finally {
			await tv.dispose();
		}
	} finally {
		await admin.dispose();
	}

	const lineId = 1;
	const principal = (cookie: string | null): MatrixPrincipal => ({
		cookie,
		params: PARAMS,
		socketPayload(event) {
			if (event === 'subscribe' || event === 'unsubscribe') return { kind: 'line', id: lineId };
			return {};
		}
	});
	return Object.fromEntries(
		PRINCIPAL_COLUMNS.map((c) => [c, principal(cookies[c] ?? null)])
	) as Record<PrincipalColumn, MatrixPrincipal>;
}
