/**
 * The operator's station tablet for one line: running and planned lots, start/end runs,
 * counts and completion, inspections due with result entry, suspect results waiting for a
 * second person, deviations, and planning a lot. Every action asks its own permission on this
 * line here (403 otherwise) and the production services check again, with the rules, on the
 * records touched: the form and the JSON API meet the same refusals.
 */
import { error, fail, type RequestEvent } from '@sveltejs/kit';
import type { Permission } from '$lib/auth/roles';
import { requireUser } from '$lib/server/auth/guard';
import { can, type Scope } from '$lib/server/auth/policy';
import type { Database } from '$lib/server/db';
import type { Person } from '$lib/server/production/access';
import { countRefusal, type ProductionAction } from '$lib/server/production/api';
import { certificationsOfUser, standingAt } from '$lib/server/production/certifications';
import { openDeviation } from '$lib/server/production/deviations';
import { httpStatus, ProductionError } from '$lib/server/production/errors';
import {
	confirmInspection,
	openInspectionsOfLine,
	recordInspectionResult
} from '$lib/server/production/inspections';
import {
	completeLot,
	lineByCode,
	lotsOfLine,
	planLot,
	productsOfLine,
	recordQuantities,
	submitLotForReview
} from '$lib/server/production/lots';
import { listMaterialLots } from '$lib/server/production/materials';
import { endRun, machinesOfLine, openRunsOfLine, startRun } from '$lib/server/production/runs';
import { publishRunChange, runningApp as app } from '$lib/server/running-app';
import type { Actions, PageServerLoad } from './$types';
import {
	confirmForm,
	deviationForm,
	fieldErrors,
	lotForm,
	materialRows,
	planForm,
	quantitiesForm,
	recordForm,
	runForm,
	startForm,
	stationParams
} from './schema';

/** Who may open the station at all: anyone with one of the station's jobs on this line. */
const STATION_PERMISSIONS: Permission[] = [
	'run:operate',
	'inspection:record',
	'inspection:confirm',
	'lot:manage'
];

async function stationLine(database: Database, params: { line: string }) {
	const parsed = stationParams.safeParse(params);
	if (!parsed.success) error(404, 'No such line.');
	const line = await lineByCode(database, parsed.data.line);
	if (!line) error(404, 'No such line.');
	return { line, scope: { lineId: line.id, siteId: line.siteId } satisfies Scope };
}

export const load: PageServerLoad = async (event) => {
	const user = requireUser(event);
	const { database } = app();
	// Who first: a person with no station job anywhere learns nothing about lines.
	if (!STATION_PERMISSIONS.some((p) => can(user, p)))
		error(403, 'You do not have permission for this.');
	const { line, scope } = await stationLine(database, event.params);
	if (!STATION_PERMISSIONS.some((p) => can(user, p, scope))) {
		error(403, 'You do not have permission for this line.');
	}
	const may = {
		plan: can(user, 'lot:manage', scope),
		operate: can(user, 'run:operate', scope),
		record: can(user, 'inspection:record', scope),
		confirm: can(user, 'inspection:confirm', scope),
		deviation: can(user, 'deviation:open'),
		review: can(user, 'lot:manage', scope)
	};
	const now = new Date();
	const [lots, runs, machines, inspections, products, materials, certifications] =
		await Promise.all([
			lotsOfLine(database, line.id),
			openRunsOfLine(database, line.id),
			machinesOfLine(database, line.id),
			openInspectionsOfLine(database, line.id),
			may.plan ? productsOfLine(database, line.id) : Promise.resolve([]),
			may.operate
				? listMaterialLots(database, { status: 'validated', limit: 200 })
				: Promise.resolve([]),
			certificationsOfUser(database, user.userId)
		]);
	const machineIds = new Set(machines.map((m) => m.id));
	// Operations offered on the start form: the machines' own and those the person is certified for.
	const operations = [
		...new Set([
			...machines.flatMap((m) => (m.operation ? [m.operation] : [])),
			...certifications.map((c) => c.operation)
		])
	].sort();
	return {
		line: { code: line.code, name: line.name },
		me: { userId: user.userId, fullName: user.fullName },
		may,
		now: now.getTime(),
		lots,
		runs,
		machines,
		operations,
		inspections,
		products,
		materials: materials.map((m) => ({
			code: m.code,
			label: `${m.materialName} · supplier lot ${m.supplierLot}`,
			expiresAt: m.expiresAt
		})),
		// The signed-in person's certifications that reach this line, as they stand now.
		certifications: certifications
			.filter((c) =>
				c.machineId === null
					? c.lineId === null || c.lineId === line.id
					: machineIds.has(c.machineId)
			)
			.map((c) => ({
				id: c.id,
				operation: c.operation,
				machine: machines.find((m) => m.id === c.machineId)?.name ?? null,
				lineWide: c.machineId === null && c.lineId !== null,
				validTo: c.validTo,
				standing: standingAt(c, now)
			}))
			.filter(
				(c) => c.standing === 'current' || c.validTo.getTime() > now.getTime() - 30 * 86_400_000
			)
	};
};

type Event = RequestEvent<{ line: string }>;

/**
 * The frame of every action: the person, this line's permission (403 when missing: the form
 * should not have been shown), the parsed form, and the service's refusals as `fail` with the
 * sentence the service wrote, counted in /metrics like the API's.
 */
async function act<T>(
	event: Event,
	spec: {
		action: string;
		metric: ProductionAction;
		permission: Permission;
		parse: (
			form: FormData
		) => { success: true; data: T } | { success: false; error: import('zod').ZodError };
		key: (form: FormData) => string;
		run: (database: Database, person: Person, input: T) => Promise<string>;
	}
) {
	const user = requireUser(event);
	const running = app();
	const { scope } = await stationLine(running.database, event.params);
	const lineScoped = spec.permission !== 'deviation:open';
	if (!can(user, spec.permission, lineScoped ? scope : undefined)) {
		error(403, 'You do not have permission for this.');
	}
	const form = await event.request.formData();
	const key = spec.key(form);
	const parsed = spec.parse(form);
	if (!parsed.success) {
		countRefusal(running.metrics, spec.metric, 'invalid');
		const errors = fieldErrors(parsed.error);
		return fail(400, { action: spec.action, key, message: Object.values(errors)[0], errors });
	}
	try {
		const done = await spec.run(running.database, user, parsed.data);
		return { action: spec.action, key, done };
	} catch (e) {
		if (e instanceof ProductionError) {
			countRefusal(running.metrics, spec.metric, e.code);
			return fail(httpStatus(e.code), {
				action: spec.action,
				key,
				code: e.code,
				message: e.message,
				errors: e.field ? { [e.field]: e.message } : {}
			});
		}
		throw e;
	}
}

const field = (name: string) => (form: FormData) => String(form.get(name) ?? '');
const entries = (form: FormData) =>
	Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v)]));

export const actions: Actions = {
	plan: (event) =>
		act(event, {
			action: 'plan',
			metric: 'lot-plan',
			permission: 'lot:manage',
			parse: (f) => planForm.safeParse(entries(f)),
			key: () => 'plan',
			run: async (database, person, input) => {
				const { line } = await stationLine(database, event.params);
				const planned = await planLot(database, person, { ...input, lineId: line.id });
				return `Lot ${planned.code} planned.`;
			}
		}),

	start: (event) =>
		act(event, {
			action: 'start',
			metric: 'run-start',
			permission: 'run:operate',
			parse: (f) =>
				startForm.safeParse({
					lotId: f.get('lotId'),
					machineId: f.get('machineId'),
					operation: f.get('operation') ?? undefined,
					materials: materialRows(f)
				}),
			key: field('lotId'),
			run: async (database, person, input) => {
				const started = await startRun(database, person, {
					lotId: input.lotId,
					machineId: input.machineId,
					operation: input.operation,
					materials: input.materials.map((m) => ({ materialLotCode: m.code, quantity: m.quantity }))
				});
				await publishRunChange(app(), 'run-start');
				const due = started.newInspections.length;
				return `Run started: certification and material checks passed.${due ? ` ${due} inspection${due > 1 ? 's' : ''} due now.` : ''}`;
			}
		}),

	end: (event) =>
		act(event, {
			action: 'end',
			metric: 'run-end',
			permission: 'run:operate',
			parse: (f) => runForm.safeParse(entries(f)),
			key: field('runId'),
			run: async (database, person, input) => {
				const ended = await endRun(database, person, { id: input.runId });
				await publishRunChange(app(), 'run-end');
				return `Run ended.${ended.newInspections.length ? ' The lot-end inspection is due now.' : ''}`;
			}
		}),

	quantities: (event) =>
		act(event, {
			action: 'quantities',
			metric: 'lot-quantities',
			permission: 'run:operate',
			parse: (f) => quantitiesForm.safeParse(entries(f)),
			key: field('lotId'),
			run: async (database, person, input) => {
				const r = await recordQuantities(database, person, { id: input.lotId, ...input });
				return `Counts recorded.${r.newInspections.length ? ` ${r.newInspections.length} inspection(s) due now.` : ''}`;
			}
		}),

	complete: (event) =>
		act(event, {
			action: 'complete',
			metric: 'lot-complete',
			permission: 'run:operate',
			parse: (f) => quantitiesForm.safeParse(entries(f)),
			key: field('lotId'),
			run: async (database, person, input) => {
				const r = await completeLot(database, person, { id: input.lotId, ...input });
				const waived = r.waived.length
					? ` ${r.waived.length} inspection(s) waived under ${[...new Set(r.waived.map((w) => w.deviationCode))].join(', ')}.`
					: '';
				return `Lot completed.${waived}`;
			}
		}),

	review: (event) =>
		act(event, {
			action: 'review',
			metric: 'lot-review',
			permission: 'lot:manage',
			parse: (f) => lotForm.safeParse(entries(f)),
			key: field('lotId'),
			run: async (database, person, input) => {
				await submitLotForReview(database, person, { id: input.lotId });
				return 'Lot sent to QA review.';
			}
		}),

	record: (event) =>
		act(event, {
			action: 'record',
			metric: 'inspection-result',
			permission: 'inspection:record',
			parse: (f) => recordForm.safeParse(entries(f)),
			key: field('inspectionId'),
			run: async (database, person, input) => {
				const r = await recordInspectionResult(database, person, {
					id: input.inspectionId,
					...input
				});
				if (r.status === 'suspect') {
					return `Stored as SUSPECT (${r.suspectReason}): a second person must confirm it.`;
				}
				return r.passed ? 'Result recorded: in spec.' : 'Result recorded: OUT OF SPEC.';
			}
		}),

	confirm: (event) =>
		act(event, {
			action: 'confirm',
			metric: 'inspection-confirm',
			permission: 'inspection:confirm',
			parse: (f) => confirmForm.safeParse(entries(f)),
			key: field('inspectionId'),
			run: async (database, person, input) => {
				await confirmInspection(database, person, { id: input.inspectionId, note: input.note });
				return 'Suspect result confirmed.';
			}
		}),

	deviation: (event) =>
		act(event, {
			action: 'deviation',
			metric: 'deviation-open',
			permission: 'deviation:open',
			parse: (f) => deviationForm.safeParse(entries(f)),
			key: (f) => String(f.get('inspectionId') ?? f.get('lotId') ?? ''),
			run: async (database, person, input) => {
				const d = await openDeviation(database, person, input);
				return `Deviation ${d.code} opened: it covers the inspection when the lot completes.`;
			}
		})
};
