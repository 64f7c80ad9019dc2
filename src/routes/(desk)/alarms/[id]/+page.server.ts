/**
 * One alarm as a record: what, where, when, its state history (from the audit trail), the
 * lots running on its machine then, and the lifecycle actions the viewer may take.
 *
 * Every load and action checks `alarm:view` on the alarm's line (404 otherwise, so an alarm's
 * existence on another line is not revealed); each action also its own permission (403), and
 * the lifecycle service checks everything again in its transaction (certification, codes,
 * revision, the state machine).
 */
import { error, fail, type RequestEvent } from '@sveltejs/kit';
import type { Permission } from '$lib/auth/roles';
import { allowedActions } from '$lib/alarms/lifecycle';
import { listAlarmCodes } from '$lib/server/alarms/codes';
import { alarmRecord, type AlarmRecord } from '$lib/server/alarms/queries';
import {
	acknowledgeAlarm,
	MAX_SHELVE_MS,
	removeAlarmFromService,
	returnAlarmToService,
	shelveAlarm,
	unshelveAlarm,
	type AlarmDeps,
	type AlarmResult
} from '$lib/server/alarms/service';
import { recordAuditTrail } from '$lib/server/audit/query';
import { requireUserWith } from '$lib/server/auth/guard';
import { can, type Scope } from '$lib/server/auth/policy';
import { lotsActiveAt } from '$lib/server/lots/at-time';
import { isCertifiedForLine } from '$lib/server/production/certifications';
import { runningApp } from '$lib/server/running-app';
import type { Actions, PageServerLoad } from './$types';
import {
	acknowledgeForm,
	outOfServiceForm,
	pageParams,
	returnToServiceForm,
	SHELVE_CHOICES,
	shelveForm,
	unshelveForm
} from './schema';

type Event = Pick<RequestEvent, 'locals' | 'url' | 'params'>;

/** The alarm behind the URL, visible to the viewer, or 404. */
async function alarmOf(event: Event): Promise<{ alarm: AlarmRecord; scope: Scope }> {
	const user = requireUserWith(event, 'alarm:view');
	const parsed = pageParams.safeParse(event.params);
	if (!parsed.success) error(404, 'No such alarm.');
	const alarm = await alarmRecord(runningApp().database, Number(parsed.data.id));
	const scope = alarm ? { lineId: alarm.line.id, siteId: alarm.line.siteId } : null;
	if (!alarm || !scope || !can(user, 'alarm:view', scope)) error(404, 'No such alarm.');
	return { alarm, scope };
}

export const load: PageServerLoad = async (event) => {
	const user = requireUserWith(event, 'alarm:view');
	const { alarm, scope } = await alarmOf(event);
	const { database } = runningApp();
	const now = Date.now();
	const [trail, codes, lots, certified] = await Promise.all([
		recordAuditTrail(database, 'alarm', String(alarm.id)),
		listAlarmCodes(database, { activeOnly: true }),
		alarm.machine ? lotsActiveAt(database, alarm.machine.id, new Date(alarm.ts)) : [],
		isCertifiedForLine(database, user.userId, alarm.line.id, new Date(now))
	]);
	const possible = allowedActions(
		{
			state: alarm.state,
			stateBefore: alarm.stateBefore,
			shelvedUntil: alarm.shelved?.until ?? null
		},
		{ now, maxShelveMs: MAX_SHELVE_MS }
	);
	const may = (p: Permission) => can(user, p, scope);
	return {
		alarm,
		history: trail.map((e) => ({
			id: e.id,
			at: e.at,
			actor: e.actor,
			action: e.action,
			reason: e.reason,
			oldValues: e.oldValues,
			newValues: e.newValues
		})),
		lots: lots.map((l) => ({
			...l,
			startedAt: l.startedAt.getTime(),
			endedAt: l.endedAt?.getTime() ?? null
		})),
		causes: codes.filter((c) => c.list === 'cause'),
		actions: codes.filter((c) => c.list === 'action'),
		shelveChoices: SHELVE_CHOICES,
		can: {
			acknowledge: possible.has('acknowledge') && may('alarm:acknowledge') && certified,
			shelve: possible.has('shelve') && may('alarm:shelve'),
			unshelve: possible.has('unshelve') && may('alarm:shelve'),
			outOfService: possible.has('remove-from-service') && may('alarm:out-of-service'),
			returnToService: possible.has('return-to-service') && may('alarm:out-of-service')
		},
		/** The state and the role allow acknowledging, the missing certification does not. */
		ackNeedsCertification: possible.has('acknowledge') && may('alarm:acknowledge') && !certified,
		lotsLink: alarm.machine ? { machine: alarm.machine.id, at: alarm.ts } : null,
		/** Open a deviation prefilled from this alarm (deviation:open; not line-scoped). */
		canOpenDeviation: can(user, 'deviation:open')
	};
};

function deps(): AlarmDeps {
	const app = runningApp();
	return { database: app.database, hub: app.hub };
}

/** Service outcome → the form's answer (never a database message). */
function answer(action: string, result: AlarmResult) {
	if (result.ok) return { action, done: true };
	const status =
		result.code === 'not_found'
			? 404
			: result.code === 'forbidden' || result.code === 'not_certified'
				? 403
				: result.code === 'stale'
					? 409
					: 400;
	return fail(status, { action, code: result.code, message: result.message });
}

function invalid(action: string, issues: { message: string }[]) {
	return fail(400, { action, code: 'bad_input', message: issues[0]?.message ?? 'Check the form.' });
}

/** Common head of every action: visible alarm (404), the action's permission (403), the form. */
async function prepare(event: RequestEvent, permission: Permission) {
	const { alarm, scope } = await alarmOf(event);
	const user = requireUserWith(event, permission, scope);
	const form = Object.fromEntries(await event.request.formData());
	return { alarm, user, form };
}

export const actions: Actions = {
	acknowledge: async (event) => {
		const { alarm, user, form } = await prepare(event, 'alarm:acknowledge');
		const parsed = acknowledgeForm.safeParse(form);
		if (!parsed.success) return invalid('acknowledge', parsed.error.issues);
		return answer(
			'acknowledge',
			await acknowledgeAlarm(deps(), user, { alarmId: alarm.id, ...parsed.data })
		);
	},
	shelve: async (event) => {
		const { alarm, user, form } = await prepare(event, 'alarm:shelve');
		const parsed = shelveForm.safeParse(form);
		if (!parsed.success) return invalid('shelve', parsed.error.issues);
		return answer('shelve', await shelveAlarm(deps(), user, { alarmId: alarm.id, ...parsed.data }));
	},
	unshelve: async (event) => {
		const { alarm, user, form } = await prepare(event, 'alarm:shelve');
		const parsed = unshelveForm.safeParse(form);
		if (!parsed.success) return invalid('unshelve', parsed.error.issues);
		return answer(
			'unshelve',
			await unshelveAlarm(deps(), user, { alarmId: alarm.id, ...parsed.data })
		);
	},
	outOfService: async (event) => {
		const { alarm, user, form } = await prepare(event, 'alarm:out-of-service');
		const parsed = outOfServiceForm.safeParse(form);
		if (!parsed.success) return invalid('outOfService', parsed.error.issues);
		return answer(
			'outOfService',
			await removeAlarmFromService(deps(), user, { alarmId: alarm.id, ...parsed.data })
		);
	},
	returnToService: async (event) => {
		const { alarm, user, form } = await prepare(event, 'alarm:out-of-service');
		const parsed = returnToServiceForm.safeParse(form);
		if (!parsed.success) return invalid('returnToService', parsed.error.issues);
		return answer(
			'returnToService',
			await returnAlarmToService(deps(), user, { alarmId: alarm.id, ...parsed.data })
		);
	}
};
