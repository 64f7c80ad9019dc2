/**
 * Sample → browser latency under load: 50 socket.io clients subscribed to one line's room
 * while 10,000 samples/s flow through /ingest, paced in 100 ms ticks by the real ingest client
 * (durable spool, acks, in-flight window). Each sample's `ts` is its creation time (taken when
 * its tick's batch is built); every client records receive time − ts for every point of every
 * delta. The hub runs in its own process, so its CPU time (process.cpuUsage over the steady
 * window ÷ wall time) is the hub's alone. The clients run in a third process (client-swarm.ts)
 * so decoding every delta for 50 clients cannot starve the feeding worker; the feeder's and the
 * clients' CPU are reported beside the hub's.
 * Budgets (issue 3): p99 < 250 ms; hub CPU < 10 % of one core at that load (PostgreSQL: with
 * PGlite the database itself runs in the hub's process, so its CPU figure is reported only).
 */
import type { CharacteristicConfig, SampleTuple } from '../src/lib/realtime/events';
import type { Bench, BenchBudget, BenchFigure, BenchResult } from './index';
import { benchEnv, type BenchDatabaseKind } from './lib/env';
import { cpuFraction, startHubProcess, type HubProcess } from './lib/hub-process';
import { createScratchDatabase, type ScratchDatabase } from './lib/scratch-postgres';
import { LatencyHistogram } from './lib/stats';
import { startSwarm, type SwarmProcess } from './lib/swarm-process';
import { printTable, type Cell } from './lib/table';
import { samplesBatch } from './lib/rows';
import { openWorkerFeed, type WorkerFeed } from './lib/worker-feed';

const TICK_MS = 100;
const WARMUP_SECONDS = 5;
/** After the last tick, how long clients keep listening for the window's last points. */
const TAIL_MS = 2_000;
const TARGET_P99_MS = 250;
const TARGET_HUB_CPU = 0.1;
/** More unacknowledged batches than this means the hub cannot keep up: stop, don't pile on. */
const MAX_BACKLOG_BATCHES = 50;

/** Values near each characteristic's centre line, so the data looks like the plant's. */
function centreOf(c: CharacteristicConfig): number {
	return c.limits?.centre ?? c.spec.target ?? 0;
}

interface FeedOutcome {
	samplesInWindow: number;
	ticks: number;
	lateTicks: number;
	maxBacklog: number;
	/** Spooling a tick's batch (durable append with fdatasync): part of every sample's latency. */
	spoolAppend: LatencyHistogram;
}

interface FeedHooks {
	windowStartTick: number;
	onWindowStart(): Promise<void>;
	onWindowEnd(): Promise<void>;
}

/**
 * Feed `rate` samples/s in 100 ms ticks for `totalTicks` ticks (a bounded loop); each tick's
 * samples are stamped with the tick's creation time, spooled and kicked to the client, as the
 * simulator does with its batches.
 */
async function feed(
	worker: WorkerFeed,
	characteristics: CharacteristicConfig[],
	rate: number,
	totalTicks: number,
	hooks: FeedHooks
): Promise<FeedOutcome> {
	const perTick = Math.round((rate * TICK_MS) / 1000);
	const seq = new Map<number, number>(characteristics.map((c) => [c.id, 0]));
	const spoolAppend = new LatencyHistogram(10_000);
	let samplesInWindow = 0;
	let lateTicks = 0;
	let maxBacklog = 0;
	let noise = 1;
	const start = performance.now();
	for (let tick = 0; tick < totalTicks; tick++) {
		const wait = start + tick * TICK_MS - performance.now();
		if (wait > 0) await new Promise((r) => setTimeout(r, wait));
		else if (wait < -TICK_MS / 2) lateTicks++;
		if (tick === hooks.windowStartTick) await hooks.onWindowStart();
		const ts = Date.now();
		const samples: SampleTuple[] = new Array(perTick);
		for (let i = 0; i < perTick; i++) {
			const c = characteristics[i % characteristics.length];
			const n = seq.get(c.id) as number;
			seq.set(c.id, n + 1);
			noise = (noise * 16807) % 2147483647;
			samples[i] = [c.id, ts, n, centreOf(c) + (noise / 2147483647 - 0.5) * 0.01, 0];
		}
		if (tick >= hooks.windowStartTick) samplesInWindow += perTick;
		const t0 = performance.now();
		await worker.spool.append(samplesBatch(samples));
		spoolAppend.record(performance.now() - t0);
		worker.client.kick();
		const backlog = worker.spool.unacked().length;
		maxBacklog = Math.max(maxBacklog, backlog);
		if (backlog > MAX_BACKLOG_BATCHES) {
			throw new Error(`hub fell behind: ${backlog} batches unacknowledged at tick ${tick}`);
		}
	}
	await hooks.onWindowEnd();
	return { samplesInWindow, ticks: totalTicks, lateTicks, maxBacklog, spoolAppend };
}

interface LatencyOutcome {
	histogram: LatencyHistogram;
	expected: number;
	received: number;
	deltasPerClientPerSecond: number;
	gaps: number;
	hubCpu: number;
	/** Hub CPU split: user and kernel (system) time, each as a fraction of one core. */
	hubUserCpu: number;
	hubSystemCpu: number;
	/** Hub CPU time per sample fed in the window (µs): comparable across runs at other rates. */
	hubMicrosPerSample: number;
	feederCpu: number;
	clientsCpu: number;
	feed: FeedOutcome;
	characteristics: number;
}

async function measure(hub: HubProcess): Promise<LatencyOutcome> {
	const env = benchEnv();
	// The line with the most sample-plotted characteristics (every sample becomes a point).
	const plotted = hub.ready.characteristics.filter((c) => c.chart === 'imr');
	const byLine = new Map<number, CharacteristicConfig[]>();
	for (const c of plotted) byLine.set(c.lineId, [...(byLine.get(c.lineId) ?? []), c]);
	const [lineId, characteristics] = [...byLine.entries()].sort(
		(a, b) => b[1].length - a[1].length
	)[0];

	let swarm: SwarmProcess | null = null;
	let worker: WorkerFeed | null = null;
	try {
		swarm = await startSwarm({
			url: hub.url,
			lineId,
			clients: env.BENCH_LATENCY_CLIENTS,
			cookie: hub.ready.viewerCookie
		});
		worker = await openWorkerFeed({
			hubUrl: hub.url,
			token: hub.ready.token,
			maxInFlight: 4,
			label: 'latency'
		});
		const windowStartTick = WARMUP_SECONDS * (1000 / TICK_MS);
		const totalTicks = windowStartTick + env.BENCH_LATENCY_SECONDS * (1000 / TICK_MS);
		let hubFrom = { userMicros: 0, systemMicros: 0, atMs: 0 };
		let hubTo = hubFrom;
		let feederFrom = process.cpuUsage();
		let feederFromAt = 0;
		let feederCpu = NaN;
		let windowMs = NaN;
		const activeSwarm = swarm;
		const outcome = await feed(worker, characteristics, env.BENCH_LATENCY_RATE, totalTicks, {
			windowStartTick,
			async onWindowStart() {
				hubFrom = await hub.request({ cmd: 'cpu' });
				await activeSwarm.command({ cmd: 'window-start', from: Date.now() });
				feederFrom = process.cpuUsage();
				feederFromAt = performance.now();
			},
			async onWindowEnd() {
				const used = process.cpuUsage(feederFrom);
				windowMs = performance.now() - feederFromAt;
				feederCpu = (used.user + used.system) / 1000 / windowMs;
				hubTo = await hub.request({ cmd: 'cpu' });
				await activeSwarm.command({ cmd: 'window-end', to: Date.now() });
			}
		});
		await worker.client.drain(30_000);
		await new Promise((r) => setTimeout(r, TAIL_MS));
		const report = await swarm.report();
		return {
			histogram: LatencyHistogram.fromJSON(report.histogram),
			expected: outcome.samplesInWindow * env.BENCH_LATENCY_CLIENTS,
			received: report.received,
			deltasPerClientPerSecond: report.deltas / env.BENCH_LATENCY_CLIENTS / (windowMs / 1000),
			gaps: report.gaps,
			hubCpu: cpuFraction(hubFrom, hubTo),
			hubUserCpu: (hubTo.userMicros - hubFrom.userMicros) / 1000 / (hubTo.atMs - hubFrom.atMs),
			hubSystemCpu:
				(hubTo.systemMicros - hubFrom.systemMicros) / 1000 / (hubTo.atMs - hubFrom.atMs),
			hubMicrosPerSample:
				(hubTo.userMicros - hubFrom.userMicros + hubTo.systemMicros - hubFrom.systemMicros) /
				outcome.samplesInWindow,
			feederCpu,
			clientsCpu: report.cpu,
			feed: outcome,
			characteristics: characteristics.length
		};
	} finally {
		await worker?.close();
		await swarm?.stop();
	}
}

async function onDatabase(
	kind: BenchDatabaseKind,
	notes: string[]
): Promise<LatencyOutcome | null> {
	const env = benchEnv();
	let scratch: ScratchDatabase | null = null;
	if (kind === 'postgres') {
		scratch = await createScratchDatabase(env.TEST_DATABASE_URL);
		if (!scratch) {
			notes.push('PostgreSQL unreachable: its latency run was skipped');
			return null;
		}
	}
	let hub: HubProcess | null = null;
	try {
		hub = await startHubProcess(scratch ? { databaseUrl: scratch.url } : {});
		return await measure(hub);
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
		`${env.BENCH_LATENCY_CLIENTS} clients on one line room, ${env.BENCH_LATENCY_RATE} samples/s in ${TICK_MS} ms ticks, ${WARMUP_SECONDS} s warm-up + ${env.BENCH_LATENCY_SECONDS} s measured; ts = batch creation time (a worker's own batching interval adds to it in production)`
	];
	const rows: Cell[][] = [];
	for (const kind of env.BENCH_DATABASES) {
		const o = await onDatabase(kind, notes);
		if (!o) continue;
		const h = o.histogram;
		const p50 = h.quantile(0.5);
		const p99 = h.quantile(0.99);
		rows.push([
			kind,
			h.count(),
			p50,
			p99,
			h.quantile(0.999),
			h.max(),
			o.received / o.expected,
			o.gaps,
			o.deltasPerClientPerSecond,
			o.feed.spoolAppend.quantile(0.99),
			o.hubCpu * 100,
			o.feederCpu * 100,
			o.clientsCpu * 100
		]);
		figures.push({ label: `${kind}: latency p50`, value: p50, unit: 'ms' });
		figures.push({ label: `${kind}: latency p99`, value: p99, unit: 'ms' });
		figures.push({ label: `${kind}: latency max`, value: h.max(), unit: 'ms' });
		figures.push({ label: `${kind}: hub CPU`, value: o.hubCpu * 100, unit: '% of a core' });
		figures.push({ label: `${kind}: hub CPU per sample`, value: o.hubMicrosPerSample, unit: 'µs' });
		figures.push({ label: `${kind}: feeder CPU`, value: o.feederCpu * 100, unit: '% of a core' });
		figures.push({
			label: `${kind}: ${env.BENCH_LATENCY_CLIENTS} clients' CPU (decoding deltas)`,
			value: o.clientsCpu * 100,
			unit: '% of a core'
		});
		budgets.push({
			label: `${kind}: p99 < ${TARGET_P99_MS} ms`,
			met: p99 < TARGET_P99_MS,
			required: kind === 'postgres',
			detail: `p50 ${p50} ms, p99 ${p99} ms, max ${h.max()} ms over ${h.count().toLocaleString('en-US')} points`
		});
		budgets.push({
			label: `${kind}: hub CPU < ${TARGET_HUB_CPU * 100} % of a core`,
			met: o.hubCpu < TARGET_HUB_CPU,
			required: kind === 'postgres',
			detail: `${(o.hubCpu * 100).toFixed(1)} %${kind === 'pglite' ? ' (includes the embedded database)' : ''}`
		});
		if (o.received !== o.expected) {
			notes.push(
				`${kind}: clients received ${o.received} of ${o.expected} window points (${o.gaps} seq gaps: slow-client skips)`
			);
		}
		if (o.feed.lateTicks > 0)
			notes.push(`${kind}: feeder ticks late: ${o.feed.lateTicks}/${o.feed.ticks}`);
		notes.push(
			`${kind}: ${o.characteristics} characteristics on the line; worker backlog max ${o.feed.maxBacklog} batches`
		);
		// Kernel time is mostly socket writes (deltas to every client, rows to the database):
		// it grows with bytes sent, user time with JavaScript work per sample and per delta.
		notes.push(
			`${kind}: hub CPU ${(o.hubUserCpu * 100).toFixed(1)} % user + ${(o.hubSystemCpu * 100).toFixed(1)} % system; ${o.hubMicrosPerSample.toFixed(1)} µs per sample`
		);
	}
	printTable(
		'latency: sample creation → client receive, every point at every client',
		[
			'database',
			'points',
			'p50 ms',
			'p99 ms',
			'p99.9 ms',
			'max ms',
			'delivered',
			'gaps',
			'deltas/s/client',
			'spool p99 ms',
			'hub CPU %',
			'feeder CPU %',
			'clients CPU %'
		],
		rows
	);
	return { figures, budgets, notes };
}

export const bench: Bench = {
	name: 'latency',
	description: 'sample → browser latency with 50 subscribed clients at 10,000 samples/s',
	run
};
