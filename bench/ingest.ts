/**
 * Ingest throughput: samples per second through the full path — the real /ingest client
 * (workers/lib/ingest-client.ts) draining its durable spool over socket.io with acks and its
 * in-flight window, into a real hub (createHub on an HTTP server on port 0, in its own process)
 * that validates, persists each batch in one transaction (samples/writer.ts) and fans out —
 * against raw bulk inserts of the SAME rows into the SAME database in the same run:
 * - PostgreSQL (a scratch database created for the run and dropped): `COPY … FROM STDIN`
 *   through postgres.js on the no-delay pool openDatabase built; also raw `unnest` INSERTs.
 * - PGlite (in memory, inside the hub process): `COPY … FROM '/dev/blob'` and `unnest`; the
 *   faster is the baseline.
 * Every run starts from an empty sample table, after a warm-up of both paths. A second, smaller
 * comparison uses batches the size the simulator sends at plant rate (BENCH_INGEST_SMALL_BATCH,
 * default 25): how fast a spool backlog drains after an outage.
 * Budget (issue 3): full path ≥ 0.5 × raw COPY on PostgreSQL. PGlite is reported, not judged.
 */
import type { Bench, BenchBudget, BenchFigure, BenchResult } from './index';
import { benchEnv, type BenchDatabaseKind } from './lib/env';
import { cpuFraction, startHubProcess, type HubProcess } from './lib/hub-process';
import type { RawMethod } from './lib/raw-insert';
import { chunk, generateRows, samplesBatch, type RowSpec } from './lib/rows';
import { createScratchDatabase, type ScratchDatabase } from './lib/scratch-postgres';
import { printTable, type Cell } from './lib/table';
import { openWorkerFeed } from './lib/worker-feed';

const TARGET_RATIO = 0.5;
/** PGlite runs inside the hub's event loop and is ~10× slower: fewer rows keep the run short. */
const PGLITE_ROW_SHARE = 0.25;
const WARMUP_SHARE = 0.1;
/** Small-batch runs move this share of the rows (per-batch costs make them ~10× slower). */
const SMALL_BATCH_ROW_SHARE = 0.1;
const DRAIN_TIMEOUT_MS = 600_000;

interface RunFigure {
	path: string;
	rows: number;
	/** Samples per batch (= per transaction). */
	batch: number;
	ms: number;
	/** CPU over the run, fraction of a core: the hub process (which also runs the raw inserts)… */
	hubCpu?: number;
	/** …and this process (the worker: spool reads, socket.io client). */
	workerCpu?: number;
}

function rowsPerSecond(r: RunFigure): number {
	return (r.rows / r.ms) * 1000;
}

/** One run of the full path: spool the batches (not timed), then time kick → every ack. */
async function fullPath(
	hub: HubProcess,
	spec: RowSpec,
	batchSize: number,
	window: number
): Promise<RunFigure> {
	const feed = await openWorkerFeed({
		hubUrl: hub.url,
		token: hub.ready.token,
		maxInFlight: window,
		label: 'ingest'
	});
	try {
		const batches = chunk(generateRows(spec), batchSize).map(samplesBatch);
		for (const batch of batches) await feed.spool.append(batch);
		const t0 = performance.now();
		feed.client.kick();
		const drained = await feed.client.drain(DRAIN_TIMEOUT_MS);
		const ms = performance.now() - t0;
		const stats = feed.client.stats();
		if (!drained || stats.acked !== batches.length || stats.deadLettered > 0) {
			throw new Error(
				`full path incomplete: ${stats.acked}/${batches.length} acked, ${stats.deadLettered} refused, ${stats.retries} retries`
			);
		}
		const stored = await hub.request({ cmd: 'count' });
		if (stored !== spec.rows) throw new Error(`full path stored ${stored} of ${spec.rows} rows`);
		const retries = stats.retries > 0 ? ` (${stats.retries} retries)` : '';
		return {
			path: `full path: ingest client → hub → writer${retries}`,
			rows: spec.rows,
			batch: batchSize,
			ms
		};
	} finally {
		await feed.close();
	}
}

async function raw(
	hub: HubProcess,
	method: RawMethod,
	spec: RowSpec,
	batchSize: number
): Promise<RunFigure> {
	const { ms, rows } = await hub.request({ cmd: 'raw', method, spec, batchSize });
	const stored = await hub.request({ cmd: 'count' });
	if (stored !== rows) throw new Error(`raw ${method} stored ${stored} of ${rows} rows`);
	const label =
		method === 'copy'
			? hub.ready.databaseKind === 'postgres'
				? 'raw COPY FROM STDIN (postgres.js)'
				: "raw COPY FROM '/dev/blob'"
			: method === 'unnest'
				? 'raw INSERT … unnest'
				: 'writeBatch alone (no socket, no hub)';
	return { path: label, rows, batch: batchSize, ms };
}

interface DatabaseOutcome {
	kind: BenchDatabaseKind;
	runs: RunFigure[];
	full: RunFigure;
	/** What the budget compares with: raw COPY on PostgreSQL, the fastest raw path on PGlite. */
	baseline: RunFigure;
	/** The fastest raw run of any method. */
	bestRaw: RunFigure;
	/** The same comparison with batches the size the simulator sends at plant rate. */
	small: { full: RunFigure; copy: RunFigure } | null;
}

async function measure(kind: BenchDatabaseKind, hub: HubProcess): Promise<DatabaseOutcome> {
	const env = benchEnv();
	const rows = Math.round(env.BENCH_INGEST_ROWS * (kind === 'pglite' ? PGLITE_ROW_SHARE : 1));
	const ids = hub.ready.characteristics.map((c) => c.id);
	// Well inside the hub's accepted window (7 days back, 1 minute ahead); 10 ms apart per id.
	const spec: RowSpec = {
		characteristicIds: ids,
		rows,
		startMs: Date.now() - 2 * 3600_000,
		stepMs: 10,
		seed: 42
	};
	const batch = env.BENCH_INGEST_BATCH;
	const window = env.BENCH_INGEST_WINDOW;
	const warm: RowSpec = { ...spec, rows: Math.max(batch * 4, Math.round(rows * WARMUP_SHARE)) };

	// Warm-up (JIT, plans, caches) of both paths; not reported.
	await raw(hub, 'copy', warm, batch);
	await hub.request({ cmd: 'truncate' });
	await fullPath(hub, warm, batch, window);
	await hub.request({ cmd: 'truncate' });

	// Raw, full, raw again: the two baseline runs bracket the full path and show the noise.
	const runs: RunFigure[] = [];
	const copyRuns: RunFigure[] = [];
	const step = async (run: () => Promise<RunFigure>) => {
		const hubFrom = await hub.request({ cmd: 'cpu' });
		const workerFrom = process.cpuUsage();
		const workerFromAt = performance.now();
		const figure = await run();
		const worker = process.cpuUsage(workerFrom);
		figure.workerCpu = (worker.user + worker.system) / 1000 / (performance.now() - workerFromAt);
		figure.hubCpu = cpuFraction(hubFrom, await hub.request({ cmd: 'cpu' }));
		await hub.request({ cmd: 'truncate' });
		runs.push(figure);
		return figure;
	};
	copyRuns.push(await step(() => raw(hub, 'copy', spec, batch)));
	const unnest = await step(() => raw(hub, 'unnest', spec, batch));
	await step(() => raw(hub, 'writer', spec, batch));
	const full = await step(() => fullPath(hub, spec, batch, window));
	copyRuns.push(await step(() => raw(hub, 'copy', spec, batch)));

	// The budget's baseline is the best run of the driver's COPY on PostgreSQL (the issue names
	// COPY), the best raw bulk path at all on PGlite (its COPY goes through a virtual file).
	const best = (list: RunFigure[]) =>
		list.reduce((a, b) => (rowsPerSecond(b) > rowsPerSecond(a) ? b : a));
	const bestRaw = best([...copyRuns, unnest]);
	const baseline = kind === 'postgres' ? best(copyRuns) : bestRaw;

	// Small batches: what draining a simulator's spool after an outage looks like (the client
	// sends spooled batches as they are). Per-batch costs dominate here; reported, not judged.
	let small: DatabaseOutcome['small'] = null;
	const smallBatch = env.BENCH_INGEST_SMALL_BATCH;
	if (smallBatch > 0) {
		const smallSpec: RowSpec = { ...spec, rows: Math.round(rows * SMALL_BATCH_ROW_SHARE) };
		const copy = await step(() => raw(hub, 'copy', smallSpec, smallBatch));
		small = { copy, full: await step(() => fullPath(hub, smallSpec, smallBatch, window)) };
	}
	return { kind, runs, full, baseline, bestRaw, small };
}

async function onDatabase(
	kind: BenchDatabaseKind,
	notes: string[]
): Promise<DatabaseOutcome | null> {
	const env = benchEnv();
	let scratch: ScratchDatabase | null = null;
	if (kind === 'postgres') {
		scratch = await createScratchDatabase(env.TEST_DATABASE_URL);
		if (!scratch) {
			notes.push('PostgreSQL unreachable: its ingest comparison was skipped');
			return null;
		}
	}
	let hub: HubProcess | null = null;
	try {
		hub = await startHubProcess(scratch ? { databaseUrl: scratch.url } : {});
		return await measure(kind, hub);
	} finally {
		await hub?.stop();
		await scratch?.drop();
	}
}

async function run(): Promise<BenchResult> {
	const env = benchEnv();
	const figures: BenchFigure[] = [];
	const budgets: BenchBudget[] = [];
	const notes: string[] = [
		`batches of ${env.BENCH_INGEST_BATCH} samples, ${env.BENCH_INGEST_WINDOW} in flight, one transaction each; hub in its own process`
	];
	const tableRows: Cell[][] = [];
	for (const kind of env.BENCH_DATABASES) {
		const outcome = await onDatabase(kind, notes);
		if (!outcome) continue;
		const base = rowsPerSecond(outcome.baseline);
		const smallBase = outcome.small ? rowsPerSecond(outcome.small.copy) : NaN;
		for (const r of outcome.runs) {
			const relativeTo = r.batch === outcome.baseline.batch ? base : smallBase;
			tableRows.push([
				kind,
				r.path,
				r.batch,
				r.rows,
				r.ms / 1000,
				rowsPerSecond(r),
				rowsPerSecond(r) / relativeTo,
				(r.hubCpu ?? NaN) * 100,
				(r.workerCpu ?? NaN) * 100
			]);
		}
		if (outcome.small) {
			const smallFull = rowsPerSecond(outcome.small.full);
			figures.push({
				label: `${kind}: full path, batches of ${outcome.small.full.batch}`,
				value: smallFull,
				unit: 'rows/s'
			});
			figures.push({
				label: `${kind}: … / raw COPY with the same batches`,
				value: smallFull / smallBase,
				unit: '×'
			});
		}
		const full = rowsPerSecond(outcome.full);
		const ratio = full / base;
		figures.push({ label: `${kind}: full path`, value: full, unit: 'rows/s' });
		figures.push({
			label: `${kind}: raw baseline (${outcome.baseline.path})`,
			value: base,
			unit: 'rows/s'
		});
		figures.push({ label: `${kind}: full path / raw baseline`, value: ratio, unit: '×' });
		if (outcome.bestRaw !== outcome.baseline) {
			figures.push({
				label: `${kind}: full path / fastest raw (${outcome.bestRaw.path})`,
				value: full / rowsPerSecond(outcome.bestRaw),
				unit: '×'
			});
		}
		budgets.push({
			label: `${kind}: full path ≥ ${TARGET_RATIO} × raw bulk insert`,
			met: ratio >= TARGET_RATIO,
			required: kind === 'postgres',
			detail: `${ratio.toFixed(2)} × (${Math.round(full).toLocaleString('en-US')} vs ${Math.round(base).toLocaleString('en-US')} rows/s)`
		});
	}
	printTable(
		'ingest: same rows, same database, empty table each run (× = vs the baseline of the same batch size)',
		['database', 'path', 'batch', 'rows', 's', 'rows/s', '× baseline', 'hub CPU %', 'worker CPU %'],
		tableRows
	);
	return { figures, budgets, notes };
}

export const bench: Bench = {
	name: 'ingest',
	description: 'rows/s worker → /ingest → hub → database vs raw bulk insert of the same rows',
	run
};
