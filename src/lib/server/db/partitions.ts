/**
 * Daily range partitions of `sample`, created ahead of time.
 *
 * Policy: one partition per UTC day from (now − 2 days) to (now + 7 days), named
 * `sample_pYYYYMMDD`, plus the DEFAULT partition `sample_default` created by migration 0001.
 * Run at open and hourly by the hub; idempotent and safe to run concurrently (advisory lock).
 *
 * The DEFAULT partition trade-off: it guarantees that a write never fails for want of a
 * partition (a sample far in the past, or maintenance that fell behind), at three costs:
 * - queries whose time range is not fully covered by daily partitions also scan the default
 *   partition (keep it small: it should only hold stragglers);
 * - creating a daily partition whose range already has rows in the default partition would
 *   fail, so those rows are first moved into the new table, which is then attached (below);
 * - attaching scans the default partition to prove it holds no row of the new range.
 * Retention (dropping old daily partitions) is a separate policy, not done here.
 */
import type { RawQuery } from './raw';

export const PARTITION_DAYS_BEHIND = 2;
export const PARTITION_DAYS_AHEAD = 7;
const DAY_MS = 86_400_000;
/** Arbitrary constant key of the advisory lock that serialises partition maintenance. */
const PARTITION_LOCK_KEY = 7_341_001;

export interface PartitionRunner extends RawQuery {
	transaction<T>(fn: (tx: RawQuery) => Promise<T>): Promise<T>;
}

function utcDayStart(ms: number): number {
	return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function partitionName(dayStartMs: number): string {
	return `sample_p${new Date(dayStartMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** Start of every UTC day whose partition should exist at `now`. */
export function partitionDays(now: Date): number[] {
	const today = utcDayStart(now.getTime());
	const days: number[] = [];
	for (let d = -PARTITION_DAYS_BEHIND; d <= PARTITION_DAYS_AHEAD; d++)
		days.push(today + d * DAY_MS);
	return days;
}

/** Names of the existing partitions of `sample` (including `sample_default`). */
export async function listPartitions(runner: RawQuery): Promise<string[]> {
	const rows = await runner.query<{ name: string }>(
		`SELECT c.relname AS name FROM pg_inherits i
		 JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = 'sample'::regclass ORDER BY c.relname`
	);
	return rows.map((r) => r.name);
}

export async function ensurePartitions(
	runner: PartitionRunner,
	now: Date = new Date()
): Promise<void> {
	await ensureDailyPartitions(runner, partitionDays(now));
}

/**
 * Partitions for every UTC day from `from` to `to` (inclusive): a backfill of history (the
 * large-history generator, scripts/generate-history.ts) needs a whole year of them.
 */
export async function ensurePartitionRange(
	runner: PartitionRunner,
	from: Date,
	to: Date
): Promise<void> {
	const days: number[] = [];
	for (let day = utcDayStart(from.getTime()); day <= to.getTime(); day += DAY_MS) days.push(day);
	await ensureDailyPartitions(runner, days);
}

async function ensureDailyPartitions(runner: PartitionRunner, wanted: number[]): Promise<void> {
	const existing = new Set(await listPartitions(runner));
	const missing = wanted.filter((day) => !existing.has(partitionName(day)));
	if (missing.length === 0) return;
	await runner.transaction(async (tx) => {
		await tx.query(`SELECT pg_advisory_xact_lock(${PARTITION_LOCK_KEY})`);
		// Re-read under the lock: another process may have created some meanwhile.
		const present = new Set(await listPartitions(tx));
		for (const day of missing) {
			const name = partitionName(day);
			if (present.has(name)) continue;
			await createDailyPartition(tx, name, day);
		}
	});
}

async function createDailyPartition(tx: RawQuery, name: string, dayStartMs: number): Promise<void> {
	// Names and bounds come from our own arithmetic, never from input; still quoted.
	const from = new Date(dayStartMs).toISOString();
	const to = new Date(dayStartMs + DAY_MS).toISOString();
	const bounds = `FROM ('${from}') TO ('${to}')`;
	const stragglers = await tx.query(
		`SELECT 1 AS one FROM sample_default WHERE ts >= $1::timestamptz AND ts < $2::timestamptz LIMIT 1`,
		[from, to]
	);
	if (stragglers.length === 0) {
		await tx.query(`CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF sample FOR VALUES ${bounds}`);
		return;
	}
	// Rows of this day already sit in the default partition: move them, then attach.
	await tx.query(`CREATE TABLE "${name}" (LIKE sample INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
	await tx.query(
		`WITH moved AS (
			DELETE FROM sample_default WHERE ts >= $1::timestamptz AND ts < $2::timestamptz RETURNING *
		) INSERT INTO "${name}" SELECT * FROM moved`,
		[from, to]
	);
	await tx.query(`ALTER TABLE sample ATTACH PARTITION "${name}" FOR VALUES ${bounds}`);
}
