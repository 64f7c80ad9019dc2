/**
 * Cookie names and attributes. Over https the `__Host-` prefix binds a cookie to this exact
 * host (no Domain, Path=/, Secure): a sibling subdomain cannot plant or read it. Plain http
 * (a laptop demo, the e2e tests) cannot use the prefix, so the bare name is used there.
 */
import type { Cookies } from '@sveltejs/kit';

export const SESSION_COOKIE = 'tw_session';
export const DEVICE_COOKIE = 'tw_device';

export function cookieName(base: string, secure: boolean): string {
	return secure ? `__Host-${base}` : base;
}

/** The cookie's value under either name (a server moved behind TLS still reads old ones). */
export function readCookie(cookies: Cookies, base: string): string | undefined {
	return cookies.get(`__Host-${base}`) ?? cookies.get(base);
}

export function writeCookie(
	cookies: Cookies,
	base: string,
	value: string,
	secure: boolean,
	expires: Date
): void {
	cookies.set(cookieName(base, secure), value, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		expires
	});
}

export function clearCookie(cookies: Cookies, base: string, secure: boolean): void {
	cookies.delete(cookieName(base, secure), { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** Parse one cookie from a raw Cookie header (socket handshakes have no SvelteKit cookies). */
export function cookieFromHeader(header: string | undefined, base: string): string | undefined {
	if (!header) return undefined;
	const wanted = new Set([`__Host-${base}`, base]);
	for (const part of header.split(';')) {
		const eq = part.indexOf('=');
		if (eq < 0) continue;
		const name = part.slice(0, eq).trim();
		if (wanted.has(name)) return decodeURIComponent(part.slice(eq + 1).trim());
	}
	return undefined;
}
