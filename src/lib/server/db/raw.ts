/**
 * The raw-SQL escape hatch for hot paths (bulk sample writes, partition maintenance), working on
 * both drivers and inside Drizzle transactions.
 *
 * Why through Drizzle rather than the bare clients: a transaction must be able to mix builder
 * queries and raw statements, and PGlite is single-connection (a bare `client.query` issued inside
 * an open Drizzle transaction would wait for the transaction's own lock forever).
 *
 * Result conventions (both drivers differ, STACK.md pitfall 3): PGlite returns `{ rows }`,
 * postgres.js an array; Drizzle's postgres.js driver also turns its date parsers off. So raw
 * queries must select only types both drivers parse the same way: int4, float8, bool, text,
 * jsonb. Cast bigint to float8 and timestamps to epoch milliseconds (`epochMs` below).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/** Anything that can run a Drizzle `execute` (the database or an open transaction). */
export type Executor = Pick<PgDatabase<PgQueryResultHKT, Record<string, unknown>>, 'execute'>;

export type Row = Record<string, unknown>;

/** Raw statements with `$1…$n` placeholders; params are sent as bound parameters, never inlined. */
export interface RawQuery {
	query<T extends object = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

const PLACEHOLDER = /\$(\d+)/g;

/** Build a Drizzle SQL object from text with `$n` placeholders (Drizzle renumbers them). */
export function rawSql(text: string, params: readonly unknown[] = []): SQL {
	const chunks: SQL[] = [];
	let last = 0;
	for (const match of text.matchAll(PLACEHOLDER)) {
		const index = Number(match[1]) - 1;
		if (index < 0 || index >= params.length) {
			throw new RangeError(`rawSql: placeholder ${match[0]} has no parameter`);
		}
		chunks.push(sql.raw(text.slice(last, match.index)));
		chunks.push(sql`${sql.param(params[index])}`);
		last = match.index + match[0].length;
	}
	chunks.push(sql.raw(text.slice(last)));
	return sql.join(chunks);
}

/** Normalise both drivers' `execute` results to an array of row objects. */
export function rowsOf<T>(result: unknown): T[] {
	if (Array.isArray(result)) return result as T[];
	if (result !== null && typeof result === 'object' && 'rows' in result) {
		const rows = (result as { rows: unknown }).rows;
		if (Array.isArray(rows)) return rows as T[];
	}
	throw new TypeError('rowsOf: unrecognised driver result');
}

export function rawQuery(executor: Executor): RawQuery {
	return {
		async query<T extends object = Row>(text: string, params: readonly unknown[] = []) {
			return rowsOf<T>(await executor.execute(rawSql(text, params)));
		}
	};
}

/** SQL expression: a timestamptz column as epoch milliseconds (float8, exact for whole ms). */
export function epochMs(column: string): string {
	return `(extract(epoch from ${column}) * 1000)::float8`;
}

/**
 * SQL expression: epoch milliseconds (a float8 expression) as timestamptz. Interval arithmetic
 * keeps whole milliseconds exact, where `to_timestamp(ms / 1000.0)` would round through binary
 * fractions of a second.
 */
export function fromEpochMs(expression: string): string {
	return `(timestamptz 'epoch' + ${expression} * interval '1 millisecond')`;
}
