/**
 * One deviation as a record: its context (alarm, inspection, lot), the workflow forms this
 * person may use in this state, the CAPA actions, the closure signature and the audit trail.
 *
 * Every action asks its permission here (403), parses its form (400), then calls the service,
 * which checks the permission, the revision the person saw and the state machine again in its
 * transaction; refusals are shown beside the form and counted in /metrics
 * (tracewall_production_refusals_total{action="deviation-<event>"}).
 */
import { error, fail, type RequestEvent } from '@sveltejs/kit';
import type { Permission } from '$lib/auth/roles';
import type { DeviationEvent } from '$lib/deviations/workflow';
import { recordAuditTrail } from '$lib/server/audit/query';
import { requireUserWith } from '$lib/server/auth/guard';
import { can } from '$lib/server/auth/policy';
import type { Person } from '$lib/server/production/access';
import {
	addCapa,
	assignablePeople,
	closeDeviation,
	containDeviation,
	DEVIATION_ENTITY,
	DEVIATION_RECORD,
	editDeviation,
	investigateDeviation,
	loadDeviation,
	recordEffectiveness,
	resolveCapa,
	submitForEffectiveness
} from '$lib/server/production/deviations';
import { httpStatus, ProductionError } from '$lib/server/production/errors';
import { listSignatures, SignatureError, signingStatus } from '$lib/server/records/signatures';
import { runningApp } from '$lib/server/running-app';
import type { z } from 'zod';
import type { Actions, PageServerLoad } from './$types';
import { requireDeviationViewer } from '../guard';
import {
	capaForm,
	closeForm,
	containForm,
	editForm,
	effectivenessForm,
	fieldErrors,
	investigateForm,
	pageParams,
	resolveForm,
	submitForm
} from '../schema';

export const load: PageServerLoad = async (event) => {
	const user = requireDeviationViewer(event);
	const parsed = pageParams.safeParse(event.params);
	if (!parsed.success) error(404, 'No such deviation.');
	const { database } = runningApp();
	const record = await loadDeviation(database, Number(parsed.data.id));
	if (!record) error(404, 'No such deviation.');
	const [signatures, trail, people, signing] = await Promise.all([
		listSignatures(database, DEVIATION_RECORD, String(record.id)),
		recordAuditTrail(database, DEVIATION_ENTITY, String(record.id)),
		assignablePeople(database),
		signingStatus(database, user)
	]);
	const manage = can(user, 'deviation:manage');
	const possible = new Set(record.possible);
	const offer = (e: DeviationEvent, allowed: boolean) => possible.has(e) && allowed;
	return {
		d: record,
		signatures,
		trail: trail.map(({ prevHash: _p, hash: _h, actorUserId: _a, ...entry }) => entry),
		people,
		can: {
			edit: offer('edit', manage),
			contain: offer('contain', can(user, 'deviation:open')),
			investigate: offer('investigate', manage),
			addCapa: offer('add-capa', manage),
			// Managers resolve any action; owners their own (checked per row on the page).
			resolveAny: offer('resolve-capa', manage),
			resolveOwn: offer('resolve-capa', can(user, 'deviation:open')),
			submitEffectiveness: offer('submit-effectiveness', manage),
			recordEffectiveness: offer('record-effectiveness', manage),
			close: offer('close', manage)
		},
		me: user.userId,
		signing: {
			canSign: signing.canSign,
			policyAcknowledged: signing.policyAcknowledgedAt !== null,
			needsUsername: signing.needsUsername
		},
		minorPath:
			record.severity === 'minor' &&
			(record.status === 'contained' || record.status === 'investigated')
	};
};

type Event = RequestEvent<{ id: string }>;

/** Parse the form, call the service, answer the way every deviation action answers. */
async function act<S extends z.ZodType>(
	event: Event,
	spec: {
		action: string;
		event: DeviationEvent;
		permission: Permission;
		schema: S;
		run: (person: Person, id: number, input: z.infer<S>) => Promise<unknown>;
	}
) {
	const user = requireUserWith(event, spec.permission);
	const running = runningApp();
	const count = (reason: string) =>
		running.metrics.productionRefusals.inc({ action: `deviation-${spec.event}`, reason });
	const values = Object.fromEntries(
		[...(await event.request.formData()).entries()].map(([k, v]) => [k, String(v)])
	);
	const parsed = spec.schema.safeParse(values);
	if (!parsed.success) {
		count('invalid');
		const errors = fieldErrors(parsed.error);
		return fail(400, { action: spec.action, message: Object.values(errors)[0], errors });
	}
	const id = pageParams.safeParse(event.params);
	if (!id.success) {
		count('not-found');
		return fail(404, { action: spec.action, message: 'No such deviation.', errors: {} });
	}
	try {
		await spec.run(user, Number(id.data.id), parsed.data);
		return { action: spec.action, done: true };
	} catch (e) {
		if (e instanceof ProductionError) {
			count(e.code);
			return fail(httpStatus(e.code), {
				action: spec.action,
				code: e.code,
				message: e.message,
				errors: e.field ? { [e.field]: e.message } : {}
			});
		}
		if (e instanceof SignatureError) {
			count('signature-refused');
			return fail(e.code === 'not-permitted' ? 403 : 400, {
				action: spec.action,
				code: e.code,
				message: e.message,
				errors: {}
			});
		}
		throw e;
	}
}

export const actions: Actions = {
	edit: (event) =>
		act(event, {
			action: 'edit',
			event: 'edit',
			permission: 'deviation:manage',
			schema: editForm,
			run: (person, id, f) =>
				editDeviation(runningApp().database, person, {
					id,
					expectedRevision: f.revision,
					title: f.title,
					description: f.description,
					severity: f.severity,
					ownerId: f.ownerId,
					dueAt: f.dueAt,
					reason: f.reason
				})
		}),
	contain: (event) =>
		act(event, {
			action: 'contain',
			event: 'contain',
			permission: 'deviation:open',
			schema: containForm,
			run: (person, id, f) =>
				containDeviation(runningApp().database, person, {
					id,
					expectedRevision: f.revision,
					containment: f.containment
				})
		}),
	investigate: (event) =>
		act(event, {
			action: 'investigate',
			event: 'investigate',
			permission: 'deviation:manage',
			schema: investigateForm,
			run: (person, id, f) =>
				investigateDeviation(runningApp().database, person, {
					id,
					expectedRevision: f.revision,
					rootCause: f.rootCause
				})
		}),
	addCapa: (event) =>
		act(event, {
			action: 'addCapa',
			event: 'add-capa',
			permission: 'deviation:manage',
			schema: capaForm,
			run: (person, id, f) =>
				addCapa(runningApp().database, person, {
					deviationId: id,
					expectedRevision: f.revision,
					kind: f.kind,
					description: f.description,
					ownerId: f.ownerId,
					dueAt: f.dueAt
				})
		}),
	resolveCapa: (event) =>
		act(event, {
			action: 'resolveCapa',
			event: 'resolve-capa',
			// Owners complete their own actions: the service checks owner or management right.
			permission: 'deviation:open',
			schema: resolveForm,
			run: async (person, id, f) => {
				const d = await loadDeviation(runningApp().database, id);
				if (!d || !d.capa.some((c) => c.id === f.capaId)) {
					throw new ProductionError('not-found', 'No such CAPA action on this deviation.');
				}
				return resolveCapa(runningApp().database, person, {
					capaId: f.capaId,
					expectedRevision: f.revision,
					status: f.status,
					outcome: f.outcome
				});
			}
		}),
	sendToCheck: (event) =>
		act(event, {
			action: 'sendToCheck',
			event: 'submit-effectiveness',
			permission: 'deviation:manage',
			schema: submitForm,
			run: (person, id, f) =>
				submitForEffectiveness(runningApp().database, person, {
					id,
					expectedRevision: f.revision,
					effectivenessDueAt: f.effectivenessDueAt
				})
		}),
	verdict: (event) =>
		act(event, {
			action: 'verdict',
			event: 'record-effectiveness',
			permission: 'deviation:manage',
			schema: effectivenessForm,
			run: (person, id, f) =>
				recordEffectiveness(runningApp().database, person, {
					id,
					expectedRevision: f.revision,
					result: f.result,
					effective: f.effective
				})
		}),
	close: (event) =>
		act(event, {
			action: 'close',
			event: 'close',
			permission: 'deviation:manage',
			schema: closeForm,
			run: (person, id, f) => {
				const running = runningApp();
				return closeDeviation(
					running.database,
					person,
					{
						id,
						expectedRevision: f.revision,
						justification: f.justification,
						username: f.username,
						password: f.password,
						comment: f.comment
					},
					{ lockoutThreshold: running.auth.lockoutThreshold }
				);
			}
		})
};
