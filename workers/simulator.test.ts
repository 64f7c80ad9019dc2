import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestConfig } from '../src/lib/realtime/events';
import { demoIngestConfig } from './lib/demo-config';
import { parseWorkerEnv, type WorkerEnv } from './lib/env';
import { FakeHub, TOKEN } from './lib/fake-hub';
import { startSimulator, type Simulator } from './simulator';

const CONFIG = demoIngestConfig();
const idOf = (code: string): number =>
	CONFIG.characteristics.find((c) => c.code === code)?.id ?? -1;
const silentLog = pino({ level: 'silent' });

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
	const start = Date.now();
	while (!check()) {
		if (Date.now() - start > timeoutMs) throw new Error('waitFor timed out');
		await new Promise((r) => setTimeout(r, 20));
	}
}

let dir: string;
let hub: FakeHub;
const running: Simulator[] = [];

function envFor(overrides: Record<string, string> = {}): WorkerEnv {
	return parseWorkerEnv({
		TRACEWALL_HUB_URL: `http://127.0.0.1:${hub.port}`,
		TRACEWALL_WORKER_TOKEN: TOKEN,
		TRACEWALL_SPOOL_DIR: dir,
		TRACEWALL_SIM_SPEED: '10',
		TRACEWALL_SPOOL_MAX_BYTES: String(8 * 1024 * 1024),
		...overrides
	});
}

async function start(): Promise<Simulator> {
	const sim = await startSimulator(envFor(), silentLog);
	running.push(sim);
	return sim;
}

beforeEach(async () => {
	dir = await mkdtemp(path.join(tmpdir(), 'tw-sim-'));
	hub = new FakeHub(CONFIG);
	await hub.start();
});

afterEach(async () => {
	for (const sim of running.splice(0)) await sim.stop('test over');
	await hub.stop();
	await rm(dir, { recursive: true, force: true });
});

describe('simulator worker against a hub', () => {
	it('delivers the documented first signal (Nelson 1 on IM1 injection pressure) and stops cleanly', async () => {
		const sim = await start();
		const id = idOf('IM1.INJ.PRESS');
		// At speed 10 the cause (5 s simulated) arrives after about 0.5 s.
		await waitFor(() =>
			hub.batches.some((b) =>
				b.violations.some((v) => v.characteristicId === id && v.rule === 'nelson1')
			)
		);
		await sim.stop('test');
		await sim.done;
		expect(sim.spool.unacked()).toEqual([]);
		expect(existsSync(path.join(dir, 'sim-state.json'))).toBe(true);
	});

	it('continues sequence numbers above everything sent after a restart', async () => {
		const first = await start();
		await waitFor(() => hub.batches.length >= 3);
		await first.stop('restart');
		const sent = hub.batches.flatMap((b) => b.samples);
		const maxSeq = new Map<number, number>();
		for (const [id, , seq] of sent) maxSeq.set(id, Math.max(seq, maxSeq.get(id) ?? -1));
		const before = hub.batches.length;

		await start();
		await waitFor(() => hub.batches.length >= before + 3);
		const after = hub.batches.slice(before).flatMap((b) => b.samples);
		for (const [id, , seq] of after) {
			if (maxSeq.has(id)) expect(seq).toBeGreaterThan(maxSeq.get(id) as number);
		}
	});

	it('keeps batches the hub does not acknowledge and delivers them after the hub comes back', async () => {
		hub.reply = () => null;
		const sim = await start();
		await waitFor(() => hub.batches.length >= 3);
		const unackedIds = sim.spool.unacked().map((e) => e.batchId);
		expect(unackedIds.length).toBeGreaterThan(0);
		hub.reply = (b) => ({
			ok: true,
			data: {
				batchId: b.batchId,
				accepted: b.samples.length,
				duplicates: 0,
				quarantined: 0,
				rejected: []
			}
		});
		hub.disconnectAll();
		await waitFor(() =>
			unackedIds.every((id) => !sim.spool.unacked().some((e) => e.batchId === id))
		);
		const resent = hub.received.filter((id) => unackedIds.includes(id));
		expect(resent.length).toBeGreaterThanOrEqual(2 * unackedIds.length);
	});

	it('applies new limits pushed by the hub while running', async () => {
		await start();
		await waitFor(() => hub.batches.length >= 2);
		// The X̄-R hub diameter plots every 10 s simulated (1 s at speed 10) and has no cause early on.
		const id = idOf('IM1.HUB.OD');
		const shifted: IngestConfig = {
			revision: 2,
			characteristics: CONFIG.characteristics.map((c) =>
				c.id === id && c.limits ? { ...c, limits: { ...c.limits, version: 2, centre: 7.4 } } : c
			)
		};
		const from = hub.batches.length;
		hub.publish(shifted);
		const signal = () =>
			hub.batches
				.slice(from)
				.flatMap((b) => b.violations)
				.find((v) => v.characteristicId === id && v.rule === 'nelson1');
		await waitFor(() => signal() !== undefined);
		// The process still runs at 7.5 mm: far above limits centred on 7.4 mm (σ 0.01 mm).
		expect(signal()?.side).toBe('upper');
	});
});

describe('simulator worker with a full spool', () => {
	it('stops acquiring while the spool is full, resumes after acks, and loses no sample', async () => {
		hub.reply = () => null;
		const sim = await startSimulator(
			envFor({ TRACEWALL_SPOOL_MAX_BYTES: String(64 * 1024) }),
			silentLog
		);
		running.push(sim);
		await waitFor(() => (sim.engine()?.stats().notAcquired ?? 0) > 0);
		expect(sim.spool.stats().bytes).toBeLessThanOrEqual(64 * 1024);
		hub.reply = (b) => ({
			ok: true,
			data: {
				batchId: b.batchId,
				accepted: b.samples.length,
				duplicates: 0,
				quarantined: 0,
				rejected: []
			}
		});
		hub.disconnectAll();
		const resumedAfter = sim.engine()?.stats().generated ?? 0;
		await waitFor(() => (sim.engine()?.stats().generated ?? 0) > resumedAfter + 500);
		await sim.stop('test');
		// Every sample generated reached the hub: per characteristic the seqs received form an
		// unbroken run (samples not acquired while full never got a seq).
		const seqs = new Map<number, Set<number>>();
		for (const [id, , seq] of hub.batches.flatMap((b) => b.samples)) {
			if (!seqs.has(id)) seqs.set(id, new Set());
			seqs.get(id)?.add(seq);
		}
		expect(seqs.size).toBe(CONFIG.characteristics.length);
		for (const set of seqs.values()) {
			const sorted = [...set].sort((a, b) => a - b);
			expect(sorted[sorted.length - 1] - sorted[0] + 1).toBe(sorted.length);
		}
		expect(sim.spool.unacked()).toEqual([]);
	});
});

describe('simulator process', () => {
	const tsx = path.resolve('node_modules/.bin/tsx');

	function runProcess(env: Record<string, string>) {
		const child = spawn(tsx, ['workers/simulator.ts'], {
			env: { PATH: process.env.PATH ?? '', ...env },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let out = '';
		child.stdout.on('data', (d: Buffer) => (out += d.toString()));
		child.stderr.on('data', (d: Buffer) => (out += d.toString()));
		const exited = new Promise<number | null>((resolve) =>
			child.on('exit', (code) => resolve(code))
		);
		return { child, exited, output: () => out };
	}

	it('runs under tsx, and exits 0 after SIGTERM once its batches are acknowledged', async () => {
		const p = runProcess({
			TRACEWALL_HUB_URL: `http://127.0.0.1:${hub.port}`,
			TRACEWALL_WORKER_TOKEN: TOKEN,
			TRACEWALL_SPOOL_DIR: dir,
			TRACEWALL_SIM_SPEED: '10'
		});
		await waitFor(() => hub.batches.length >= 3, 20_000);
		p.child.kill('SIGTERM');
		expect(await p.exited).toBe(0);
		expect(p.output()).toMatch(/"msg":"stopped"/);
		expect(p.output()).toMatch(/every batch acknowledged/);
	}, 30_000);

	it('exits 1 naming every bad environment variable', async () => {
		const p = runProcess({ TRACEWALL_SIM_SPEED: 'fast' });
		expect(await p.exited).toBe(1);
		expect(p.output()).toMatch(/TRACEWALL_WORKER_TOKEN/);
		expect(p.output()).toMatch(/TRACEWALL_SIM_SPEED/);
	}, 30_000);
});
