/**
 * The composition root: opens the database, seeds the demo plant, registers the demo worker's
 * token, attaches the hub to the HTTP server — and closes all of it in reverse order.
 *
 * One running app per process, shared through `globalThis[Symbol.for('tracewall.app')]`:
 * SvelteKit routes (GET /api/health, GET /metrics, pages) reach the same instance as the
 * server that started it, although in dev the Vite config and the SSR code load separate
 * copies of this module (STACK.md pitfall 4) and in production the route chunks are not the
 * module server.js started.
 */
import path from 'node:path';
import type { Server as HttpServer } from 'node:http';
import { DEMO_PLANT } from '$lib/demo/plant';
import { openDatabase, type Database } from './db';
import type { Env } from './env';
import { createLog, type Log } from './log';
import { createMetrics, type Metrics } from './metrics';
import { seedDemoPlant } from './plant/service';
import { seedDemoHistory } from './production/demo-history';
import { registerWorkerToken } from './plant/workers';
import { createHub, type Hub } from './realtime/hub';
import { seedAlarmCodes } from './alarms/codes';
import { startAlarmUpkeep, type AlarmUpkeep } from './alarms/service';
import { startInspectionSweep } from './production/inspection-sweep';
import { startChangeUpkeep, type ChangeUpkeep } from './change/effective';
import type { SessionSettings } from './auth/sessions';
import { bootstrapAdministrator, seedDemoUsers } from './auth/users';

/** Name under which TRACEWALL_WORKER_TOKEN is registered (the demo simulator's identity). */
export const DEMO_WORKER_NAME = 'sim-1';
/** PGlite lives in this sub-folder of TRACEWALL_DATA_DIR; the folder also holds worker spools. */
export const PGLITE_SUBDIR = 'pglite';

const APP_KEY = Symbol.for('tracewall.app');

export interface App {
	env: Env;
	log: Log;
	metrics: Metrics;
	database: Database;
	hub: Hub;
	auth: AuthSettings;
	startedAt: number;
	/** Closes the hub, then the database. Idempotent. */
	close(): Promise<void>;
}

export interface AuthSettings {
	sessions: SessionSettings;
	lockoutThreshold: number;
	throttlePerIp: number;
	/** 0 = passwords never expire. */
	passwordMaxAgeDays: number;
	/** Failed sign-ins from these networks count toward lockout (TRACEWALL_TRUSTED_NETWORKS). */
	trustedNetworks: readonly string[];
}

export function authSettings(env: Env): AuthSettings {
	return {
		sessions: {
			idleMs: env.TRACEWALL_SESSION_IDLE_SECONDS * 1000,
			absoluteMs: env.TRACEWALL_SESSION_ABSOLUTE_SECONDS * 1000
		},
		lockoutThreshold: env.TRACEWALL_LOCKOUT_THRESHOLD,
		throttlePerIp: env.TRACEWALL_LOGIN_THROTTLE_PER_IP,
		passwordMaxAgeDays: env.TRACEWALL_PASSWORD_MAX_AGE_DAYS,
		trustedNetworks: env.TRACEWALL_TRUSTED_NETWORKS
	};
}

type AppHolder = typeof globalThis & { [APP_KEY]?: App };

/** The running app of this process, if one was started. */
export function getApp(): App | undefined {
	return (globalThis as AppHolder)[APP_KEY];
}

export interface StartAppOverrides {
	log?: Log;
	metrics?: Metrics;
	/** Hub tuning (tests use short intervals); production takes the defaults and env. */
	hub?: Parameters<typeof createHub>[1]['options'];
	/** How often shelving deadlines are checked (default 15 s). */
	alarmUpkeepMs?: number;
	/** How often change-controlled versions reaching their effective date are applied (5 s). */
	changeUpkeepMs?: number;
}

/** Where embedded PGlite keeps its files for a given environment ('memory://' passes through). */
export function pgliteDir(env: Pick<Env, 'TRACEWALL_DATA_DIR'>): string {
	return env.TRACEWALL_DATA_DIR === 'memory://'
		? 'memory://'
		: path.join(env.TRACEWALL_DATA_DIR, PGLITE_SUBDIR);
}

export async function startApp(
	httpServer: HttpServer,
	env: Env,
	overrides: StartAppOverrides = {}
): Promise<App> {
	// A second start in one process (Vite restarting its server after a config edit) replaces
	// the first: close it, or the two would fight over the PGlite directory and the port.
	await getApp()?.close();

	const log = overrides.log ?? createLog({ level: env.LOG_LEVEL });
	const metrics = overrides.metrics ?? createMetrics({ processMetrics: true });
	const database = await openDatabase(
		env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: pgliteDir(env) }
	);
	let hub: Hub;
	let alarmUpkeep: AlarmUpkeep;
	let changeUpkeep: ChangeUpkeep;
	try {
		// Acknowledgement needs cause and action codes: defaults once, edited at /admin/alarm-codes.
		await seedAlarmCodes(database);
		if (env.TRACEWALL_DEMO) {
			const seeded = await seedDemoPlant(database, DEMO_PLANT);
			log.info({ ...seeded }, 'demo plant seeded');
			const users = await seedDemoUsers(database, env.TRACEWALL_DEMO_PASSWORD);
			if (users.created.length > 0) {
				log.warn(
					{ users: users.created },
					'demo users seeded with TRACEWALL_DEMO_PASSWORD: demo only, never on a real plant'
				);
			}
			if (env.TRACEWALL_DEMO_HISTORY) {
				// Once per database (a marker audit event); later starts return at once.
				const history = await seedDemoHistory(database);
				if (history.seeded) {
					log.info(
						{ ms: Math.round(history.ms), ...history.counts },
						'demo history seeded: a year of lots, one running now on every line'
					);
				}
				if (history.upgraded) {
					log.info(
						{ ms: Math.round(history.ms), ...history.counts },
						'demo history upgraded: deviation workflows, CAPA, change requests and KPI targets added'
					);
				}
			}
		} else {
			const boot = await bootstrapAdministrator(database);
			if (boot) {
				log.warn(
					{ username: 'admin', url: boot.path, expiresAt: boot.expiresAt.toISOString() },
					'no users yet: open this link on this server to set the first administrator password'
				);
			}
		}
		if (env.TRACEWALL_WORKER_TOKEN) {
			await registerWorkerToken(database, DEMO_WORKER_NAME, env.TRACEWALL_WORKER_TOKEN);
		}
		hub = await createHub(httpServer, {
			database,
			log,
			metrics,
			sessions: authSettings(env).sessions,
			options: {
				maxBatchBytes: env.INGEST_MAX_BATCH_BYTES,
				maxFutureMs: env.INGEST_MAX_FUTURE_MS,
				maxAgeMs: env.INGEST_MAX_AGE_MS,
				allowedOrigins: env.TRACEWALL_ALLOWED_ORIGINS,
				...overrides.hub
			}
		});
		// Auto-unshelve: the deadlines are in the database, so the first sweep (awaited) applies
		// those that passed while the server was down; then a timer keeps applying them.
		alarmUpkeep = startAlarmUpkeep({
			database,
			hub,
			log,
			everyMs: overrides.alarmUpkeepMs
		});
		await alarmUpkeep.ready;
		// Versions whose effective date passed while the server was down apply now (awaited),
		// then a timer applies each one as its date arrives and republishes the configuration.
		changeUpkeep = startChangeUpkeep({
			database,
			hub,
			log,
			everyMs: overrides.changeUpkeepMs
		});
		await changeUpkeep.ready;
	} catch (error) {
		await database.close();
		throw new Error('startApp: starting the hub failed', { cause: error });
	}

	// Missed inspections become alarms as time passes, not only when someone acts on the lot.
	const inspectionSweep = startInspectionSweep({ database, hub, log });

	let closing: Promise<void> | null = null;
	const app: App = {
		env,
		log,
		metrics,
		database,
		hub,
		auth: authSettings(env),
		startedAt: Date.now(),
		close() {
			closing ??= (async () => {
				try {
					// First: a sweep in progress writes to the database and pushes to the hub.
					await inspectionSweep.stop();
					await alarmUpkeep.stop();
					await changeUpkeep.stop();
					await hub.close();
				} finally {
					// The database last: the hub's queued persists and presence flush need it.
					await database.close();
					// Only now: whoever finds the app while it closes can await the same close().
					const holder = globalThis as AppHolder;
					if (holder[APP_KEY] === app) delete holder[APP_KEY];
					log.info('app closed');
				}
			})();
			return closing;
		}
	};
	(globalThis as AppHolder)[APP_KEY] = app;
	log.info(
		{
			database: database.kind,
			demo: env.TRACEWALL_DEMO,
			worker: env.TRACEWALL_WORKER_TOKEN ? DEMO_WORKER_NAME : null
		},
		'app started'
	);
	return app;
}
