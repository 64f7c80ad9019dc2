/**
 * `npm run audit:verify`: walk the audit trail's hash chain of the configured database (the
 * same DATABASE_URL / TRACEWALL_DATA_DIR as the server) and name the first broken link.
 *
 * Exit codes: 0 the chain is sound, 1 it is broken, 2 the database could not be opened (bad
 * configuration, or embedded PGlite held by a running server: stop it first, or verify a copy).
 * Prints the head (last id and hash): keep it outside the database to detect a cut-off tail.
 */
import { pgliteDir } from '../src/lib/server/app';
import { openDatabase, type Database } from '../src/lib/server/db';
import { EnvError, parseEnv } from '../src/lib/server/env';
import { verifyAuditChain } from '../src/lib/server/audit/verify';

async function main(): Promise<number> {
	let database: Database;
	try {
		const env = parseEnv();
		database = await openDatabase(
			env.DATABASE_URL
				? { url: env.DATABASE_URL, migrate: false }
				: { dataDir: pgliteDir(env), migrate: false }
		);
	} catch (error) {
		const message =
			error instanceof EnvError
				? error.message
				: error instanceof Error
					? error.message
					: String(error);
		process.stderr.write(`audit:verify: cannot open the database: ${message}\n`);
		return 2;
	}
	try {
		const result = await verifyAuditChain(database);
		if (result.ok) {
			const head = result.head ? ` head #${result.head.id} ${result.head.hash}` : '';
			process.stdout.write(`audit chain OK: ${result.checked} events${head}\n`);
			return 0;
		}
		const b = result.firstBroken!;
		process.stdout.write(
			`audit chain BROKEN at event #${b.id}: ${b.reason} (expected ${b.expected}, found ${b.actual}); ${result.checked} events before it are sound\n`
		);
		return 1;
	} finally {
		await database.close();
	}
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		process.stderr.write(
			`audit:verify failed: ${error instanceof Error ? error.stack : String(error)}\n`
		);
		process.exit(2);
	}
);
