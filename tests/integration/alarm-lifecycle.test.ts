import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveAlarm } from '$lib/realtime/events';
import { createAlarmCode, seedAlarmCodes, updateAlarmCode } from '$lib/server/alarms/codes';
import { raiseAlarm } from '$lib/server/alarms/raise';
import {
	acknowledgeAlarm,
	removeAlarmFromService,
	returnAlarmToService,
	setMachineMode,
	shelveAlarm,
	unshelveAlarm,
	unshelveExpired,
	type AlarmDeps
} from '$lib/server/alarms/service';
import { startApp, type App } from '$lib/server/app';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import { parseEnv } from '$lib/server/env';
import { createLog } from '$lib/server/log';
import { createMetrics } from '$lib/server/metrics';
import { writeBatch } from '$lib/server/samples/writer';
import { returnQuietAlarms } from '$lib/server/samples/snapshot';
import {
	BACKENDS,
	batchOf,
	createPostgresDatabase,
	openTestDatabase,
	type TestDatabase
} from '../factories/db';
import {
	certify,
	personWith,
	productionWorld,
	type ProductionWorld
} from '../factories/production';

const MIN = 60_000;

interface AlarmRow {
	state: string;
	state_before: string | null;
	revision: number;
	occurrences: number;
	cause_code: string | null;
	action_code: string | null;
	acknowledged_by: number | null;
	set_aside_reason: string | null;
}

describe.each(BACKENDS)('alarm lifecycle service on %s', (backend) => {
	let t: TestDatabase;
	let w: ProductionWorld;
	let deps: AlarmDeps;
	const pushed: LiveAlarm[] = [];
	let nextTs = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		w = await productionWorld(t.database);
		await seedAlarmCodes(t.database);
		const retired = await createAlarmCode(t.database, SYSTEM_ACTOR, {
			list: 'cause',
			code: 'RETIRED',
			label: 'A retired cause'
		});
		if (!retired.ok) throw new Error('setup: code not created');
		await updateAlarmCode(t.database, SYSTEM_ACTOR, retired.id, { active: false });
		deps = { database: t.database, hub: { pushAlarms: (a) => pushed.push(...a) } };
	});
	afterAll(async () => {
		await t?.dispose();
	});

	async function raise(machineId = w.m1, lineId = w.lineId): Promise<number> {
		const ts = new Date((nextTs += MIN));
		const { id } = await t.database.transaction((tx) =>
			raiseAlarm(
				tx,
				{
					kind: 'inspection',
					lineId,
					machineId,
					characteristicId: null,
					rule: 'inspection-missed',
					message: 'Visual check on L1.M1',
					ts
				},
				SYSTEM_ACTOR
			)
		);
		return id;
	}

	async function row(id: number): Promise<AlarmRow> {
		const [r] = await t.database.query<AlarmRow>(
			`SELECT state, state_before, revision, occurrences, cause_code, action_code,
				acknowledged_by, set_aside_reason FROM alarm WHERE id = $1`,
			[id]
		);
		return r;
	}

	async function auditOf(id: number) {
		return t.database.query<{
			action: string;
			actor_label: string;
			old_values: Record<string, unknown> | null;
			new_values: Record<string, unknown> | null;
			reason: string | null;
		}>(
			`SELECT action, actor_label, old_values, new_values, reason FROM audit_event
			WHERE entity_type = 'alarm' AND entity_id = $1 ORDER BY id`,
			[String(id)]
		);
	}

	async function certifiedOperator(lineId = w.lineId) {
		const person = await personWith(t.database, 'operator');
		await certify(t.database, person.userId, { lineId });
		return person;
	}

	const ack = { causeCode: 'TOOL-WEAR', actionCode: 'TOOL-CHANGE', note: 'insert replaced' };

	describe('acknowledge', () => {
		it('is refused without the permission (a QA reviewer may view, not acknowledge)', async () => {
			const id = await raise();
			const reviewer = await personWith(t.database, 'qa-reviewer');
			await certify(t.database, reviewer.userId, { lineId: w.lineId });
			const r = await acknowledgeAlarm(deps, reviewer, { alarmId: id, revision: 1, ...ack });
			expect(r).toMatchObject({ ok: false, code: 'forbidden' });
			expect((await row(id)).state).toBe('unacknowledged');
		});

		it('is refused to an operator with no current certification for the line', async () => {
			const id = await raise();
			const uncertified = await personWith(t.database, 'operator');
			expect(
				await acknowledgeAlarm(deps, uncertified, { alarmId: id, revision: 1, ...ack })
			).toMatchObject({ ok: false, code: 'not_certified' });
			const expired = await personWith(t.database, 'operator');
			await certify(t.database, expired.userId, {
				lineId: w.lineId,
				validFrom: new Date(Date.now() - 10 * 86_400_000),
				validTo: new Date(Date.now() - 86_400_000)
			});
			expect(
				await acknowledgeAlarm(deps, expired, { alarmId: id, revision: 1, ...ack })
			).toMatchObject({ ok: false, code: 'not_certified' });
			const otherLine = await certifiedOperator(w.otherLineId);
			expect(
				await acknowledgeAlarm(deps, otherLine, { alarmId: id, revision: 1, ...ack })
			).toMatchObject({ ok: false, code: 'not_certified' });
			expect((await row(id)).state).toBe('unacknowledged');
		});

		it('is refused with an inactive or unknown code', async () => {
			const id = await raise();
			const operator = await certifiedOperator();
			expect(
				await acknowledgeAlarm(deps, operator, {
					alarmId: id,
					revision: 1,
					...ack,
					causeCode: 'RETIRED'
				})
			).toMatchObject({ ok: false, code: 'bad_code' });
			expect(
				await acknowledgeAlarm(deps, operator, {
					alarmId: id,
					revision: 1,
					...ack,
					actionCode: 'NO-SUCH'
				})
			).toMatchObject({ ok: false, code: 'bad_code' });
			expect((await row(id)).state).toBe('unacknowledged');
		});

		it('is accepted from a certified operator with active codes, recorded, audited and pushed', async () => {
			const id = await raise();
			const operator = await certifiedOperator();
			pushed.length = 0;
			const r = await acknowledgeAlarm(deps, operator, { alarmId: id, revision: 1, ...ack });
			expect(r).toEqual({ ok: true, id, revision: 2 });
			expect(await row(id)).toMatchObject({
				state: 'acknowledged',
				revision: 2,
				cause_code: 'TOOL-WEAR',
				action_code: 'TOOL-CHANGE',
				acknowledged_by: operator.userId
			});
			const last = (await auditOf(id)).at(-1);
			expect(last).toMatchObject({
				action: 'state',
				actor_label: operator.username,
				reason: 'insert replaced',
				old_values: { state: 'unacknowledged' },
				new_values: { event: 'acknowledge', state: 'acknowledged', cause: 'Tool wear' }
			});
			expect(pushed).toHaveLength(1);
			expect(pushed[0]).toMatchObject({
				id,
				state: 'acknowledged',
				acknowledgedBy: operator.fullName,
				cause: 'Tool wear',
				action: 'Tool changed',
				kind: 'inspection',
				characteristicId: null
			});
		});

		it('answers stale when the alarm changed since the person looked at it', async () => {
			const id = await raise();
			const operator = await certifiedOperator();
			const lead = await personWith(t.database, 'shift-lead');
			expect(
				await shelveAlarm(deps, lead, {
					alarmId: id,
					revision: 1,
					reason: 'tool change',
					minutes: 30
				})
			).toMatchObject({ ok: true, revision: 2 });
			expect(
				await acknowledgeAlarm(deps, operator, { alarmId: id, revision: 1, ...ack })
			).toMatchObject({ ok: false, code: 'stale' });
		});
	});

	describe('shelve, unshelve, out of service', () => {
		it('shelves within the maximum for a shift lead only, with a reason', async () => {
			const id = await raise();
			const lead = await personWith(t.database, 'shift-lead');
			const operator = await certifiedOperator();
			expect(
				await shelveAlarm(deps, operator, { alarmId: id, revision: 1, reason: 'x', minutes: 10 })
			).toMatchObject({ ok: false, code: 'forbidden' });
			expect(
				await shelveAlarm(deps, lead, { alarmId: id, revision: 1, reason: '  ', minutes: 10 })
			).toMatchObject({ ok: false, code: 'bad_input' });
			expect(
				await shelveAlarm(deps, lead, { alarmId: id, revision: 1, reason: 'why', minutes: 9 * 60 })
			).toMatchObject({ ok: false, code: 'shelve_too_long' });
			expect(
				await shelveAlarm(deps, lead, { alarmId: id, revision: 1, reason: 'why', minutes: 60 })
			).toMatchObject({ ok: true });
			expect(await row(id)).toMatchObject({ state: 'shelved', state_before: 'unacknowledged' });
			expect(
				await unshelveAlarm(deps, lead, { alarmId: id, revision: 2, reason: 'back' })
			).toMatchObject({ ok: true, revision: 3 });
			expect(await row(id)).toMatchObject({ state: 'unacknowledged', state_before: null });
		});

		it('takes out of service only with a reason and the permission, and returns it', async () => {
			const id = await raise();
			const engineer = await personWith(t.database, 'quality-engineer');
			const lead = await personWith(t.database, 'shift-lead');
			expect(
				await removeAlarmFromService(deps, lead, { alarmId: id, revision: 1, reason: 'sensor' })
			).toMatchObject({ ok: false, code: 'forbidden' });
			expect(
				await removeAlarmFromService(deps, engineer, { alarmId: id, revision: 1, reason: '' })
			).toMatchObject({ ok: false, code: 'bad_input' });
			expect(
				await removeAlarmFromService(deps, engineer, {
					alarmId: id,
					revision: 1,
					reason: 'CR-12: sensor replaced'
				})
			).toMatchObject({ ok: true });
			expect(await row(id)).toMatchObject({
				state: 'out_of_service',
				set_aside_reason: 'CR-12: sensor replaced'
			});
			expect(
				await returnAlarmToService(deps, engineer, { alarmId: id, revision: 2 })
			).toMatchObject({ ok: true });
			expect((await row(id)).state).toBe('unacknowledged');
		});

		it('refuses an illegal transition with its refusal code (unshelving an alarm not shelved)', async () => {
			const id = await raise();
			const lead = await personWith(t.database, 'shift-lead');
			expect(await unshelveAlarm(deps, lead, { alarmId: id, revision: 1 })).toMatchObject({
				ok: false,
				code: 'not_shelved'
			});
		});

		it('audits every transition of an alarm, from raise to clear', async () => {
			const id = await raise();
			const lead = await personWith(t.database, 'shift-lead');
			await certify(t.database, lead.userId, { lineId: w.lineId });
			const engineer = await personWith(t.database, 'quality-engineer');
			let revision = 1;
			const step = async (p: Promise<{ ok: boolean; revision?: number }>) => {
				const r = await p;
				expect(r.ok).toBe(true);
				revision = r.revision ?? revision;
			};
			await step(shelveAlarm(deps, lead, { alarmId: id, revision, reason: 'r', minutes: 5 }));
			await step(unshelveAlarm(deps, lead, { alarmId: id, revision }));
			await step(removeAlarmFromService(deps, engineer, { alarmId: id, revision, reason: 'r' }));
			await step(returnAlarmToService(deps, engineer, { alarmId: id, revision }));
			await setMachineMode(t.database, w.m1, 'changeover', SYSTEM_ACTOR, { hub: null });
			await setMachineMode(t.database, w.m1, 'running', SYSTEM_ACTOR, { hub: null });
			revision = (await row(id)).revision;
			await step(acknowledgeAlarm(deps, lead, { alarmId: id, revision, ...ack }));
			const trail = await auditOf(id);
			expect(trail.map((e) => [e.action, e.new_values?.state])).toEqual([
				['create', 'unacknowledged'],
				['state', 'shelved'],
				['state', 'unacknowledged'],
				['state', 'out_of_service'],
				['state', 'unacknowledged'],
				['state', 'suppressed'],
				['state', 'unacknowledged'],
				['state', 'acknowledged']
			]);
			// One audit event per revision step: nothing moved without a trace.
			expect((await row(id)).revision).toBe(trail.length);
		});
	});

	describe('by design and by deadline', () => {
		it('suppresses a machine’s open alarms in changeover, raises new ones suppressed, and lifts it when running', async () => {
			const open = await raise(w.m2);
			pushed.length = 0;
			const { changed } = await setMachineMode(t.database, w.m2, 'changeover', SYSTEM_ACTOR, {
				hub: deps.hub
			});
			expect(changed).toEqual([open]);
			expect(pushed.map((a) => [a.id, a.state])).toEqual([[open, 'suppressed']]);
			const during = await raise(w.m2);
			expect(await row(during)).toMatchObject({
				state: 'suppressed',
				state_before: 'unacknowledged',
				set_aside_reason: 'machine changeover'
			});
			await setMachineMode(t.database, w.m2, 'running', SYSTEM_ACTOR, { hub: null });
			expect((await row(open)).state).toBe('unacknowledged');
			expect((await row(during)).state).toBe('unacknowledged');
		});

		it('unshelves only alarms whose deadline passed', async () => {
			const due = await raise();
			const later = await raise();
			const lead = await personWith(t.database, 'shift-lead');
			const past = { ...deps, now: () => Date.now() - 30 * MIN };
			await shelveAlarm(past, lead, { alarmId: due, revision: 1, reason: 'r', minutes: 10 });
			await shelveAlarm(deps, lead, { alarmId: later, revision: 1, reason: 'r', minutes: 10 });
			const changed = await unshelveExpired(deps);
			expect(changed).toContain(due);
			expect(changed).not.toContain(later);
			expect((await row(due)).state).toBe('unacknowledged');
			expect((await row(later)).state).toBe('shelved');
			expect((await auditOf(due)).at(-1)).toMatchObject({
				actor_label: 'system',
				reason: 'shelving deadline passed'
			});
		});
	});

	describe('the SPC path with set-aside alarms', () => {
		it('a shelved alarm absorbs a new violation without error, and stays shelved', async () => {
			const ts = (nextTs += 10 * MIN);
			const violation = (at: number) => ({
				characteristicId: w.tempId,
				rule: 'nelson1' as const,
				ts: at,
				message: 'beyond the control limits',
				side: 'upper' as const,
				chart: 'primary' as const,
				value: 230,
				pointTs: [at]
			});
			const first = await writeBatch(
				t.database,
				batchOf([[w.tempId, ts, 1, 230, 0]], { violations: [violation(ts)] })
			);
			expect(first.newAlarms).toHaveLength(1);
			const id = first.newAlarms[0].id;
			expect(first.newAlarms[0]).toMatchObject({ kind: 'spc', machineId: w.m1, lineId: w.lineId });
			const lead = await personWith(t.database, 'shift-lead');
			expect(
				await shelveAlarm(deps, lead, { alarmId: id, revision: 1, reason: 'known', minutes: 60 })
			).toMatchObject({ ok: true });

			// Returns to normal underneath, then fires again: absorbed, still shelved.
			await returnQuietAlarms(t.database, { quietMs: 1000, now: ts + 5_000 });
			expect(await row(id)).toMatchObject({ state: 'shelved', state_before: 'returned' });
			const again = await writeBatch(
				t.database,
				batchOf([[w.tempId, ts + 10_000, 2, 231, 0]], { violations: [violation(ts + 10_000)] })
			);
			expect(again.newAlarms.map((a) => [a.id, a.state])).toEqual([[id, 'shelved']]);
			expect(await row(id)).toMatchObject({
				state: 'shelved',
				state_before: 'unacknowledged',
				occurrences: 2
			});
			const [{ n }] = await t.database.query<{ n: number }>(
				`SELECT count(*)::int AS n FROM alarm WHERE characteristic_id = $1 AND rule = 'nelson1'
					AND state <> 'cleared'`,
				[w.tempId]
			);
			expect(n).toBe(1);
		});
	});
});

describe.each(BACKENDS)('auto-unshelve across a restart on %s', (backend) => {
	let dir: string;
	let databaseUrl: string | undefined;
	let drop: (() => Promise<void>) | undefined;
	let app: App | undefined;

	beforeAll(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-unshelve-'));
		if (backend === 'postgres') {
			const fresh = await createPostgresDatabase();
			databaseUrl = fresh.url;
			drop = fresh.drop;
		}
	});
	afterAll(async () => {
		await app?.close();
		await drop?.();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	async function start(): Promise<App> {
		const env = parseEnv({
			TRACEWALL_DATA_DIR: dir,
			DATABASE_URL: databaseUrl,
			TRACEWALL_DEMO: 'false'
		});
		// A fresh HTTP server per start, as after a real restart (never listening: not needed).
		return startApp(http.createServer(), env, {
			log: createLog({ level: 'silent' }),
			metrics: createMetrics(),
			// No sweep while the first app runs: only the start-up catch-up may unshelve.
			alarmUpkeepMs: 3600_000
		});
	}

	it('applies a shelving deadline that passed while the server was down at the next start', async () => {
		app = await start();
		const w = await productionWorld(app.database);
		const lead = await personWith(app.database, 'shift-lead');
		const raiseOne = () =>
			app!.database.transaction((tx) =>
				raiseAlarm(
					tx,
					{
						// Not a data condition: the hub's return-to-normal sweep leaves it alone.
						kind: 'inspection',
						lineId: w.lineId,
						machineId: w.m1,
						characteristicId: null,
						rule: 'inspection-missed',
						message: 'Visual check missed',
						ts: new Date()
					},
					SYSTEM_ACTOR
				)
			);
		const expiring = await raiseOne();
		// Shelved 20 minutes ago for 10 minutes: its deadline passes "while the server is down".
		const deps = { database: app.database, hub: app.hub, now: () => Date.now() - 20 * MIN };
		expect(
			await shelveAlarm(deps, lead, { alarmId: expiring.id, revision: 1, reason: 'r', minutes: 10 })
		).toMatchObject({ ok: true });
		const [{ state: before }] = await app.database.query<{ state: string }>(
			'SELECT state FROM alarm WHERE id = $1',
			[expiring.id]
		);
		expect(before).toBe('shelved');
		await app.close();

		app = await start();
		const rows = await app.database.query<{ state: string; shelved_until: unknown }>(
			'SELECT state, shelved_until FROM alarm WHERE id = $1',
			[expiring.id]
		);
		expect(rows[0]).toEqual({ state: 'unacknowledged', shelved_until: null });
		const [event] = await app.database.query<{ reason: string; actor_label: string }>(
			`SELECT reason, actor_label FROM audit_event WHERE entity_type = 'alarm' AND entity_id = $1
			ORDER BY id DESC LIMIT 1`,
			[String(expiring.id)]
		);
		expect(event).toEqual({ reason: 'shelving deadline passed', actor_label: 'system' });
	});
});
