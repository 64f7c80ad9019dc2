/**
 * POST /api/inspections/[id]/result — record a result: `{ value }` for a measured
 * characteristic, `{ passed }` for a pass/fail check. A value far outside spec is stored as
 * suspect and waits for a second person (answered `status: 'suspect'`).
 */
import { z } from 'zod';
import { idParam, productionEndpoint } from '$lib/server/production/api';
import { ProductionError } from '$lib/server/production/errors';
import { recordInspectionResult } from '$lib/server/production/inspections';
import { runningApp } from '$lib/server/running-app';
import type { RequestHandler } from './$types';

const body = z
	.object({
		value: z.number().finite().optional(),
		passed: z.boolean().optional(),
		note: z.string().trim().max(500).optional()
	})
	.strict();

export const POST: RequestHandler = async (event) => {
	const app = runningApp();
	return productionEndpoint(event, app, {
		action: 'inspection-result',
		permission: 'inspection:record',
		body,
		run: async (person, input) => {
			const id = idParam(event.params.id);
			if (id === null) throw new ProductionError('not-found', 'No such inspection.');
			return recordInspectionResult(app.database, person, { id, ...input });
		}
	});
};
