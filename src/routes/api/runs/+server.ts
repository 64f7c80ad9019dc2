/**
 * POST /api/runs — start a run (machines, MES integrations, scripts). The same service as the
 * station form: certification and material checks, the refusal audited, one open run per
 * machine. The operator is the signed-in person: nobody starts a run in another's name.
 */
import { z } from 'zod';
import { productionEndpoint } from '$lib/server/production/api';
import { startRun } from '$lib/server/production/runs';
import { publishRunChange, runningApp } from '$lib/server/running-app';
import type { RequestHandler } from './$types';

const id = z.number().int().positive().max(2_000_000_000);

const body = z
	.object({
		lotId: id,
		machineId: id,
		operation: z.string().trim().min(1).max(80).optional(),
		materials: z
			.array(
				z
					.object({
						materialLotId: id.optional(),
						materialLotCode: z.string().trim().min(1).max(80).optional(),
						quantity: z.number().positive().finite()
					})
					.strict()
					.refine((m) => (m.materialLotId === undefined) !== (m.materialLotCode === undefined), {
						message: 'Give materialLotId or materialLotCode, not both.'
					})
			)
			.max(50)
			.default([])
	})
	.strict();

export const POST: RequestHandler = async (event) => {
	const app = runningApp();
	return productionEndpoint(event, app, {
		action: 'run-start',
		permission: 'run:operate',
		body,
		status: 201,
		run: async (person, input) => {
			const started = await startRun(app.database, person, input);
			await publishRunChange(app, 'run-start');
			return {
				runId: started.runId,
				checks: started.checks,
				newInspections: started.newInspections
			};
		}
	});
};
