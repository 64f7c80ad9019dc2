/**
 * Replays docs/security.md's route matrix against the running production build: every page,
 * form action, endpoint and socket event, as every principal (anonymous, a paired wall screen,
 * a user of each role), must be allowed or refused exactly as the document says.
 * src/lib/server/auth/route-inventory.test.ts proves the matrix lists everything that exists.
 *
 * "Refused" is observable and specific: pages and actions send anonymous callers to /login and
 * answer 403 to the others; endpoints answer 401/403; sockets fail the handshake or ack
 * `forbidden`. "Allowed" means none of those: a form action may still answer 400 to the empty
 * form sent here (validation happens after authorization), which changes nothing.
 */
import {
	request as playwrightRequest,
	expect,
	test,
	type APIRequestContext
} from '@playwright/test';
import { io, type Socket } from 'socket.io-client';
import {
	PRINCIPAL_COLUMNS,
	routeMatrix,
	type PrincipalColumn,
	type RouteRow
} from '../../factories/security-matrix';
import { principalsForMatrix, type MatrixPrincipal } from './principals';

// Signing out ends the principal's session: replay it last, after everything else it must do.
const ROWS = routeMatrix().sort(
	(a, b) => Number(a.target === 'POST /logout') - Number(b.target === 'POST /logout')
);

/** A concrete URL for a matrix target: parameters filled with things the principal may see. */
function concrete(path: string, params: Record<string, string>): string {
	return path.replace(/\[(\w+)\]/g, (_, name: string) => {
		const value = params[name];
		if (value === undefined) throw new Error(`no value for route parameter [${name}]`);
		return encodeURIComponent(value);
	});
}

/** `broken`: neither allowed nor refused (a 5xx, an unexpected 404): always a mismatch. */
type Outcome = 'allowed' | 'refused' | 'broken';

function isLoginRedirect(status: number, location: string | undefined): boolean {
	// Guards always say where to come back to; a plain redirect to /login (sign-out) is a success.
	return status >= 300 && status < 400 && /^\/login\?next=/.test(location ?? '');
}

async function httpOutcome(
	api: APIRequestContext,
	row: RouteRow,
	baseURL: string,
	params: Record<string, string>
): Promise<{ outcome: Outcome; detail: string }> {
	const [method, rawTarget] = row.target.split(' ');
	const target = concrete(rawTarget, params);
	if (method === 'GET') {
		const response = await api.get(target, { maxRedirects: 0 });
		const status = response.status();
		const location = response.headers()['location'];
		const refused = status === 401 || status === 403 || isLoginRedirect(status, location);
		const outcome: Outcome = refused ? 'refused' : status < 400 ? 'allowed' : 'broken';
		return { outcome, detail: `${status} ${location ?? ''}` };
	}
	// Form actions, as `use:enhance` sends them: an empty form (nothing valid to act on).
	const response = await api.fetch(target, {
		method,
		maxRedirects: 0,
		headers: { origin: baseURL, accept: 'application/json', 'x-sveltekit-action': 'true' },
		form: {}
	});
	const status = response.status();
	const text = await response.text();
	if (row.kind === 'endpoint') {
		// A JSON endpoint answers the empty form with its own 400/404 once the caller is allowed.
		const refused = status === 401 || status === 403;
		const outcome: Outcome = refused ? 'refused' : status < 500 ? 'allowed' : 'broken';
		return { outcome, detail: `${status} ${text.slice(0, 120)}` };
	}
	let body: { type?: string; status?: number; location?: string } = {};
	try {
		body = JSON.parse(text) as typeof body;
	} catch {
		// Not JSON: judged by the status alone.
	}
	const refused =
		status === 401 ||
		status === 403 ||
		isLoginRedirect(status, response.headers()['location']) ||
		(body.type === 'error' && (body.status === 401 || body.status === 403)) ||
		(body.type === 'redirect' && /^\/login\?next=/.test(body.location ?? ''));
	// Allowed: the action ran (success, a redirect, or `fail()` with the form's own errors).
	const ran =
		body.type === 'success' ||
		body.type === 'redirect' ||
		(body.type === 'failure' && (body.status ?? 400) < 500);
	const outcome: Outcome = refused ? 'refused' : ran ? 'allowed' : 'broken';
	return { outcome, detail: `${status} ${text.slice(0, 120)}` };
}

async function socketOutcome(
	baseURL: string,
	row: RouteRow,
	principal: MatrixPrincipal
): Promise<{ outcome: Outcome; detail: string }> {
	const ingest = row.target.startsWith('/ingest ');
	const event = ingest ? row.target.slice('/ingest '.length) : row.target;
	const socket: Socket = io(`${baseURL}${ingest ? '/ingest' : ''}`, {
		transports: ['websocket'],
		reconnection: false,
		timeout: 10_000,
		extraHeaders: principal.cookie ? { cookie: principal.cookie } : {}
	});
	try {
		const connected = await new Promise<string | true>((resolve) => {
			socket.once('connect', () => resolve(true));
			socket.once('connect_error', (e: Error) => resolve(e.message));
		});
		if (connected !== true) return { outcome: 'refused', detail: `handshake: ${connected}` };
		const payload = principal.socketPayload(event);
		const ack = (await socket.timeout(10_000).emitWithAck(event, payload)) as {
			ok: boolean;
			error?: string;
		};
		const refused = !ack.ok && (ack.error === 'forbidden' || ack.error === 'unauthorized');
		return { outcome: refused ? 'refused' : 'allowed', detail: JSON.stringify(ack).slice(0, 120) };
	} finally {
		socket.close();
	}
}

test.describe('route matrix of docs/security.md', () => {
	test.describe.configure({ timeout: 300_000 });

	test('every row holds for every principal', async ({ baseURL }) => {
		if (!baseURL) throw new Error('baseURL is not configured');
		const principals = await principalsForMatrix(baseURL);
		const mismatches: string[] = [];
		let checked = 0;
		for (const column of PRINCIPAL_COLUMNS) {
			const principal = principals[column as PrincipalColumn];
			const api = await playwrightRequest.newContext({
				baseURL,
				extraHTTPHeaders: principal.cookie ? { cookie: principal.cookie } : {}
			});
			try {
				for (const row of ROWS) {
					const expected: Outcome = row.allowed[column] ? 'allowed' : 'refused';
					const actual =
						row.kind === 'socket'
							? await socketOutcome(baseURL, row, principal)
							: await httpOutcome(api, row, baseURL, principal.params);
					checked++;
					if (actual.outcome !== expected) {
						mismatches.push(
							`${row.target} as ${column}: expected ${expected}, got ${actual.outcome} (${actual.detail})`
						);
					}
				}
			} finally {
				await api.dispose();
			}
		}
		expect(mismatches).toEqual([]);
		expect(checked).toBe(ROWS.length * PRINCIPAL_COLUMNS.length);
	});
});
