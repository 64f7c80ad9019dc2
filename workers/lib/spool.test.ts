import { mkdtemp, readdir, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestBatch } from '../../src/lib/realtime/events';
import { SpoolFullError, openSpool, spoolDiskBytes } from './spool';

function batch(id: string, samples = 3): IngestBatch {
	return {
		batchId: id,
		samples: Array.from({ length: samples }, (_, i) => [1, 1_700_000_000_000 + i, i, 20 + i, 0]),
		subgroups: [],
		violations: [],
		suspects: []
	};
}

/** Record size on disk: 8-byte header + JSON payload (computed independently of the spool). */
function recordBytes(b: IngestBatch): number {
	return 8 + Buffer.byteLength(JSON.stringify(b));
}

let dir: string;
beforeEach(async () => {
	dir = await mkdtemp(path.join(tmpdir(), 'tw-spool-'));
});
afterEach(async () => {
	await rm(dir, { recursive: true, force: true });
});

describe('spool durability across restarts', () => {
	it('reloads unacknowledged batches in order after a restart', async () => {
		const a = await openSpool({ dir, maxBytes: 1_000_000 });
		for (const id of ['b1', 'b2', 'b3', 'b4']) await a.append(batch(id));
		await a.ack('b2');
		await a.close();

		const b = await openSpool({ dir, maxBytes: 1_000_000 });
		expect(b.unacked().map((e) => e.batchId)).toEqual(['b1', 'b3', 'b4']);
		const read = await Promise.all(b.unacked().map((e) => b.read(e)));
		expect(read).toEqual([batch('b1'), batch('b3'), batch('b4')]);
		await b.close();
	});

	it('keeps appending after a restart without reusing a segment', async () => {
		const a = await openSpool({ dir, maxBytes: 1_000_000 });
		await a.append(batch('b1'));
		await a.close();
		const b = await openSpool({ dir, maxBytes: 1_000_000 });
		await b.append(batch('b2'));
		expect(b.unacked().map((e) => e.batchId)).toEqual(['b1', 'b2']);
		expect(new Set(b.unacked().map((e) => e.segment)).size).toBe(2);
		await b.close();
		const c = await openSpool({ dir, maxBytes: 1_000_000 });
		expect(c.unacked().map((e) => e.batchId)).toEqual(['b1', 'b2']);
		await c.close();
	});

	it('truncates a torn tail left by a crash and keeps every complete record', async () => {
		const a = await openSpool({ dir, maxBytes: 1_000_000 });
		await a.append(batch('b1'));
		await a.append(batch('b2'));
		await a.close();
		const seg = (await readdir(dir)).find((f) => f.endsWith('.log')) as string;
		// Half a record: a header announcing 500 bytes followed by 3 bytes.
		await appendFile(path.join(dir, seg), Buffer.from([0, 0, 1, 244, 1, 2, 3, 4, 9, 9, 9]));

		const b = await openSpool({ dir, maxBytes: 1_000_000 });
		expect(b.unacked().map((e) => e.batchId)).toEqual(['b1', 'b2']);
		expect(b.stats().corruptRecords).toBe(1);
		expect(await spoolDiskBytes(dir)).toBe(recordBytes(batch('b1')) + recordBytes(batch('b2')));
		await b.close();
	});

	it('stops at a record whose CRC does not match', async () => {
		const a = await openSpool({ dir, maxBytes: 1_000_000 });
		await a.append(batch('b1'));
		await a.close();
		const seg = (await readdir(dir)).find((f) => f.endsWith('.log')) as string;
		const payload = Buffer.from(JSON.stringify(batch('b2')));
		const header = Buffer.alloc(8);
		header.writeUInt32BE(payload.length, 0);
		header.writeUInt32BE(12345, 4); // wrong CRC
		await appendFile(path.join(dir, seg), Buffer.concat([header, payload]));
		const b = await openSpool({ dir, maxBytes: 1_000_000 });
		expect(b.unacked().map((e) => e.batchId)).toEqual(['b1']);
		expect(b.stats().corruptRecords).toBe(1);
		await b.close();
	});
});

describe('spool deletes only after acknowledgement', () => {
	it('deletes a segment once every batch in it is acknowledged, and not before', async () => {
		const one = recordBytes(batch('b1'));
		// Segments of two records each.
		const s = await openSpool({ dir, maxBytes: 1_000_000, segmentMaxBytes: one * 2 });
		for (const id of ['b1', 'b2', 'b3', 'b4']) await s.append(batch(id));
		const logs = async () => (await readdir(dir)).filter((f) => f.endsWith('.log')).length;
		expect(await logs()).toBe(2);
		await s.ack('b1');
		expect(await logs()).toBe(2);
		await s.ack('b3');
		expect(await logs()).toBe(2);
		await s.ack('b2');
		expect(await logs()).toBe(1);
		expect(s.stats().bytes).toBe(2 * one);
		await s.ack('b4');
		expect(await logs()).toBe(0);
		expect(s.stats()).toMatchObject({ bytes: 0, unackedBatches: 0, segments: 0 });
		await s.close();
	});

	it('ignores an acknowledgement for a batch it no longer holds', async () => {
		const s = await openSpool({ dir, maxBytes: 1_000_000 });
		await s.append(batch('b1'));
		await s.ack('b1');
		await s.ack('b1');
		await s.ack('never-seen');
		expect(s.unacked()).toEqual([]);
		await s.close();
	});

	it('refuses a batch id it already holds', async () => {
		const s = await openSpool({ dir, maxBytes: 1_000_000 });
		await s.append(batch('b1'));
		await expect(s.append(batch('b1'))).rejects.toThrow(/already in the spool/);
		await s.close();
	});
});

describe('spool capacity', () => {
	it('refuses a batch that does not fit, counts it, and keeps what it holds', async () => {
		const one = recordBytes(batch('b1'));
		const s = await openSpool({ dir, maxBytes: one * 2 + 10 });
		await s.append(batch('b1'));
		await s.append(batch('b2'));
		expect(s.hasRoomFor(one - 8)).toBe(false);
		await expect(s.append(batch('b3'))).rejects.toBeInstanceOf(SpoolFullError);
		await expect(s.append(batch('b4'))).rejects.toBeInstanceOf(SpoolFullError);
		expect(s.stats().fullRefusals).toBe(2);
		expect(s.unacked().map((e) => e.batchId)).toEqual(['b1', 'b2']);
		expect(await spoolDiskBytes(dir)).toBeLessThanOrEqual(one * 2 + 10);
		await s.close();
	});

	it('makes room again once batches are acknowledged', async () => {
		const one = recordBytes(batch('b1'));
		const s = await openSpool({ dir, maxBytes: one * 2 + 10, segmentMaxBytes: one });
		await s.append(batch('b1'));
		await s.append(batch('b2'));
		await expect(s.append(batch('b3'))).rejects.toBeInstanceOf(SpoolFullError);
		await s.ack('b1');
		expect(s.hasRoomFor(one - 8)).toBe(true);
		await s.append(batch('b3'));
		expect(s.unacked().map((e) => e.batchId)).toEqual(['b2', 'b3']);
		await s.close();
	});

	it('frees the space of a fully acknowledged active segment', async () => {
		const one = recordBytes(batch('b1'));
		const s = await openSpool({ dir, maxBytes: one * 2 + 10 });
		await s.append(batch('b1'));
		await s.append(batch('b2'));
		await s.ack('b1');
		await s.ack('b2');
		await s.append(batch('b3'));
		await s.append(batch('b4'));
		expect(s.unacked().map((e) => e.batchId)).toEqual(['b3', 'b4']);
		await s.close();
	});
});
