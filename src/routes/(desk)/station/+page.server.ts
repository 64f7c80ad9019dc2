/** The station picker: the lines on which the signed-in person has a station job. */
import { error } from '@sveltejs/kit';
import type { Permission } from '$lib/auth/roles';
import { requireUser } from '$lib/server/auth/guard';
import { can } from '$lib/server/auth/policy';
import { line } from '$lib/server/db/schema';
import { runningApp as app } from '$lib/server/running-app';
import type { PageServerLoad } from './$types';

const STATION_PERMISSIONS: Permission[] = [
	'run:operate',
	'inspection:record',
	'inspection:confirm',
	'lot:manage'
];

export const load: PageServerLoad = async (event) => {
	const user = requireUser(event);
	if (!STATION_PERMISSIONS.some((p) => can(user, p)))
		error(403, 'You do not have permission for this.');
	const { database } = app();
	const lines = await database.db
		.select({ id: line.id, code: line.code, name: line.name, siteId: line.siteId })
		.from(line)
		.orderBy(line.code);
	return {
		lines: lines
			.filter((l) =>
				STATION_PERMISSIONS.some((p) => can(user, p, { lineId: l.id, siteId: l.siteId }))
			)
			.map((l) => ({ code: l.code, name: l.name }))
	};
};
