/**
 * Who may act on production records, asked by the services themselves: the station page, the
 * JSON API and tests call the same functions, so a direct API call meets the same checks as the
 * form (nothing relies on a page hiding a button).
 */
import type { Permission } from '$lib/auth/roles';
import type { Actor } from '../audit/append';
import { can, type Principal, type Scope } from '../auth/policy';
import type { RawQuery } from '../db/raw';
import { ProductionError } from './errors';

/** A signed-in person (devices never act on production records). */
export type Person = Extract<Principal, { kind: 'user' }>;

export function actorOf(person: Person): Actor {
	return { userId: person.userId, label: person.username };
}

/** The line and site of a line id, for line-scoped permissions; null when no such line. */
export async function lineScope(db: RawQuery, lineId: number): Promise<Scope | null> {
	const [row] = await db.query<{ lineId: number; siteId: number }>(
		'SELECT id AS "lineId", site_id AS "siteId" FROM line WHERE id = $1',
		[lineId]
	);
	return row ?? null;
}

const WHAT: Partial<Record<Permission, string>> = {
	'lot:manage': 'plan or manage lots',
	'run:operate': 'start or end runs',
	'material:manage': 'receive or decide on material lots',
	'certification:manage': 'grant or revoke certifications',
	'inspection:record': 'record inspection results',
	'inspection:confirm': 'confirm suspect inspection results',
	'deviation:open': 'open or close deviations'
};

/** Throws `forbidden` unless `person` may do `permission` (on `scope` when line-scoped). */
export function ensureCan(person: Person, permission: Permission, scope?: Scope): void {
	if (!can(person, permission, scope)) {
		throw new ProductionError(
			'forbidden',
			`You may not ${WHAT[permission] ?? permission}${scope ? ' on this line' : ''}.`
		);
	}
}
