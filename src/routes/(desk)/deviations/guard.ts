/**
 * Who may see the deviation pages: anyone who may open deviations or manage them. Each form
 * action asks its own permission again, and the service checks it once more.
 */
import { error, type RequestEvent } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard';
import { can } from '$lib/server/auth/policy';
import type { Person } from '$lib/server/production/access';

export function requireDeviationViewer(event: Pick<RequestEvent, 'locals' | 'url'>): Person {
	const user = requireUser(event);
	if (!can(user, 'deviation:open') && !can(user, 'deviation:manage')) {
		error(403, 'You do not have permission for this.');
	}
	return user;
}
