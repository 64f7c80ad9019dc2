/**
 * Roles and permissions: names shared by the server (which enforces them) and the browser
 * (which only hides what would be refused anyway). The grant table lives in
 * `src/lib/server/auth/policy.ts`; `docs/security.md` is its human-readable source of truth and
 * a test keeps the two identical.
 */
export const ROLES = [
	'operator',
	'shift-lead',
	'quality-engineer',
	'qa-reviewer',
	'manager',
	'administrator',
	'customer'
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABEL: Record<Role, string> = {
	operator: 'Operator',
	'shift-lead': 'Shift lead',
	'quality-engineer': 'Quality engineer',
	'qa-reviewer': 'QA reviewer',
	manager: 'Manager',
	administrator: 'Administrator',
	customer: 'Customer (read-only)'
};

/**
 * What can be done. Line-scoped permissions are checked against the line of the thing touched
 * (a wall, a room, a characteristic); the others need the role on any scope.
 */
export const PERMISSIONS = [
	'live:view',
	'characteristic:view',
	'record:sign',
	'audit:view',
	'users:manage',
	'devices:manage',
	'security:view',
	'lot:view',
	'lot:manage',
	'run:operate',
	'material:manage',
	'master-data:manage',
	'certification:manage',
	'inspection:record',
	'inspection:confirm',
	'deviation:open',
	'alarm:view',
	'alarm:acknowledge',
	'alarm:shelve',
	'alarm:out-of-service',
	'change:view',
	'change:author',
	'change:approve',
	'deviation:manage',
	'lot:release',
	'kpi:view'
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Permissions that are checked per line (a grant on line A does not open line B). */
export const LINE_SCOPED: ReadonlySet<Permission> = new Set([
	'live:view',
	'characteristic:view',
	'lot:view',
	'lot:manage',
	'run:operate',
	'inspection:record',
	'inspection:confirm',
	'alarm:view',
	'alarm:acknowledge',
	'alarm:shelve',
	'alarm:out-of-service',
	'lot:release'
]);

/** Meanings a signature can carry (21 CFR 11.50(a)(3)). */
export const SIGNATURE_MEANINGS = [
	'authored',
	'reviewed',
	'approved',
	'verified',
	'released',
	'rejected'
] as const;
export type SignatureMeaning = (typeof SIGNATURE_MEANINGS)[number];
