/**
 * Deterministic sample rows for the ingest comparison. The full path (worker → hub → database)
 * and the raw baseline insert exactly the same rows, generated from the same spec on both
 * sides of the process boundary, so no row list has to cross IPC.
 */
import { randomUUID } from 'node:crypto';
import type { IngestBatch, SampleTuple } from '../../src/lib/realtime/events';

export interface RowSpec {
	/** Characteristics the rows round-robin over (all must exist in the hub's configuration). */
	characteristicIds: number[];
	rows: number;
	/** Epoch ms of each characteristic's first sample; later samples follow every `stepMs`. */
	startMs: number;
	stepMs: number;
	seed: number;
}

/** mulberry32: small, fast, good enough for benchmark noise. */
function uniform(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Row `i` of the spec: characteristic i mod k, its (i div k)-th sample; values vary per row. */
export function generateRows(spec: RowSpec): SampleTuple[] {
	const k = spec.characteristicIds.length;
	if (k === 0) throw new RangeError('generateRows: no characteristics');
	const next = uniform(spec.seed);
	const rows = new Array<SampleTuple>(spec.rows);
	for (let i = 0; i < spec.rows; i++) {
		const n = Math.floor(i / k);
		// Values with a few decimals, like instrument readings (round-trip through text exactly).
		const value = Math.round((100 + (next() - 0.5) * 4) * 1000) / 1000;
		rows[i] = [spec.characteristicIds[i % k], spec.startMs + n * spec.stepMs, n, value, 0];
	}
	return rows;
}

/** Consecutive slices of `size` (the last one may be shorter). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

/** A batch of samples only, as a worker without subgroups or violations to report sends it. */
export function samplesBatch(samples: SampleTuple[]): IngestBatch {
	return { batchId: randomUUID(), samples, subgroups: [], violations: [], suspects: [] };
}
