/**
 * The only reader of environment variables in worker processes, validated once with zod. A bad
 * configuration fails at start-up listing every bad key (the same habit as
 * src/lib/server/env.ts, which workers must not import: it describes the server's variables).
 */
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const workerEnvSchema = z.object({
	/** Base URL of the hub (the Tracewall server); the worker connects to `${url}/ingest`. */
	TRACEWALL_HUB_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3000'),
	/** Worker token registered at the hub (only its SHA-256 is stored there). */
	TRACEWALL_WORKER_TOKEN: z.string().min(24, 'must be at least 24 characters'),
	/** Name of this worker, used in logs and as the default spool folder. */
	TRACEWALL_WORKER_NAME: z
		.string()
		.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-" only (1-64)')
		.default('sim-1'),
	/** Durable spool folder; default ./data/spool/<worker name>. */
	TRACEWALL_SPOOL_DIR: z.string().min(1).optional(),
	/** Largest spool on disk, bytes; when full the worker stops acquiring (never drops). */
	TRACEWALL_SPOOL_MAX_BYTES: z.coerce
		.number()
		.int()
		.min(64 * 1024)
		.default(256 * 1024 * 1024),
	/** Seed of the simulator's random streams: the same seed gives the same samples. */
	TRACEWALL_SIM_SEED: z.coerce.number().int().min(0).max(0xffffffff).default(1),
	/**
	 * Simulated-time multiplier (tests run the schedule faster); 1 = real time. At most 100, so
	 * that a characteristic never gets more than one sample per ms (the seq floor relies on it).
	 */
	TRACEWALL_SIM_SPEED: z.coerce.number().positive().max(100).default(1),
	LOG_LEVEL: z.enum(LOG_LEVELS).default('info')
});

export type WorkerEnv = Omit<z.infer<typeof workerEnvSchema>, 'TRACEWALL_SPOOL_DIR'> & {
	/** Resolved to an absolute path. */
	TRACEWALL_SPOOL_DIR: string;
};

export class WorkerEnvError extends Error {
	constructor(readonly issues: string[]) {
		super(`Invalid worker environment:\n  ${issues.join('\n  ')}`);
		this.name = 'WorkerEnvError';
	}
}

/** Parse a worker environment (default process.env); throws WorkerEnvError naming every bad key. */
export function parseWorkerEnv(
	source: Record<string, string | undefined> = process.env,
	cwd: string = process.cwd()
): WorkerEnv {
	// Empty strings mean "unset" (docker-compose and shells often pass VAR= through).
	const cleaned = Object.fromEntries(
		Object.entries(source).filter(([, v]) => v !== undefined && v !== '')
	);
	const result = workerEnvSchema.safeParse(cleaned);
	if (!result.success) {
		throw new WorkerEnvError(
			result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
		);
	}
	const data = result.data;
	const spoolDir = path.resolve(
		cwd,
		data.TRACEWALL_SPOOL_DIR ?? path.join('data', 'spool', data.TRACEWALL_WORKER_NAME)
	);
	return { ...data, TRACEWALL_SPOOL_DIR: spoolDir };
}
