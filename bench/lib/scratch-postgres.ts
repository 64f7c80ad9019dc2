/**
 * A fresh PostgreSQL database per benchmark run, created from the configured server and dropped
 * afterwards, so runs never see each other's rows (or a test suite's) and a crashed run leaves
 * at most one clearly named database behind.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface ScratchDatabase {
	url: string;
	name: string;
	drop(): Promise<void>;
}

function adminClient(url: string): postgres.Sql {
	return postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
}

/** Null when the server cannot be reached (the PostgreSQL runs are then skipped with a note). */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase | null> {
	const admin = adminClient(adminUrl);
	const name = `tracewall_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
	try {
		await admin`SELECT 1`;
	} catch (error) {
		console.error(`  PostgreSQL at ${redact(adminUrl)} unreachable:`, (error as Error).message);
		await admin.end({ timeout: 1 });
		return null;
	}
	try {
		await admin.unsafe(`CREATE DATABASE "${name}"`);
	} finally {
		await admin.end({ timeout: 5 });
	}
	const url = new URL(adminUrl);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		name,
		async drop() {
			const sql = adminClient(adminUrl);
			try {
				// FORCE (PostgreSQL 13+): a client still connected must not keep the database alive.
				await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
			} finally {
				await sql.end({ timeout: 5 });
			}
		}
	};
}

/** A connection string without its password, for messages. */
export function redact(url: string): string {
	try {
		const u = new URL(url);
		if (u.password) u.password = '***';
		return u.toString();
	} catch {
		// Not a URL: say nothing about it rather than echo a secret.
		return '(invalid url)';
	}
}
