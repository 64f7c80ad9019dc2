/**
 * Run rules: a designed series for every rule where it fires and a near miss where it must
 * not, the exact boundary conventions (docs/spc-rules.md), presets, parameter validation and
 * the incremental engine's serialisable state. Expected results are worked out by hand from the
 * rule definitions (Nelson, J. Qual. Technol. 16(4) 1984; Western Electric SQC Handbook 1956;
 * Minitab's "tests for special causes" for the re-triggering convention), never copied from
 * the code's output.
 */
import { describe, expect, it } from 'vitest';
import {
	RULE_PRESETS,
	RuleEngine,
	defaultParams,
	evaluateRulesBatch,
	resolveRuleSet,
	rulesForChart,
	type RulePoint
} from './rules';
import type { RuleId, RuleParams, RuleSet, Violation } from './types';

/** Points with centre 0 and sigma 1 unless given: values are then z-scores. */
function pts(values: number[], sigma: number | number[] = 1): RulePoint[] {
	return values.map((value, index) => ({
		value,
		centre: 0,
		sigma: Array.isArray(sigma) ? sigma[index] : sigma,
		index
	}));
}

function only(id: RuleId, params?: RuleParams): RuleSet {
	return { name: id, rules: [{ id, params }] };
}

/** Runs both evaluators and insists they agree, so every designed case checks both. */
function run(points: RulePoint[], rs: RuleSet | 'nelson-all'): Violation[] {
	const batch = evaluateRulesBatch(points, rs);
	const engine = new RuleEngine(rs);
	const incremental = points.flatMap((p) => engine.push(p));
	expect(incremental).toEqual(batch);
	return batch;
}

function firing(points: RulePoint[], rs: RuleSet) {
	return run(points, rs).map((v) => ({ index: v.index, points: v.points, side: v.side }));
}

const repeat = (v: number, n: number) => Array.from({ length: n }, () => v);
const alternate = (a: number, b: number, n: number) =>
	Array.from({ length: n }, (_, i) => (i % 2 === 0 ? a : b));

describe('nelson1: one point beyond 3σ', () => {
	it('fires on a point beyond 3σ on either side', () => {
		expect(firing(pts([0, 3.01, -3.5]), only('nelson1'))).toEqual([
			{ index: 1, points: [1], side: 'upper' },
			{ index: 2, points: [2], side: 'lower' }
		]);
	});
	it('does not fire on a point exactly on the 3σ limit', () => {
		expect(run(pts([3, -3]), only('nelson1'))).toEqual([]);
	});
	it('uses each point’s own sigma (unequal subgroup sizes)', () => {
		// 2.5 is beyond 3 × 0.8 = 2.4 but not beyond 3 × 1 = 3.
		expect(firing(pts([2.5, 2.5], [0.8, 1]), only('nelson1'))).toEqual([
			{ index: 0, points: [0], side: 'upper' }
		]);
	});
	it('honours sigmaMultiple', () => {
		expect(firing(pts([2.6]), only('nelson1', { sigmaMultiple: 2.5 }))).toHaveLength(1);
	});
});

describe('nelson2: 9 points in a row on one side', () => {
	it('fires at the 9th point and reports all nine', () => {
		expect(firing(pts(repeat(0.5, 9)), only('nelson2'))).toEqual([
			{ index: 8, points: [0, 1, 2, 3, 4, 5, 6, 7, 8], side: 'upper' }
		]);
	});
	it('fires again at every further point of a continuing run', () => {
		const v = run(pts(repeat(-0.1, 11)), only('nelson2'));
		expect(v.map((x) => [x.index, x.points[0], x.side])).toEqual([
			[8, 0, 'lower'],
			[9, 1, 'lower'],
			[10, 2, 'lower']
		]);
	});
	it('a point exactly on the centre line breaks the run', () => {
		expect(run(pts([...repeat(0.5, 8), 0, 0.5]), only('nelson2'))).toEqual([]);
	});
	it('does not fire on 8 in a row', () => {
		expect(run(pts([...repeat(0.5, 8), -0.5]), only('nelson2'))).toEqual([]);
	});
	it('honours runLength', () => {
		expect(firing(pts(repeat(0.5, 7)), only('nelson2', { runLength: 7 }))).toHaveLength(1);
	});
});

describe('nelson3: 6 points in a row steadily increasing or decreasing', () => {
	// Raw values, far inside the limits with sigma 10, so only the trend matters.
	it('fires on six strictly increasing points (five increases)', () => {
		expect(firing(pts([1, 2, 3, 4, 5, 6], 10), only('nelson3'))).toEqual([
			{ index: 5, points: [0, 1, 2, 3, 4, 5], side: null }
		]);
	});
	it('fires on a decreasing run and says so', () => {
		const v = run(pts([6, 5, 4, 3, 2, 1], 10), only('nelson3'));
		expect(v).toHaveLength(1);
		expect(v[0].message).toMatch(/decreasing/);
	});
	it('a tie breaks the trend', () => {
		expect(run(pts([1, 2, 3, 3, 4, 5, 6], 10), only('nelson3'))).toEqual([]);
	});
	it('does not fire on five points', () => {
		expect(run(pts([1, 2, 3, 4, 5, 4], 10), only('nelson3'))).toEqual([]);
	});
	it('ignores sigma: a trend across unequal sigmas still counts', () => {
		expect(run(pts([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]), only('nelson3'))).toHaveLength(1);
	});
});

describe('nelson4: 14 points in a row alternating up and down', () => {
	it('fires at the 14th alternating point', () => {
		expect(firing(pts(alternate(0.1, -0.2, 14)), only('nelson4'))).toEqual([
			{ index: 13, points: Array.from({ length: 14 }, (_, i) => i), side: null }
		]);
	});
	it('does not fire on 13', () => {
		expect(run(pts(alternate(0.1, -0.2, 13)), only('nelson4'))).toEqual([]);
	});
	it('a tie breaks the alternation', () => {
		const values = alternate(0.1, -0.2, 15);
		values[7] = values[6]; // equal neighbours: no up-or-down step
		expect(run(pts(values), only('nelson4'))).toEqual([]);
	});
	it('two steps in the same direction break the alternation', () => {
		const values = alternate(0, 1, 14);
		values[6] = 1.5; // 0 → 1 → 1.5: two steps up in a row
		expect(run(pts(values, 10), only('nelson4'))).toEqual([]);
	});
});

describe('nelson5: 2 of 3 points beyond 2σ on the same side', () => {
	it('fires with the two qualifying points', () => {
		expect(firing(pts([2.5, 0, 2.1]), only('nelson5'))).toEqual([
			{ index: 2, points: [0, 2], side: 'upper' }
		]);
	});
	it('a point exactly on 2σ does not qualify', () => {
		expect(run(pts([2.5, 0, 2]), only('nelson5'))).toEqual([]);
	});
	it('needs the same side', () => {
		expect(run(pts([2.5, -2.5, 0]), only('nelson5'))).toEqual([]);
	});
	it('needs them within three points', () => {
		expect(run(pts([-2.5, 0, 0, -2.5]), only('nelson5'))).toEqual([]);
	});
	it('fires only at a point that itself qualifies', () => {
		const v = run(pts([-2.5, -2.5, 0]), only('nelson5'));
		expect(v.map((x) => x.index)).toEqual([1]);
	});
});

describe('nelson6: 4 of 5 points beyond 1σ on the same side', () => {
	it('fires with the four qualifying points', () => {
		expect(firing(pts([-1.5, -1.5, 0, -1.5, -1.1]), only('nelson6'))).toEqual([
			{ index: 4, points: [0, 1, 3, 4], side: 'lower' }
		]);
	});
	it('a point exactly on 1σ does not qualify', () => {
		expect(run(pts([1.5, 1.5, 0, 1.5, 1]), only('nelson6'))).toEqual([]);
	});
	it('honours count and window', () => {
		expect(run(pts([1.5, 0, 1.5]), only('nelson6', { count: 2, window: 3 }))).toHaveLength(1);
	});
});

describe('nelson7: 15 points in a row within 1σ', () => {
	it('fires on 15 points within 1σ, boundary included', () => {
		const values = alternate(0.5, -1, 15); // −1 is exactly on the 1σ boundary: within
		expect(firing(pts(values), only('nelson7'))).toEqual([
			{ index: 14, points: Array.from({ length: 15 }, (_, i) => i), side: null }
		]);
	});
	it('one point beyond 1σ breaks it', () => {
		const values = alternate(0.5, -0.5, 15);
		values[7] = 1.01;
		expect(run(pts(values), only('nelson7'))).toEqual([]);
	});
	it('does not fire when sigma is 0 (a zero-width zone says nothing)', () => {
		expect(run(pts(repeat(0, 20), 0), only('nelson7'))).toEqual([]);
	});
});

describe('nelson8: 8 points in a row beyond 1σ on either side', () => {
	it('fires on 8 points beyond 1σ, mixed sides', () => {
		expect(firing(pts(alternate(1.5, -1.2, 8)), only('nelson8'))).toEqual([
			{ index: 7, points: [0, 1, 2, 3, 4, 5, 6, 7], side: null }
		]);
	});
	it('a point exactly on 1σ breaks it', () => {
		const values = alternate(1.5, -1.2, 8);
		values[3] = -1;
		expect(run(pts(values), only('nelson8'))).toEqual([]);
	});
});

describe('Western Electric rules', () => {
	it('we1 fires beyond 3σ only', () => {
		expect(firing(pts([3, 3.2]), only('we1'))).toEqual([{ index: 1, points: [1], side: 'upper' }]);
	});
	it('we2 fires on 2 of 3 beyond 2σ and not on a near miss', () => {
		expect(run(pts([2.1, 1.9, 2.2]), only('we2'))).toHaveLength(1);
		expect(run(pts([2.1, 1.9, 2]), only('we2'))).toEqual([]);
	});
	it('we3 fires on 4 of 5 beyond 1σ and not on 3 of 5', () => {
		expect(run(pts([1.1, 1.1, 1.1, 0, 1.1]), only('we3'))).toHaveLength(1);
		expect(run(pts([1.1, 1.1, 0, 0, 1.1]), only('we3'))).toEqual([]);
	});
	it('we4 fires on 8 in a row on one side and not on 7', () => {
		expect(firing(pts(repeat(-0.2, 8)), only('we4'))).toEqual([
			{ index: 7, points: [0, 1, 2, 3, 4, 5, 6, 7], side: 'lower' }
		]);
		expect(run(pts([...repeat(-0.2, 7), 0.1]), only('we4'))).toEqual([]);
	});
});

describe('sigma 0 (all-equal baseline)', () => {
	it('a point on the centre signals nothing; a point off it is beyond every zone', () => {
		const v = run(pts([0, 0, 1e-9], 0), 'nelson-all');
		expect(v.map((x) => [x.rule, x.index, x.side])).toEqual([['nelson1', 2, 'upper']]);
		expect(JSON.stringify(v)).not.toMatch(/NaN|Infinity/);
	});
});

describe('violations', () => {
	it('come in point order, then rule-set order, with plain-words messages', () => {
		// Point 8 completes nelson1 (3.5σ) and nelson2 (9 above); 0.5σ touches no zone rule.
		const values = [...repeat(0.5, 8), 3.5];
		const v = run(pts(values), 'nelson-all');
		expect(v.map((x) => x.rule)).toEqual(['nelson1', 'nelson2']);
		expect(v[0].message).toBe('1 point more than 3σ above the centre line');
		expect(v[1].message).toBe('9 points in a row above the centre line');
		expect(v.every((x) => x.chart === 'primary' && x.index === x.points.at(-1))).toBe(true);
	});
	it('keep the points’ own indices when the series has gaps', () => {
		const points = pts(repeat(0.5, 9)).map((p, i) => ({ ...p, index: i * 3 + 10 }));
		expect(run(points, only('nelson2'))[0].points).toEqual([10, 13, 16, 19, 22, 25, 28, 31, 34]);
	});
	it('reject indices that do not increase', () => {
		const e = new RuleEngine('nelson-all');
		e.push({ value: 0, centre: 0, sigma: 1, index: 5 });
		expect(() => e.push({ value: 0, centre: 0, sigma: 1, index: 5 })).toThrow(RangeError);
		expect(() => evaluateRulesBatch(pts([0, 0]).reverse(), 'nelson-all')).toThrow(RangeError);
	});
	it('reject NaN values and negative sigma', () => {
		const e = new RuleEngine('nelson-all');
		expect(() => e.push({ value: NaN, centre: 0, sigma: 1, index: 0 })).toThrow(RangeError);
		expect(() => e.push({ value: 0, centre: 0, sigma: -1, index: 0 })).toThrow(RangeError);
	});
});

describe('presets and parameters', () => {
	it('nelson-all holds the eight Nelson tests with Nelson’s parameters', () => {
		const rs = RULE_PRESETS['nelson-all'];
		expect(rs.rules.map((r) => r.id)).toEqual([
			'nelson1',
			'nelson2',
			'nelson3',
			'nelson4',
			'nelson5',
			'nelson6',
			'nelson7',
			'nelson8'
		]);
		const p = Object.fromEntries(rs.rules.map((r) => [r.id, r.params]));
		expect(p.nelson1?.sigmaMultiple).toBe(3);
		expect(p.nelson2?.runLength).toBe(9);
		expect(p.nelson3?.trendLength).toBe(6);
		expect(p.nelson4?.alternatingLength).toBe(14);
		expect([p.nelson5?.count, p.nelson5?.window, p.nelson5?.sigmaMultiple]).toEqual([2, 3, 2]);
		expect([p.nelson6?.count, p.nelson6?.window, p.nelson6?.sigmaMultiple]).toEqual([4, 5, 1]);
		expect(p.nelson7?.stratificationLength).toBe(15);
		expect(p.nelson8?.mixtureLength).toBe(8);
	});
	it('western-electric holds WE 1-4 with run length 8', () => {
		const rs = RULE_PRESETS['western-electric'];
		expect(rs.rules.map((r) => r.id)).toEqual(['we1', 'we2', 'we3', 'we4']);
		expect(rs.rules[3].params?.runLength).toBe(8);
	});
	it('aiag uses 7 in a row on one side and 7 trending', () => {
		const p = Object.fromEntries(RULE_PRESETS.aiag.rules.map((r) => [r.id, r.params]));
		expect(p.nelson2?.runLength).toBe(7);
		expect(p.nelson3?.trendLength).toBe(7);
		expect(p.nelson1?.sigmaMultiple).toBe(3);
	});
	it('beyond-limits holds rule 1 only', () => {
		expect(RULE_PRESETS['beyond-limits'].rules.map((r) => r.id)).toEqual(['nelson1']);
	});
	it('defaultParams gives WE 4 a run of 8 and Nelson 2 a run of 9', () => {
		expect(defaultParams('we4').runLength).toBe(8);
		expect(defaultParams('nelson2').runLength).toBe(9);
	});
	it('resolveRuleSet fills in defaults for an explicit list', () => {
		const rs = resolveRuleSet({ name: 'x', rules: [{ id: 'nelson5', params: { count: 3 } }] });
		expect(rs.rules[0].params).toMatchObject({ count: 3, window: 3, sigmaMultiple: 2 });
	});
	it.each([
		['an unknown preset', 'shewhart'],
		['an unknown rule', { name: 'x', rules: [{ id: 'nelson9' }] }],
		['a duplicate rule', { name: 'x', rules: [{ id: 'nelson1' }, { id: 'nelson1' }] }],
		['count above window', { name: 'x', rules: [{ id: 'nelson5', params: { count: 4 } }] }],
		[
			'a window too wide for the masks',
			{ name: 'x', rules: [{ id: 'we3', params: { window: 31 } }] }
		],
		[
			'a fractional run length',
			{ name: 'x', rules: [{ id: 'nelson2', params: { runLength: 8.5 } }] }
		],
		[
			'a zero sigma multiple',
			{ name: 'x', rules: [{ id: 'nelson1', params: { sigmaMultiple: 0 } }] }
		],
		['an unknown parameter', { name: 'x', rules: [{ id: 'nelson1', params: { k: 2 } }] }]
	])('rejects %s with a RangeError', (_what, spec) => {
		expect(() => resolveRuleSet(spec as never)).toThrow(RangeError);
	});
	it('keeps only beyond-limit rules on EWMA and CUSUM charts', () => {
		expect(rulesForChart('ewma', 'nelson-all').rules.map((r) => r.id)).toEqual(['nelson1']);
		expect(rulesForChart('cusum', 'western-electric').rules.map((r) => r.id)).toEqual(['we1']);
		expect(rulesForChart('imr', 'nelson-all').rules).toHaveLength(8);
	});
});

describe('RuleEngine state', () => {
	// A series touching every rule: shifts, a trend, alternation, hugging, mixture.
	const values = [
		...repeat(0.4, 10),
		1,
		2,
		3,
		4,
		5,
		6,
		7,
		...alternate(2.5, -2.5, 16),
		...alternate(0.2, -0.2, 16),
		2.5,
		0,
		2.5,
		3.5,
		-3.5,
		0,
		0,
		-2.2,
		-2.3
	];
	const points = pts(values, 2);
	const uninterrupted = evaluateRulesBatch(points, 'nelson-all');

	it('the designed series fires every Nelson rule', () => {
		expect(new Set(uninterrupted.map((v) => v.rule)).size).toBe(8);
	});
	it('continues identically after a JSON round trip at any point', () => {
		for (let split = 0; split <= points.length; split++) {
			const first = new RuleEngine('nelson-all');
			const out = points.slice(0, split).flatMap((p) => first.push(p));
			const saved = JSON.parse(JSON.stringify(first.state()));
			const second = new RuleEngine('nelson-all', saved);
			out.push(...points.slice(split).flatMap((p) => second.push(p)));
			expect(out).toEqual(uninterrupted);
		}
	});
	it('refuses a state from another rule set', () => {
		const s = new RuleEngine('nelson-all').state();
		expect(() => new RuleEngine('western-electric', s)).toThrow(RangeError);
	});
});
