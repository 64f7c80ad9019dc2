import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestBatch, IngestConfig } from '../../src/lib/realtime/events';
import { FakeHub, TOKEN } from './fake-hub';
import { createIngestClient, type IngestClient, type IngestClientOptions } from './ingest-client';
import { openSpool, type Spool } from './spool';

const CONFIG: IngestConfig = { revision: 3, characteristics: [] };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function batch(id: string): IngestBatch {
	return {
		batchId: id,
		samples: [[1, 1_700_000_000_000, 1, 20.5, 0]],
		subgroups: [],
		violations: [],
		suspects: []
	};
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
	const start = Date.now();
	while (!check()) {
		if (Date.now() - start > timeoutMs) throw new Error('waitFor timed out');
		await new Promise((r) => setTimeout(r, 10));
	}
}

let dir: string;
let hub: FakeHub;
let spool: Spool;
const clients: IngestClient[] = [];
const deadLetters: { batch: IngestBatch; reason: string }[] = [];
const configs: IngestConfig[] = [];

function client(overrides: Partial<IngestClientOptions> = {}): IngestClient {
	const c = createIngestClient({
		hubUrl: `http://127.0.0.1:${hub.port}`,
		token: TOKEN,
		spool,
		log: silent,
		onConfig: (cfg) => configs.push(cfg),
		deadLetter: async (b, reason) => {
			deadLetters.push({ batch: b, reason });
			return true;
		},
		onFatal: () => {},
		backoffMinMs: 20,
		backoffMaxMs: 100,
		ackTimeoutMs: 2000,
		...overrides
	});
	clients.push(c);
	return c;
}

beforeEach(async () => {
	dir = await mkdtemp(path.join(tmpdir(), 'tw-ingest-'));
	spool = await openSpool({ dir, maxBytes: 1_000_000, fsync: false });
	hub = new FakeHub(CONFIG);
	await hub.start();
	deadLetters.length = 0;
	configs.length = 0;
});

afterEach(async () => {
	for (const c of clients.splice(0)) await c.close();
	await spool.close();
	await hub.stop();
	await rm(dir, { recursive: true, force: true });
});

describe('ingest client delivery', () => {
	it('sends spooled batches in order and forgets them once acknowledged', async () => {
		for (const id of ['a', 'b', 'c']) await spool.append(batch(id));
		const c = client();
		c.kick();
		expect(await c.drain(5000)).toBe(true);
		expect(hub.received).toEqual(['a', 'b', 'c']);
		expect(spool.unacked()).toEqual([]);
		expect(c.stats()).toMatchObject({ acked: 3, deadLettered: 0 });
	});

	it('receives the configuration on connect and on request', async () => {
		const c = client();
		await waitFor(() => configs.length === 1);
		expect(configs[0]).toEqual(CONFIG);
		expect(await c.requestConfig()).toEqual(CONFIG);
		expect(c.stats().configRevision).toBe(3);
	});

	it('keeps at most maxInFlight batches awaiting an ack', async () => {
		hub.reply = () => null;
		for (let i = 0; i < 10; i++) await spool.append(batch(`b${i}`));
		const c = client({ maxInFlight: 3 });
		c.kick();
		await waitFor(() => hub.received.length === 3);
		await new Promise((r) => setTimeout(r, 200));
		expect(hub.received).toEqual(['b0', 'b1', 'b2']);
		expect(c.stats().inFlight).toBe(3);
	});
});

describe('ingest client resends what was not acknowledged', () => {
	it('resends unacknowledged batches with the same ids after the hub drops the connection', async () => {
		hub.reply = () => null; // the first delivery is never acknowledged
		for (const id of ['a', 'b']) await spool.append(batch(id));
		const c = client();
		c.kick();
		await waitFor(() => hub.received.length === 2);
		hub.reply = (b) => ({
			ok: true,
			data: { batchId: b.batchId, accepted: 1, duplicates: 0, quarantined: 0, rejected: [] }
		});
		hub.disconnectAll();
		expect(await c.drain(5000)).toBe(true);
		expect(hub.received).toEqual(['a', 'b', 'a', 'b']);
		expect(spool.unacked()).toEqual([]);
	});

	it('resends after the hub restarts on the same port', async () => {
		await spool.append(batch('a'));
		hub.reply = () => null;
		const c = client();
		c.kick();
		await waitFor(() => hub.received.length === 1);
		const port = hub.port;
		await hub.stop();
		hub = new FakeHub(CONFIG);
		await hub.start(port);
		expect(await c.drain(8000)).toBe(true);
		expect(hub.received).toEqual(['a']);
	});

	it('resends after a worker restart from the reopened spool', async () => {
		hub.reply = () => null;
		for (const id of ['a', 'b']) await spool.append(batch(id));
		const first = client();
		first.kick();
		await waitFor(() => hub.received.length === 2);
		await first.close();
		await spool.close();

		hub.reply = (b) => ({
			ok: true,
			data: { batchId: b.batchId, accepted: 1, duplicates: 0, quarantined: 0, rejected: [] }
		});
		spool = await openSpool({ dir, maxBytes: 1_000_000, fsync: false });
		expect(spool.unacked().map((e) => e.batchId)).toEqual(['a', 'b']);
		const second = client();
		second.kick();
		expect(await second.drain(5000)).toBe(true);
		expect(hub.received).toEqual(['a', 'b', 'a', 'b']);
	});

	it('retries a batch the hub cannot take now, and keeps it until then', async () => {
		let refusals = 2;
		hub.reply = (b) =>
			refusals-- > 0
				? { ok: false, error: 'unavailable' }
				: {
						ok: true,
						data: { batchId: b.batchId, accepted: 1, duplicates: 0, quarantined: 0, rejected: [] }
					};
		await spool.append(batch('a'));
		const c = client();
		c.kick();
		expect(await c.drain(5000)).toBe(true);
		expect(hub.received).toEqual(['a', 'a', 'a']);
		expect(c.stats().retries).toBe(2);
	});
});

describe('ingest client refusals', () => {
	it('moves a batch the hub refuses for good to the dead-letter store, then off the spool', async () => {
		hub.reply = (b) =>
			b.batchId === 'bad'
				? { ok: false, error: 'bad_request', message: 'malformed' }
				: {
						ok: true,
						data: { batchId: b.batchId, accepted: 1, duplicates: 0, quarantined: 0, rejected: [] }
					};
		for (const id of ['ok1', 'bad', 'ok2']) await spool.append(batch(id));
		const c = client();
		c.kick();
		expect(await c.drain(5000)).toBe(true);
		expect(deadLetters.map((d) => d.batch.batchId)).toEqual(['bad']);
		expect(deadLetters[0].reason).toMatch(/^bad_request/);
		expect(c.stats()).toMatchObject({ acked: 2, deadLettered: 1 });
	});

	it('keeps a permanently refused batch in the spool while the dead-letter store cannot take it', async () => {
		hub.reply = () => ({ ok: false, error: 'bad_request' });
		await spool.append(batch('bad'));
		const c = client({ deadLetter: async () => false });
		c.kick();
		await waitFor(() => hub.received.length >= 2);
		expect(spool.unacked().map((e) => e.batchId)).toEqual(['bad']);
	});

	it('keeps individually refused samples in the dead-letter store', async () => {
		hub.reply = (b) => ({
			ok: true,
			data: {
				batchId: b.batchId,
				accepted: 0,
				duplicates: 0,
				quarantined: 0,
				rejected: [{ index: 0, reason: 'future_timestamp' }]
			}
		});
		await spool.append(batch('a'));
		const c = client();
		c.kick();
		expect(await c.drain(5000)).toBe(true);
		expect(deadLetters).toHaveLength(1);
		expect(deadLetters[0].batch.samples).toEqual(batch('a').samples.map((s) => [...s]));
		expect(deadLetters[0].reason).toContain('future_timestamp');
		expect(c.stats().samplesRejected).toBe(1);
	});

	it('gives up with a fatal error when the token keeps being refused', async () => {
		let fatal: Error | null = null;
		client({
			token: 'wrong-token-0123456789abcd',
			maxAuthFailures: 3,
			onFatal: (e) => (fatal = e)
		});
		await waitFor(() => fatal !== null);
		expect(String(fatal)).toMatch(/refused the worker token 3 times/);
	});
});
