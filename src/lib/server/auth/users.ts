/**
 * Users and their grants. Every change is audited in the same transaction. Users are disabled,
 * never deleted, and usernames never reused (21 CFR 11.100(a), 11.300(a)).
 */
import { eq } from 'drizzle-orm';
import type { Role } from '$lib/auth/roles';
import { appendAudit, type Actor } from '../audit/append';
import type { Database, TxContext } from '../db';
import { appUser, roleGrant } from '../db/schema';
import { checkPassword, hashPassword, PASSWORD_PROBLEM_TEXT } from './passwords';

export const USERNAME_PATTERN = /^[a-z][a-z0-9._-]{1,39}$/;

export interface NewUser {
	username: string;
	fullName: string;
	email?: string | null;
	canSign?: boolean;
	grants: { role: Role; siteId?: number | null; lineId?: number | null }[];
}

export class UserInputError extends Error {
	constructor(
		readonly field: string,
		message: string
	) {
		super(message);
		this.name = 'UserInputError';
	}
}

/** Create a user without a password (they set it through a one-time code). */
export async function createUser(tx: TxContext, actor: Actor, input: NewUser): Promise<number> {
	const username = input.username.trim().toLowerCase();
	if (!USERNAME_PATTERN.test(username)) {
		throw new UserInputError(
			'username',
			'2-40 characters: lower-case letters, digits, dot, dash, underscore; starting with a letter.'
		);
	}
	const taken = await tx.db
		.select({ id: appUser.id })
		.from(appUser)
		.where(eq(appUser.username, username));
	if (taken.length > 0) {
		throw new UserInputError('username', 'This username exists (usernames are never reused).');
	}
	const [row] = await tx.db
		.insert(appUser)
		.values({
			username,
			fullName: input.fullName.trim(),
			email: input.email ?? null,
			canSign: input.canSign ?? false,
			createdBy: actor.userId
		})
		.returning({ id: appUser.id, createdAt: appUser.createdAt });
	if (input.grants.length > 0) {
		await tx.db.insert(roleGrant).values(
			input.grants.map((g) => ({
				userId: row.id,
				role: g.role,
				siteId: g.siteId ?? null,
				lineId: g.lineId ?? null
			}))
		);
	}
	await appendAudit(tx, {
		actor,
		action: 'create',
		entityType: 'user',
		entityId: row.id,
		newValues: {
			username,
			fullName: input.fullName.trim(),
			email: input.email ?? null,
			canSign: input.canSign ?? false,
			grants: input.grants
		}
	});
	return row.id;
}

/**
 * Set a user's password after checking the policy; audited (the hash itself never appears in
 * the trail). Ending the user's other sessions is the caller's business (it knows which one
 * to keep).
 */
export async function setPassword(
	tx: TxContext,
	actor: Actor,
	userId: number,
	password: string,
	reason: string
): Promise<void> {
	const [user] = await tx.db
		.select({ username: appUser.username })
		.from(appUser)
		.where(eq(appUser.id, userId));
	if (!user) throw new UserInputError('user', 'No such user.');
	const problems = checkPassword(password, user.username);
	if (problems.length > 0) {
		throw new UserInputError('password', problems.map((p) => PASSWORD_PROBLEM_TEXT[p]).join(' '));
	}
	const passwordHash = await hashPassword(password);
	await tx.db
		.update(appUser)
		.set({ passwordHash, passwordChangedAt: new Date(), failedLogins: 0, lockedAt: null })
		.where(eq(appUser.id, userId));
	await appendAudit(tx, {
		actor,
		action: 'password',
		entityType: 'user',
		entityId: userId,
		newValues: { passwordChanged: true },
		reason
	});
}

/** Seeded demo users: one per role, all with TRACEWALL_DEMO_PASSWORD. */
export const DEMO_USERS: (NewUser & { username: string })[] = [
	{ username: 'admin', fullName: 'Alex Admin', grants: [{ role: 'administrator' }] },
	{ username: 'operator', fullName: 'Olga Operator', grants: [{ role: 'operator' }] },
	{ username: 'lead', fullName: 'Lee Shiftlead', canSign: true, grants: [{ role: 'shift-lead' }] },
	{
		username: 'qe',
		fullName: 'Quinn Engineer',
		canSign: true,
		grants: [{ role: 'quality-engineer' }]
	},
	{ username: 'qa', fullName: 'Rita Reviewer', canSign: true, grants: [{ role: 'qa-reviewer' }] },
	{ username: 'manager', fullName: 'Max Manager', canSign: true, grants: [{ role: 'manager' }] },
	// An OEM customer's read-only account: sees only its own products' lots once lots exist.
	{ username: 'customer', fullName: 'Cora Customer', grants: [{ role: 'customer' }] }
];

/**
 * First start: with no user at all, seed the demo users (demo mode) and report it, or create
 * `admin` without a password and return nothing — the caller then issues a one-time code.
 */
export async function seedDemoUsers(
	database: Database,
	password: string
): Promise<{ created: string[] }> {
	const existing = await database.db.select({ id: appUser.id }).from(appUser).limit(1);
	if (existing.length > 0) return { created: [] };
	const created: string[] = [];
	await database.transaction(async (tx) => {
		for (const u of DEMO_USERS) {
			const id = await createUser(tx, { userId: null, label: 'system' }, u);
			await setPassword(tx, { userId: null, label: 'system' }, id, password, 'demo user seeded');
			created.push(u.username);
		}
	});
	return { created };
}
