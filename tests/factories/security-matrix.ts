/**
 * Reads the two matrices of docs/security.md, the source of truth for access control:
 * - "Permission matrix": permission × role, which must equal GRANTS in policy.ts;
 * - "Route matrix": every page, form action, endpoint and socket event × principal, which the
 *   route-matrix end-to-end test replays against the running server.
 *
 * Cells: `✓` allowed, `✗` refused. Anything else is an error, so a typo cannot pass as either.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SECURITY_DOC = path.resolve(
	path.dirname(fileURLToPath(import.meta.url)),
	'../../docs/security.md'
);

export const PRINCIPAL_COLUMNS = [
	'anonymous',
	'device',
	'operator',
	'shift-lead',
	'quality-engineer',
	'qa-reviewer',
	'manager',
	'administrator',
	'customer'
] as const;
export type PrincipalColumn = (typeof PRINCIPAL_COLUMNS)[number];

export interface Table {
	header: string[];
	rows: string[][];
}

/** The first markdown table after the heading `## <title>` (or `### <title>`). */
export function tableAfterHeading(markdown: string, title: string): Table {
	const lines = markdown.split('\n');
	const start = lines.findIndex((l) => /^#{2,3}\s/.test(l) && l.replace(/^#+\s*/, '') === title);
	if (start < 0) throw new Error(`docs/security.md has no heading "${title}"`);
	const rows: string[][] = [];
	let i = start + 1;
	while (i < lines.length && !lines[i].startsWith('|')) {
		if (/^#{1,3}\s/.test(lines[i])) throw new Error(`no table under "${title}"`);
		i++;
	}
	for (; i < lines.length && lines[i].startsWith('|'); i++) {
		const cells = lines[i]
			.trim()
			.replace(/^\||\|$/g, '')
			.split('|')
			.map((c) => c.trim().replace(/^`|`$/g, ''));
		rows.push(cells);
	}
	if (rows.length < 3) throw new Error(`table under "${title}" is empty`);
	const [header, separator, ...body] = rows;
	if (!separator.every((c) => /^:?-+:?$/.test(c))) throw new Error(`bad table under "${title}"`);
	return { header, rows: body };
}

function cell(value: string, where: string): boolean {
	if (value === '✓') return true;
	if (value === '✗') return false;
	throw new Error(`docs/security.md: cell "${value}" at ${where} must be ✓ or ✗`);
}

export function readSecurityDoc(): string {
	return fs.readFileSync(SECURITY_DOC, 'utf8');
}

/** permission → roles allowed, from the "Permission matrix" table. */
export function permissionMatrix(markdown = readSecurityDoc()): Record<string, string[]> {
	const { header, rows } = tableAfterHeading(markdown, 'Permission matrix');
	const roles = header.slice(1);
	const out: Record<string, string[]> = {};
	for (const row of rows) {
		const permission = row[0];
		out[permission] = roles.filter((role, i) => cell(row[i + 1], `${permission}/${role}`));
	}
	return out;
}

export interface RouteRow {
	/** page | action | endpoint | socket */
	kind: 'page' | 'action' | 'endpoint' | 'socket';
	/** e.g. `GET /audit`, `POST /admin/users?/create`, `subscribe` */
	target: string;
	allowed: Record<PrincipalColumn, boolean>;
}

export function routeMatrix(markdown = readSecurityDoc()): RouteRow[] {
	const { header, rows } = tableAfterHeading(markdown, 'Route matrix');
	const expected = ['kind', 'target', ...PRINCIPAL_COLUMNS];
	if (header.join('|') !== expected.join('|')) {
		throw new Error(`Route matrix header must be: ${expected.join(' | ')}`);
	}
	return rows.map((row) => {
		const kind = row[0] as RouteRow['kind'];
		if (!['page', 'action', 'endpoint', 'socket'].includes(kind)) {
			throw new Error(`Route matrix: unknown kind "${row[0]}"`);
		}
		const allowed = Object.fromEntries(
			PRINCIPAL_COLUMNS.map((p, i) => [p, cell(row[i + 2], `${row[1]}/${p}`)])
		) as Record<PrincipalColumn, boolean>;
		return { kind, target: row[1], allowed };
	});
}
