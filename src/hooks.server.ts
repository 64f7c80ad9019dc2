/**
 * Server hooks:
 * - `handle` resolves who is asking (user session or wall-screen device) once per request and
 *   refuses cross-site JSON writes; authorization itself happens in each route through
 *   $lib/server/auth/guard.ts;
 * - `registerAppEntry()` makes the composition root reachable from server.js through the
 *   build (see src/lib/server/app-entry.ts);
 * - on `sveltekit:shutdown` (adapter-node's own server on SIGTERM/SIGINT, or server.js) the
 *   app closes: PGlite keeps the event loop alive otherwise (STACK.md pitfall 2).
 */
import { error, type Handle } from '@sveltejs/kit';
import { eq } from 'drizzle-orm';
import { sequence } from '@sveltejs/kit/hooks';
import { getApp } from '$lib/server/app';
import { registerAppEntry } from '$lib/server/app-entry';
import {
	clearCookie,
	DEVICE_COOKIE,
	readCookie,
	SESSION_COOKIE,
	writeCookie
} from '$lib/server/auth/cookies';
import { touchDevice, validateDeviceToken } from '$lib/server/auth/devices';
import { passwordExpired } from '$lib/server/auth/login';
import { ANONYMOUS } from '$lib/server/auth/policy';
import { appUser } from '$lib/server/db/schema';
import { validateSessionToken } from '$lib/server/auth/sessions';

registerAppEntry();

// In dev this module is re-evaluated on every edit: register the listener once per process.
const LISTENING = Symbol.for('tracewall.shutdown-listener');
const holder = globalThis as typeof globalThis & { [LISTENING]?: true };
if (!holder[LISTENING]) {
	holder[LISTENING] = true;
	process.on('sveltekit:shutdown', (reason: string) => {
		const app = getApp();
		if (!app) return;
		app.log.debug({ reason }, 'sveltekit:shutdown: closing the app');
		app.close().catch((error: unknown) => {
			app.log.error({ err: error }, 'closing the app failed');
			process.exitCode = 1;
		});
	});
}

/** What a user whose password has expired may still open. */
const PASSWORD_EXPIRED_ALLOWED = ['/account', '/logout', '/login', '/_app/', '/api/health'];

/** Who is asking: a user session, else a paired wall-screen device, else anonymous. */
const authenticate: Handle = async ({ event, resolve }) => {
	event.locals.principal = ANONYMOUS;
	event.locals.session = null;
	const app = getApp();
	if (!app) return resolve(event);
	const secure = event.url.protocol === 'https:';
	const sessionToken = readCookie(event.cookies, SESSION_COOKIE);
	if (sessionToken) {
		const valid = await validateSessionToken(app.database, sessionToken, app.auth.sessions);
		if (valid) {
			event.locals.principal = valid.principal;
			event.locals.session = valid.session;
			if (valid.renewed) {
				writeCookie(event.cookies, SESSION_COOKIE, sessionToken, secure, valid.session.expiresAt);
			}
			// An expired password (TRACEWALL_PASSWORD_MAX_AGE_DAYS) leaves only the account page
			// (to change it) and sign-out reachable.
			if (
				app.auth.passwordMaxAgeDays > 0 &&
				!PASSWORD_EXPIRED_ALLOWED.some((p) => event.url.pathname.startsWith(p))
			) {
				const [row] = await app.database.db
					.select({ changedAt: appUser.passwordChangedAt })
					.from(appUser)
					.where(eq(appUser.id, valid.principal.userId));
				if (passwordExpired(row?.changedAt ?? null, app.auth.passwordMaxAgeDays)) {
					return new Response(null, { status: 303, headers: { location: '/account?expired=1' } });
				}
			}
			return resolve(event);
		}
		clearCookie(event.cookies, SESSION_COOKIE, secure);
	}
	const deviceToken = readCookie(event.cookies, DEVICE_COOKIE);
	if (deviceToken) {
		const device = await validateDeviceToken(app.database, deviceToken);
		if (device) {
			event.locals.principal = device;
			// Last seen for the devices page; written at most once a minute per screen.
			await touchDevice(app.database, device.deviceId);
		} else clearCookie(event.cookies, DEVICE_COOKIE, secure);
	}
	return resolve(event);
};

/**
 * CSRF for JSON endpoints: SvelteKit's own check covers form submissions only. A state-changing
 * request to /api/ must come from this origin (Sec-Fetch-Site, or Origin when the browser does
 * not send it); non-browser clients send neither and authenticate by other means.
 */
const crossSiteApiGuard: Handle = async ({ event, resolve }) => {
	const method = event.request.method;
	if (event.url.pathname.startsWith('/api/') && !['GET', 'HEAD', 'OPTIONS'].includes(method)) {
		const site = event.request.headers.get('sec-fetch-site');
		const origin = event.request.headers.get('origin');
		const crossSite =
			(site !== null && site !== 'same-origin' && site !== 'none') ||
			(site === null && origin !== null && origin !== event.url.origin);
		if (crossSite) error(403, 'Cross-site requests to the API are refused.');
	}
	return resolve(event);
};

export const handle: Handle = sequence(crossSiteApiGuard, authenticate);
