/**
 * GET /api/health — for load balancers, docker-compose health checks and `npm start`.
 * 200 when the database answers; 503 when it does not (or the app is not started yet).
 * Workers come from the database (every registered one) overlaid with the hub's in-memory
 * last-seen times, which are fresher (they reach the database every few seconds).
 */
import { json } from '@sveltejs/kit';
import { getApp } from '$lib/server/app';
import { workersLastSeen } from '$lib/server/plant/workers';
import type { RequestHandler } from './$types';

interface WorkerHealth {
	name: string;
	lastSeenAt: number | null;
	connected: boolean;
	revoked: boolean;
}

function latest(a: number | null, b: number | null): number | null {
	if (a === null) return b;
	if (b === null) return a;
	return Math.max(a, b);
}

export const GET: RequestHandler = async () => {
	const app = getApp();
	const headers = { 'cache-control': 'no-store' };
	if (!app) return json({ status: 'starting' }, { status: 503, headers });

	const started = performance.now();
	let databaseOk = true;
	let stored: Awaited<ReturnType<typeof workersLastSeen>> = [];
	try {
		await app.database.query('SELECT 1');
		stored = await workersLastSeen(app.database);
	} catch (error) {
		databaseOk = false;
		app.log.warn({ err: error }, 'health: database unreachable');
	}
	const latencyMs = Math.round((performance.now() - started) * 100) / 100;
	const stats = app.hub.stats();

	const workers = new Map<number, WorkerHealth>();
	for (const w of stored) {
		workers.set(w.id, {
			name: w.name,
			lastSeenAt: w.lastSeenAt,
			connected: false,
			revoked: w.revoked
		});
	}
	for (const w of stats.workers) {
		const known = workers.get(w.id);
		workers.set(w.id, {
			name: w.name,
			lastSeenAt: latest(w.lastSeenAt, known?.lastSeenAt ?? null),
			connected: w.connections > 0,
			revoked: known?.revoked ?? false
		});
	}

	return json(
		{
			status: databaseOk ? 'ok' : 'degraded',
			time: Date.now(),
			uptimeMs: Date.now() - app.startedAt,
			database: { kind: app.database.kind, ok: databaseOk, latencyMs },
			hub: {
				clients: stats.clients,
				queueDepth: stats.queueDepth,
				configRevision: stats.configRevision
			},
			workers: [...workers.values()]
		},
		{ status: databaseOk ? 200 : 503, headers }
	);
};
