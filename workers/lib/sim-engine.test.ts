import { describe, expect, it } from 'vitest';
import { SAMPLE_FLAGS, type IngestBatch, type IngestConfig } from '../../src/lib/realtime/events';
import { demoIngestConfig } from './demo-config';
import {
	MAX_CATCH_UP_MS,
	SEQ_PER_MS,
	STUCK_REPEATS,
	createSimEngine,
	type SimEngine,
	type SimState
} from './sim-engine';

const START = 1_800_000_000_000;
const silent = { info() {}, warn() {}, error() {} };
const CONFIG = demoIngestConfig();
const idOf = (code: string): number => {
	const c = CONFIG.characteristics.find((x) => x.code === code);
	if (!c) throw new Error(code);
	return c.id;
};

function engine(
	opts: { seed?: number; speed?: number; resume?: SimState | null; start?: number } = {}
) {
	let n = 0;
	const e = createSimEngine({
		seed: opts.seed ?? 1,
		speed: opts.speed ?? 1,
		startMs: opts.start ?? START,
		resume: opts.resume,
		log: silent,
		newBatchId: () => `b${++n}`
	});
	e.applyConfig(CONFIG);
	return e;
}

/** Steps every `tickMs` of real time from the start until `untilMs` after it. */
function run(e: SimEngine, untilMs: number, tickMs = 200, start = START): IngestBatch[] {
	const out: IngestBatch[] = [];
	for (let t = start; t <= start + untilMs; t += tickMs) {
		const b = e.step(t);
		if (b) out.push(b);
	}
	return out;
}

type ListKey = 'samples' | 'subgroups' | 'violations' | 'suspects';
function all<K extends ListKey>(bs: IngestBatch[], key: K): IngestBatch[K][number][] {
	const out: IngestBatch[K][number][] = [];
	for (const b of bs) out.push(...(b[key] as IngestBatch[K][number][]));
	return out;
}

describe('simulator engine determinism', () => {
	it('produces the same batches for the same seed', () => {
		expect(run(engine(), 20_000)).toEqual(run(engine(), 20_000));
	});

	it('produces different values for another seed', () => {
		const a = all(run(engine({ seed: 1 }), 5_000), 'samples').map((s) => s[3]);
		const b = all(run(engine({ seed: 2 }), 5_000), 'samples').map((s) => s[3]);
		expect(a).not.toEqual(b);
	});
});

describe('simulator engine sampling', () => {
	it('samples every characteristic at its own rate, with integer, non-decreasing timestamps', () => {
		const samples = all(run(engine(), 10_000), 'samples');
		const byId = new Map<number, number[]>();
		for (const [id, ts] of samples) byId.set(id, [...(byId.get(id) ?? []), ts]);
		for (const c of CONFIG.characteristics) {
			const ts = byId.get(c.id) ?? [];
			// t = 0 .. 10 s inclusive: floor(10000 / interval) + 1 samples (one lot a minute: 1).
			expect(ts.length).toBe(Math.floor(10_000 / c.samplingIntervalMs) + 1);
			expect(ts.every((t, i) => Number.isInteger(t) && (i === 0 || t >= ts[i - 1]))).toBe(true);
			if (ts.length > 1) expect(ts[1] - ts[0]).toBe(c.samplingIntervalMs);
		}
	});

	it('compresses time by the speed factor', () => {
		const samples = all(run(engine({ speed: 10 }), 1_000), 'samples');
		const im1 = samples.filter((s) => s[0] === idOf('IM1.INJ.PRESS'));
		// 1 s real = 10 s simulated at 200 ms per sample: 51 samples, 20 ms apart in real time.
		expect(im1.length).toBe(51);
		expect(im1[1][1] - im1[0][1]).toBe(20);
	});

	it('gives each characteristic strictly increasing sequence numbers from 10 × the start time', () => {
		const samples = all(run(engine(), 5_000), 'samples');
		for (const c of CONFIG.characteristics) {
			const seqs = samples.filter((s) => s[0] === c.id).map((s) => s[2]);
			expect(seqs[0]).toBe(SEQ_PER_MS * START);
			expect(seqs.every((q, i) => i === 0 || q === seqs[i - 1] + 1)).toBe(true);
		}
	});

	it('sends X̄ and attribute charts as subgroups, individuals charts as samples only', () => {
		// The demo plant plots no individuals; the hub may still configure a characteristic as
		// I-MR, and the engine judges by the hub's configuration.
		const e = createSimEngine({ seed: 1, speed: 1, startMs: START, log: silent });
		e.applyConfig({
			revision: 1,
			characteristics: CONFIG.characteristics.map((c) =>
				c.code === 'IM1.BZ1.TEMP' ? { ...c, chart: 'imr', subgroupSize: 1 } : c
			)
		});
		const bs = run(e, 61_000);
		const subgroups = all(bs, 'subgroups');
		const od = subgroups.filter((s) => s.characteristicId === idOf('IM1.HUB.OD'));
		// 1 s per part, 10 parts per subgroup: one point per 10 s, the first at sample 9 (9 s).
		expect(od.length).toBe(Math.floor((61_000 - 9_000) / 10_000) + 1);
		expect(od.every((s) => s.n === 10 && s.dispersion !== null)).toBe(true);
		// One lot of 200 a minute: lots at 0 and 60 s.
		const p = subgroups.filter((s) => s.characteristicId === idOf('VI1.DEFECTIVE'));
		expect(p).toHaveLength(2);
		expect(p.every((s) => s.n === 200 && s.dispersion === null && s.value <= 1)).toBe(true);
		expect(subgroups.some((s) => s.characteristicId === idOf('IM1.BZ1.TEMP'))).toBe(false);
		expect(all(bs, 'samples').filter((s) => s[0] === idOf('IM1.BZ1.TEMP'))).toHaveLength(62);
	});

	it('skips, rather than back-fills, samples due during a long stall', () => {
		const e = engine();
		e.step(START);
		const b = e.step(START + 10_000);
		const bz = (b?.samples ?? []).filter((s) => s[0] === idOf('IM1.BZ1.TEMP'));
		expect(bz.length).toBe(MAX_CATCH_UP_MS / 1000 + 1);
		expect(e.stats().skipped).toBeGreaterThan(0);
	});

	it('acquires nothing while told the spool is full, and counts what it passed over', () => {
		const e = engine();
		expect(e.step(START + 1000, false)).toBeNull();
		expect(e.stats().notAcquired).toBe(
			CONFIG.characteristics.reduce((n, c) => n + Math.floor(1000 / c.samplingIntervalMs) + 1, 0)
		);
		const next = e.step(START + 1200);
		expect(next?.samples.every((s) => s[1] > START + 1000)).toBe(true);
	});
});

describe('simulator engine special causes', () => {
	const batches = run(engine(), 300_000);
	const violations = all(batches, 'violations');
	const suspects = all(batches, 'suspects');
	const samples = all(batches, 'samples');

	it('raises Nelson 1 on IM1 injection pressure between 5 and 6 s after the start', () => {
		const first = violations.find(
			(v) => v.characteristicId === idOf('IM1.INJ.PRESS') && v.rule === 'nelson1'
		);
		expect(first?.ts).toBeGreaterThanOrEqual(START + 5_000);
		expect(first?.ts).toBeLessThan(START + 6_000);
		expect(first?.side).toBe('upper');
		expect(first?.pointTs).toEqual([first?.ts]);
	});

	it('names every point of a pattern by its timestamp, the completing point last', () => {
		const n2 = violations.find(
			(v) => v.characteristicId === idOf('IM2.HOLD.PRESS') && v.rule === 'nelson2'
		);
		expect(n2?.pointTs).toHaveLength(9);
		const ts = n2?.pointTs ?? [];
		expect(ts.every((t, i) => i === 0 || t > ts[i - 1])).toBe(true);
		expect(ts[ts.length - 1]).toBe(n2?.ts);
	});

	it('flags the decimal-point slip as suspect and keeps the sample', () => {
		const id = idOf('IM2.SHOT.WT');
		const s = suspects.filter((x) => x.characteristicId === id);
		expect(s).toHaveLength(1);
		expect(s[0].reason).toMatch(/^far-outside-spec/);
		expect(s[0].ts).toBe(START + 270_000);
		const sample = samples.find((x) => x[0] === id && x[2] === s[0].seq);
		expect(sample?.[4]).toBe(SAMPLE_FLAGS.SUSPECT);
		expect(sample?.[3]).toBeGreaterThan(100);
	});

	it('flags a stuck thermocouple from its eighth identical reading on', () => {
		const id = idOf('IM2.BZ2.TEMP');
		const s = suspects.filter((x) => x.characteristicId === id);
		// Stuck 180 s..240 s at 1 Hz: 60 identical readings, flagged from the 8th.
		expect(s).toHaveLength(60 - STUCK_REPEATS + 1);
		expect(s[0].ts).toBe(START + 180_000 + (STUCK_REPEATS - 1) * 1000);
		expect(s.every((x) => x.reason.startsWith('stuck-sensor'))).toBe(true);
	});

	it('sends nothing from IM3 during its comms loss', () => {
		const im3 = new Set(
			CONFIG.characteristics.filter((c) => c.code.startsWith('IM3.')).map((c) => c.id)
		);
		const during = samples.filter(
			(s) => im3.has(s[0]) && s[1] >= START + 210_000 && s[1] < START + 255_000
		);
		expect(during).toEqual([]);
		expect(samples.some((s) => im3.has(s[0]) && s[1] >= START + 255_000)).toBe(true);
	});
});

describe('simulator engine restart', () => {
	it('resumes seq above everything sent and the monitor where it stopped', () => {
		const a = engine();
		const before = all(run(a, 3_000), 'samples');
		const saved = a.state(START + 3_000);
		// Restart 1 ms later (a fast restart: the time floor alone would not be enough).
		const restart = START + 3_001;
		const b = engine({ resume: saved, start: restart });
		const after = all(run(b, 1_000, 200, restart), 'samples');
		for (const c of CONFIG.characteristics) {
			const last = Math.max(...before.filter((s) => s[0] === c.id).map((s) => s[2]));
			const lastTs = Math.max(...before.filter((s) => s[0] === c.id).map((s) => s[1]));
			const next = after.filter((s) => s[0] === c.id);
			expect(next[0][2]).toBeGreaterThan(last);
			expect(next[0][1]).toBeGreaterThanOrEqual(lastTs);
		}
		expect(JSON.parse(JSON.stringify(saved))).toEqual(saved);
	});

	it('continues an X̄ subgroup that was half full when it stopped', () => {
		const a = engine();
		run(a, 5_500); // IM1.HUB.OD: samples at 0, 1, …, 5 s → 6 of 10 pending
		const saved = a.state(START + 5_500);
		const b = engine({ resume: saved, start: START + 5_600 });
		const sg = all(run(b, 4_100, 100, START + 5_600), 'subgroups').filter(
			(s) => s.characteristicId === idOf('IM1.HUB.OD')
		);
		// Four more parts (at +0, +1, +2 and +3 s) complete the subgroup of 10.
		expect(sg).toHaveLength(1);
		expect(sg[0].ts).toBe(START + 5_600 + 3_000);
	});

	it('starts above 10 × the restart time when no state survived', () => {
		const b = engine({ resume: null, start: START + 5_000 });
		const first = all(run(b, 0, 200, START + 5_000), 'samples');
		expect(first.every((s) => s[2] === SEQ_PER_MS * (START + 5_000))).toBe(true);
	});
});

describe('simulator engine configuration', () => {
	it('recreates a monitor only when its limits, rules or chart change', () => {
		const e = engine();
		run(e, 1_000);
		expect(e.applyConfig(CONFIG).monitorsChanged).toEqual([]);
		const changed: IngestConfig = {
			revision: 2,
			characteristics: CONFIG.characteristics.map((c) =>
				c.code === 'IM1.BZ1.TEMP' && c.limits
					? { ...c, limits: { ...c.limits, version: 2, centre: 271 } }
					: c
			)
		};
		expect(e.applyConfig(changed).monitorsChanged).toEqual(['IM1.BZ1.TEMP']);
	});

	it('keeps the statistics when only the spec changes: a half-full subgroup completes', () => {
		const e = engine();
		run(e, 5_500); // IM1.HUB.OD: samples at 0, 1, …, 5 s → 6 of 10 pending
		const result = e.applyConfig({
			revision: 2,
			characteristics: CONFIG.characteristics.map((c) =>
				c.code === 'IM1.HUB.OD' ? { ...c, spec: { lsl: 7.4, target: 7.5, usl: 7.6 } } : c
			)
		});
		// A new suspect screen, the same rule histories and pending parts.
		expect(result.monitorsChanged).toEqual(['IM1.HUB.OD']);
		const sg = all(run(e, 4_100, 100, START + 5_600), 'subgroups').filter(
			(s) => s.characteristicId === idOf('IM1.HUB.OD')
		);
		expect(sg).toHaveLength(1);
		expect(sg[0].ts).toBe(START + 9_000);
	});

	it('applies new limits live: a shifted centre line makes in-control data signal', () => {
		const e = engine();
		run(e, 1_000);
		e.applyConfig({
			revision: 2,
			characteristics: CONFIG.characteristics.map((c) =>
				c.code === 'IM1.BZ1.TEMP' && c.limits
					? { ...c, limits: { ...c.limits, version: 2, centre: 260 } }
					: c
			)
		});
		// One X̄ point a minute: the fresh monitor's first subgroup closes 60 samples later.
		const v = all(run(e, 60_000, 200, START + 1_200), 'violations');
		expect(v.some((x) => x.characteristicId === idOf('IM1.BZ1.TEMP') && x.rule === 'nelson1')).toBe(
			true
		);
	});

	it('sends raw samples without judging them while a characteristic has no limits', () => {
		const e = createSimEngine({ seed: 1, speed: 1, startMs: START, log: silent });
		e.applyConfig({
			revision: 1,
			characteristics: CONFIG.characteristics.map((c) =>
				c.code === 'IM1.INJ.PRESS' ? { ...c, limits: null } : c
			)
		});
		const bs = run(e, 8_000);
		const id = idOf('IM1.INJ.PRESS');
		expect(all(bs, 'samples').some((s) => s[0] === id)).toBe(true);
		expect(all(bs, 'violations').some((v) => v.characteristicId === id)).toBe(false);
	});

	it('generates only the characteristics the hub configured', () => {
		const e = createSimEngine({ seed: 1, speed: 1, startMs: START, log: silent });
		const r = e.applyConfig({ revision: 1, characteristics: CONFIG.characteristics.slice(0, 2) });
		expect(r.active).toHaveLength(2);
		expect(r.unconfigured).toHaveLength(CONFIG.characteristics.length - 2);
		const ids = new Set(all(run(e, 2_000), 'samples').map((s) => s[0]));
		expect([...ids].sort()).toEqual([1, 2]);
	});
});
