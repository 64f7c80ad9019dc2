/**
 * POST /api/lots/[id]/complete — complete a running lot with its final quantities. Refused while
 * a run is open or an inspection is overdue, missed (unless a deviation covers it) or suspect.
 */
import { z } from 'zod';
import { idParam, productionEndpoint } from '$lib/server/production/api';
import { ProductionError } from '$lib/server/production/errors';
import { completeLot } from '$lib/server/production/lots';
import { runningApp } from '$lib/server/running-app';
import type { RequestHandler } from './$types';

const qty = z.number().int().min(0).max(100_000_000);
const body = z.object({ goodQty: qty, scrapQty: qty, reworkQty: qty }).strict();

export const POST: RequestHandler = async (event) => {
	const app = runningApp();
	return productionEndpoint(event, app, {
		action: 'lot-complete',
		permission: 'run:operate',
		body,
		run: async (person, input) => {
			const id = idParam(event.params.id);
			if (id === null) throw new ProductionError('not-found', 'No such lot.');
			return completeLot(app.database, person, { id, ...input });
		}
	});
};
