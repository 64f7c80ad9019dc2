/** The audit search's filters, read from the URL (STYLE.md: filters live in the URL). */
import { auditFilterSchema, type AuditFilter } from '$lib/server/audit/query';

export type FilterResult = { ok: true; filter: AuditFilter } | { ok: false; message: string };

/**
 * Dates come from `<input type="datetime-local">` in the browser's zone, sent as ISO with the
 * offset the page adds (`from`/`to`), or as bare dates; empty fields are ignored.
 */
export function readFilter(url: URL): FilterResult {
	const raw: Record<string, string> = {};
	for (const key of ['user', 'entityType', 'entityId', 'action', 'from', 'to', 'text', 'before']) {
		const v = url.searchParams.get(key);
		if (v !== null && v.trim() !== '') raw[key] = v.trim();
	}
	for (const key of ['from', 'to'] as const) {
		if (raw[key] && /^\d{4}-\d\d-\d\d$/.test(raw[key])) raw[key] = `${raw[key]}T00:00:00Z`;
	}
	const parsed = auditFilterSchema.safeParse(raw);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		return {
			ok: false,
			message: `${String(issue?.path[0] ?? 'filter')}: ${issue?.message ?? 'invalid'}`
		};
	}
	return { ok: true, filter: parsed.data };
}
