import { requirePermission } from '$lib/server/auth/guard';
import type { PageServerLoad } from './$types';

/** The landing page lists the lines the viewer may watch (the socket filters the list). */
export const load: PageServerLoad = (event) => {
	requirePermission(event, 'live:view');
	return {};
};
