import { describe, expect, it } from 'vitest';
import { createMonitor } from '../spc/monitor';
import { checkSuspect } from '../spc/suspect';
import { createGenerator } from './generator';
import { DEMO_PLANT, demoCharacteristics, type DemoCharacteristic } from './plant';
import { DEMO_SCHEDULE, FIRST_SIGNAL_CAUSE_ID, activeCauses, type SpecialCause } from './schedule';

const CHARACTERISTICS = new Map(
	demoCharacteristics(DEMO_PLANT).map((c) => [c.characteristic.code, c.characteristic])
);

function char(code: string): DemoCharacteristic {
	const c = CHARACTERISTICS.get(code);
	if (!c) throw new Error(`unknown characteristic ${code}`);
	return c;
}

describe('activeCauses', () => {
	it('returns a cause only inside its window', () => {
		expect(activeCauses('IM1.INJ.PRESS', 4999)).toEqual([]);
		const at = activeCauses('IM1.INJ.PRESS', 5000);
		expect(at.map((a) => [a.cause.id, a.sinceMs])).toEqual([[FIRST_SIGNAL_CAUSE_ID, 0]]);
		expect(activeCauses('IM1.INJ.PRESS', 8999).map((a) => a.sinceMs)).toEqual([3999]);
		expect(activeCauses('IM1.INJ.PRESS', 9000)).toEqual([]);
	});

	it('repeats every cycle', () => {
		const t = 3 * DEMO_SCHEDULE.cycleMs + 6000;
		expect(activeCauses('IM1.INJ.PRESS', t).map((a) => [a.cause.id, a.sinceMs])).toEqual([
			[FIRST_SIGNAL_CAUSE_ID, 1000]
		]);
	});

	it('knows nothing of characteristics without causes, or of negative times', () => {
		expect(activeCauses('IM1.BZ1.TEMP', 5000)).toEqual([]);
		expect(activeCauses('NOPE', 5000)).toEqual([]);
		expect(activeCauses('IM1.INJ.PRESS', -595_000)).toEqual([]);
	});
});

describe('DEMO_SCHEDULE shape', () => {
	it('names only characteristics of the demo plant and fits each cause within the cycle', () => {
		for (const cause of DEMO_SCHEDULE.causes) {
			expect(cause.characteristics.length).toBeGreaterThan(0);
			for (const code of cause.characteristics) expect(CHARACTERISTICS.has(code)).toBe(true);
			expect(cause.startMs).toBeGreaterThanOrEqual(0);
			expect(cause.startMs + cause.durationMs).toBeLessThanOrEqual(DEMO_SCHEDULE.cycleMs);
		}
		expect(new Set(DEMO_SCHEDULE.causes.map((c) => c.id)).size).toBe(DEMO_SCHEDULE.causes.length);
	});

	it('hits exactly one sample with each outlier and gross error', () => {
		for (const cause of DEMO_SCHEDULE.causes) {
			if (cause.kind !== 'outlier' && cause.kind !== 'gross-error') continue;
			for (const code of cause.characteristics) {
				const c = char(code);
				const g = createGenerator(c, { seed: 1 });
				const hit = [];
				for (let k = 0; g.timeOf(k) < DEMO_SCHEDULE.cycleMs; k++) {
					if (g.sample(k).causes.includes(cause.id)) hit.push(k);
				}
				expect(hit.length).toBe(1);
			}
		}
	});

	it('covers every rule family, a suspect value, a stuck sensor and a dropout', () => {
		const rules = new Set(DEMO_SCHEDULE.causes.flatMap((c) => c.expect.rules));
		for (let i = 1; i <= 8; i++) expect(rules.has(`nelson${i}` as never)).toBe(true);
		for (let i = 1; i <= 4; i++) expect(rules.has(`we${i}` as never)).toBe(true);
		const kinds = new Set(DEMO_SCHEDULE.causes.map((c) => c.kind));
		for (const k of [
			'shift',
			'drift',
			'variance',
			'cycle',
			'stratification',
			'mixture',
			'stuck',
			'dropout',
			'outlier',
			'gross-error'
		]) {
			expect(kinds.has(k as SpecialCause['kind'])).toBe(true);
		}
	});

	it('starts the first signal within the first 20 s, on a characteristic sampled at least at 1 Hz', () => {
		const first = DEMO_SCHEDULE.causes.find((c) => c.id === FIRST_SIGNAL_CAUSE_ID);
		expect(first?.startMs).toBeLessThan(20_000);
		expect(first?.expect.rules).toContain('nelson1');
		expect(char(first?.characteristics[0] ?? '').samplingIntervalMs).toBeLessThanOrEqual(1000);
	});
});

describe('DEMO_SCHEDULE on subgroup charts', () => {
	const pointMs = (c: DemoCharacteristic) => c.samplingIntervalMs * c.subgroupSize;

	it('holds each level of a cycle or mixture for one whole subgroup, from a subgroup boundary', () => {
		const held = DEMO_SCHEDULE.causes.filter((c) => c.kind === 'cycle' || c.kind === 'mixture');
		expect(held.length).toBeGreaterThan(0);
		for (const cause of held) {
			for (const code of cause.characteristics) {
				const c = char(code);
				expect(c.chart === 'xbar-s' || c.chart === 'xbar-r').toBe(true);
				// Otherwise the X̄ averages the alternation or the two populations away.
				expect(cause.holdMs).toBe(pointMs(c));
				expect(cause.startMs % pointMs(c)).toBe(0);
			}
		}
	});

	it('fires the first signal on the point that closes within a second of its start', () => {
		const cause = DEMO_SCHEDULE.causes.find((c) => c.id === FIRST_SIGNAL_CAUSE_ID);
		if (!cause) throw new Error('no first-signal cause');
		const c = char(cause.characteristics[0]);
		for (const seed of [1, 2, 3, 4, 5]) {
			const monitor = createMonitor({
				chart: c.chart,
				subgroupSize: c.subgroupSize,
				limits: { centre: c.process.mean, sigma: c.process.sigma },
				rules: c.rules,
				spec: c.spec,
				suspect: c.suspect
			});
			const g = createGenerator(c, { seed });
			let firstMs: number | null = null;
			for (let k = 0; firstMs === null && g.timeOf(k) < cause.startMs + 1000; k++) {
				const s = g.sample(k);
				if (s.kind !== 'value') continue;
				const r = monitor.push(s.value);
				// What the wall's end-to-end test looks for: rule 1 on the plotted X̄ itself.
				const onX = r.point?.violations.some((v) => v.rule === 'nelson1' && v.chart === 'primary');
				if (onX) firstMs = g.timeOf(k);
			}
			expect(firstMs).not.toBeNull();
			expect(firstMs).toBeGreaterThanOrEqual(cause.startMs);
			expect(firstMs).toBeLessThan(cause.startMs + 1000);
		}
	});
});

/**
 * Runs one characteristic from the start of the simulation through the end of a cause's window
 * (plus one plotted point, so a subgroup straddling the end completes) and collects what the
 * monitor reports from the cause's start on.
 */
function runThrough(cause: SpecialCause, code: string, seed: number) {
	const c = char(code);
	const monitor = createMonitor({
		chart: c.chart,
		subgroupSize: c.subgroupSize,
		limits: { centre: c.process.mean, sigma: c.process.sigma },
		rules: c.rules,
		spec: c.spec,
		suspect: c.suspect
	});
	const g = createGenerator(c, { seed });
	const pointMs = c.samplingIntervalMs * (c.kind === 'variable' ? c.subgroupSize : 1);
	const fired = new Set<string>();
	const suspects: string[] = [];
	const values: number[] = [];
	let missing = 0;
	for (let k = 0; g.timeOf(k) < cause.startMs + cause.durationMs + pointMs; k++) {
		const s = g.sample(k);
		const inWindow = g.timeOf(k) >= cause.startMs;
		if (s.kind === 'none') {
			if (inWindow) missing++;
			continue;
		}
		const r = monitor.push(c.kind === 'attribute' ? { count: s.value, n: s.n } : s.value);
		if (!inWindow) continue;
		if (s.causes.includes(cause.id)) values.push(s.value);
		if (r.suspect) suspects.push(r.suspect.reason);
		for (const v of r.point?.violations ?? []) fired.add(`${v.chart}:${v.rule}`);
	}
	return { fired, suspects, values, missing };
}

describe('each scheduled cause fires what docs/simulator.md promises', () => {
	const SEEDS = [1, 2, 3, 4, 5];
	const cases = DEMO_SCHEDULE.causes.flatMap((cause) =>
		SEEDS.map((seed) => ({ id: cause.id, seed, cause }))
	);

	it.each(cases)('$id (seed $seed)', ({ cause, seed }) => {
		for (const code of cause.characteristics) {
			const { fired, suspects, values, missing } = runThrough(cause, code, seed);
			const chart = cause.expect.chart ?? 'primary';
			for (const rule of cause.expect.rules) expect(fired).toContain(`${chart}:${rule}`);
			if (cause.expect.suspect === 'far-outside-spec') {
				expect(suspects).toContain('far-outside-spec');
				// and the value really is far outside: the same screen the hub and the monitor use
				const c = char(code);
				expect(checkSuspect(values[0], c.spec, c.suspect)?.reason).toBe('far-outside-spec');
			}
			if (cause.expect.suspect === 'stuck-sensor') {
				// The worker's stuck detector keys on identical readings: every reading is the same.
				expect(values.length).toBeGreaterThan(8);
				expect(new Set(values).size).toBe(1);
			}
			if (cause.expect.stale) {
				expect(values).toEqual([]);
				expect(missing).toBeGreaterThan(0);
			}
		}
	});
});
