/**
 * The incremental monitor: configuration checks, suspect screening, subgroup accumulation,
 * per-chart points, violations on both charts of a pair, and resuming from saved state.
 * Reference numbers: Montgomery, ISQC 6th ed., Example 9.1 (tabular CUSUM, μ0 = 10, σ = 1,
 * k = 0.5, h = 5: first signal at period 29) and Example 9.2 (EWMA λ = 0.1, L = 2.7 on the
 * same data: z1 = 9.945); other expectations are computed from the formulas in the test.
 */
import { describe, expect, it } from 'vitest';
import { createMonitor, type Monitor } from './monitor';
import type { MonitorConfig, MonitorInput, PushResult } from './types';

const IMR: MonitorConfig = {
	chart: 'imr',
	subgroupSize: 1,
	limits: { centre: 10, sigma: 1 },
	rules: 'nelson-all'
};

function feed(m: Monitor, inputs: MonitorInput[]): PushResult[] {
	return inputs.map((x) => m.push(x));
}

describe('createMonitor configuration', () => {
	it.each([
		['an unknown chart', { ...IMR, chart: 'xbar' }],
		['an X̄ chart with subgroups of 1', { ...IMR, chart: 'xbar-r', subgroupSize: 1 }],
		['an I-MR chart with subgroups of 5', { ...IMR, subgroupSize: 5 }],
		['a negative sigma', { ...IMR, limits: { centre: 0, sigma: -1 } }],
		['a NaN centre', { ...IMR, limits: { centre: NaN, sigma: 1 } }],
		['a p̄ above 1', { ...IMR, chart: 'p', subgroupSize: 50, limits: { centre: 1.2, sigma: 0 } }],
		[
			'a fractional p-chart n',
			{ ...IMR, chart: 'p', subgroupSize: 2.5, limits: { centre: 0.1, sigma: 0 } }
		],
		['a moving-range span of 1', { ...IMR, movingRangeSpan: 1 }],
		['an EWMA λ of 0', { ...IMR, chart: 'ewma', ewma: { lambda: 0 } }],
		['a CUSUM headstart at h', { ...IMR, chart: 'cusum', cusum: { h: 4, headstart: 4 } }],
		['an unknown rule preset', { ...IMR, rules: 'strict' }],
		['inverted spec limits', { ...IMR, spec: { lsl: 12, usl: 8 } }]
	])('rejects %s with a RangeError', (_what, config) => {
		expect(() => createMonitor(config as MonitorConfig)).toThrow(RangeError);
	});
});

describe('I-MR monitor', () => {
	it('plots x with 10 ± 3 and the moving range from the second point', () => {
		const m = createMonitor(IMR);
		const [a, b] = feed(m, [10.5, 9]);
		expect(a.point).toMatchObject({ index: 0, value: 10.5, centre: 10, ucl: 13, lcl: 7, n: 1 });
		expect(a.point?.dispersion).toBeNull();
		const mrCentre = 2 / Math.sqrt(Math.PI);
		expect(b.point?.dispersion?.value).toBe(1.5);
		expect(b.point?.dispersion?.centre).toBeCloseTo(mrCentre, 12);
		expect(b.point?.dispersion?.lcl).toBe(0);
		expect(m.count()).toBe(2);
	});
	it('flags a moving range beyond its limit on the dispersion chart', () => {
		// UCL of MR = (d2 + 3·d3)σ ≈ 3.686; a jump of 3.9 stays inside the I limits (10 ± 3).
		const [, b] = feed(createMonitor(IMR), [11.9, 8]);
		expect(b.point?.violations).toEqual([
			expect.objectContaining({ rule: 'nelson1', chart: 'dispersion', index: 1, side: 'upper' })
		]);
	});
	it('reports the primary chart’s rules with the point that completed them', () => {
		const m = createMonitor(IMR);
		const r = feed(m, [10.5, 10.5, 10.5, 10.5, 10.5, 10.5, 10.5, 10.5, 10.5]);
		expect(r.slice(0, 8).every((x) => x.point?.violations.length === 0)).toBe(true);
		expect(r[8].point?.violations.map((v) => v.rule)).toEqual(['nelson2']);
	});
	it('uses a moving range of span 3 when configured', () => {
		const m = createMonitor({ ...IMR, movingRangeSpan: 3 });
		const r = feed(m, [10, 12, 11, 9]);
		expect(r.map((x) => x.point?.dispersion?.value ?? null)).toEqual([null, null, 2, 3]);
	});
});

describe('suspect values', () => {
	const cfg: MonitorConfig = {
		...IMR,
		spec: { lsl: 8, usl: 12 },
		suspect: { physicalMin: 0, physicalMax: 100 }
	};
	it('a suspect value yields no point and never enters the statistics', () => {
		const m = createMonitor(cfg);
		const [a, b, c] = feed(m, [10, 125, 11]);
		expect(a.point?.index).toBe(0);
		expect(b).toEqual({
			point: null,
			suspect: expect.objectContaining({ reason: 'outside-physical-range' })
		});
		// The moving range bridges the suspect value: |11 − 10|, not |11 − 125|.
		expect(c.point).toMatchObject({ index: 1, dispersion: { value: 1 } });
	});
	it('NaN is suspect, not an exception', () => {
		expect(createMonitor(IMR).push(NaN).suspect?.reason).toBe('not-finite');
	});
	it('one suspect member withholds a whole-subgroup push', () => {
		const m = createMonitor({ ...cfg, chart: 'xbar-s', subgroupSize: 3 });
		expect(m.push([10, 11, 500]).point).toBeNull();
		expect(m.count()).toBe(0);
	});
});

describe('X̄ monitors', () => {
	const cfg: MonitorConfig = { ...IMR, chart: 'xbar-r', subgroupSize: 4 };
	it('accumulates single values into subgroups of subgroupSize', () => {
		const m = createMonitor(cfg);
		const r = feed(m, [9, 10, 11, 14]);
		expect(r.slice(0, 3).map((x) => x.point)).toEqual([null, null, null]);
		expect(r[3].point).toMatchObject({ index: 0, value: 11, n: 4, ucl: 11.5, lcl: 8.5 });
		expect(r[3].point?.dispersion?.value).toBe(5);
	});
	it('takes a whole subgroup of another size with per-point limits', () => {
		const m = createMonitor({ ...cfg, chart: 'xbar-s' });
		const p = m.push([9, 11]).point;
		expect(p?.n).toBe(2);
		expect(p?.ucl).toBeCloseTo(10 + 3 / Math.SQRT2, 12);
		expect(p?.dispersion?.value).toBeCloseTo(Math.SQRT2, 12);
	});
	it('refuses a whole subgroup while single values are pending', () => {
		const m = createMonitor(cfg);
		m.push(10);
		expect(() => m.push([10, 11])).toThrow(RangeError);
	});
});

describe('attribute monitors', () => {
	it('p chart: count/n against limits for that n', () => {
		const m = createMonitor({
			...IMR,
			chart: 'p',
			subgroupSize: 100,
			limits: { centre: 0.1, sigma: 0 }
		});
		const a = m.push(30).point;
		expect(a?.value).toBe(0.3);
		expect(a?.ucl).toBeCloseTo(0.19, 12);
		expect(a?.violations.map((v) => v.rule)).toEqual(['nelson1']);
		const b = m.push({ count: 3, n: 25 }).point;
		expect(b?.ucl).toBeCloseTo(0.1 + 3 * Math.sqrt(0.09 / 25), 12);
	});
	it('a count above n is flagged as suspect, not plotted', () => {
		const m = createMonitor({
			...IMR,
			chart: 'np',
			subgroupSize: 10,
			limits: { centre: 0.1, sigma: 0 }
		});
		expect(m.push(11)).toEqual({
			point: null,
			suspect: expect.objectContaining({ reason: 'outside-physical-range' })
		});
	});
	it('u chart: defects per unit', () => {
		const m = createMonitor({
			...IMR,
			chart: 'u',
			subgroupSize: 1,
			limits: { centre: 2, sigma: 0 }
		});
		expect(m.push({ count: 9, n: 4 }).point?.value).toBe(2.25);
	});
});

describe('time-weighted monitors (Montgomery Examples 9.1 and 9.2)', () => {
	const x = [
		9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47, 10.51, 9.4, 10.08,
		9.37, 10.62, 10.31, 8.52, 10.84, 10.9, 9.33, 12.29, 11.5, 10.6, 11.08, 10.38, 11.62, 11.31,
		10.52
	];
	it('CUSUM signals first at period 29 on the upper sum', () => {
		const m = createMonitor({ ...IMR, chart: 'cusum', cusum: { k: 0.5, h: 5 } });
		const r = feed(m, x);
		const first = r.findIndex((p) => (p.point?.violations.length ?? 0) > 0);
		expect(first).toBe(28);
		expect(r[28].point?.violations[0]).toMatchObject({
			rule: 'nelson1',
			side: 'upper',
			chart: 'primary'
		});
		expect(r[28].point?.value).toBeCloseTo(5.28, 2);
	});
	it('CUSUM reports the lower sum as a negative dispersion value', () => {
		const m = createMonitor({ ...IMR, chart: 'cusum' });
		// 10 − 0.5 − 7.99 = 1.51 after a first point of 10.
		expect(feed(m, [10, 7.99])[1].point?.dispersion?.value).toBeCloseTo(-1.51, 12);
	});
	it('EWMA starts at μ0 and plots z_i with time-varying limits', () => {
		const m = createMonitor({ ...IMR, chart: 'ewma', ewma: { lambda: 0.1, L: 2.7 } });
		const [a, b] = feed(m, x.slice(0, 2));
		expect(a.point?.value).toBeCloseTo(9.945, 10);
		expect(a.point?.ucl).toBeCloseTo(10.27, 2);
		expect(b.point?.ucl).toBeCloseTo(10.36, 2);
	});
	it('EWMA runs only the beyond-limit rules', () => {
		// Nine points above μ0 would fire nelson2 on a Shewhart chart.
		const m = createMonitor({ ...IMR, chart: 'ewma' });
		const r = feed(
			m,
			Array.from({ length: 12 }, () => 10.1)
		);
		expect(r.flatMap((p) => p.point?.violations ?? [])).toEqual([]);
	});
});

describe('monitor state', () => {
	const configs: Array<[string, MonitorConfig, MonitorInput[]]> = [
		['I-MR', { ...IMR, movingRangeSpan: 3 }, [10, 12, 9, 10.5, 13.5, 9, 8, 10, 11, 14, 6, 10.2]],
		[
			'X̄-R by single values',
			{ ...IMR, chart: 'xbar-r', subgroupSize: 3 },
			[9, 10, 11, 12, 12, 13, 8, 9, 10.5, 11, 11, 11]
		],
		['EWMA', { ...IMR, chart: 'ewma' }, [10, 11, 12, 12, 13, 9, 8, 10]],
		[
			'CUSUM with headstart',
			{ ...IMR, chart: 'cusum', cusum: { headstart: 2.5 } },
			[10, 11, 12, 12, 13, 9, 8, 10]
		],
		[
			'c chart',
			{ ...IMR, chart: 'c', limits: { centre: 4, sigma: 0 } },
			[1, 4, 12, 3, 5, 0, 6, 6, 7]
		]
	];
	it.each(configs)(
		'%s continues after a JSON round trip exactly as uninterrupted',
		(_n, cfg, inputs) => {
			const whole = feed(createMonitor(cfg), inputs);
			for (let split = 0; split <= inputs.length; split++) {
				const first = createMonitor(cfg);
				const out = feed(first, inputs.slice(0, split));
				const saved = JSON.parse(JSON.stringify(first.state()));
				const second = createMonitor(cfg, saved);
				out.push(...feed(second, inputs.slice(split)));
				expect(out).toEqual(whole);
			}
		}
	);
	it('refuses a state saved by another chart type', () => {
		const s = createMonitor(IMR).state();
		expect(() => createMonitor({ ...IMR, chart: 'ewma' }, s)).toThrow(RangeError);
	});
});
