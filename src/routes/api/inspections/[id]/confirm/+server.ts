/** POST /api/inspections/[id]/confirm — a second person confirms a suspect result. */
import { z } from 'zod';
import { idParam, productionEndpoint } from '$lib/server/production/api';
import { ProductionError } from '$lib/server/production/errors';
import { confirmInspection } from '$lib/server/production/inspections';
import { runningApp } from '$lib/server/running-app';
import type { RequestHandler } from './$types';

const body = z.object({ note: z.string().trim().max(500).optional() }).strict();

export const POST: RequestHandler = async (event) => {
	const app = runningApp();
	return productionEndpoint(event, app, {
		action: 'inspection-confirm',
		permission: 'inspection:confirm',
		body,
		run: async (person, input) => {
			const id = idParam(event.params.id);
			if (id === null) throw new ProductionError('not-found', 'No such inspection.');
			await confirmInspection(app.database, person, { id, note: input.note });
			return { status: 'done' };
		}
	});
};
