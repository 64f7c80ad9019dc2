/**
 * The app's own HTTP surface, driven the way the browser drives it (form actions as
 * `use:enhance` sends them), for specs that need principals without clicking through pages.
 */
import { request, type APIRequestContext, type APIResponse } from '@playwright/test';
import { DEMO_PASSWORD } from './auth/helpers';

export { DEMO_PASSWORD };

/** An action call as `use:enhance` makes it; returns the JSON result. */
export async function action(
	api: APIRequestContext,
	baseURL: string,
	path: string,
	form: Record<string, string | string[]>
): Promise<{ type: string; status?: number; data?: string; location?: string }> {
	const body = new URLSearchParams();
	for (const [k, v] of Object.entries(form)) {
		for (const item of Array.isArray(v) ? v : [v]) body.append(k, item);
	}
	const response = await api.fetch(path, {
		method: 'POST',
		maxRedirects: 0,
		headers: {
			origin: baseURL,
			accept: 'application/json',
			'x-sveltekit-action': 'true',
			'content-type': 'application/x-www-form-urlencoded'
		},
		data: body.toString()
	});
	const text = await response.text();
	try {
		return JSON.parse(text) as { type: string; status?: number; data?: string };
	} catch {
		throw new Error(`${path}: not an action result (${response.status()}): ${text.slice(0, 200)}`);
	}
}

export function cookieFrom(response: APIResponse | undefined, name: string, all: string[]): string {
	const found = all.find((c) => c.startsWith(`${name}=`));
	if (!found) {
		throw new Error(`no ${name} cookie was set (${response?.status() ?? 'no response'})`);
	}
	return found.split(';')[0];
}

export async function signIn(baseURL: string, username: string, password: string): Promise<string> {
	const api = await request.newContext({ baseURL });
	try {
		const result = await action(api, baseURL, '/login', { username, password });
		if (result.type !== 'redirect') {
			throw new Error(`signing in ${username} failed: ${JSON.stringify(result).slice(0, 200)}`);
		}
		const state = await api.storageState();
		return cookieFrom(
			undefined,
			'tw_session',
			state.cookies.map((c) => `${c.name}=${c.value}`)
		);
	} finally {
		await api.dispose();
	}
}

/** The one-time code in an action's devalue-encoded data (codes look like `K7QM-3XPA`). */
export function codeIn(data: string | undefined): string {
	const m = /"([A-Z2-9]{4}(?:-[A-Z2-9]{4})+)"/.exec(data ?? '');
	if (!m) throw new Error(`no one-time code in ${data?.slice(0, 200)}`);
	return m[1];
}

/**
 * A wall screen paired for every line (or those `pick` keeps, in the plant's order): the
 * administrator registers it, the "TV" pairs it. Returns the device cookie (`tw_device=…`).
 */
export async function pairScreen(
	baseURL: string,
	name: string,
	pick: (lineIds: string[]) => string[] = (ids) => ids
): Promise<string> {
	const adminCookie = await signIn(baseURL, 'admin', DEMO_PASSWORD);
	const admin = await request.newContext({ baseURL, extraHTTPHeaders: { cookie: adminCookie } });
	try {
		const page = await (await admin.get('/admin/devices')).text();
		const lineIds = pick(
			[...page.matchAll(/<input[^>]*name="line"[^>]*>/g)]
				.map((m) => /value="(\d+)"/.exec(m[0])?.[1])
				.filter((id): id is string => id !== undefined)
		);
		if (lineIds.length === 0) throw new Error('the device form offers no line');
		const registered = await action(admin, baseURL, '/admin/devices?/register', {
			name,
			line: lineIds
		});
		const tv = await request.newContext({ baseURL });
		try {
			const paired = await action(tv, baseURL, '/pair?/pair', { code: codeIn(registered.data) });
			if (paired.type !== 'redirect') throw new Error(`pairing: ${JSON.stringify(paired)}`);
			const state = await tv.storageState();
			return cookieFrom(
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
}
