/**
 * Electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.100, §11.200).
 *
 * - Who: a signed-in user holding `record:sign` (role plus the signing right an administrator
 *   grants), who has acknowledged the e-signature policy once (§11.100(c)).
 * - Re-authentication (§11.200(a)(1)): the first signing of a continuous session needs user ID
 *   and password; later signings in the same session the password only. `session.signed_at`
 *   marks the first signing; a new session (after logout or idle/absolute timeout) starts with
 *   it null, so both components are asked again. Failed attempts count towards the same lockout
 *   as failed logins and raise a security alert at the threshold (§11.300(d)).
 * - What is stored (§11.50, §11.70): record type, id and version, SHA-256 of the version's
 *   canonical content, signer id, printed full name and username as they were, meaning,
 *   database time, session. Rows are never changed (migration 0004 triggers); a later edit of
 *   the record shows as "not valid for the current version", never as a changed signature.
 * - Dual signature (change control): where the record asks for it, `approved` needs a valid
 *   `authored` signature of the same version by someone else; the approver can never be an
 *   author of that version. Enforced here, on the server.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { SIGNATURE_MEANINGS, type SignatureMeaning } from '$lib/auth/roles';
import { appendAudit, type Actor } from '../audit/append';
import type { AppDb, Database, TxContext } from '../db';
import type { RawQuery } from '../db/raw';
import { appUser, securityAlert, session, signature } from '../db/schema';
import { verifyPassword } from '../auth/passwords';
import { can, type Principal, type Scope } from '../auth/policy';
import { contentSha256 } from './canonical';
import { limitVersionSignable } from './limit-versions';
import { changeSignable } from '../change/signable';
import { lotSignable } from '../lots/signing';
import { deviationSignable } from '../production/deviations';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;
type Queryable = RawQuery & { db: AppDb };

/* ---------------------------------------------------------------------------------------- */
/* Signable records                                                                          */
/* ---------------------------------------------------------------------------------------- */

/** One version of a record as signatures see it. */
export interface SignableVersion {
	recordType: string;
	recordId: string;
	/** The record version signatures bind to (1, 2, … raised by every edit). */
	version: number;
	/** Exactly what is signed; hashed canonically. */
	content: Record<string, unknown>;
	/** One line for the dialog and the audit trail. */
	summary: string;
	/** Where the record sits: the signer must be allowed to view that line. */
	scope: Scope;
	/** Meanings this version can be signed with now. */
	meanings: readonly SignatureMeaning[];
	/** `approved` needs an `authored` signature of this version by a different person. */
	dualSignature: boolean;
	/**
	 * Signing this record IS a state change (lot release): refused unless the caller's service
	 * passes `transition` (SignInput), so a generic signing path cannot sign without the change.
	 */
	transitionRequired?: boolean;
}

export interface SignableAdapter {
	recordType: string;
	/** The current version; `lock` locks the record row for the rest of the transaction. */
	load(
		database: Queryable,
		recordId: string,
		options?: { lock?: boolean }
	): Promise<SignableVersion | null>;
	/** Called in the signing transaction when an `approved` signature completed the pair. */
	onApproved?(tx: TxContext, record: SignableVersion, actor: Actor): Promise<void>;
	/**
	 * Called in the signing transaction after any signature of this record is stored, so a
	 * record whose state changes by a signature (a deviation closed) changes with it or not at all.
	 */
	onSigned?(
		tx: TxContext,
		record: SignableVersion,
		signed: { meaning: SignatureMeaning; signerUserId: number; signedAt: Date },
		actor: Actor
	): Promise<void>;
}

/** The records that can be signed. Adding a record type: write its adapter, list it here. */
export const SIGNABLE_RECORD_TYPES = [
	'control-limit-version',
	'change-request',
	'deviation',
	'lot'
] as const;
export type SignableRecordType = (typeof SIGNABLE_RECORD_TYPES)[number];

function adapterOf(recordType: string): SignableAdapter | null {
	switch (recordType) {
		case 'control-limit-version':
			return limitVersionSignable;
		case 'change-request':
			return changeSignable;
		case 'deviation':
			return deviationSignable;
		case 'lot':
			return lotSignable;
		default:
			return null;
	}
}

/** The current version of a record, or null when the type or the record is unknown. */
export async function loadSignable(
	database: Queryable,
	recordType: string,
	recordId: string
): Promise<SignableVersion | null> {
	const adapter = adapterOf(recordType);
	return adapter ? adapter.load(database, recordId) : null;
}

/* ---------------------------------------------------------------------------------------- */
/* Errors                                                                                    */
/* ---------------------------------------------------------------------------------------- */

export type SignatureErrorCode =
	| 'not-permitted'
	| 'policy-not-acknowledged'
	| 'session-ended'
	| 'username-required'
	| 'password-required'
	| 'bad-credentials'
	| 'locked'
	| 'record-not-found'
	| 'version-changed'
	| 'meaning-not-allowed'
	| 'already-signed'
	| 'not-authored'
	| 'not-approved'
	| 'author-cannot-approve';

/** What the signer is told; credentials failures share one text (no hint which part failed). */
export const SIGNATURE_ERROR_TEXT: Record<SignatureErrorCode, string> = {
	'not-permitted': 'You do not have the right to sign this record.',
	'policy-not-acknowledged':
		'Read and acknowledge the electronic-signature policy before your first signature.',
	'session-ended': 'Your session has ended. Sign in again.',
	'username-required': 'First signature of this session: enter your user ID and password.',
	'password-required': 'Enter your password.',
	'bad-credentials': 'User ID or password is not correct.',
	locked: 'Your account is locked. An administrator must unlock it.',
	'record-not-found': 'This record no longer exists.',
	'version-changed':
		'The record changed after you opened it. Review the current version and sign again.',
	'meaning-not-allowed': 'This meaning cannot be signed for the record in its current state.',
	'already-signed': 'You have already signed this version with this meaning.',
	'not-authored': 'Approval needs a valid "authored" signature of this version first.',
	'not-approved': 'This version has no valid "approved" signature yet.',
	'author-cannot-approve': 'The author of this version cannot also approve it.'
};

export class SignatureError extends Error {
	constructor(readonly code: SignatureErrorCode) {
		super(SIGNATURE_ERROR_TEXT[code]);
		this.name = 'SignatureError';
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Policy and status                                                                         */
/* ---------------------------------------------------------------------------------------- */

/** Record the user's acknowledgement of the e-signature policy (once; audited). */
export async function acknowledgeEsignPolicy(
	database: Database,
	principal: UserPrincipal
): Promise<Date> {
	return database.transaction(async (tx) => {
		const [user] = await tx.db
			.select({ ackAt: appUser.esignPolicyAckAt })
			.from(appUser)
			.where(eq(appUser.id, principal.userId))
			.for('update');
		if (!user) throw new SignatureError('not-permitted');
		if (user.ackAt) return user.ackAt;
		const [row] = await tx.db
			.update(appUser)
			.set({ esignPolicyAckAt: sql`clock_timestamp()` })
			.where(eq(appUser.id, principal.userId))
			.returning({ ackAt: appUser.esignPolicyAckAt });
		const ackAt = row.ackAt as Date;
		await appendAudit(tx, {
			actor: { userId: principal.userId, label: principal.username },
			action: 'update',
			entityType: 'user',
			entityId: principal.userId,
			oldValues: { esignPolicyAckAt: null },
			newValues: { esignPolicyAckAt: ackAt.toISOString() },
			reason: 'acknowledged the electronic-signature policy'
		});
		return ackAt;
	});
}

export interface SigningStatus {
	/** Holds `record:sign` (role and signing right). */
	canSign: boolean;
	policyAcknowledgedAt: Date | null;
	/** First signing of this session: the dialog asks for the user ID too. */
	needsUsername: boolean;
}

/** What the sign dialog needs to know about the person in front of it, read fresh. */
export async function signingStatus(
	database: Queryable,
	principal: Principal
): Promise<SigningStatus> {
	if (principal.kind !== 'user') {
		return { canSign: false, policyAcknowledgedAt: null, needsUsername: true };
	}
	const [row] = await database.db
		.select({ ackAt: appUser.esignPolicyAckAt, signedAt: session.signedAt })
		.from(appUser)
		.leftJoin(session, eq(session.id, principal.sessionId))
		.where(eq(appUser.id, principal.userId));
	return {
		canSign: can(principal, 'record:sign'),
		policyAcknowledgedAt: row?.ackAt ?? null,
		needsUsername: row?.signedAt == null
	};
}

/* ---------------------------------------------------------------------------------------- */
/* Signing                                                                                   */
/* ---------------------------------------------------------------------------------------- */

export interface SignInput {
	principal: Principal;
	recordType: string;
	recordId: string;
	meaning: SignatureMeaning;
	/** Required at the first signing of the session; must be the session's user. */
	username?: string | null;
	password: string;
	/** Optional comment, kept in the audit trail. */
	reason?: string | null;
	/** The version the signer was shown; a different current version refuses the signing. */
	expectedVersion?: number;
	/**
	 * The state change this signature completes (lot release, lots/release.ts): run in the
	 * signing transaction once the record is locked and the version, scope and meaning checks
	 * passed; returns the version to sign, i.e. the record as it is after the change. Throwing
	 * refuses the change and the signature alike.
	 */
	transition?: (tx: TxContext, record: SignableVersion, actor: Actor) => Promise<SignableVersion>;
}

export interface SignOptions {
	/** Consecutive failures that lock the account (app.auth.lockoutThreshold). */
	lockoutThreshold: number;
}

export interface SignedSignature {
	id: number;
	recordType: string;
	recordId: string;
	recordVersion: number;
	contentSha256: string;
	signerFullName: string;
	signerUsername: string;
	meaning: SignatureMeaning;
	signedAt: Date;
	/** The record became effective through this signature (dual signature completed). */
	approvedRecord: boolean;
}

/**
 * Count a failed re-authentication like a failed login: one more consecutive failure; at the
 * threshold the account locks, administrators get a security alert, and both are audited.
 * Runs in its own transaction so it commits although the signing is refused.
 */
async function recordFailedReauthentication(
	database: Database,
	user: { id: number; username: string },
	threshold: number,
	context: Record<string, unknown>
): Promise<{ locked: boolean }> {
	return database.transaction(async (tx) => {
		const [row] = await tx.db
			.update(appUser)
			.set({ failedLogins: sql`${appUser.failedLogins} + 1` })
			.where(eq(appUser.id, user.id))
			.returning({ failedLogins: appUser.failedLogins, lockedAt: appUser.lockedAt });
		const actor: Actor = { userId: user.id, label: user.username };
		await appendAudit(tx, {
			actor,
			action: 'login-failed',
			entityType: 'user',
			entityId: user.id,
			newValues: { ...context, failedLogins: row.failedLogins }
		});
		if (row.lockedAt || row.failedLogins < threshold) return { locked: row.lockedAt !== null };
		await tx.db
			.update(appUser)
			.set({ lockedAt: sql`clock_timestamp()` })
			.where(eq(appUser.id, user.id));
		await tx.db.insert(securityAlert).values({
			kind: 'account-locked',
			userId: user.id,
			detail: `${user.username} locked after ${row.failedLogins} failed password entries (electronic signature)`
		});
		await appendAudit(tx, {
			actor,
			action: 'lockout',
			entityType: 'user',
			entityId: user.id,
			oldValues: { locked: false },
			newValues: { locked: true, failedLogins: row.failedLogins },
			reason: `${row.failedLogins} consecutive failed password entries (last at an electronic signature)`
		});
		return { locked: true };
	});
}

/**
 * Apply an electronic signature to the current version of a record. Throws SignatureError
 * (a closed set of codes) when refused; a wrong user ID or password is counted towards lockout.
 */
export async function signRecord(
	database: Database,
	input: SignInput,
	options: SignOptions
): Promise<SignedSignature> {
	const { principal } = input;
	if (principal.kind !== 'user') throw new SignatureError('not-permitted');
	if (!can(principal, 'record:sign')) throw new SignatureError('not-permitted');
	if (!(SIGNATURE_MEANINGS as readonly string[]).includes(input.meaning)) {
		throw new SignatureError('meaning-not-allowed');
	}
	const adapter = adapterOf(input.recordType);
	if (!adapter) throw new SignatureError('record-not-found');

	const [who] = await database.db
		.select({ u: appUser, s: session })
		.from(appUser)
		.leftJoin(session, eq(session.id, principal.sessionId))
		.where(eq(appUser.id, principal.userId));
	if (!who) throw new SignatureError('not-permitted');
	const { u: user, s: sess } = who;
	if (
		!sess ||
		sess.userId !== user.id ||
		sess.endedAt !== null ||
		sess.expiresAt.getTime() <= Date.now() ||
		sess.absoluteExpiresAt.getTime() <= Date.now()
	) {
		throw new SignatureError('session-ended');
	}
	if (user.disabledAt) throw new SignatureError('not-permitted');
	if (!user.canSign) throw new SignatureError('not-permitted');
	if (user.lockedAt) throw new SignatureError('locked');
	if (!user.esignPolicyAckAt) throw new SignatureError('policy-not-acknowledged');

	// Both components at the first signing of the session, the password alone afterwards.
	const firstInSession = sess.signedAt === null;
	const username = input.username?.trim().toLowerCase() ?? '';
	if (firstInSession && username === '') throw new SignatureError('username-required');
	if (input.password === '') throw new SignatureError('password-required');

	const usernameOk = !firstInSession || username === user.username;
	// Verify the password even when the user ID is wrong: same cost, same answer either way.
	const passwordOk =
		user.passwordHash !== null && (await verifyPassword(user.passwordHash, input.password));
	if (!usernameOk || !passwordOk) {
		const { locked } = await recordFailedReauthentication(
			database,
			{ id: user.id, username: user.username },
			options.lockoutThreshold,
			{
				context: 'electronic signature',
				recordType: input.recordType,
				recordId: input.recordId
			}
		);
		throw new SignatureError(locked ? 'locked' : 'bad-credentials');
	}

	return database.transaction(async (tx) => {
		const loaded = await adapter.load(tx, input.recordId, { lock: true });
		if (!loaded) throw new SignatureError('record-not-found');
		if (input.expectedVersion !== undefined && input.expectedVersion !== loaded.version) {
			throw new SignatureError('version-changed');
		}
		// The line the record sits on must be visible to the signer (line-scoped grants).
		if (!can(principal, 'characteristic:view', loaded.scope)) {
			throw new SignatureError('not-permitted');
		}
		if (!loaded.meanings.includes(input.meaning)) throw new SignatureError('meaning-not-allowed');
		if (loaded.transitionRequired && !input.transition) {
			throw new SignatureError('meaning-not-allowed');
		}
		const record = input.transition
			? await input.transition(tx, loaded, { userId: user.id, label: user.username })
			: loaded;
		const hash = contentSha256(record.content);
		const existing = await tx.db
			.select({
				signerUserId: signature.signerUserId,
				meaning: signature.meaning,
				contentSha256: signature.contentSha256
			})
			.from(signature)
			.where(
				and(
					eq(signature.recordType, record.recordType),
					eq(signature.recordId, record.recordId),
					eq(signature.recordVersion, record.version)
				)
			);
		const valid = existing.filter((e) => e.contentSha256 === hash);
		if (valid.some((e) => e.signerUserId === user.id && e.meaning === input.meaning)) {
			throw new SignatureError('already-signed');
		}
		const completesApproval = record.dualSignature && input.meaning === 'approved';
		if (completesApproval) {
			const authors = valid.filter((e) => e.meaning === 'authored').map((e) => e.signerUserId);
			if (authors.includes(user.id)) throw new SignatureError('author-cannot-approve');
			if (authors.length === 0) throw new SignatureError('not-authored');
		}
		if (record.dualSignature && input.meaning === 'authored') {
			// The other direction of the same rule: an approver of this version cannot author it.
			if (valid.some((e) => e.meaning === 'approved' && e.signerUserId === user.id)) {
				throw new SignatureError('author-cannot-approve');
			}
		}

		const [row] = await tx.db
			.insert(signature)
			.values({
				recordType: record.recordType,
				recordId: record.recordId,
				recordVersion: record.version,
				contentSha256: hash,
				signerUserId: user.id,
				signerFullName: user.fullName,
				signerUsername: user.username,
				meaning: input.meaning,
				signedAt: sql`clock_timestamp()`,
				sessionId: sess.id
			})
			.returning();
		if (firstInSession) {
			await tx.db
				.update(session)
				.set({ signedAt: row.signedAt })
				.where(and(eq(session.id, sess.id), isNull(session.signedAt)));
		}
		if (user.failedLogins > 0) {
			await tx.db.update(appUser).set({ failedLogins: 0 }).where(eq(appUser.id, user.id));
		}
		const actor: Actor = { userId: user.id, label: user.username };
		await appendAudit(tx, {
			actor,
			action: 'sign',
			entityType: record.recordType,
			entityId: record.recordId,
			newValues: {
				signatureId: row.id,
				recordVersion: record.version,
				contentSha256: hash,
				meaning: input.meaning,
				signerFullName: user.fullName,
				signedAt: row.signedAt.toISOString(),
				reauthentication: firstInSession ? 'user ID and password' : 'password'
			},
			reason: input.reason?.trim() || null
		});
		if (adapter.onSigned) {
			await adapter.onSigned(
				tx,
				record,
				{ meaning: input.meaning, signerUserId: user.id, signedAt: row.signedAt },
				actor
			);
		}
		if (completesApproval && adapter.onApproved) {
			await adapter.onApproved(tx, record, actor);
		}
		return {
			id: row.id,
			recordType: row.recordType,
			recordId: row.recordId,
			recordVersion: row.recordVersion,
			contentSha256: row.contentSha256,
			signerFullName: row.signerFullName,
			signerUsername: row.signerUsername,
			meaning: row.meaning as SignatureMeaning,
			signedAt: row.signedAt,
			approvedRecord: completesApproval
		};
	});
}

/* ---------------------------------------------------------------------------------------- */
/* Reading                                                                                   */
/* ---------------------------------------------------------------------------------------- */

export interface SignatureView {
	id: number;
	recordVersion: number;
	contentSha256: string;
	signerUserId: number;
	signerFullName: string;
	signerUsername: string;
	meaning: SignatureMeaning;
	signedAt: Date;
	/** Valid for the record as it is now: same version, same content hash. */
	valid: boolean;
	/** Why not valid: a later version exists, or the content no longer matches the hash. */
	invalidReason: 'superseded' | 'content-changed' | 'record-missing' | null;
	/** The record's current version (to say "not valid for version N"). */
	currentVersion: number | null;
}

/** Signatures of a record, oldest first, each judged against the record's current content. */
export async function listSignatures(
	database: Queryable,
	recordType: string,
	recordId: string
): Promise<SignatureView[]> {
	const current = await loadSignable(database, recordType, recordId);
	const currentHash = current ? contentSha256(current.content) : null;
	const rows = await database.db
		.select()
		.from(signature)
		.where(and(eq(signature.recordType, recordType), eq(signature.recordId, recordId)))
		.orderBy(asc(signature.signedAt), asc(signature.id));
	return rows.map((r) => {
		let invalidReason: SignatureView['invalidReason'] = null;
		if (!current) invalidReason = 'record-missing';
		else if (r.recordVersion !== current.version) invalidReason = 'superseded';
		else if (r.contentSha256 !== currentHash) invalidReason = 'content-changed';
		return {
			id: r.id,
			recordVersion: r.recordVersion,
			contentSha256: r.contentSha256,
			signerUserId: r.signerUserId,
			signerFullName: r.signerFullName,
			signerUsername: r.signerUsername,
			meaning: r.meaning as SignatureMeaning,
			signedAt: r.signedAt,
			valid: invalidReason === null,
			invalidReason,
			currentVersion: current?.version ?? null
		};
	});
}

/**
 * Does the current version of a record carry a valid author/approver pair by two different
 * people? (For records that check it before acting, not only when signed.)
 */
export async function requireDualSignature(
	database: Queryable,
	recordType: string,
	recordId: string
): Promise<{ authoredBy: number[]; approvedBy: number[] }> {
	const valid = (await listSignatures(database, recordType, recordId)).filter((s) => s.valid);
	const authoredBy = valid.filter((s) => s.meaning === 'authored').map((s) => s.signerUserId);
	const approvals = valid.filter((s) => s.meaning === 'approved').map((s) => s.signerUserId);
	const approvedBy = approvals.filter((id) => !authoredBy.includes(id));
	if (authoredBy.length === 0) throw new SignatureError('not-authored');
	if (approvals.length === 0) throw new SignatureError('not-approved');
	if (approvedBy.length === 0) throw new SignatureError('author-cannot-approve');
	return { authoredBy, approvedBy };
}
