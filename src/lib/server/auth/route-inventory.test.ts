/**
 * Access control has one source of truth, docs/security.md. This test keeps it complete and
 * true to the code:
 * - the permission matrix equals GRANTS in policy.ts;
 * - every page, form action, endpoint and socket event that exists has a row in the route
 *   matrix, and every row names something that exists.
 * The end-to-end test tests/e2e/security/route-matrix.spec.ts then replays each row as each
 * principal against the running server, so nothing can be added without being proved.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS, ROLES } from '$lib/auth/roles';
import { permissionMatrix, routeMatrix } from '../../../../tests/factories/security-matrix';
import { GRANTS } from './policy';

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** `/src/routes/(desk)/admin/users/+page.server.ts` → `/admin/users` */
function urlOf(file: string): string {
	const dir = file
		.replace(/^\/src\/routes/, '')
		.replace(/\/\+[^/]+$/, '')
		.split('/')
		.filter((segment) => segment !== '' && !/^\(.+\)$/.test(segment))
		.join('/');
	return `/${dir}`;
}

const pages = Object.keys(import.meta.glob('/src/routes/**/+page.svelte'));
const pageServers = import.meta.glob<Record<string, unknown>>('/src/routes/**/+page.server.ts');
const endpoints = import.meta.glob<Record<string, unknown>>('/src/routes/**/+server.ts');

async function inventory(): Promise<string[]> {
	const targets: string[] = pages.map((f) => `GET ${urlOf(f)}`);
	for (const [file, load] of Object.entries(pageServers)) {
		const mod = await load();
		const actions = mod.actions as Record<string, unknown> | undefined;
		for (const name of Object.keys(actions ?? {})) {
			targets.push(name === 'default' ? `POST ${urlOf(file)}` : `POST ${urlOf(file)}?/${name}`);
		}
	}
	for (const [file, load] of Object.entries(endpoints)) {
		const mod = await load();
		for (const method of HTTP_METHODS) {
			if (typeof mod[method] === 'function') targets.push(`${method} ${urlOf(file)}`);
		}
	}
	// Socket events: the client-to-server interfaces of the one event contract.
	const events = fs.readFileSync('src/lib/realtime/events.ts', 'utf8');
	for (const [iface, prefix] of [
		['LiveClientToServer', ''],
		['IngestClientToServer', '/ingest ']
	] as const) {
		const body = new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`).exec(events)?.[1];
		if (!body) throw new Error(`events.ts has no ${iface}`);
		for (const m of body.matchAll(/^\t'?([\w:-]+)'?:/gm)) targets.push(`${prefix}${m[1]}`);
	}
	return targets.sort();
}

describe('docs/security.md', () => {
	it('states exactly the permission grants that policy.ts enforces', () => {
		const doc = permissionMatrix();
		expect(Object.keys(doc).sort()).toEqual([...PERMISSIONS].sort());
		for (const permission of PERMISSIONS) {
			expect(doc[permission].sort(), permission).toEqual([...GRANTS[permission]].sort());
			for (const role of doc[permission]) expect(ROLES).toContain(role);
		}
	});

	it('has a route-matrix row for every page, action, endpoint and socket event, and no other', async () => {
		const existing = await inventory();
		const documented = routeMatrix()
			.map((r) => r.target)
			.sort();
		const missing = existing.filter((t) => !documented.includes(t));
		const stale = documented.filter((t) => !existing.includes(t));
		expect({ missing, stale }).toEqual({ missing: [], stale: [] });
		expect(new Set(documented).size, 'duplicate rows').toBe(documented.length);
	});
});
