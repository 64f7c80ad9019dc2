/**
 * Text for the administration pages (users, screens): times in UTC, the same on the server and
 * in the browser (no hydration mismatch, and an audit-friendly clock).
 */
import { ROLE_LABEL, type Role } from '$lib/auth/roles';

/** `2026-11-22 09:41 UTC`, or an em dash. */
export function formatWhen(at: Date | string | null | undefined): string {
	if (at === null || at === undefined) return '—';
	const d = typeof at === 'string' ? new Date(at) : at;
	if (Number.isNaN(d.getTime())) return '—';
	return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export interface ScopeNames {
	sites: readonly { id: number; name: string }[];
	lines: readonly { id: number; code: string; name: string }[];
}

/** "Shift lead · line L1 Moulding", "Administrator · all sites". */
export function grantLabel(
	g: { role: Role; siteId: number | null; lineId: number | null },
	names: ScopeNames
): string {
	const role = ROLE_LABEL[g.role] ?? g.role;
	if (g.lineId !== null) {
		const l = names.lines.find((x) => x.id === g.lineId);
		return `${role} · line ${l ? `${l.code} ${l.name}` : `#${g.lineId}`}`;
	}
	if (g.siteId !== null) {
		const s = names.sites.find((x) => x.id === g.siteId);
		return `${role} · site ${s ? s.name : `#${g.siteId}`}`;
	}
	return `${role} · all sites`;
}

/** The form value of a grant's scope: `all`, `site:<id>`, `line:<id>`. */
export function scopeValue(g: { siteId: number | null; lineId: number | null }): string {
	if (g.lineId !== null) return `line:${g.lineId}`;
	if (g.siteId !== null) return `site:${g.siteId}`;
	return 'all';
}
