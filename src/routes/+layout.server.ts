import { ROLE_LABEL, type Role } from '$lib/auth/roles';
import { can } from '$lib/server/auth/policy';
import type { LayoutServerLoad } from './$types';

/**
 * Who is looking, in the shape pages need to show it (never a token or a hash). Pages still
 * check permissions on the server themselves; this only drives navigation and labels.
 */
export const load: LayoutServerLoad = ({ locals }) => {
	const p = locals.principal;
	if (p.kind === 'user') {
		const roles = [...new Set(p.grants.map((g) => g.role))] as Role[];
		return {
			viewer: {
				kind: 'user' as const,
				username: p.username,
				fullName: p.fullName,
				roles: roles.map((r) => ROLE_LABEL[r]),
				nav: {
					live: can(p, 'live:view'),
					lots: can(p, 'lot:view'),
					station:
						can(p, 'run:operate') ||
						can(p, 'inspection:record') ||
						can(p, 'inspection:confirm') ||
						can(p, 'lot:manage'),
					materials: can(p, 'material:manage'),
					certifications: can(p, 'certification:manage'),
					alarms: can(p, 'alarm:view'),
					changes: can(p, 'change:view'),
					deviations: can(p, 'deviation:open') || can(p, 'deviation:manage'),
					kpi: can(p, 'kpi:view'),
					release: can(p, 'lot:release'),
					alarmCodes: can(p, 'master-data:manage'),
					audit: can(p, 'audit:view'),
					users: can(p, 'users:manage'),
					devices: can(p, 'devices:manage'),
					security: can(p, 'security:view')
				}
			}
		};
	}
	if (p.kind === 'device') {
		return { viewer: { kind: 'device' as const, name: p.name } };
	}
	return { viewer: { kind: 'anonymous' as const } };
};
