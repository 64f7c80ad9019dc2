/**
 * Change control end to end on both backends: every kind walks draft → impact (analysis listed
 * automatically) → review → approved (author and approver sign, two different people,
 * re-authenticated) → implemented (the effective-dated version exists) → closed, with each step's
 * time in its column; the rejected and withdrawn paths; illegal transitions refused, audited as
 * refused attempts and counted in /metrics; a version active only from its effective date.
 */
import { eq } from 'drizzle-orm';
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
import { applyDueConfigVersions, startChangeUpkeep } from '$lib/server/change/effective';
import { createLog } from '$lib/server/log';
import {
	approveChange,
	ChangeError,
	createChange,
	editChange,
	loadChange,
	moveChange,
	signAuthored,
	type ChangeContext,
	type ChangeErrorCode,
	type ChangeInput
} from '$lib/server/change/service';
import {
	changeRequest,
	characteristic,
	characteristicConfigVersion,
	lot,
	processSpec,
	processVersion
} from '$lib/server/db/schema';
import { createMetrics, type Metrics } from '$lib/server/metrics';
import { loadIngestConfig } from '$lib/server/plant/service';
import { effectiveProcessVersion } from '$lib/server/production/lots';
import { acknowledgeEsignPolicy } from '$lib/server/records/signatures';
import { BACKENDS, characteristicId, openTestDatabase, type TestDatabase } from '../factories/db';
import { productionWorld, type ProductionWorld } from '../factories/production';

const PASSWORD = 'correct horse battery staple';
const LOCKOUT = { lockoutThreshold: 5 };
type UserPrincipal = Extract<Principal, { kind: 'user' }>;

async function refusal(promise: Promise<unknown>): Promise<ChangeError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ChangeError) return error;
		throw error;
	}
	throw new Error('the action was not refused');
}

describe.each(BACKENDS)('change control on %s', (backend) => {
	let t: TestDatabase;
	let w: ProductionWorld;
	let metrics: Metrics;
	let ctx: ChangeContext;
	let passwordHash: string;
	const people: Record<string, UserPrincipal> = {};
	const signedOnce = new Set<string>();

	async function addPerson(username: string, role: Role): Promise<void> {
		const userId = await t.database.transaction((tx) =>
			createUser(tx, SYSTEM_ACTOR, {
				username,
				fullName: `${username[0].toUpperCase()}${username.slice(1)} Person`,
				canSign: true,
				grants: [{ role }]
			})
		);
		await t.database.query('UPDATE app_user SET password_hash = $1 WHERE id = $2', [
			passwordHash,
			userId
		]);
		const { token } = await createSession(t.database, userId, DEFAULT_SESSION_SETTINGS);
		const valid = await validateSessionToken(t.database, token, DEFAULT_SESSION_SETTINGS);
		if (!valid || valid.principal.kind !== 'user') throw new Error('session did not validate');
		people[username] = valid.principal;
		await acknowledgeEsignPolicy(t.database, valid.principal);
	}

	/** User ID at the first signature of the session, the password alone afterwards. */
	function credentials(username: string) {
		const first = !signedOnce.has(username);
		signedOnce.add(username);
		return { username: first ? username : null, password: PASSWORD };
	}

	async function row(id: number) {
		const [r] = await t.database.db.select().from(changeRequest).where(eq(changeRequest.id, id));
		return r;
	}

	async function refusedCount(action: string, reason: ChangeErrorCode): Promise<number> {
		const { values } = await metrics.productionRefusals.get();
		return values.find((v) => v.labels.action === action && v.labels.reason === reason)?.value ?? 0;
	}

	async function refusalEvents(id: number) {
		return t.database.query<{
			actor_label: string;
			new_values: { attempt: string; refused: string };
		}>(
			`SELECT actor_label, new_values FROM audit_event
			 WHERE entity_type = 'change-request' AND entity_id = $1 AND new_values ? 'refused'
			 ORDER BY id`,
			[String(id)]
		);
	}

	/** draft → impact → review → authored + approved (effective `at`) → approved. */
	async function toApproved(input: ChangeInput, effectiveFrom = new Date()): Promise<number> {
		const { id } = await createChange(ctx, people.quinn, input);
		await moveChange(ctx, people.quinn, { id, event: 'submit' });
		await moveChange(ctx, people.quinn, { id, event: 'to-review' });
		const r = await row(id);
		await signAuthored(
			ctx,
			people.quinn,
			{ id, expectedRevision: r.revision, ...credentials('quinn') },
			LOCKOUT
		);
		await approveChange(
			ctx,
			people.rita,
			{ id, expectedRevision: r.revision, effectiveFrom, ...credentials('rita') },
			LOCKOUT
		);
		return id;
	}

	/** The whole path, then checks that every step time is recorded in order. */
	async function fullPath(input: ChangeInput): Promise<number> {
		const id = await toApproved(input);
		const implemented = await moveChange(ctx, people.rita, { id, event: 'implement' });
		expect(implemented).toEqual({ status: 'implemented', effectiveNow: true });
		await moveChange(ctx, people.quinn, { id, event: 'close', reason: 'verified on the line' });
		const r = await row(id);
		expect(r.status).toBe('closed');
		const steps = [r.openedAt, r.impactAt, r.reviewAt, r.approvedAt, r.implementedAt, r.closedAt];
		for (const s of steps) expect(s).toBeInstanceOf(Date);
		const times = steps.map((s) => s!.getTime());
		expect([...times].sort((a, b) => a - b)).toEqual(times);
		expect(r.rejectedAt).toBeNull();
		expect(r.withdrawnAt).toBeNull();
		expect(r.approverId).toBe(people.rita.userId);
		return id;
	}

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		w = await productionWorld(t.database);
		metrics = createMetrics();
		ctx = { database: t.database, metrics };
		passwordHash = await hashPassword(PASSWORD);
		await addPerson('quinn', 'quality-engineer');
		await addPerson('rita', 'qa-reviewer');
		await addPerson('quentin', 'quality-engineer');
		await addPerson('larry', 'shift-lead');
		// An open lot on the line, for the impact analysis.
		await t.database.db
			.insert(lot)
			.values({ code: 'LOT-OPEN-1', productId: w.productId, lineId: w.lineId, plannedQty: 100 });
	}, 120_000);
	afterAll(async () => {
		await t?.dispose();
	});

	describe('full path of each kind', () => {
		it('control limits: a new effective limit version the workers receive', async () => {
			const id = await fullPath({
				kind: 'control-limit',
				title: 'Re-centre barrel temperature',
				justification: 'Process re-centred after the heater band replacement.',
				characteristicId: w.tempId,
				proposal: { centre: 201.5, sigma: 1.25, source: 'baseline lots 2611-2614' }
			});
			const r = await row(id);
			expect(r.resultLimitVersionId).not.toBeNull();
			const config = await loadIngestConfig(t.database);
			const temp = config.characteristics.find((c) => c.id === w.tempId)!;
			expect(temp.limits).toMatchObject({ version: 2, centre: 201.5, sigma: 1.25 });
			// The impact analysis was listed when the request entered it.
			const detail = await loadChange(t.database, people.quinn, id);
			expect(detail!.impact!.products.map((p) => p.code)).toEqual(['PN-100']);
			expect(detail!.impact!.characteristics.map((c) => c.id)).toEqual([w.tempId]);
			expect(detail!.impact!.openLots.map((l) => l.code)).toContain('LOT-OPEN-1');
			expect(detail!.signatures.map((s) => [s.meaning, s.signerUserId, s.valid])).toEqual([
				['authored', people.quinn.userId, true],
				['approved', people.rita.userId, true]
			]);
		});

		it('spec limits: a new process version with the changed spec, the others copied', async () => {
			const id = await fullPath({
				kind: 'spec-limit',
				title: 'Tighten barrel temperature spec',
				justification: 'Customer drawing revision C tightens the window.',
				characteristicId: w.tempId,
				productId: w.productId,
				proposal: { lsl: 192, target: 200, usl: 208 }
			});
			const r = await row(id);
			const pv = await t.database.transaction((tx) =>
				effectiveProcessVersion(tx, w.productId, new Date())
			);
			expect(pv).toEqual({ id: r.resultProcessVersionId, version: 2 });
			const specs = await t.database.db
				.select()
				.from(processSpec)
				.where(eq(processSpec.processVersionId, pv!.id));
			expect(specs).toEqual([
				{ processVersionId: pv!.id, characteristicId: w.tempId, lsl: 192, target: 200, usl: 208 }
			]);
		});

		it('process version: a new version with several specs and its description', async () => {
			const other = await characteristicId(t.database, 'L1.M1.PRESS');
			const id = await fullPath({
				kind: 'process-version',
				title: 'Process version for the new resin grade',
				justification: 'Resin grade B replaces grade A from the next lot.',
				productId: w.productId,
				proposal: {
					description: 'Resin grade B',
					specs: [{ characteristicId: other, lsl: 1010, target: 1100, usl: 1190 }]
				}
			});
			const [pv] = await t.database.db
				.select()
				.from(processVersion)
				.where(eq(processVersion.id, (await row(id)).resultProcessVersionId!));
			expect(pv).toMatchObject({ version: 3, status: 'effective', approvedBy: people.rita.userId });
			expect(pv.description).toContain('Resin grade B');
			const specs = await t.database.db
				.select({ c: processSpec.characteristicId, usl: processSpec.usl })
				.from(processSpec)
				.where(eq(processSpec.processVersionId, pv.id));
			expect(specs.sort((a, b) => a.c - b.c)).toEqual(
				[
					{ c: w.tempId, usl: 208 },
					{ c: other, usl: 1190 }
				].sort((a, b) => a.c - b.c)
			);
		});

		it('rule set: a configuration version applied to the characteristic', async () => {
			const id = await fullPath({
				kind: 'rule-set',
				title: 'Western Electric rules for barrel temperature',
				justification: 'Nelson rules raise too many false alarms on this slow process.',
				characteristicId: w.tempId,
				proposal: { rules: 'western-electric' }
			});
			// Implemented with an effective date of now: the sweep applies it at once.
			expect(await applyDueConfigVersions(t.database)).toBe(1);
			const [c] = await t.database.db
				.select({ rules: characteristic.rules })
				.from(characteristic)
				.where(eq(characteristic.id, w.tempId));
			expect(c.rules).toBe('western-electric');
			const [v] = await t.database.db
				.select()
				.from(characteristicConfigVersion)
				.where(eq(characteristicConfigVersion.changeRequestId, id));
			expect(v.appliedAt).toBeInstanceOf(Date);
			const config = await loadIngestConfig(t.database);
			expect(config.characteristics.find((x) => x.id === w.tempId)!.rules).toBe('western-electric');
		});

		it('sampling plan: subgroup size and interval applied to the characteristic', async () => {
			await fullPath({
				kind: 'sampling-plan',
				title: 'Sample barrel temperature every 2 s',
				justification: 'Faster sampling to catch heater drift earlier.',
				characteristicId: w.tempId,
				proposal: { subgroupSize: 1, samplingIntervalMs: 2_000 }
			});
			expect(await applyDueConfigVersions(t.database)).toBe(1);
			const [c] = await t.database.db
				.select({ n: characteristic.subgroupSize, ms: characteristic.samplingIntervalMs })
				.from(characteristic)
				.where(eq(characteristic.id, w.tempId));
			expect(c).toEqual({ n: 1, ms: 2_000 });
		});
	});

	describe('effective dates', () => {
		it('creates the version at implementation but makes it active only from its effective date', async () => {
			const at = new Date(Date.now() + 2_500);
			const id = await toApproved(
				{
					kind: 'control-limit',
					title: 'Limits from next shift',
					justification: 'New baseline to apply from the start of the next shift.',
					characteristicId: w.tempId,
					proposal: { centre: 203, sigma: 1.1, source: 'baseline lots 2615-2620' }
				},
				at
			);
			expect((await row(id)).effectiveFrom!.getTime()).toBe(at.getTime());
			const implemented = await moveChange(ctx, people.quinn, { id, event: 'implement' });
			expect(implemented.effectiveNow).toBe(false);
			const before = await loadIngestConfig(t.database);
			expect(before.characteristics.find((c) => c.id === w.tempId)!.limits!.centre).toBe(201.5);
			await new Promise((resolve) => setTimeout(resolve, at.getTime() - Date.now() + 200));
			const after = await loadIngestConfig(t.database);
			expect(after.characteristics.find((c) => c.id === w.tempId)!.limits).toMatchObject({
				version: 3,
				centre: 203
			});
		});

		it('re-checks the whole configuration every few sweeps, publishing only a change', async () => {
			const calls: ({ onlyIfChanged?: boolean } | undefined)[] = [];
			const upkeep = startChangeUpkeep({
				database: t.database,
				hub: {
					publishConfig: (options) => {
						calls.push(options);
						return Promise.resolve();
					}
				},
				log: createLog({ level: 'silent' }),
				everyMs: 20,
				recheckEvery: 3
			});
			await upkeep.ready;
			// Sweeps 3 and 6 re-check quietly (the first sweep at start never does).
			await expect
				.poll(() => calls.filter((c) => c?.onlyIfChanged === true).length, { timeout: 5_000 })
				.toBeGreaterThanOrEqual(2);
			await upkeep.stop();
		});

		it('applies a configuration version only once its date has come', async () => {
			const at = new Date(Date.now() + 2_000);
			const id = await toApproved(
				{
					kind: 'rule-set',
					title: 'Back to Nelson rules tomorrow',
					justification: 'Heater drift is fixed; the full rule set applies again.',
					characteristicId: w.tempId,
					proposal: { rules: 'nelson-all' }
				},
				at
			);
			await moveChange(ctx, people.rita, { id, event: 'implement' });
			expect(await applyDueConfigVersions(t.database)).toBe(0);
			await new Promise((resolve) => setTimeout(resolve, at.getTime() - Date.now() + 200));
			expect(await applyDueConfigVersions(t.database)).toBe(1);
			const [c] = await t.database.db
				.select({ rules: characteristic.rules })
				.from(characteristic)
				.where(eq(characteristic.id, w.tempId));
			expect(c.rules).toBe('nelson-all');
		});

		it('refuses an effective date in the past', async () => {
			const { id } = await createChange(ctx, people.quinn, {
				kind: 'rule-set',
				title: 'Backdated rules',
				justification: 'Trying to backdate a rule change.',
				characteristicId: w.tempId,
				proposal: { rules: 'aiag' }
			});
			await moveChange(ctx, people.quinn, { id, event: 'submit' });
			await moveChange(ctx, people.quinn, { id, event: 'to-review' });
			await signAuthored(
				ctx,
				people.quinn,
				{ id, expectedRevision: 1, ...credentials('quinn') },
				LOCKOUT
			);
			const e = await refusal(
				approveChange(
					ctx,
					people.rita,
					{
						id,
						expectedRevision: 1,
						effectiveFrom: new Date(Date.now() - 3_600_000),
						...credentials('rita')
					},
					LOCKOUT
				)
			);
			expect(e.code).toBe('effective-in-past');
			expect((await row(id)).status).toBe('review');
		});
	});

	describe('rejected and withdrawn', () => {
		it('rejects a request in review with the reason and the time', async () => {
			const { id } = await createChange(ctx, people.quinn, {
				kind: 'control-limit',
				title: 'Widen limits',
				justification: 'Too many alarms on the night shift.',
				characteristicId: w.tempId,
				proposal: { centre: 200, sigma: 3, source: 'guess' }
			});
			await moveChange(ctx, people.quinn, { id, event: 'submit' });
			await moveChange(ctx, people.quinn, { id, event: 'to-review' });
			expect(await refusal(moveChange(ctx, people.rita, { id, event: 'reject' }))).toMatchObject({
				code: 'invalid',
				field: 'reason'
			});
			await moveChange(ctx, people.rita, {
				id,
				event: 'reject',
				reason: 'Widening limits hides the special causes.'
			});
			const r = await row(id);
			expect(r.status).toBe('rejected');
			expect(r.rejectedAt).toBeInstanceOf(Date);
			expect(r.decisionReason).toBe('Widening limits hides the special causes.');
			expect(r.approvedAt).toBeNull();
		});

		it('lets the author withdraw before approval, nobody else', async () => {
			const { id } = await createChange(ctx, people.quinn, {
				kind: 'sampling-plan',
				title: 'Slower sampling',
				justification: 'Reduce the data volume of this line.',
				characteristicId: w.tempId,
				proposal: { subgroupSize: 1, samplingIntervalMs: 10_000 }
			});
			await moveChange(ctx, people.quinn, { id, event: 'submit' });
			const e = await refusal(
				moveChange(ctx, people.quentin, { id, event: 'withdraw', reason: 'not mine' })
			);
			expect(e.code).toBe('not-author');
			await moveChange(ctx, people.quinn, {
				id,
				event: 'withdraw',
				reason: 'Data volume is fine.'
			});
			const r = await row(id);
			expect(r.status).toBe('withdrawn');
			expect(r.withdrawnAt).toBeInstanceOf(Date);
			expect(r.impactAt).toBeInstanceOf(Date);
			expect((await refusalEvents(id)).map((x) => [x.actor_label, x.new_values])).toEqual([
				[people.quentin.username, { attempt: 'withdraw', refused: 'not-author' }]
			]);
		});
	});

	describe('refusals', () => {
		it('refuses illegal transitions with a clear message, audits and counts them', async () => {
			const { id } = await createChange(ctx, people.quinn, {
				kind: 'rule-set',
				title: 'Beyond-limits only',
				justification: 'Trial of the simplest rule set.',
				characteristicId: w.tempId,
				proposal: { rules: 'beyond-limits' }
			});
			const countBefore = await refusedCount('change-implement', 'illegal-transition');
			const e = await refusal(moveChange(ctx, people.rita, { id, event: 'implement' }));
			expect(e.code).toBe('illegal-transition');
			expect(e.message).toBe(
				'This change request is a draft: it cannot be implemented (from here it can only be submitted for impact analysis, withdrawn).'
			);
			const closeRefusal = await refusal(moveChange(ctx, people.quinn, { id, event: 'close' }));
			expect(closeRefusal.code).toBe('illegal-transition');
			expect(await refusedCount('change-implement', 'illegal-transition')).toBe(countBefore + 1);
			expect((await refusalEvents(id)).map((x) => x.new_values)).toEqual([
				{ attempt: 'implement', refused: 'illegal-transition' },
				{ attempt: 'close', refused: 'illegal-transition' }
			]);
			expect((await row(id)).status).toBe('draft');
			// A person without change rights cannot even open one.
			expect(
				(
					await refusal(
						createChange(ctx, people.larry, {
							kind: 'rule-set',
							title: 'Lead tries',
							justification: 'A shift lead cannot author changes.',
							characteristicId: w.tempId,
							proposal: { rules: 'aiag' }
						})
					)
				).code
			).toBe('forbidden');
		});

		it('never lets the same person author and approve', async () => {
			const { id } = await createChange(ctx, people.quinn, {
				kind: 'control-limit',
				title: 'Self-approval attempt',
				justification: 'Checking the four-eyes principle.',
				characteristicId: w.tempId,
				proposal: { centre: 200.5, sigma: 1.3, source: 'baseline' }
			});
			await moveChange(ctx, people.quinn, { id, event: 'submit' });
			await moveChange(ctx, people.quinn, { id, event: 'to-review' });
			await signAuthored(
				ctx,
				people.quinn,
				{ id, expectedRevision: 1, ...credentials('quinn') },
				LOCKOUT
			);
			const self = await refusal(
				approveChange(
					ctx,
					people.quinn,
					{ id, expectedRevision: 1, effectiveFrom: new Date(), ...credentials('quinn') },
					LOCKOUT
				)
			);
			expect(self.code).toBe('author-cannot-approve');
			// Another quality engineer cannot sign as its author either.
			const notAuthor = await refusal(
				signAuthored(
					ctx,
					people.quentin,
					{ id, expectedRevision: 1, ...credentials('quentin') },
					LOCKOUT
				)
			);
			expect(notAuthor.code).toBe('not-author');
			expect((await row(id)).status).toBe('review');
			expect((await refusalEvents(id)).map((x) => x.new_values.refused)).toEqual([
				'author-cannot-approve',
				'not-author'
			]);
		});

		it('needs the author’s signature before approval, and a wrong password signs nothing', async () => {
			const { id } = await createChange(ctx, people.quinn, {
				kind: 'control-limit',
				title: 'Unsigned approval attempt',
				justification: 'The author forgot to sign.',
				characteristicId: w.tempId,
				proposal: { centre: 200.2, sigma: 1.3, source: 'baseline' }
			});
			await moveChange(ctx, people.quinn, { id, event: 'submit' });
			await moveChange(ctx, people.quinn, { id, event: 'to-review' });
			const unsigned = await refusal(
				approveChange(
					ctx,
					people.rita,
					{ id, expectedRevision: 1, effectiveFrom: new Date(), ...credentials('rita') },
					LOCKOUT
				)
			);
			expect(unsigned.code).toBe('not-signed');
			const wrong = await refusal(
				signAuthored(
					ctx,
					people.quinn,
					{ id, expectedRevision: 1, username: null, password: 'wrong password here' },
					LOCKOUT
				)
			);
			expect(wrong).toMatchObject({ code: 'signature', signatureCode: 'bad-credentials' });
			expect((await row(id)).status).toBe('review');
		});

		it('raises the revision on a draft edit, so the earlier signature lapses', async () => {
			const { id } = await createChange(ctx, people.quinn, {
				kind: 'control-limit',
				title: 'Edited after signing',
				justification: 'The author signs and then edits.',
				characteristicId: w.tempId,
				proposal: { centre: 200.1, sigma: 1.3, source: 'baseline' }
			});
			await signAuthored(
				ctx,
				people.quinn,
				{ id, expectedRevision: 1, ...credentials('quinn') },
				LOCKOUT
			);
			const stale = await refusal(
				editChange(ctx, people.quinn, {
					id,
					expectedRevision: 7,
					title: 'Edited after signing',
					justification: 'The author signs and then edits.',
					proposal: { centre: 200.3, sigma: 1.3, source: 'baseline' }
				})
			);
			expect(stale.code).toBe('stale');
			const edited = await editChange(ctx, people.quinn, {
				id,
				expectedRevision: 1,
				title: 'Edited after signing',
				justification: 'The author signs and then edits.',
				proposal: { centre: 200.3, sigma: 1.3, source: 'baseline' }
			});
			expect(edited.revision).toBe(2);
			const detail = await loadChange(t.database, people.quinn, id);
			expect(detail!.signatures).toMatchObject([
				{ meaning: 'authored', valid: false, invalidReason: 'superseded', currentVersion: 2 }
			]);
			expect(detail!.canSignAuthored).toBe(true);
			// Only drafts can be edited.
			await moveChange(ctx, people.quinn, { id, event: 'submit' });
			const late = await refusal(
				editChange(ctx, people.quinn, {
					id,
					expectedRevision: 2,
					title: 'Edited in impact',
					justification: 'The author signs and then edits.',
					proposal: { centre: 200.3, sigma: 1.3, source: 'baseline' }
				})
			);
			expect(late.code).toBe('illegal-transition');
		});
	});
});
