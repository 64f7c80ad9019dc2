/** POST /api/runs/[id]/end — end an open run (body `{}`); the lot-end inspection may fall due. */
import { z } from 'zod';
import { idParam, productionEndpoint } from '$lib/server/production/api';
import { endRun } from '$lib/server/production/runs';
import { ProductionError } from '$lib/server/production/errors';
import { publishRunChange, runningApp } from '$lib/server/running-app';
import type { RequestHandler } from './$types';

const body = z.object({}).strict();

export const POST: RequestHandler = async (event) => {
	const app = runningApp();
	return productionEndpoint(event, app, {
		action: 'run-end',
		permission: 'run:operate',
		body,
		run: async (person) => {
			const id = idParam(event.params.id);
			if (id === null) throw new ProductionError('not-found', 'No such run.');
			const ended = await endRun(app.database, person, { id });
			await publishRunChange(app, 'run-end');
			return ended;
		}
	});
};
