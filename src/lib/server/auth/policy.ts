/**
 * The one authorization module. Every page load, form action, endpoint and socket event asks
 * `can()` (or `require…` helpers in guard.ts) on the server; nothing relies on a layout or on
 * the browser hiding a button.
 *
 * The grant table below is mirrored in docs/security.md ("Role matrix"); the route × role test
 * reads that document and fails when the two disagree or when a route is missing from it.
 */
import { LINE_SCOPED, type Permission, type Role } from '$lib/auth/roles';

export const GRANTS: Record<Permission, readonly Role[]> = {
	'live:view': [
		'operator',
		'shift-lead',
		'quality-engineer',
		'qa-reviewer',
		'manager',
		'administrator'
	],
	'characteristic:view': [
		'operator',
		'shift-lead',
		'quality-engineer',
		'qa-reviewer',
		'manager',
		'administrator'
	],
	'record:sign': ['shift-lead', 'quality-engineer', 'qa-reviewer', 'manager'],
	'audit:view': ['quality-engineer', 'qa-reviewer', 'manager', 'administrator'],
	'users:manage': ['administrator'],
	'devices:manage': ['administrator'],
	'security:view': ['administrator'],
	// Customers see lots too, but only their own customer's (checked where lots are read).
	'lot:view': ['operator', 'shift-lead', 'quality-engineer', 'qa-reviewer', 'manager', 'customer'],
	'lot:manage': ['shift-lead', 'manager'],
	'run:operate': ['operator', 'shift-lead'],
	'material:manage': ['quality-engineer', 'qa-reviewer'],
	'master-data:manage': ['quality-engineer', 'manager'],
	'certification:manage': ['manager', 'administrator'],
	'inspection:record': ['operator', 'shift-lead', 'quality-engineer'],
	'inspection:confirm': ['shift-lead', 'quality-engineer', 'qa-reviewer'],
	'deviation:open': ['shift-lead', 'quality-engineer', 'qa-reviewer', 'manager'],
	'alarm:view': ['operator', 'shift-lead', 'quality-engineer', 'qa-reviewer', 'manager'],
	// Acknowledging also needs a current certification on the alarm's line (alarms service).
	'alarm:acknowledge': ['operator', 'shift-lead', 'quality-engineer'],
	'alarm:shelve': ['shift-lead', 'quality-engineer'],
	'alarm:out-of-service': ['quality-engineer', 'manager'],
	'change:view': ['shift-lead', 'quality-engineer', 'qa-reviewer', 'manager'],
	// Authoring and approving also need record:sign (two signatures, two different people).
	'change:author': ['quality-engineer', 'manager'],
	'change:approve': ['quality-engineer', 'qa-reviewer', 'manager'],
	'deviation:manage': ['quality-engineer', 'qa-reviewer', 'manager'],
	// Release or reject a lot (with a signature): QA, on the lines granted.
	'lot:release': ['qa-reviewer'],
	'kpi:view': ['quality-engineer', 'qa-reviewer', 'manager']
};

export interface RoleGrantScope {
	role: Role;
	/** Both null: every site. */
	siteId: number | null;
	lineId: number | null;
}

export type Principal =
	| { kind: 'anonymous' }
	| {
			kind: 'user';
			userId: number;
			username: string;
			fullName: string;
			sessionId: string;
			canSign: boolean;
			grants: readonly RoleGrantScope[];
			/**
			 * For customer (portal) users: the one customer whose lots they may see (app_user.
			 * customer_id). Sessions always set it; absent (principals built by hand) means none.
			 */
			customerId?: number | null;
	  }
	| { kind: 'device'; deviceId: number; name: string; lineIds: readonly number[] };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** Where the thing being touched sits, for line-scoped permissions. */
export interface Scope {
	lineId: number;
	siteId: number;
}

function grantCovers(grant: RoleGrantScope, scope: Scope | undefined): boolean {
	if (grant.siteId === null && grant.lineId === null) return true;
	if (!scope) return false;
	if (grant.lineId !== null) return grant.lineId === scope.lineId;
	return grant.siteId === scope.siteId;
}

/**
 * May `principal` do `permission` (on `scope` for line-scoped permissions)?
 * - anonymous: nothing;
 * - device: `live:view` on its own lines, nothing else (read-only by construction);
 * - user: some grant whose role holds the permission and whose scope covers the target. For a
 *   line-scoped permission asked without a scope ("may they see any line at all?"), any grant
 *   of a permitted role answers yes; the per-line check happens when a line is touched.
 * `record:sign` additionally needs the user's signing right (an administrator grants it).
 */
export function can(principal: Principal, permission: Permission, scope?: Scope): boolean {
	if (principal.kind === 'anonymous') return false;
	if (principal.kind === 'device') {
		if (permission !== 'live:view') return false;
		return scope === undefined
			? principal.lineIds.length > 0
			: principal.lineIds.includes(scope.lineId);
	}
	if (permission === 'record:sign' && !principal.canSign) return false;
	const roles = GRANTS[permission];
	return principal.grants.some(
		(g) =>
			roles.includes(g.role) &&
			(!LINE_SCOPED.has(permission) || scope === undefined || grantCovers(g, scope))
	);
}

/** The lines (of `all`) a principal may view live: the wall list, room checks. */
export function visibleLines<T extends { id: number; siteId: number }>(
	principal: Principal,
	all: readonly T[]
): T[] {
	return all.filter((l) => can(principal, 'live:view', { lineId: l.id, siteId: l.siteId }));
}
