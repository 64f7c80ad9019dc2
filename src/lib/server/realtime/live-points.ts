/**
 * Turns what a batch persisted into the live points the walls plot, the same way the snapshot
 * reads them back from the database (src/lib/server/samples/snapshot.ts), so a delta's points
 * and a snapshot's points of the same data are identical:
 * - charts of individual values (I-MR, EWMA, CUSUM) plot samples, with the moving range as
 *   dispersion (suspect samples are shown but skipped by the moving range);
 * - every other chart (X̄-R, X̄-S, p, np, c, u) plots stored subgroups, with seq 0 (subgroups
 *   are keyed by time).
 *
 * Only *new* data is turned into points: accepted samples (not duplicates or quarantined
 * ones), and subgroups whose closing sample was accepted in this batch — a re-sent batch thus
 * adds nothing to the live view, as it adds nothing to the database.
 *
 * Subgroup and attribute charts move at the SPC cadence (a point every 6-60 s in the demo), so
 * their accepted samples also become raw readings for the machine tiles and sparklines, read
 * back by the snapshot the same way (`recentReadings`). Charts of individuals get none: their
 * points are the readings.
 */
import {
	SAMPLE_FLAGS,
	type CharacteristicConfig,
	type IngestSubgroup,
	type LivePoint,
	type SampleTuple
} from '$lib/realtime/events';
import type { StoredReading } from '../samples/snapshot';

export function plotsSubgroups(config: Pick<CharacteristicConfig, 'chart'>): boolean {
	return config.chart !== 'imr' && config.chart !== 'ewma' && config.chart !== 'cusum';
}

/**
 * Moving range of individuals: |x_i − x_{i−1}|. The previous value per characteristic is kept
 * between batches (bounded: one number per characteristic); the first point the hub sees after
 * a start has no moving range (null), as in the snapshot's first point of its window.
 */
export interface PreviousValues {
	get(characteristicId: number): number | undefined;
	set(characteristicId: number, value: number): void;
}

const bySampleKey = (a: SampleTuple, b: SampleTuple) => a[1] - b[1] || a[2] - b[2];

/** Whether `samples` are in sample-key order (ts, seq) already: the usual case. */
function inKeyOrder(samples: readonly SampleTuple[]): boolean {
	for (let i = 1; i < samples.length; i++) {
		if (bySampleKey(samples[i - 1], samples[i]) > 0) return false;
	}
	return true;
}

export function livePointsOfBatch(
	accepted: readonly SampleTuple[],
	subgroups: readonly IngestSubgroup[],
	configOf: (characteristicId: number) => CharacteristicConfig | undefined,
	previous: PreviousValues
): Map<number, LivePoint[]> {
	const out = new Map<number, LivePoint[]>();
	// Group by characteristic in one pass, then order each group by sample key only when it is
	// not in order already (a worker's batch usually is, per characteristic): sorting the whole
	// batch by (id, ts, seq) cost more than the rest of this function at 10,000 samples/s.
	const groups = new Map<number, SampleTuple[]>();
	for (const sample of accepted) {
		const group = groups.get(sample[0]);
		if (group) group.push(sample);
		else groups.set(sample[0], [sample]);
	}
	// Closing samples of subgroups accepted in this batch, as "id:ts".
	const acceptedAt = new Set<string>();
	for (const id of [...groups.keys()].sort((a, b) => a - b)) {
		const config = configOf(id);
		if (!config) continue;
		const group = groups.get(id) as SampleTuple[];
		if (plotsSubgroups(config)) {
			for (const sample of group) acceptedAt.add(`${id}:${sample[1]}`);
			continue;
		}
		if (!inKeyOrder(group)) group.sort(bySampleKey);
		const points = new Array<LivePoint>(group.length);
		let before = previous.get(id);
		for (let i = 0; i < group.length; i++) {
			const sample = group[i];
			const ts = sample[1];
			const seq = sample[2];
			const value = sample[3];
			const flags = sample[4];
			const suspect = (flags & SAMPLE_FLAGS.SUSPECT) !== 0;
			const dispersion = suspect || before === undefined ? null : Math.abs(value - before);
			if (!suspect) before = value;
			points[i] = { ts, seq, value, dispersion, flags };
		}
		if (before !== undefined) previous.set(id, before);
		out.set(id, points);
	}
	const push = (id: number, point: LivePoint) => {
		let list = out.get(id);
		if (!list) out.set(id, (list = []));
		list.push(point);
	};
	const orderedSubgroups = [...subgroups].sort(
		(a, b) => a.characteristicId - b.characteristicId || a.ts - b.ts
	);
	for (const s of orderedSubgroups) {
		if (!acceptedAt.has(`${s.characteristicId}:${s.ts}`)) continue;
		push(s.characteristicId, {
			ts: s.ts,
			seq: 0,
			value: s.value,
			dispersion: s.dispersion,
			flags: 0
		});
	}
	return out;
}

/**
 * The accepted samples of subgroup/attribute characteristics as readings, per characteristic,
 * oldest first by sample key (ts, seq). Unbounded here: the coalescer keeps the newest
 * READINGS_WINDOW.maxPoints per characteristic per flush (fanout.ts).
 */
export function liveReadingsOfBatch(
	accepted: readonly SampleTuple[],
	configOf: (characteristicId: number) => CharacteristicConfig | undefined
): Map<number, StoredReading[]> {
	const out = new Map<number, StoredReading[]>();
	for (const [id, ts, seq, value, flags] of accepted) {
		const config = configOf(id);
		if (!config || !plotsSubgroups(config)) continue;
		let list = out.get(id);
		if (!list) out.set(id, (list = []));
		list.push({ ts, seq, value, flags });
	}
	for (const list of out.values()) list.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
	return out;
}
