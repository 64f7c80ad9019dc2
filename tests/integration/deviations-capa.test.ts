/**
 * Deviations and CAPA on both backends: opened prefilled from an alarm, an inspection or a lot;
 * contained, investigated, actions owned and dated, effectiveness (not effective reopens
 * actions), closure by an electronic signature bound to the revision; the minor path; every
 * refusal clear, audited on the deviation; the list's filters, aging and overdue.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '$lib/auth/roles';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import { hashPassword } from '$lib/server/auth/passwords';
import {
	createSession,
	DEFAULT_SESSION_SETTINGS,
	validateSessionToken
} from '$lib/server/auth/sessions';
import { createUser } from '$lib/server/auth/users';
import { alarm, auditEvent, deviation, inspection } from '$lib/server/db/schema';
import type { Person } from '$lib/server/production/access';
import {
	addCapa,
	closeDeviation,
	containDeviation,
	coveringDeviation,
	DEVIATION_RECORD,
	deviationPrefill,
	editDeviation,
	investigateDeviation,
	listDeviations,
	loadDeviation,
	openDeviation,
	recordEffectiveness,
	resolveCapa,
	submitForEffectiveness
} from '$lib/server/production/deviations';
import { ProductionError, type ProductionErrorCode } from '$lib/server/production/errors';
import { planLot } from '$lib/server/production/lots';
import { startRun } from '$lib/server/production/runs';
import {
	acknowledgeEsignPolicy,
	listSignatures,
	SignatureError
} from '$lib/server/records/signatures';
import { BACKENDS, openTestDatabase, type TestDatabase } from '../factories/db';
import {
	addInspectionPlan,
	certify,
	personWith,
	productionWorld,
	type ProductionWorld
} from '../factories/production';

const PASSWORD = 'correct horse battery staple';
const LOCK = { lockoutThreshold: 5 };
const DAY = 86_400_000;

async function refusal(promise: Promise<unknown>): Promise<ProductionError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ProductionError) return error;
		throw error;
	}
	throw new Error('the action was not refused');
}

async function refusedWith(promise: Promise<unknown>): Promise<ProductionErrorCode> {
	return (await refusal(promise)).code;
}

describe.each(BACKENDS)('deviations and CAPA on %s', (backend) => {
	let t: TestDatabase;
	let w: ProductionWorld;
	let qe: Person;
	let qa: Person;
	let lead: Person;
	let operator: Person;
	let alarmId: number;
	let lotId: number;

	/** A signed-in person with the signing right and a password (closure signs). */
	async function signer(username: string, role: Role): Promise<Person> {
		const userId = await t.database.transaction((tx) =>
			createUser(tx, SYSTEM_ACTOR, {
				username,
				fullName: `${username[0].toUpperCase()}${username.slice(1)} Signer`,
				canSign: true,
				grants: [{ role }]
			})
		);
		await t.database.query('UPDATE app_user SET password_hash = $1 WHERE id = $2', [
			await hashPassword(PASSWORD),
			userId
		]);
		const { token } = await createSession(t.database, userId, DEFAULT_SESSION_SETTINGS);
		const valid = await validateSessionToken(t.database, token, DEFAULT_SESSION_SETTINGS);
		if (!valid || valid.principal.kind !== 'user') throw new Error('no session');
		await acknowledgeEsignPolicy(t.database, valid.principal);
		return valid.principal as Person;
	}

	async function trail(id: number) {
		return t.database.db
			.select()
			.from(auditEvent)
			.where(and(eq(auditEvent.entityType, 'deviation'), eq(auditEvent.entityId, String(id))))
			.orderBy(auditEvent.id);
	}

	async function revisionOf(id: number): Promise<number> {
		const [row] = await t.database.db
			.select({ revision: deviation.revision })
			.from(deviation)
			.where(eq(deviation.id, id));
		return row.revision;
	}

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		w = await productionWorld(t.database);
		qe = await signer('quinn', 'quality-engineer');
		qa = await signer('rita', 'qa-reviewer');
		lead = await personWith(t.database, 'shift-lead', { fullName: 'Lee Lead' });
		operator = await personWith(t.database, 'operator');
		await certify(t.database, lead.userId, { lineId: w.lineId });
		lotId = (await planLot(t.database, lead, { productId: w.productId, plannedQty: 50 })).id;
		const ts = new Date(Date.now() - 3_600_000);
		const [a] = await t.database.db
			.insert(alarm)
			.values({
				characteristicId: w.tempId,
				machineId: w.m1,
				lineId: w.lineId,
				kind: 'spc',
				rule: 'nelson1',
				ts,
				lastTs: ts,
				message: 'Point beyond the control limits',
				value: 215.2,
				state: 'unacknowledged',
				pointTs: [ts.getTime()]
			})
			.returning({ id: alarm.id });
		alarmId = a.id;
	}, 120_000);
	afterAll(async () => {
		await t?.dispose();
	});

	describe('opening, prefilled from the context', () => {
		it('proposes a title and description from an alarm and links its line', async () => {
			const p = await deviationPrefill(t.database, { alarmId });
			expect(p).toMatchObject({ lineId: w.lineId, alarmId, lotId: null, inspectionId: null });
			expect(p!.title).toContain('Nelson rule 1');
			expect(p!.title).toContain('L1.M1');
			expect(p!.description).toContain(`Alarm #${alarmId}`);
			expect(p!.description).toContain('line L1');
			expect(p!.description).toContain('215.2');
			const d = await openDeviation(t.database, lead, {
				title: p!.title,
				description: p!.description,
				alarmId,
				severity: 'major'
			});
			const rec = await loadDeviation(t.database, d.id);
			expect(rec).toMatchObject({
				status: 'open',
				severity: 'major',
				revision: 1,
				line: { id: w.lineId, code: 'L1' },
				alarm: { id: alarmId }
			});
		});

		it('proposes from a lot (code, product) and from an inspection (plan, lot, result)', async () => {
			const fromLot = await deviationPrefill(t.database, { lotId });
			expect(fromLot).toMatchObject({ lotId, lineId: w.lineId, from: { kind: 'lot' } });
			expect(fromLot!.title).toContain('PN-100');
			await addInspectionPlan(t.database, w.productId, {
				name: 'First article',
				trigger: 'lot-start'
			});
			const lot2 = (await planLot(t.database, lead, { productId: w.productId, plannedQty: 5 })).id;
			await startRun(t.database, lead, { lotId: lot2, machineId: w.m1 });
			// Starting the lot makes its lot-start inspection due.
			const [insp] = await t.database.db
				.select({ id: inspection.id })
				.from(inspection)
				.where(eq(inspection.lotId, lot2));
			const fromInspection = await deviationPrefill(t.database, { inspectionId: insp.id });
			expect(fromInspection).toMatchObject({
				inspectionId: insp.id,
				lotId: lot2,
				lineId: w.lineId
			});
			expect(fromInspection!.description).toContain('First article #1');
			expect(await deviationPrefill(t.database, { lotId: 999_999 })).toBeNull();
		});

		it('opens by hand on a chosen line; refuses without a line or a link', async () => {
			const d = await openDeviation(t.database, qe, {
				title: 'Cleanroom door left open',
				description: 'Door alarm ignored for 20 minutes',
				lineId: w.otherLineId
			});
			expect((await loadDeviation(t.database, d.id))!.line!.id).toBe(w.otherLineId);
			const e = await refusal(
				openDeviation(t.database, qe, { title: 'Nothing', description: 'linked to nothing' })
			);
			expect(e.code).toBe('invalid');
			expect(e.message).toContain('choose the line');
			expect(
				await refusedWith(
					openDeviation(t.database, operator, { title: 'x y z', description: 'abc', lotId })
				)
			).toBe('forbidden');
		});
	});

	describe('the full workflow to a signed closure', () => {
		it('walks containment → root cause → CAPA → effectiveness (not effective, then effective) → signature', async () => {
			const { id } = await openDeviation(t.database, lead, {
				title: 'Melt temperature drift',
				description: 'TEMP above UCL for 3 subgroups',
				lotId,
				severity: 'major',
				ownerId: qe.userId,
				dueAt: new Date(Date.now() + 14 * DAY)
			});
			// Closing or planning actions before containment is refused, audited, and clear.
			const early = await refusal(closeDeviation(t.database, qe, { id, password: PASSWORD }, LOCK));
			expect(early.code).toBe('illegal-transition');
			expect(early.message).toBe('Record the containment before closing.');
			expect(
				(
					await refusal(
						addCapa(t.database, qe, {
							deviationId: id,
							kind: 'corrective',
							description: 'Replace thermocouple',
							ownerId: lead.userId,
							dueAt: new Date(Date.now() + DAY)
						})
					)
				).message
			).toContain('containment and the root cause');

			expect(
				await containDeviation(t.database, lead, {
					id,
					expectedRevision: 1,
					containment: 'Lot on hold, last 40 parts re-measured'
				})
			).toEqual({ revision: 2, status: 'contained' });
			// Stale revision: someone changed it since.
			const stale = await refusal(
				investigateDeviation(t.database, qe, { id, expectedRevision: 1, rootCause: 'Heater band' })
			);
			expect(stale.message).toContain('changed since you opened it');
			// A shift lead contains but does not investigate.
			expect(
				await refusedWith(investigateDeviation(t.database, lead, { id, rootCause: 'Heater band' }))
			).toBe('forbidden');
			await investigateDeviation(t.database, qe, {
				id,
				expectedRevision: 2,
				rootCause: 'Heater band 2 failing intermittently'
			});

			const a1 = await addCapa(t.database, qe, {
				deviationId: id,
				kind: 'corrective',
				description: 'Replace heater band 2',
				ownerId: lead.userId,
				dueAt: new Date(Date.now() + 2 * DAY)
			});
			expect(a1).toMatchObject({ status: 'actions', revision: 4 });
			expect(a1.code).toMatch(/^DEV-\d{4}-\d{5}-A1$/);
			const a2 = await addCapa(t.database, qe, {
				deviationId: id,
				kind: 'preventive',
				description: 'Add heater current to the monitored parameters',
				ownerId: qe.userId,
				dueAt: new Date(Date.now() + 10 * DAY)
			});

			// Closure refused while actions are open; the effectiveness check too.
			const open = await refusal(closeDeviation(t.database, qe, { id, password: PASSWORD }, LOCK));
			expect(open.message).toBe('2 CAPA actions are still open: the deviation cannot be closed.');
			expect(
				(
					await refusal(
						submitForEffectiveness(t.database, qe, {
							id,
							effectivenessDueAt: new Date(Date.now() + 30 * DAY)
						})
					)
				).message
			).toContain('2 CAPA actions are still open');

			// The owner completes their own action; the operator may not.
			expect(
				await refusedWith(
					resolveCapa(t.database, operator, { capaId: a1.capaId, status: 'done', outcome: 'x y' })
				)
			).toBe('forbidden');
			await resolveCapa(t.database, lead, {
				capaId: a1.capaId,
				status: 'done',
				outcome: 'Heater band replaced, WO-5512'
			});
			expect(
				(
					await refusal(
						resolveCapa(t.database, qe, { capaId: a1.capaId, status: 'done', outcome: 'again' })
					)
				).message
			).toContain('already done');
			await resolveCapa(t.database, qe, {
				capaId: a2.capaId,
				status: 'cancelled',
				outcome: 'Covered by change request CR-12'
			});
			await submitForEffectiveness(t.database, qe, {
				id,
				effectivenessDueAt: new Date(Date.now() + 30 * DAY)
			});
			const missing = await refusal(
				closeDeviation(t.database, qe, { id, password: PASSWORD }, LOCK)
			);
			expect(missing.message).toContain('effectiveness check is missing');

			// Not effective: back to actions, one more action, done, checked again.
			expect(
				await recordEffectiveness(t.database, qa, {
					id,
					result: 'Drift seen again on day 3',
					effective: false
				})
			).toMatchObject({ status: 'actions' });
			const a3 = await addCapa(t.database, qe, {
				deviationId: id,
				kind: 'corrective',
				description: 'Replace the temperature controller',
				ownerId: lead.userId,
				dueAt: new Date(Date.now() + 3 * DAY)
			});
			expect(a3.code).toMatch(/-A3$/);
			await resolveCapa(t.database, lead, {
				capaId: a3.capaId,
				status: 'done',
				outcome: 'Controller replaced'
			});
			await submitForEffectiveness(t.database, qe, {
				id,
				effectivenessDueAt: new Date(Date.now() + 30 * DAY)
			});
			await recordEffectiveness(t.database, qa, {
				id,
				result: 'No drift in 20 lots',
				effective: true
			});
			const before = await revisionOf(id);

			// A wrong password: refused, nothing closed, counted towards lockout.
			const bad = await closeDeviation(
				t.database,
				qe,
				{ id, password: 'wrong', username: 'quinn' },
				LOCK
			).catch((e: unknown) => e);
			expect(bad).toBeInstanceOf(SignatureError);
			expect((bad as SignatureError).code).toBe('bad-credentials');
			expect((await loadDeviation(t.database, id))!.status).toBe('effectiveness');

			const closed = await closeDeviation(
				t.database,
				qe,
				{ id, expectedRevision: before, username: 'quinn', password: PASSWORD },
				LOCK
			);
			expect(closed.revision).toBe(before);
			const rec = (await loadDeviation(t.database, id))!;
			expect(rec).toMatchObject({ status: 'closed', revision: before, closedBy: 'Quinn Signer' });
			expect(rec.closedAt).toBeInstanceOf(Date);
			expect(rec.capa.map((c) => [c.code.slice(-2), c.status])).toEqual([
				['A1', 'done'],
				['A2', 'cancelled'],
				['A3', 'done']
			]);
			const sigs = await listSignatures(t.database, DEVIATION_RECORD, String(id));
			expect(sigs).toHaveLength(1);
			expect(sigs[0]).toMatchObject({
				meaning: 'approved',
				signerFullName: 'Quinn Signer',
				recordVersion: before,
				valid: true
			});

			// Closed is final: edits and a second closure are refused.
			expect(
				(
					await refusal(
						editDeviation(t.database, qe, {
							id,
							title: 'x y z',
							description: 'abc',
							severity: 'minor',
							ownerId: null,
							dueAt: null,
							reason: 'tidy'
						})
					)
				).message
			).toContain('closed');
			expect(
				await refusedWith(closeDeviation(t.database, qe, { id, password: PASSWORD }, LOCK))
			).toBe('illegal-transition');

			// Every transition and every refusal is in the deviation's trail.
			const events = await trail(id);
			const steps = events.map((e) => (e.newValues as Record<string, unknown> | null)?.event);
			expect(steps.filter(Boolean)).toEqual([
				'contain',
				'investigate',
				'add-capa',
				'add-capa',
				'resolve-capa',
				'resolve-capa',
				'submit-effectiveness',
				'record-effectiveness',
				'add-capa',
				'resolve-capa',
				'submit-effectiveness',
				'record-effectiveness',
				'close'
			]);
			const refused = events
				.map((e) => (e.newValues as Record<string, unknown> | null)?.refused)
				.filter(Boolean);
			expect(refused).toEqual([
				'close',
				'add-capa',
				'investigate',
				'close',
				'submit-effectiveness',
				'resolve-capa',
				'close',
				'edit',
				'close'
			]);
			expect(events.some((e) => e.action === 'sign')).toBe(true);
		});
	});

	describe('the minor path', () => {
		it('closes a contained minor deviation on a justification, with a signature', async () => {
			const { id } = await openDeviation(t.database, lead, {
				title: 'Label smudged',
				description: 'Two labels reprinted',
				lotId
			});
			await containDeviation(t.database, lead, { id, containment: 'Labels reprinted and checked' });
			expect(
				(await refusal(closeDeviation(t.database, qe, { id, password: PASSWORD }, LOCK))).message
			).toContain('Give the justification');
			const e = await refusal(
				closeDeviation(t.database, qe, { id, password: PASSWORD, justification: 'ok' }, LOCK)
			);
			expect(e.code).toBe('invalid');
			await closeDeviation(
				t.database,
				qe,
				{
					id,
					password: PASSWORD,
					justification: 'Isolated printer fault, containment removed every affected label.'
				},
				LOCK
			);
			const rec = (await loadDeviation(t.database, id))!;
			expect(rec.status).toBe('closed');
			expect(rec.effectiveness).toMatchObject({ effective: null });
			expect(rec.effectiveness.result).toContain('Isolated printer fault');
			const [sig] = await listSignatures(t.database, DEVIATION_RECORD, String(id));
			expect(sig).toMatchObject({ valid: true, recordVersion: rec.revision });
			// Coverage does not depend on the workflow status: the closed deviation still covers.
			const covering = await t.database.transaction((tx) => coveringDeviation(tx, lotId, 0));
			expect(covering).not.toBeNull();
		});

		it('keeps major deviations off the minor path', async () => {
			const { id } = await openDeviation(t.database, lead, {
				title: 'Wrong resin loaded',
				description: 'Resin from quarantine',
				lotId,
				severity: 'major'
			});
			await containDeviation(t.database, lead, { id, containment: 'Lot stopped and segregated' });
			const e = await refusal(
				closeDeviation(
					t.database,
					qe,
					{ id, password: PASSWORD, justification: 'We think containment is enough here.' },
					LOCK
				)
			);
			expect(e.code).toBe('illegal-transition');
			expect(e.message).toContain('A major deviation needs CAPA actions');
			expect((await loadDeviation(t.database, id))!.status).toBe('contained');
		});
	});

	describe('the list', () => {
		it('filters by status, severity, line, owner and overdue; sorts by aging', async () => {
			const old = await openDeviation(t.database, qe, {
				title: 'Old overdue',
				description: 'Opened 40 days ago',
				lineId: w.lineId,
				ownerId: qa.userId,
				severity: 'critical',
				now: new Date(Date.now() - 40 * DAY),
				dueAt: new Date(Date.now() - 33 * DAY)
			});
			const open = await listDeviations(t.database, { status: 'open', sort: 'aging-desc' });
			expect(open.rows[0]).toMatchObject({ id: old.id, agingDays: 40 });
			expect(open.rows[0].overdue).toEqual(['deviation past its due date']);
			expect(open.rows.every((r) => r.status !== 'closed')).toBe(true);
			const overdue = await listDeviations(t.database, {
				status: 'open',
				overdue: true,
				sort: 'aging-asc'
			});
			expect(overdue.rows.map((r) => r.id)).toEqual([old.id]);
			const byOwner = await listDeviations(t.database, {
				status: 'all',
				ownerId: qa.userId,
				sort: 'opened'
			});
			expect(byOwner.rows.map((r) => r.id)).toEqual([old.id]);
			const critical = await listDeviations(t.database, {
				status: 'all',
				severity: 'critical',
				sort: 'due'
			});
			expect(critical.rows.map((r) => r.id)).toEqual([old.id]);
			const other = await listDeviations(t.database, {
				status: 'all',
				lineId: w.otherLineId,
				sort: 'opened'
			});
			expect(other.rows.map((r) => r.title)).toEqual(['Cleanroom door left open']);
			const closed = await listDeviations(t.database, { status: 'closed', sort: 'opened' });
			expect(closed.rows.length).toBe(2);
		});

		it('flags an overdue CAPA action on the record and in the list', async () => {
			const { id } = await openDeviation(t.database, qe, {
				title: 'Late action',
				description: 'Action planned and late',
				lineId: w.lineId,
				severity: 'major',
				now: new Date(Date.now() - 10 * DAY)
			});
			await containDeviation(t.database, qe, { id, containment: 'Parts re-inspected 100%' });
			await investigateDeviation(t.database, qe, { id, rootCause: 'Worn gripper' });
			const a = await addCapa(t.database, qe, {
				deviationId: id,
				kind: 'corrective',
				description: 'Replace gripper pads',
				ownerId: lead.userId,
				dueAt: new Date(Date.now() + 1000),
				now: new Date(Date.now() - DAY)
			});
			const later = new Date(Date.now() + 2 * DAY);
			const rec = (await loadDeviation(t.database, id, later))!;
			expect(rec.capa.find((c) => c.id === a.capaId)!.overdue).toBe(true);
			expect(rec.overdue).toEqual(['1 CAPA action overdue']);
			const list = await listDeviations(
				t.database,
				{ status: 'open', overdue: true, sort: 'aging-desc' },
				later
			);
			expect(list.rows.map((r) => r.id)).toContain(id);
		});
	});
});
