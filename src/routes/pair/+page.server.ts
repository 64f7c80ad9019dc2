/**
 * Public page for a wall screen (a TV at 3-5 m): type the pairing code shown to the
 * administrator; the screen then holds a long-lived, revocable device cookie and opens its
 * line. Wrong codes get one clear message and count against the address (login_attempt rows,
 * outcome `bad-pairing-code`), like failed sign-ins.
 */
import { fail, redirect } from '@sveltejs/kit';
import { asc, inArray } from 'drizzle-orm';
import { runningApp as app } from '$lib/server/running-app';
import { DEVICE_COOKIE, writeCookie } from '$lib/server/auth/cookies';
import { pairDevice } from '$lib/server/auth/devices';
import { line } from '$lib/server/db/schema';
import type { Actions, PageServerLoad } from './$types';
import { pairForm } from './schema';

/** A paired screen keeps its cookie for ten years; only revocation ends it. */
const DEVICE_COOKIE_MS = 10 * 365 * 24 * 3600_000;

export const load: PageServerLoad = async ({ locals }) => {
	const p = locals.principal;
	if (p.kind !== 'device') return { device: null };
	// Already paired (this very screen, or after pairing with several lines): its lines.
	const { database } = app();
	const lines =
		p.lineIds.length === 0
			? []
			: await database.db
					.select({ code: line.code, name: line.name })
					.from(line)
					.where(inArray(line.id, [...p.lineIds]))
					.orderBy(asc(line.id));
	return { device: { name: p.name, lines } };
};

export const actions: Actions = {
	pair: async (event) => {
		const { database, auth } = app();
		const form = await event.request.formData();
		const raw = form.get('code');
		const code = typeof raw === 'string' ? raw.slice(0, 40) : '';
		const parsed = pairForm.safeParse({ code });
		if (!parsed.success) {
			return fail(400, { code, error: parsed.error.issues[0]?.message ?? 'Enter the code.' });
		}
		const result = await pairDevice(database, parsed.data.code, {
			ip: event.getClientAddress(),
			throttlePerIp: auth.throttlePerIp
		});
		if (!result.ok) {
			return fail(result.reason === 'throttled' ? 429 : 400, {
				code,
				error:
					result.reason === 'throttled'
						? 'Too many wrong codes from this network address. Wait 15 minutes, then try again.'
						: 'This code is not valid. Codes work once, for 15 minutes: check it, or ask for a new one.'
			});
		}
		const secure = event.url.protocol === 'https:';
		writeCookie(
			event.cookies,
			DEVICE_COOKIE,
			result.token,
			secure,
			new Date(Date.now() + DEVICE_COOKIE_MS)
		);
		// One line: straight to its wall. Several: this page lists them for a choice.
		if (result.lines.length === 1) {
			redirect(303, `/wall/${encodeURIComponent(result.lines[0].code)}`);
		}
		redirect(303, '/pair');
	}
};
