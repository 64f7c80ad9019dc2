/**
 * Guards for load functions, form actions and endpoints. Pages send an anonymous visitor to
 * /login (and back afterwards); endpoints answer 401 JSON. A signed-in principal without the
 * permission gets 403 everywhere: the check happens here on the server, whatever the page shows.
 */
import { error, redirect, type RequestEvent } from '@sveltejs/kit';
import type { Permission } from '$lib/auth/roles';
import { can, type Principal, type Scope } from './policy';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

function loginRedirect(event: Pick<RequestEvent, 'url'>): never {
	const next = event.url.pathname + event.url.search;
	redirect(303, `/login?next=${encodeURIComponent(next)}`);
}

/** For pages and form actions: the principal, which may do `permission`. */
export function requirePermission(
	event: Pick<RequestEvent, 'locals' | 'url'>,
	permission: Permission,
	scope?: Scope
): Principal {
	const principal = event.locals.principal;
	if (principal.kind === 'anonymous') loginRedirect(event);
	if (!can(principal, permission, scope)) error(403, 'You do not have permission for this.');
	return principal;
}

/** For pages and actions that need a signed-in person (not a device), whatever their role. */
export function requireUser(event: Pick<RequestEvent, 'locals' | 'url'>): UserPrincipal {
	const principal = event.locals.principal;
	if (principal.kind === 'anonymous') loginRedirect(event);
	if (principal.kind !== 'user') error(403, 'Wall-screen devices cannot do this.');
	return principal;
}

/** For a user who must also hold `permission`. */
export function requireUserWith(
	event: Pick<RequestEvent, 'locals' | 'url'>,
	permission: Permission,
	scope?: Scope
): UserPrincipal {
	const user = requireUser(event);
	if (!can(user, permission, scope)) error(403, 'You do not have permission for this.');
	return user;
}

/** For JSON endpoints: 401/403 as JSON bodies, never a redirect. */
export function requireApiPermission(
	event: Pick<RequestEvent, 'locals'>,
	permission: Permission,
	scope?: Scope
): Principal {
	const principal = event.locals.principal;
	if (principal.kind === 'anonymous') error(401, 'Sign in first.');
	if (!can(principal, permission, scope)) error(403, 'You do not have permission for this.');
	return principal;
}
