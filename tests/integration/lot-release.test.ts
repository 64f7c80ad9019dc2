/**
 * Lot release (issue 6): a QA reviewer starts the review of a completed lot, is refused release
 * while exceptions are open, releases once they are resolved, or rejects with a reason — each
 * decision an electronic signature bound to the lot's revision and content — on both backends.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '$lib/auth/roles';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import { hashPassword } from '$lib/server/auth/passwords';
import type { Principal } from '$lib/server/auth/policy';
import {
	createSession,
	DEFAULT_SESSION_SETTINGS,
	validateSessionToken
} from '$lib/server/auth/sessions';
import { createUser } from '$lib/server/auth/users';
import { alarm, appUser, auditEvent, deviation, inspection, lot } from '$lib/server/db/schema';
import { loadLotHistory } from '$lib/server/lots/history';
import {
	decideLot,
	reviewQueue,
	startLotReview,
	type DecideLotInput
} from '$lib/server/lots/release';
import { LOT_RECORD_TYPE } from '$lib/server/lots/signing';
import { ProductionError, type ProductionErrorCode } from '$lib/server/production/errors';
import { contentSha256 } from '$lib/server/records/canonical';
import {
	acknowledgeEsignPolicy,
	listSignatures,
	loadSignable,
	SignatureError,
	signRecord
} from '$lib/server/records/signatures';
import { BACKENDS, characteristicId, openTestDatabase, type TestDatabase } from '../factories/db';
import {
	lotWorld,
	makeAlarm,
	makeCertification,
	makeCustomer,
	makeInspection,
	makeInspectionPlan,
	makeLot,
	makeProduct,
	makeRun,
	openDeviation,
	type LotWorld
} from '../factories/lots';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

const PASSWORD = 'release-me-please-2026';
const LOCKOUT = 5;
const HOUR = 3_600_000;
const hoursAgo = (n: number) => new Date(Date.now() - n * HOUR);

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

describe.each(BACKENDS)('lot release on %s', (backend) => {
	let t: TestDatabase;
	let world: LotWorld;
	let L1: number;
	let L2: number;
	let passwordHash: string;
	let product: { productId: number; processVersionId: number };
	let planId: number;
	let temp: number;
	const users: Record<string, number> = {};

	/** A user with a password, the signing right and the e-signature policy acknowledged. */
	async function addUser(
		name: string,
		role: Role,
		options: { lineId?: number; fullName?: string } = {}
	) {
		users[name] = await t.database.transaction((tx) =>
			createUser(tx, SYSTEM_ACTOR, {
				username: name,
				fullName: options.fullName ?? `${name[0].toUpperCase()}${name.slice(1)} Person`,
				canSign: true,
				grants: [{ role, lineId: options.lineId ?? null }]
			})
		);
		await t.database.query('UPDATE app_user SET password_hash = $1 WHERE id = $2', [
			passwordHash,
			users[name]
		]);
		await acknowledgeEsignPolicy(t.database, await signIn(name));
	}

	/** A fresh session's principal, as hooks.server.ts puts it in locals. */
	async function signIn(name: string): Promise<UserPrincipal> {
		const { token } = await createSession(t.database, users[name], DEFAULT_SESSION_SETTINGS);
		const valid = await validateSessionToken(t.database, token, DEFAULT_SESSION_SETTINGS);
		if (!valid || valid.principal.kind !== 'user') throw new Error('no session');
		return valid.principal;
	}

	function decide(
		who: UserPrincipal,
		input: Partial<DecideLotInput> & Pick<DecideLotInput, 'id' | 'decision'>
	) {
		return decideLot(
			t.database,
			who,
			{ username: who.username, password: PASSWORD, ...input },
			{ lockoutThreshold: LOCKOUT }
		);
	}

	async function lotRow(id: number) {
		const [row] = await t.database.db.select().from(lot).where(eq(lot.id, id));
		return row;
	}

	async function lotAudit(id: number) {
		return t.database.db
			.select()
			.from(auditEvent)
			.where(and(eq(auditEvent.entityType, 'lot'), eq(auditEvent.entityId, String(id))))
			.orderBy(auditEvent.id);
	}

	/**
	 * A completed lot on `lineId` with one certified run and, when asked, every kind of
	 * departure: an unacknowledged alarm in the run, a missed inspection with an open deviation
	 * on it, and a suspect result awaiting confirmation.
	 */
	async function completedLot(options: { lineId?: number; departures?: boolean; hours?: number }) {
		const lineId = options.lineId ?? L1;
		const machineId = lineId === L1 ? world.machines['L1.M1'] : world.machines['L2.M1'];
		const completedAt = hoursAgo(options.hours ?? 3);
		const { lotId, code } = await makeLot(t.database, product, lineId, {
			status: 'completed',
			startedAt: new Date(completedAt.getTime() - 4 * HOUR),
			completedAt
		});
		const cert = await makeCertification(
			t.database,
			users.olga,
			'moulding',
			hoursAgo(24 * 30),
			new Date(Date.now() + 24 * 30 * HOUR),
			{ lineId }
		);
		const started = new Date(completedAt.getTime() - 4 * HOUR);
		const runId = await makeRun(t.database, lotId, machineId, users.olga, started, completedAt, {
			certificationId: cert
		});
		const ids = { lotId, code, runId, alarmId: 0, missedId: 0, suspectId: 0, deviationId: 0 };
		if (options.departures) {
			ids.alarmId = await makeAlarm(
				t.database,
				temp,
				machineId,
				lineId,
				new Date(started.getTime() + HOUR),
				// One open alarm per (characteristic, rule): each lot its own Nelson rule.
				{ state: 'unacknowledged', rule: `nelson-${++alarmRule}` }
			);
			ids.missedId = await makeInspection(t.database, lotId, planId, 1, started, {
				status: 'missed'
			});
			ids.suspectId = await makeInspection(
				t.database,
				lotId,
				planId,
				2,
				new Date(started.getTime() + HOUR),
				{ status: 'suspect', doneAt: new Date(started.getTime() + HOUR), value: 260 }
			);
			ids.deviationId = await openDeviation(t.database, lotId, users.quinn, {
				inspectionId: ids.missedId
			});
		}
		return ids;
	}

	let reviewer: UserPrincipal;
	let alarmRule = 0;

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		world = await lotWorld(t.database);
		L1 = world.lines.L1;
		L2 = world.lines.L2;
		passwordHash = await hashPassword(PASSWORD);
		temp = await characteristicId(t.database, 'L1.M1.TEMP');
		const customerId = await makeCustomer(t.database, 'Acme');
		product = await makeProduct(t.database, customerId, L1);
		planId = await makeInspectionPlan(t.database, product.productId);
		await addUser('rita', 'qa-reviewer', { lineId: L1, fullName: 'Rita Reviewer' });
		await addUser('rhea', 'qa-reviewer', { lineId: L2 });
		await addUser('quinn', 'quality-engineer');
		await addUser('max', 'manager');
		await addUser('olga', 'operator');
		reviewer = await signIn('rita');
	}, 120_000);

	afterAll(async () => {
		await t?.dispose();
	});

	describe('the review queue', () => {
		it('lists completed and in-review lots of the reviewer’s lines, oldest first, with exception counts', async () => {
			const older = await completedLot({ departures: true, hours: 30 });
			const newer = await completedLot({ hours: 2 });
			const elsewhere = await completedLot({ lineId: L2, hours: 40 });
			const { items } = await reviewQueue(t.database, reviewer);
			const ids = items.map((i) => i.id);
			expect(ids).toContain(older.lotId);
			expect(ids).toContain(newer.lotId);
			expect(ids).not.toContain(elsewhere.lotId);
			expect(ids.indexOf(older.lotId)).toBeLessThan(ids.indexOf(newer.lotId));
			const o = items.find((i) => i.id === older.lotId)!;
			// Alarm, missed inspection, suspect result, open deviation.
			expect(o.exceptions.open).toBe(4);
			expect(o.waitingMs).toBeGreaterThan(29 * HOUR);
			expect(items.find((i) => i.id === newer.lotId)!.exceptions).toMatchObject({ open: 0 });
			// A person without lot:release has no queue.
			expect((await reviewQueue(t.database, await signIn('max'))).items).toEqual([]);
		});
	});

	describe('release refused while exceptions are open, then released', () => {
		let x: Awaited<ReturnType<typeof completedLot>>;
		beforeAll(async () => {
			x = await completedLot({ departures: true });
		});

		it('starts the review: completed → in_review with review_started_at, audited', async () => {
			const before = await lotRow(x.lotId);
			const { revision } = await startLotReview(t.database, reviewer, { id: x.lotId });
			const after = await lotRow(x.lotId);
			expect(after.status).toBe('in_review');
			expect(after.reviewStartedAt).not.toBeNull();
			expect(revision).toBe(before.revision + 1);
			expect(after.revision).toBe(before.revision + 1);
			const last = (await lotAudit(x.lotId)).at(-1)!;
			expect(last.action).toBe('state');
			expect(last.newValues).toMatchObject({ status: 'in_review' });
			expect(await refusedWith(startLotReview(t.database, reviewer, { id: x.lotId }))).toBe(
				'illegal-transition'
			);
		});

		it('refuses release with the open exceptions named, audits the refusal, charges no password', async () => {
			const e = await refusal(decide(reviewer, { id: x.lotId, decision: 'released' }));
			expect(e.code).toBe('exceptions-open');
			expect(e.message).toMatch(/4 open exceptions/);
			expect(e.message).toContain('missed');
			const after = await lotRow(x.lotId);
			expect(after.status).toBe('in_review');
			expect(await listSignatures(t.database, LOT_RECORD_TYPE, String(x.lotId))).toEqual([]);
			const last = (await lotAudit(x.lotId)).at(-1)!;
			expect(last.newValues).toMatchObject({ decision: 'refused', code: 'exceptions-open' });
			const [u] = await t.database.db
				.select({ failed: appUser.failedLogins })
				.from(appUser)
				.where(eq(appUser.id, users.rita));
			expect(u.failed).toBe(0);
		});

		it('keeps refusing while any one is open, and lists resolved ones with how', async () => {
			// Acknowledge the alarm, close the deviation on the missed inspection…
			await t.database.db
				.update(alarm)
				.set({
					state: 'acknowledged',
					acknowledgedBy: users.quinn,
					acknowledgedAt: new Date(),
					causeCode: 'MATERIAL'
				})
				.where(eq(alarm.id, x.alarmId));
			await t.database.db
				.update(deviation)
				.set({ status: 'closed', closedAt: new Date(), closedBy: users.quinn })
				.where(eq(deviation.id, x.deviationId));
			const e = await refusal(decide(reviewer, { id: x.lotId, decision: 'released' }));
			expect(e.code).toBe('exceptions-open');
			expect(e.message).toMatch(/1 open exception \(.*suspect/);
			const h = await loadLotHistory(t.database, x.lotId, reviewer);
			const byRef = new Map(h!.exceptions.map((ex) => [`${ex.kind}:${ex.ref}`, ex]));
			expect(byRef.get(`alarm:${x.alarmId}`)).toMatchObject({ open: false });
			expect(byRef.get(`alarm:${x.alarmId}`)?.resolution).toMatch(/acknowledged by Quinn/);
			expect(byRef.get(`inspection-missed:${x.missedId}`)?.resolution).toMatch(
				/covered by deviation DEV-.*closed/
			);
			expect(byRef.get(`deviation:${x.deviationId}`)).toMatchObject({ open: false });
			expect(byRef.get(`inspection-suspect:${x.suspectId}`)).toMatchObject({ open: true });
			// Open ones come first.
			expect(h!.exceptions[0].open).toBe(true);
		});

		it('refuses a wrong password without changing the lot (counted towards lockout)', async () => {
			await t.database.db
				.update(inspection)
				.set({ status: 'done', confirmedBy: users.quinn, confirmedAt: new Date() })
				.where(eq(inspection.id, x.suspectId));
			const e = await refusal(
				decide(reviewer, { id: x.lotId, decision: 'released', password: 'wrong-one' })
			);
			expect(e.code).toBe('signature-refused');
			expect(e.details).toMatchObject({ signature: 'bad-credentials' });
			expect((await lotRow(x.lotId)).status).toBe('in_review');
			const [u] = await t.database.db
				.select({ failed: appUser.failedLogins })
				.from(appUser)
				.where(eq(appUser.id, users.rita));
			expect(u.failed).toBe(1);
		});

		it('refuses a revision the reviewer was not shown', async () => {
			const current = (await lotRow(x.lotId)).revision;
			expect(
				await refusedWith(
					decide(reviewer, { id: x.lotId, decision: 'released', expectedRevision: current - 1 })
				)
			).toBe('illegal-transition');
		});

		it('releases once every exception is resolved: status, times, revision, audit, signature', async () => {
			const before = await lotRow(x.lotId);
			const result = await decide(reviewer, {
				id: x.lotId,
				decision: 'released',
				expectedRevision: before.revision,
				reason: 'Record reviewed by exception; all resolved.'
			});
			const after = await lotRow(x.lotId);
			expect(after.status).toBe('released');
			expect(after.decidedBy).toBe(users.rita);
			expect(after.decidedAt?.getTime()).toBe(result.decidedAt.getTime());
			expect(after.revision).toBe(before.revision + 1);
			expect(result.revision).toBe(after.revision);
			// Release time: completed_at → decided_at.
			expect(result.releaseTimeMs).toBe(
				(after.decidedAt as Date).getTime() - (after.completedAt as Date).getTime()
			);
			const transition = (await lotAudit(x.lotId)).filter((a) => a.action === 'state').at(-1)!;
			expect(transition.newValues).toMatchObject({
				status: 'released',
				exceptions: { total: 4, open: [] }
			});
			expect(transition.reason).toBe('Record reviewed by exception; all resolved.');
			const sign = (await lotAudit(x.lotId)).filter((a) => a.action === 'sign');
			expect(sign).toHaveLength(1);

			// The signature: meaning released, bound to the new revision and its content.
			expect(result.signature).toMatchObject({
				meaning: 'released',
				recordVersion: after.revision,
				signerFullName: 'Rita Reviewer'
			});
			const current = await loadSignable(t.database, LOT_RECORD_TYPE, String(x.lotId));
			expect(current?.version).toBe(after.revision);
			expect(result.signature.contentSha256).toBe(contentSha256(current!.content));
			expect((current!.content as { lot: { status: string } }).lot.status).toBe('released');
			const [s] = await listSignatures(t.database, LOT_RECORD_TYPE, String(x.lotId));
			expect(s).toMatchObject({ valid: true, meaning: 'released' });
			const h = await loadLotHistory(t.database, x.lotId, reviewer);
			expect(h!.signatures).toEqual([
				expect.objectContaining({
					meaning: 'released',
					valid: true,
					recordVersion: after.revision,
					signerFullName: 'Rita Reviewer'
				})
			]);
			expect(h!.header.timeline.decidedBy).toBe('Rita Reviewer');
		});

		it('refuses a second decision on the same lot, saying who decided', async () => {
			const e = await refusal(
				decide(reviewer, { id: x.lotId, decision: 'rejected', reason: 'Second thoughts' })
			);
			expect(e.code).toBe('illegal-transition');
			expect(e.message).toMatch(/already released by Rita Reviewer/);
			expect(await refusedWith(decide(reviewer, { id: x.lotId, decision: 'released' }))).toBe(
				'illegal-transition'
			);
			expect(await listSignatures(t.database, LOT_RECORD_TYPE, String(x.lotId))).toHaveLength(1);
		});

		it('shows the signature as not valid once the lot changes after release', async () => {
			const row = await lotRow(x.lotId);
			// Same revision, different content: the hash no longer matches.
			await t.database.db
				.update(lot)
				.set({ goodQty: row.goodQty - 1 })
				.where(eq(lot.id, x.lotId));
			let h = await loadLotHistory(t.database, x.lotId, reviewer);
			expect(h!.signatures[0]).toMatchObject({ valid: false, invalidReason: 'content-changed' });
			// A new revision: superseded.
			await t.database.db
				.update(lot)
				.set({ revision: row.revision + 1 })
				.where(eq(lot.id, x.lotId));
			h = await loadLotHistory(t.database, x.lotId, reviewer);
			expect(h!.signatures[0]).toMatchObject({ valid: false, invalidReason: 'superseded' });
		});
	});

	describe('rejection', () => {
		it('rejects a lot with open exceptions when a reason is given, straight from completed', async () => {
			const x = await completedLot({ departures: true });
			expect(
				await refusedWith(decide(reviewer, { id: x.lotId, decision: 'rejected', reason: ' ' }))
			).toBe('invalid');
			const before = await lotRow(x.lotId);
			const result = await decide(reviewer, {
				id: x.lotId,
				decision: 'rejected',
				reason: 'Suspect result 260 °C far outside spec; lot scrapped.'
			});
			const after = await lotRow(x.lotId);
			expect(after.status).toBe('rejected');
			expect(after.reviewStartedAt).not.toBeNull();
			// Review started and decided: two transitions, two revisions.
			expect(after.revision).toBe(before.revision + 2);
			const states = (await lotAudit(x.lotId))
				.filter((a) => a.action === 'state')
				.map((a) => (a.newValues as { status?: string }).status);
			expect(states.slice(-2)).toEqual(['in_review', 'rejected']);
			expect(result.signature.meaning).toBe('rejected');
			const h = await loadLotHistory(t.database, x.lotId, reviewer);
			expect(h!.signatures).toEqual([
				expect.objectContaining({ meaning: 'rejected', valid: true })
			]);
		});
	});

	describe('who may decide', () => {
		it('refuses people without lot:release, or on another line', async () => {
			const x = await completedLot({});
			const quinn = await signIn('quinn');
			const max = await signIn('max');
			const rhea = await signIn('rhea');
			expect(await refusedWith(decide(quinn, { id: x.lotId, decision: 'released' }))).toBe(
				'forbidden'
			);
			expect(await refusedWith(startLotReview(t.database, max, { id: x.lotId }))).toBe('forbidden');
			// A reviewer of L2 does not even learn that the L1 lot exists.
			expect(await refusedWith(decide(rhea, { id: x.lotId, decision: 'released' }))).toBe(
				'not-found'
			);
			expect(await refusedWith(decide(reviewer, { id: 999_999, decision: 'released' }))).toBe(
				'not-found'
			);
			expect((await lotRow(x.lotId)).status).toBe('completed');
		});

		it('refuses a lot that is not completed yet', async () => {
			const { lotId } = await makeLot(t.database, product, L1, { status: 'running' });
			const e = await refusal(decide(reviewer, { id: lotId, decision: 'released' }));
			expect(e.code).toBe('illegal-transition');
			expect(e.message).toMatch(/is running: only a completed lot/);
		});

		it('cannot be signed around: a generic signature of a lot without the release is refused', async () => {
			const x = await completedLot({});
			try {
				await signRecord(
					t.database,
					{
						principal: reviewer,
						recordType: LOT_RECORD_TYPE,
						recordId: String(x.lotId),
						meaning: 'released',
						username: reviewer.username,
						password: PASSWORD
					},
					{ lockoutThreshold: LOCKOUT }
				);
				throw new Error('signed');
			} catch (error) {
				expect(error).toBeInstanceOf(SignatureError);
				expect((error as SignatureError).code).toBe('meaning-not-allowed');
			}
			expect((await lotRow(x.lotId)).status).toBe('completed');
		});
	});
});
