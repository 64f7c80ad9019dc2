/**
 * Who may see which lots. `lot:view` is line-scoped for plant staff (a grant on line A does not
 * open line B's lots) and customer-scoped for OEM customers: a customer user sees only the lots
 * of products made for ITS customer (app_user.customer_id), and nothing when none is set.
 *
 * Every reader of lots (history, search, trace) applies the same rule, in TypeScript for one
 * lot and as a SQL predicate for lists. A lot the viewer may not see is reported as not found
 * (404), never as forbidden: a 403 would confirm that a lot code exists at a competitor's.
 */
import { can, type Principal } from '../auth/policy';

export type LotViewer = Principal;

/** Where a lot sits, for the check. */
export interface LotPlace {
	lineId: number;
	siteId: number;
	customerId: number;
}

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** The principal's grants without the customer role: what the person may see as staff. */
function asStaff(user: UserPrincipal): UserPrincipal {
	return { ...user, grants: user.grants.filter((g) => g.role !== 'customer') };
}

function customerOf(user: UserPrincipal): number | null {
	const customerId = user.customerId ?? null;
	if (customerId === null) return null;
	return user.grants.some((g) => g.role === 'customer') ? customerId : null;
}

/** May `viewer` see the lot at `place`? */
export function canViewLot(viewer: LotViewer, place: LotPlace): boolean {
	if (viewer.kind !== 'user') return false;
	if (can(asStaff(viewer), 'lot:view', { lineId: place.lineId, siteId: place.siteId })) {
		return true;
	}
	const customerId = customerOf(viewer);
	return customerId !== null && customerId === place.customerId;
}

/**
 * SQL predicate equivalent to `canViewLot` over rows where `lineCol`, `siteCol` and
 * `customerCol` name the lot's line, the line's site and the product's customer. Parameters are
 * appended to `params` (placeholders numbered after the ones already there).
 */
export function lotVisibilitySql(
	viewer: LotViewer,
	cols: { line: string; site: string; customer: string },
	params: unknown[]
): string {
	if (viewer.kind !== 'user') return 'false';
	const clauses: string[] = [];
	const staff = asStaff(viewer);
	if (can(staff, 'lot:view')) {
		const roles = staff.grants.filter((g) => can({ ...staff, grants: [g] }, 'lot:view', undefined));
		if (roles.some((g) => g.siteId === null && g.lineId === null)) return 'true';
		const lines = roles.filter((g) => g.lineId !== null).map((g) => g.lineId as number);
		const sites = roles.filter((g) => g.siteId !== null).map((g) => g.siteId as number);
		if (lines.length > 0) {
			params.push(lines);
			clauses.push(`${cols.line} = ANY($${params.length}::int[])`);
		}
		if (sites.length > 0) {
			params.push(sites);
			clauses.push(`${cols.site} = ANY($${params.length}::int[])`);
		}
	}
	const customerId = customerOf(viewer);
	if (customerId !== null) {
		params.push(customerId);
		clauses.push(`${cols.customer} = $${params.length}`);
	}
	return clauses.length > 0 ? `(${clauses.join(' OR ')})` : 'false';
}

/**
 * Why a signed-in user with `lot:view` still sees no lot at all, or null. A customer account
 * that no administrator has linked to a customer yet gets a 403 for EVERY lot route (the answer
 * does not depend on the lot, so it reveals nothing).
 */
export function lotViewerProblem(viewer: LotViewer): string | null {
	if (viewer.kind !== 'user') return 'Only signed-in people see lots.';
	if (can(asStaff(viewer), 'lot:view')) return null;
	if (customerOf(viewer) !== null) return null;
	return 'Your customer account is not linked to a customer yet: ask the administrator.';
}

/**
 * May `viewer` use the plant-wide traceability views (material lots, trace forward)? They list
 * every customer's lots and shipments (the recall scope), so staff only, never customers.
 */
export function canTrace(viewer: LotViewer): boolean {
	return viewer.kind === 'user' && can(asStaff(viewer), 'lot:view');
}
