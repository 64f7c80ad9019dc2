import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '$lib/auth/roles';
import { SYSTEM_ACTOR, type Actor } from '$lib/server/audit/append';
import { hashPassword } from '$lib/server/auth/passwords';
import type { Principal } from '$lib/server/auth/policy';
import {
	createSession,
	DEFAULT_SESSION_SETTINGS,
	endSession,
	validateSessionToken
} from '$lib/server/auth/sessions';
import { createUser } from '$lib/server/auth/users';
import { seedDemoPlant, loadIngestConfig } from '$lib/server/plant/service';
import { contentSha256 } from '$lib/server/records/canonical';
import {
	createDraftLimitVersion,
	editDraftLimitVersion,
	LIMIT_VERSION_RECORD,
	listLimitVersions
} from '$lib/server/records/limit-versions';
import {
	acknowledgeEsignPolicy,
	listSignatures,
	loadSignable,
	requireDualSignature,
	SignatureError,
	signingStatus,
	signRecord,
	type SignatureErrorCode,
	type SignInput
} from '$lib/server/records/signatures';
import {
	BACKENDS,
	characteristicId,
	openTestDatabase,
	smallPlant,
	type TestDatabase
} from '../factories/db';

const PASSWORD = 'correct horse battery staple';
const LOCKOUT = 3;

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

async function refusedWith(promise: Promise<unknown>): Promise<SignatureErrorCode> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof SignatureError) return error.code;
		throw error;
	}
	throw new Error('the signature was not refused');
}

/** Drizzle wraps driver errors ("Failed query: …"); the database's own message is the cause. */
async function databaseRefusal(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		const cause = (error as { cause?: { message?: string } }).cause;
		return cause?.message ?? (error as Error).message;
	}
	throw new Error('the statement was not refused');
}

describe.each(BACKENDS)('electronic signatures on %s', (backend) => {
	let t: TestDatabase;
	let passwordHash: string;
	let charId: number;
	const ids: Record<string, number> = {};

	async function addUser(username: string, role: Role, canSign: boolean): Promise<void> {
		ids[username] = await t.database.transaction((tx) =>
			createUser(tx, SYSTEM_ACTOR, {
				username,
				fullName: `${username[0].toUpperCase()}${username.slice(1)} Person`,
				canSign,
				grants: [{ role }]
			})
		);
		await t.database.query('UPDATE app_user SET password_hash = $1 WHERE id = $2', [
			passwordHash,
			ids[username]
		]);
	}

	/** A fresh signed-in session of `username`: what hooks.server.ts puts in locals. */
	async function signIn(username: string): Promise<UserPrincipal> {
		const { token } = await createSession(t.database, ids[username], DEFAULT_SESSION_SETTINGS);
		const valid = await validateSessionToken(t.database, token, DEFAULT_SESSION_SETTINGS);
		if (!valid) throw new Error('session did not validate');
		return valid.principal;
	}

	function actorOf(p: UserPrincipal): Actor {
		return { userId: p.userId, label: p.username };
	}

	function sign(input: Omit<SignInput, 'recordType'> & { recordType?: string }) {
		return signRecord(
			t.database,
			{ recordType: LIMIT_VERSION_RECORD, ...input },
			{ lockoutThreshold: LOCKOUT }
		);
	}

	async function newDraft(by: UserPrincipal, centre: number): Promise<string> {
		const draft = await createDraftLimitVersion(t.database, actorOf(by), {
			characteristicId: charId,
			centre,
			sigma: 1.4,
			source: 'baseline 2026-W46',
			justification: 'Process re-centred after the mould change.'
		});
		return String(draft.id);
	}

	async function seededVersionId(): Promise<string> {
		const versions = await listLimitVersions(t.database, charId);
		return String(versions.find((v) => v.version === 1)!.id);
	}

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		charId = await characteristicId(t.database, 'L1.M1.TEMP');
		passwordHash = await hashPassword(PASSWORD);
		await addUser('quinn', 'quality-engineer', true);
		await addUser('rita', 'qa-reviewer', true);
		await addUser('olga', 'operator', false);
		await addUser('nosign', 'quality-engineer', false);
		await addUser('locky', 'quality-engineer', true);
		for (const u of ['quinn', 'rita', 'locky']) {
			const p = await signIn(u);
			await acknowledgeEsignPolicy(t.database, p);
		}
	}, 120_000);
	afterAll(async () => {
		await t?.dispose();
	});

	describe('who may sign', () => {
		it('refuses a user who has not acknowledged the e-signature policy, then accepts after', async () => {
			await addUser('newbie', 'quality-engineer', true);
			const p = await signIn('newbie');
			const recordId = await seededVersionId();
			expect(
				await refusedWith(
					sign({
						principal: p,
						recordId,
						meaning: 'reviewed',
						username: 'newbie',
						password: PASSWORD
					})
				)
			).toBe('policy-not-acknowledged');
			expect((await signingStatus(t.database, p)).policyAcknowledgedAt).toBeNull();

			const ackAt = await acknowledgeEsignPolicy(t.database, p);
			// Once: a second acknowledgement keeps the first time and writes no second event.
			expect((await acknowledgeEsignPolicy(t.database, p)).getTime()).toBe(ackAt.getTime());
			const events = await t.database.query<{ reason: string }>(
				`SELECT reason FROM audit_event WHERE entity_type = 'user' AND entity_id = $1
					AND action = 'update'`,
				[String(ids.newbie)]
			);
			expect(events).toEqual([{ reason: 'acknowledged the electronic-signature policy' }]);
			const signed = await sign({
				principal: p,
				recordId,
				meaning: 'reviewed',
				username: 'newbie',
				password: PASSWORD
			});
			expect(signed.signerUsername).toBe('newbie');
		});

		it('refuses a user without the signing right or without a signing role', async () => {
			const recordId = await seededVersionId();
			for (const username of ['nosign', 'olga']) {
				const p = await signIn(username);
				await acknowledgeEsignPolicy(t.database, p);
				expect(
					await refusedWith(
						sign({ principal: p, recordId, meaning: 'reviewed', username, password: PASSWORD })
					)
				).toBe('not-permitted');
			}
		});

		it('refuses a meaning the record does not take in its state', async () => {
			const p = await signIn('quinn');
			expect(
				await refusedWith(
					sign({
						principal: p,
						recordId: await seededVersionId(),
						meaning: 'approved',
						username: 'quinn',
						password: PASSWORD
					})
				)
			).toBe('meaning-not-allowed');
		});
	});

	describe('re-authentication', () => {
		it('asks user ID and password at the first signing, the password only afterwards', async () => {
			const p = await signIn('quinn');
			const effective = await seededVersionId();
			const draft = await newDraft(p, 201);
			expect((await signingStatus(t.database, p)).needsUsername).toBe(true);
			expect(
				await refusedWith(
					sign({ principal: p, recordId: draft, meaning: 'authored', password: PASSWORD })
				)
			).toBe('username-required');

			const first = await sign({
				principal: p,
				recordId: draft,
				meaning: 'authored',
				username: 'Quinn',
				password: PASSWORD
			});
			expect(first.recordVersion).toBe(1);
			expect((await signingStatus(t.database, p)).needsUsername).toBe(false);
			const [sess] = await t.database.query<{ signed: boolean }>(
				'SELECT signed_at IS NOT NULL AS signed FROM session WHERE id = $1',
				[p.sessionId]
			);
			expect(sess.signed).toBe(true);

			const second = await sign({
				principal: p,
				recordId: effective,
				meaning: 'verified',
				password: PASSWORD
			});
			expect(second.meaning).toBe('verified');

			// A new session (after logout, idle or absolute timeout) asks for both again.
			await endSession(t.database, p.sessionId, 'idle-timeout');
			expect(
				await refusedWith(
					sign({ principal: p, recordId: effective, meaning: 'reviewed', password: PASSWORD })
				)
			).toBe('session-ended');
			const again = await signIn('quinn');
			expect((await signingStatus(t.database, again)).needsUsername).toBe(true);
			expect(
				await refusedWith(
					sign({ principal: again, recordId: effective, meaning: 'reviewed', password: PASSWORD })
				)
			).toBe('username-required');
			const third = await sign({
				principal: again,
				recordId: effective,
				meaning: 'reviewed',
				username: 'quinn',
				password: PASSWORD
			});
			expect(third.signerFullName).toBe('Quinn Person');
		});

		it('after an idle timeout the session is over: a new one asks for both again', async () => {
			const { token } = await createSession(t.database, ids.rita, DEFAULT_SESSION_SETTINGS);
			const valid = await validateSessionToken(t.database, token, DEFAULT_SESSION_SETTINGS);
			const p = valid!.principal;
			const recordId = await seededVersionId();
			await sign({
				principal: p,
				recordId,
				meaning: 'verified',
				username: 'rita',
				password: PASSWORD
			});
			expect((await signingStatus(t.database, p)).needsUsername).toBe(false);
			const later = new Date(Date.now() + DEFAULT_SESSION_SETTINGS.idleMs + 1000);
			expect(
				await validateSessionToken(t.database, token, DEFAULT_SESSION_SETTINGS, later)
			).toBeNull();
			expect(
				await refusedWith(sign({ principal: p, recordId, meaning: 'reviewed', password: PASSWORD }))
			).toBe('session-ended');
			const next = await signIn('rita');
			expect((await signingStatus(t.database, next)).needsUsername).toBe(true);
			expect(
				await refusedWith(
					sign({ principal: next, recordId, meaning: 'reviewed', password: PASSWORD })
				)
			).toBe('username-required');
		});

		it('stores the full manifestation: printed name, user, meaning, time, version, content hash, session', async () => {
			const p = await signIn('rita');
			const recordId = await seededVersionId();
			const before = Date.now();
			const signed = await sign({
				principal: p,
				recordId,
				meaning: 'reviewed',
				username: 'rita',
				password: PASSWORD,
				reason: 'periodic review'
			});
			const [row] = await t.database.query<Record<string, unknown>>(
				`SELECT record_type, record_id, record_version, content_sha256, signer_user_id,
					signer_full_name, signer_username, meaning, session_id,
					extract(epoch FROM signed_at)::float8 * 1000 AS signed_ms
				 FROM signature WHERE id = $1`,
				[signed.id]
			);
			const record = await loadSignable(t.database, LIMIT_VERSION_RECORD, recordId);
			expect(row).toMatchObject({
				record_type: LIMIT_VERSION_RECORD,
				record_id: recordId,
				record_version: 1,
				content_sha256: contentSha256(record!.content),
				signer_user_id: ids.rita,
				signer_full_name: 'Rita Person',
				signer_username: 'rita',
				meaning: 'reviewed',
				session_id: p.sessionId
			});
			expect(row.content_sha256).toMatch(/^[0-9a-f]{64}$/);
			expect(Number(row.signed_ms)).toBeGreaterThan(before - 60_000);
			const [event] = await t.database.query<{
				action: string;
				reason: string;
				new_values: Record<string, unknown>;
			}>(
				`SELECT action, reason, new_values FROM audit_event
				 WHERE entity_type = $1 AND entity_id = $2 AND action = 'sign' ORDER BY id DESC LIMIT 1`,
				[LIMIT_VERSION_RECORD, recordId]
			);
			expect(event).toMatchObject({
				action: 'sign',
				reason: 'periodic review',
				new_values: {
					signatureId: signed.id,
					meaning: 'reviewed',
					reauthentication: 'user ID and password'
				}
			});
		});

		it('refuses and counts a wrong password or user ID, and locks at the threshold with an alert', async () => {
			const p = await signIn('locky');
			const recordId = await seededVersionId();
			const failures = async () =>
				(
					await t.database.query<{ failed_logins: number; locked: boolean }>(
						'SELECT failed_logins, locked_at IS NOT NULL AS locked FROM app_user WHERE id = $1',
						[ids.locky]
					)
				)[0];
			expect(
				await refusedWith(
					sign({
						principal: p,
						recordId,
						meaning: 'reviewed',
						username: 'locky',
						password: 'wrong password!'
					})
				)
			).toBe('bad-credentials');
			expect(await failures()).toEqual({ failed_logins: 1, locked: false });
			// Someone else's user ID with the right password is a failure too.
			expect(
				await refusedWith(
					sign({
						principal: p,
						recordId,
						meaning: 'reviewed',
						username: 'quinn',
						password: PASSWORD
					})
				)
			).toBe('bad-credentials');
			expect(await failures()).toEqual({ failed_logins: 2, locked: false });
			expect(
				await refusedWith(
					sign({
						principal: p,
						recordId,
						meaning: 'reviewed',
						username: 'locky',
						password: 'wrong again!!'
					})
				)
			).toBe('locked');
			expect(await failures()).toEqual({ failed_logins: 3, locked: true });
			const alerts = await t.database.query<{ kind: string }>(
				'SELECT kind FROM security_alert WHERE user_id = $1',
				[ids.locky]
			);
			expect(alerts).toEqual([{ kind: 'account-locked' }]);
			const events = await t.database.query<{ action: string }>(
				`SELECT action FROM audit_event WHERE entity_type = 'user' AND entity_id = $1
					AND action IN ('login-failed', 'lockout') ORDER BY id`,
				[String(ids.locky)]
			);
			expect(events.map((e) => e.action)).toEqual([
				'login-failed',
				'login-failed',
				'login-failed',
				'lockout'
			]);
			// Locked: even the right credentials are refused now.
			expect(
				await refusedWith(
					sign({
						principal: p,
						recordId,
						meaning: 'reviewed',
						username: 'locky',
						password: PASSWORD
					})
				)
			).toBe('locked');
			expect(await listSignatures(t.database, LIMIT_VERSION_RECORD, recordId)).not.toContainEqual(
				expect.objectContaining({ signerUsername: 'locky' })
			);
		});
	});

	describe('signed records', () => {
		it('shows a signature of version N as not valid once an edit makes version N+1', async () => {
			const author = await signIn('quinn');
			// A draft from an earlier test may be open: edits and approvals go to a new characteristic.
			charId = await characteristicId(t.database, 'L1.M1.PRESS');
			const draftId = await newDraft(author, 1104);
			await sign({
				principal: author,
				recordId: draftId,
				meaning: 'authored',
				username: 'quinn',
				password: PASSWORD
			});
			let [sig] = await listSignatures(t.database, LIMIT_VERSION_RECORD, draftId);
			expect(sig).toMatchObject({ recordVersion: 1, valid: true, currentVersion: 1 });

			await expect(
				editDraftLimitVersion(t.database, actorOf(author), {
					id: Number(draftId),
					expectedRevision: 1,
					reason: '',
					centre: 1106,
					sigma: 1.4,
					source: 'baseline 2026-W46',
					justification: 'Process re-centred after the mould change.'
				})
			).rejects.toMatchObject({ code: 'invalid', field: 'reason' });
			const edited = await editDraftLimitVersion(t.database, actorOf(author), {
				id: Number(draftId),
				expectedRevision: 1,
				reason: 'typo in the centre',
				centre: 1106,
				sigma: 1.4,
				source: 'baseline 2026-W46',
				justification: 'Process re-centred after the mould change.'
			});
			expect(edited.revision).toBe(2);
			// A signer who was shown revision 1 cannot sign revision 2 by accident.
			expect(
				await refusedWith(
					sign({
						principal: author,
						recordId: draftId,
						meaning: 'reviewed',
						password: PASSWORD,
						expectedVersion: 1
					})
				)
			).toBe('version-changed');
			[sig] = await listSignatures(t.database, LIMIT_VERSION_RECORD, draftId);
			expect(sig).toMatchObject({
				recordVersion: 1,
				valid: false,
				invalidReason: 'superseded',
				currentVersion: 2
			});
			const [event] = await t.database.query<{
				old_values: unknown;
				new_values: unknown;
				reason: string;
			}>(
				`SELECT old_values, new_values, reason FROM audit_event
				 WHERE entity_type = $1 AND entity_id = $2 AND action = 'update'`,
				[LIMIT_VERSION_RECORD, draftId]
			);
			expect(event).toEqual({
				old_values: { centre: 1104, revision: 1 },
				new_values: { centre: 1106, revision: 2 },
				reason: 'typo in the centre'
			});
			// An edit based on the old revision is refused instead of overwriting the newer one.
			await expect(
				editDraftLimitVersion(t.database, actorOf(author), {
					id: Number(draftId),
					expectedRevision: 1,
					reason: 'late edit',
					centre: 1107,
					sigma: 1.4,
					source: 'baseline 2026-W46',
					justification: 'Process re-centred after the mould change.'
				})
			).rejects.toMatchObject({ code: 'stale' });
		});

		it('makes limits effective only with authored and approved by two different people', async () => {
			const author = await signIn('quinn');
			const approver = await signIn('rita');
			const [draft] = (await listLimitVersions(t.database, charId)).filter(
				(v) => v.status === 'draft'
			);
			const draftId = String(draft.id);
			// The author's signature is of revision 1: approval of revision 2 needs a new one.
			expect(
				await refusedWith(
					sign({
						principal: approver,
						recordId: draftId,
						meaning: 'approved',
						username: 'rita',
						password: PASSWORD
					})
				)
			).toBe('not-authored');
			await expect(
				requireDualSignature(t.database, LIMIT_VERSION_RECORD, draftId)
			).rejects.toMatchObject({
				code: 'not-authored'
			});
			await sign({
				principal: author,
				recordId: draftId,
				meaning: 'authored',
				username: 'quinn',
				password: PASSWORD
			});
			expect(
				await refusedWith(
					sign({ principal: author, recordId: draftId, meaning: 'approved', password: PASSWORD })
				)
			).toBe('author-cannot-approve');
			expect(
				(await listLimitVersions(t.database, charId)).find((v) => v.id === draft.id)?.status
			).toBe('draft');
			expect(
				(await loadIngestConfig(t.database)).characteristics.find((c) => c.id === charId)?.limits
			).toMatchObject({ version: 1 });

			const approval = await sign({
				principal: approver,
				recordId: draftId,
				meaning: 'approved',
				username: 'rita',
				password: PASSWORD
			});
			expect(approval.approvedRecord).toBe(true);
			const after = (await listLimitVersions(t.database, charId)).find((v) => v.id === draft.id);
			expect(after).toMatchObject({ status: 'effective', revision: 2, centre: 1106 });
			expect(
				(await loadIngestConfig(t.database)).characteristics.find((c) => c.id === charId)?.limits
			).toMatchObject({ version: 2, centre: 1106 });
			const dual = await requireDualSignature(t.database, LIMIT_VERSION_RECORD, draftId);
			expect(dual).toEqual({ authoredBy: [ids.quinn], approvedBy: [ids.rita] });
			// Approval did not change what was signed: both signatures stay valid.
			const valid = (await listSignatures(t.database, LIMIT_VERSION_RECORD, draftId)).filter(
				(s) => s.valid
			);
			expect(valid.map((s) => s.meaning).sort()).toEqual(['approved', 'authored']);

			// An effective version is frozen, in the service and in the database.
			await expect(
				editDraftLimitVersion(t.database, actorOf(author), {
					id: draft.id,
					expectedRevision: 2,
					reason: 'after approval',
					centre: 1200,
					sigma: 1.4,
					source: 'baseline 2026-W46',
					justification: 'Process re-centred after the mould change.'
				})
			).rejects.toMatchObject({ code: 'not-draft' });
			expect(
				await databaseRefusal(
					t.database.query('UPDATE control_limit_version SET centre = 0 WHERE id = $1', [draft.id])
				)
			).toMatch(/effective and cannot change/);
		});

		it('detects content changed behind the application (same version, different hash)', async () => {
			const p = await signIn('quinn');
			charId = await characteristicId(t.database, 'L1.M2.DIA');
			const draftId = await newDraft(p, 4.001);
			await sign({
				principal: p,
				recordId: draftId,
				meaning: 'authored',
				username: 'quinn',
				password: PASSWORD
			});
			await t.database.query('UPDATE control_limit_version SET centre = 4.002 WHERE id = $1', [
				Number(draftId)
			]);
			const [sig] = await listSignatures(t.database, LIMIT_VERSION_RECORD, draftId);
			expect(sig).toMatchObject({
				valid: false,
				invalidReason: 'content-changed',
				currentVersion: 1
			});
		});

		it('never lets a signature row change', async () => {
			expect(
				await databaseRefusal(t.database.query("UPDATE signature SET meaning = 'approved'"))
			).toMatch(/append-only/);
		});
	});
});
