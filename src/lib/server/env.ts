/**
 * The only reader of environment variables on the server. Validated once with zod; a bad
 * configuration fails at start-up listing every bad key, instead of failing later at first use.
 *
 * Kept free of `$env/dynamic/private` on purpose: the same module is loaded by the production
 * server wrapper, the Vite dev plugin, the tests and the benchmarks, not only by SvelteKit.
 */
import { z } from 'zod';

const bool = z
	.enum(['true', 'false', '1', '0', 'yes', 'no'])
	.transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
	/** PostgreSQL connection string. Unset → embedded PGlite in TRACEWALL_DATA_DIR. */
	DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
	/** Where embedded PGlite keeps its files (and the demo worker its spool). */
	TRACEWALL_DATA_DIR: z.string().min(1).default('./data'),
	/** Port and host of the HTTP server (adapter-node reads the same names). */
	PORT: z.coerce.number().int().min(0).max(65535).default(3000),
	HOST: z.string().default('0.0.0.0'),
	/** pino level. */
	LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
	/**
	 * Token of the demo simulator worker, registered at start (only its SHA-256 is stored).
	 * `npm start` generates one per run and hands it to the worker it spawns.
	 */
	TRACEWALL_WORKER_TOKEN: z.string().min(24).optional(),
	/** Seed the demo plant (lines, machines, characteristics, limits) when the database is empty. */
	TRACEWALL_DEMO: bool.default(true),
	/**
	 * With TRACEWALL_DEMO: seed a year of production history (lots, runs, genealogy,
	 * inspections, alarms, shipments) at the first start, ending with a lot running on every
	 * line (docs/demo-history.md). Takes ~15 s on PGlite once; `false` skips it.
	 */
	TRACEWALL_DEMO_HISTORY: bool.default(true),
	/** Largest accepted ingest message, bytes (socket.io's maxHttpBufferSize). */
	INGEST_MAX_BATCH_BYTES: z.coerce.number().int().min(1024).default(1_000_000),
	/** Samples stamped further than this in the future are refused (clock skew guard). */
	INGEST_MAX_FUTURE_MS: z.coerce.number().int().min(0).default(60_000),
	/** Samples older than this are refused (a stuck spool replaying ancient data). */
	INGEST_MAX_AGE_MS: z.coerce
		.number()
		.int()
		.min(60_000)
		.default(7 * 24 * 3600 * 1000),
	/** A session unused this long is over (21 CFR 11.300; default 15 min). */
	TRACEWALL_SESSION_IDLE_SECONDS: z.coerce
		.number()
		.int()
		.min(5)
		.default(15 * 60),
	/** A session is over this long after sign-in, however active (default 12 h). */
	TRACEWALL_SESSION_ABSOLUTE_SECONDS: z.coerce
		.number()
		.int()
		.min(60)
		.default(12 * 3600),
	/** Consecutive failed logins that lock an account (an administrator unlocks it). */
	TRACEWALL_LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
	/** Failed logins allowed per client address per 15 minutes before it is throttled. */
	TRACEWALL_LOGIN_THROTTLE_PER_IP: z.coerce.number().int().min(1).default(30),
	/**
	 * Networks whose failed sign-ins count toward an account's lockout (comma-separated CIDRs;
	 * default: loopback and private ranges, i.e. the plant's own network). Failures from other
	 * addresses are throttled per address but never lock an account, so nobody outside can lock
	 * the administrators out.
	 */
	TRACEWALL_TRUSTED_NETWORKS: z
		.string()
		.default('127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,::1/128,fc00::/7')
		.transform((s) =>
			s
				.split(',')
				.map((c) => c.trim())
				.filter(Boolean)
		)
		.pipe(z.array(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'a CIDR such as 10.0.0.0/8'))),
	/** Days after which a password must be changed; 0 = never (the default). */
	TRACEWALL_PASSWORD_MAX_AGE_DAYS: z.coerce.number().int().min(0).default(0),
	/**
	 * Password of the demo users (admin, operator, lead, qe, qa, manager) seeded when
	 * TRACEWALL_DEMO is on and the database has no users. Demo only: never on a real plant.
	 */
	TRACEWALL_DEMO_PASSWORD: z.string().min(12).default('wall-demo-Tracewall'),
	/** Comma-separated origins allowed to open browser sockets; empty = same origin only. */
	TRACEWALL_ALLOWED_ORIGINS: z
		.string()
		.default('')
		.transform((s) =>
			s
				.split(',')
				.map((o) => o.trim())
				.filter(Boolean)
		)
});

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
	constructor(readonly issues: string[]) {
		super(`Invalid environment:\n  ${issues.join('\n  ')}`);
		this.name = 'EnvError';
	}
}

/** Parse an environment (defaults to process.env); throws EnvError naming every bad key. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
	// Empty strings mean "unset" (docker-compose and shells often pass VAR= through).
	const cleaned = Object.fromEntries(
		Object.entries(source).filter(([, v]) => v !== undefined && v !== '')
	);
	const result = envSchema.safeParse(cleaned);
	if (!result.success) {
		throw new EnvError(
			result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
		);
	}
	return result.data;
}

let cached: Env | undefined;

/** The process's validated environment, parsed on first use. */
export function env(): Env {
	cached ??= parseEnv();
	return cached;
}
