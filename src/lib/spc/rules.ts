/**
 * Run rules (tests for special causes): Nelson 1-8 and Western Electric 1-4, their parameters,
 * named presets, an incremental evaluator (`RuleEngine`, O(1) work per rule per point, state in
 * counters and bit masks, JSON-serialisable) and a naive reference evaluator
 * (`evaluateRulesBatch`, re-scans each rule's window at every point).
 *
 * Exact definitions (docs/spc-rules.md has the full table). With d = value − centre and s the
 * sigma of the plotted statistic at that point (it may differ from point to point):
 * - "above"/"below" the centre: d > 0 / d < 0. A point exactly on the centre (d = 0) is on
 *   neither side: it breaks a same-side run and never counts toward a same-side zone test.
 * - "beyond kσ": d > k·s (upper) or d < −k·s (lower), strict. A point exactly on a zone
 *   boundary is NOT beyond it. The comparison is written k·s rather than d/s > k so that
 *   s = 0 needs no division: with s = 0 every point off the centre is beyond every zone
 *   (the limits collapse onto the centre, so such a point IS outside the drawn limits).
 * - "within kσ" (Nelson 7): s > 0 and |d| ≤ k·s (the boundary is inside, the complement of
 *   "beyond"). With s = 0 the zone has no width and tells nothing about stratification, so
 *   such a point breaks the run.
 * - Trend (Nelson 3) and alternation (Nelson 4) use the raw plotted values, not d/s: a run of
 *   K points "increasing" means K − 1 strict increases; equal consecutive values (ties) break
 *   both patterns.
 * - Re-triggering: a rule fires at EVERY point that completes its pattern, so a continuing
 *   run of 12 with run length 9 fires at the 9th, 10th, 11th and 12th point (Minitab's
 *   behaviour). Each violation lists the points of the pattern that this point completed:
 *   the last K points for run rules, the qualifying points of the window for K-of-W rules.
 * - K-of-W rules (Nelson 5/6, WE 2/3) fire only at a point that itself qualifies; before W
 *   points exist the window is the points so far.
 * - Point indices must strictly increase (gaps allowed: a missing value keeps its position in
 *   the series but is not a plotted point, so it neither breaks nor extends a pattern).
 */
import { z } from 'zod';
import type {
	ChartType,
	RuleConfig,
	RuleId,
	RuleParams,
	RuleSet,
	RuleSetPreset,
	RuleSetSpec,
	Violation
} from './types';

/** One plotted point as the rules see it. */
export interface RulePoint {
	value: number;
	centre: number;
	/** Sigma of the plotted statistic at this point (see points.ts ruleSigma). */
	sigma: number;
	index: number;
}

export const RULE_IDS: readonly RuleId[] = [
	'nelson1',
	'nelson2',
	'nelson3',
	'nelson4',
	'nelson5',
	'nelson6',
	'nelson7',
	'nelson8',
	'we1',
	'we2',
	'we3',
	'we4'
] as const;

/** Longest pattern (run length, window) a rule may ask for: bounds the ring buffer. */
export const MAX_PATTERN_LENGTH = 100;
/** K-of-W windows are held as bit masks in 32-bit integers. */
export const MAX_WINDOW = 30;

const BASE_DEFAULTS: Required<RuleParams> = {
	runLength: 9,
	trendLength: 6,
	alternatingLength: 14,
	count: 2,
	window: 3,
	stratificationLength: 15,
	mixtureLength: 8,
	sigmaMultiple: 3
};

/** Per-rule overrides of BASE_DEFAULTS: Nelson (1984) and the Western Electric handbook (1956). */
const RULE_DEFAULTS: Record<RuleId, Partial<RuleParams>> = {
	nelson1: { sigmaMultiple: 3 },
	nelson2: { runLength: 9 },
	nelson3: { trendLength: 6 },
	nelson4: { alternatingLength: 14 },
	nelson5: { count: 2, window: 3, sigmaMultiple: 2 },
	nelson6: { count: 4, window: 5, sigmaMultiple: 1 },
	nelson7: { stratificationLength: 15, sigmaMultiple: 1 },
	nelson8: { mixtureLength: 8, sigmaMultiple: 1 },
	we1: { sigmaMultiple: 3 },
	we2: { count: 2, window: 3, sigmaMultiple: 2 },
	we3: { count: 4, window: 5, sigmaMultiple: 1 },
	we4: { runLength: 8 }
};

/**
 * Every parameter filled in for `id`. Fields a rule does not read carry the general defaults;
 * `sigmaMultiple` is the zone each zone rule tests (3 for rule 1, 2 for 2-of-3, 1 for 4-of-5,
 * Nelson 7 and 8).
 */
export function defaultParams(id: RuleId): Required<RuleParams> {
	const own = RULE_DEFAULTS[id];
	if (!own) throw new RangeError(`unknown rule "${String(id)}"`);
	return { ...BASE_DEFAULTS, sigmaMultiple: 1, ...own };
}

function preset(name: string, rules: Array<[RuleId, Partial<RuleParams>?]>): RuleSet {
	return {
		name,
		rules: rules.map(([id, p]) => ({ id, params: { ...defaultParams(id), ...p } }))
	};
}

/**
 * Named presets.
 * - nelson-all: Nelson's eight tests with his parameters (J. Qual. Tech. 16(4), 1984).
 * - western-electric: the four zone rules of the WE Statistical Quality Control Handbook (1956).
 * - aiag: the AIAG SPC manual's criteria — beyond the limits, 7 in a row on one side, 7 in a
 *   row increasing or decreasing — plus the other Nelson tests with their usual parameters.
 * - beyond-limits: rule 1 only.
 */
export const RULE_PRESETS: Record<RuleSetPreset, RuleSet> = {
	'nelson-all': preset('nelson-all', [
		['nelson1'],
		['nelson2'],
		['nelson3'],
		['nelson4'],
		['nelson5'],
		['nelson6'],
		['nelson7'],
		['nelson8']
	]),
	'western-electric': preset('western-electric', [['we1'], ['we2'], ['we3'], ['we4']]),
	aiag: preset('aiag', [
		['nelson1'],
		['nelson2', { runLength: 7 }],
		['nelson3', { trendLength: 7 }],
		['nelson4'],
		['nelson5'],
		['nelson6'],
		['nelson7'],
		['nelson8']
	]),
	'beyond-limits': preset('beyond-limits', [['nelson1']])
};

const positiveInt = z.number().int().positive();
const ruleParamsSchema = z.strictObject({
	runLength: positiveInt.optional(),
	trendLength: positiveInt.optional(),
	alternatingLength: positiveInt.optional(),
	count: positiveInt.optional(),
	window: positiveInt.optional(),
	stratificationLength: positiveInt.optional(),
	mixtureLength: positiveInt.optional(),
	sigmaMultiple: z.number().positive().finite().optional()
});
const ruleSetSchema = z.strictObject({
	name: z.string(),
	rules: z.array(
		z.strictObject({
			id: z.enum(RULE_IDS as [RuleId, ...RuleId[]]),
			params: ruleParamsSchema.optional()
		})
	)
});

function checkLength(id: RuleId, what: string, v: number, min: number, max: number): void {
	if (v < min || v > max) {
		throw new RangeError(`rule ${id}: ${what} must be from ${min} to ${max}, got ${v}`);
	}
}

/**
 * A rule set with every parameter filled in, validated. Throws a RangeError naming the
 * problem on an unknown preset, unknown rule, duplicate rule or out-of-range parameter.
 */
export function resolveRuleSet(spec: RuleSetSpec): RuleSet {
	if (typeof spec === 'string') {
		const p = RULE_PRESETS[spec as RuleSetPreset];
		if (!p || !Object.prototype.hasOwnProperty.call(RULE_PRESETS, spec)) {
			throw new RangeError(
				`unknown rule-set preset "${spec}" (expected one of ${Object.keys(RULE_PRESETS).join(', ')})`
			);
		}
		return structuredCloneRuleSet(p);
	}
	const parsed = ruleSetSchema.safeParse(spec);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		throw new RangeError(
			`invalid rule set at ${issue.path.join('.') || '(root)'}: ${issue.message}`
		);
	}
	const seen = new Set<RuleId>();
	const rules: RuleConfig[] = parsed.data.rules.map((r) => {
		if (seen.has(r.id)) throw new RangeError(`rule ${r.id} appears twice in the rule set`);
		seen.add(r.id);
		const params = { ...defaultParams(r.id), ...r.params };
		checkLength(r.id, 'runLength', params.runLength, 2, MAX_PATTERN_LENGTH);
		checkLength(r.id, 'trendLength', params.trendLength, 2, MAX_PATTERN_LENGTH);
		checkLength(r.id, 'alternatingLength', params.alternatingLength, 3, MAX_PATTERN_LENGTH);
		checkLength(r.id, 'stratificationLength', params.stratificationLength, 2, MAX_PATTERN_LENGTH);
		checkLength(r.id, 'mixtureLength', params.mixtureLength, 2, MAX_PATTERN_LENGTH);
		checkLength(r.id, 'window', params.window, 1, MAX_WINDOW);
		checkLength(r.id, 'count', params.count, 1, params.window);
		return { id: r.id, params };
	});
	return { name: parsed.data.name, rules };
}

function structuredCloneRuleSet(rs: RuleSet): RuleSet {
	return { name: rs.name, rules: rs.rules.map((r) => ({ id: r.id, params: { ...r.params } })) };
}

// ---------------------------------------------------------------------------------------------
// Compiled rules
// ---------------------------------------------------------------------------------------------

const KIND_BEYOND = 0;
const KIND_RUN = 1;
const KIND_TREND = 2;
const KIND_ALTERNATING = 3;
const KIND_K_OF_W = 4;
const KIND_WITHIN = 5;
const KIND_MIXTURE = 6;

const RULE_KIND: Record<RuleId, number> = {
	nelson1: KIND_BEYOND,
	we1: KIND_BEYOND,
	nelson2: KIND_RUN,
	we4: KIND_RUN,
	nelson3: KIND_TREND,
	nelson4: KIND_ALTERNATING,
	nelson5: KIND_K_OF_W,
	nelson6: KIND_K_OF_W,
	we2: KIND_K_OF_W,
	we3: KIND_K_OF_W,
	nelson7: KIND_WITHIN,
	nelson8: KIND_MIXTURE
};

/**
 * One compiled rule. Every detector has the same shape (V8 keeps the dispatch loop
 * monomorphic); `a`/`b` are its state: run counters, or the upper/lower bit masks of K-of-W
 * (bit 0 = the newest point).
 */
interface Detector {
	kind: number;
	rule: RuleId;
	/** Position in the rule set. */
	pos: number;
	/** Pattern length (runs, trend, alternation) or count K (K-of-W). */
	length: number;
	window: number;
	mult: number;
	/** mult × sigma for the sigma of the previous point (recomputed only when sigma changes). */
	ks: number;
	fullMask: number;
	a: number;
	b: number;
	msgUpper: string;
	msgLower: string;
	msgNeutral: string;
}

function sigmaText(k: number): string {
	return `${k}σ`;
}

const FIRED_UPPER = 1;
const FIRED_LOWER = 2;
const FIRED_NEUTRAL = 3;

function compile(rs: RuleSet): Detector[] {
	return rs.rules.map((r, pos) => {
		const p = { ...defaultParams(r.id), ...r.params };
		const kind = RULE_KIND[r.id];
		const d: Detector = {
			kind,
			rule: r.id,
			pos,
			length: 1,
			window: 1,
			mult: p.sigmaMultiple,
			ks: 0,
			fullMask: 1,
			a: 0,
			b: 0,
			msgUpper: '',
			msgLower: '',
			msgNeutral: ''
		};
		const k = sigmaText(p.sigmaMultiple);
		switch (kind) {
			case KIND_BEYOND:
				d.msgUpper = `1 point more than ${k} above the centre line`;
				d.msgLower = `1 point more than ${k} below the centre line`;
				break;
			case KIND_RUN:
				d.length = p.runLength;
				d.msgUpper = `${p.runLength} points in a row above the centre line`;
				d.msgLower = `${p.runLength} points in a row below the centre line`;
				break;
			case KIND_TREND:
				d.length = p.trendLength;
				d.msgUpper = `${p.trendLength} points in a row steadily increasing`;
				d.msgLower = `${p.trendLength} points in a row steadily decreasing`;
				break;
			case KIND_ALTERNATING:
				d.length = p.alternatingLength;
				d.msgNeutral = `${p.alternatingLength} points in a row alternating up and down`;
				break;
			case KIND_K_OF_W:
				d.length = p.count;
				d.window = p.window;
				d.fullMask = p.window >= 31 ? -1 : (1 << p.window) - 1;
				d.msgUpper = `${p.count} of ${p.window} points more than ${k} above the centre line`;
				d.msgLower = `${p.count} of ${p.window} points more than ${k} below the centre line`;
				break;
			case KIND_WITHIN:
				d.length = p.stratificationLength;
				d.msgNeutral = `${p.stratificationLength} points in a row within ${k} of the centre line`;
				break;
			case KIND_MIXTURE:
				d.length = p.mixtureLength;
				d.msgNeutral = `${p.mixtureLength} points in a row more than ${k} from the centre line (either side)`;
				break;
		}
		return d;
	});
}

/** Points a rule set needs to remember for reporting patterns (ring buffer size). */
function patternMemory(detectors: Detector[]): number {
	let m = 1;
	for (const d of detectors) m = Math.max(m, d.length, d.window);
	return m;
}

function popcount(x: number): number {
	x = x - ((x >>> 1) & 0x55555555);
	x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
	return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function assertRulePoint(value: number, centre: number, sigma: number, index: number): void {
	if (!Number.isFinite(value) || !Number.isFinite(centre)) {
		throw new RangeError(`rule point ${index}: value and centre must be finite`);
	}
	if (!(sigma >= 0) || sigma === Infinity) {
		throw new RangeError(`rule point ${index}: sigma must be finite and ≥ 0, got ${sigma}`);
	}
	if (!Number.isFinite(index)) throw new RangeError(`rule point index must be finite`);
}

/** Serialisable state of a RuleEngine; restore with `new RuleEngine(ruleSet, state)`. */
export interface RuleEngineState {
	version: 1;
	/** Rule ids in order: a state only resumes the rule set it came from. */
	rules: RuleId[];
	/** Index of the last point, null before the first. */
	lastIndex: number | null;
	/** Last plotted value (trend, alternation), null before the first. */
	prevValue: number | null;
	/** Sign of the last difference (−1, 0, 1); 0 before the second point. */
	prevDiffSign: number;
	/** Signed length of the current same-side run (+ above, − below, 0 after a centre point). */
	sideRun: number;
	/** Points in the current strictly increasing / decreasing / alternating run. */
	upRun: number;
	downRun: number;
	altRun: number;
	/** Indices of the most recent points, oldest first (at most the longest pattern). */
	recent: number[];
	/** Per rule, in rule order: [a, b] = K-of-W upper/lower bit masks, or [run, 0] for rules 7/8. */
	counters: Array<[number, number]>;
}

const EMPTY: Violation[] = Object.freeze([]) as unknown as Violation[];

/**
 * Incremental evaluator: feed points in index order with `push`; each call returns the
 * violations completed at that point, in rule-set order (a frozen empty array when none, to
 * avoid allocating on the common path — copy it before mutating).
 *
 * Hot-path design: the rules are grouped by kind; the counters shared by a kind (same-side
 * run, trend and alternation lengths) are updated once per point whatever the number of rules
 * reading them, and each group is a loop over objects of one shape (monomorphic for V8).
 */
export class RuleEngine {
	readonly ruleSet: RuleSet;
	private readonly detectors: Detector[];
	private readonly chart: 'primary' | 'dispersion';
	/** Per rule position: what fired at the current point (0 = nothing). */
	private readonly fired: Int8Array;
	private readonly beyond: Detector[];
	private readonly runs: Detector[];
	private readonly trends: Detector[];
	private readonly alternations: Detector[];
	private readonly kOfW: Detector[];
	private readonly withins: Detector[];
	private readonly mixtures: Detector[];
	private readonly ring: Float64Array;
	private readonly ringSize: number;
	private head = 0; // slot of the newest index
	private filled = 0;
	private lastIndex = -Infinity;
	private hasPrev = false;
	private prevValue = 0;
	private prevDiffSign = 0;
	private sideRun = 0;
	private upRun = 0;
	private downRun = 0;
	private altRun = 0;
	/** Sigma the detectors' thresholds `ks` were computed for (NaN: not yet). */
	private thresholdSigma = NaN;
	private readonly needsDiff: boolean;

	constructor(
		ruleSet: RuleSetSpec,
		state?: RuleEngineState,
		chart: 'primary' | 'dispersion' = 'primary'
	) {
		this.ruleSet = resolveRuleSet(ruleSet);
		this.detectors = compile(this.ruleSet);
		this.chart = chart;
		this.fired = new Int8Array(this.detectors.length);
		const ofKind = (k: number) => this.detectors.filter((d) => d.kind === k);
		this.beyond = ofKind(KIND_BEYOND);
		this.runs = ofKind(KIND_RUN);
		this.trends = ofKind(KIND_TREND);
		this.alternations = ofKind(KIND_ALTERNATING);
		this.kOfW = ofKind(KIND_K_OF_W);
		this.withins = ofKind(KIND_WITHIN);
		this.mixtures = ofKind(KIND_MIXTURE);
		this.needsDiff = this.trends.length > 0 || this.alternations.length > 0;
		this.ringSize = patternMemory(this.detectors);
		this.ring = new Float64Array(this.ringSize);
		if (state) this.restore(state);
	}

	private restore(s: RuleEngineState): void {
		const ids = this.detectors.map((d) => d.rule);
		if (
			!s ||
			s.version !== 1 ||
			!Array.isArray(s.rules) ||
			s.rules.length !== ids.length ||
			s.rules.some((id, i) => id !== ids[i])
		) {
			throw new RangeError('rule engine state does not belong to this rule set');
		}
		if (!Array.isArray(s.counters) || s.counters.length !== ids.length) {
			throw new RangeError('rule engine state: counters do not match the rule set');
		}
		if (!Array.isArray(s.recent) || s.recent.length > this.ringSize) {
			throw new RangeError('rule engine state: recent indices do not fit the rule set');
		}
		const counts = [s.prevDiffSign, s.sideRun, s.upRun, s.downRun, s.altRun];
		if (!counts.every((c) => Number.isInteger(c))) {
			throw new RangeError('rule engine state: run counters must be integers');
		}
		this.filled = 0;
		this.head = this.ringSize - 1;
		for (const idx of s.recent) this.remember(idx);
		this.lastIndex = s.lastIndex === null ? -Infinity : s.lastIndex;
		this.hasPrev = s.prevValue !== null;
		this.prevValue = s.prevValue ?? 0;
		this.prevDiffSign = s.prevDiffSign;
		this.sideRun = s.sideRun;
		this.upRun = s.upRun;
		this.downRun = s.downRun;
		this.altRun = s.altRun;
		s.counters.forEach(([a, b], i) => {
			this.detectors[i].a = a;
			this.detectors[i].b = b;
		});
	}

	/** JSON-serialisable snapshot; `new RuleEngine(ruleSet, state)` continues identically. */
	state(): RuleEngineState {
		const recent: number[] = [];
		for (let k = this.filled - 1; k >= 0; k--) recent.push(this.recentIndex(k));
		return {
			version: 1,
			rules: this.detectors.map((d) => d.rule),
			lastIndex: this.lastIndex === -Infinity ? null : this.lastIndex,
			prevValue: this.hasPrev ? this.prevValue : null,
			prevDiffSign: this.prevDiffSign,
			sideRun: this.sideRun,
			upRun: this.upRun,
			downRun: this.downRun,
			altRun: this.altRun,
			recent,
			counters: this.detectors.map((d) => [d.a, d.b])
		};
	}

	push(p: RulePoint): Violation[] {
		return this.check(p.value, p.centre, p.sigma, p.index);
	}

	/** `push` without the point object: the monitor's hot path. */
	check(value: number, centre: number, sigma: number, index: number): Violation[] {
		if (!(index > this.lastIndex) || !Number.isFinite(value + centre + sigma) || !(sigma >= 0)) {
			if (!(index > this.lastIndex)) {
				throw new RangeError(
					`rule point index ${index} must be greater than the previous index ${this.lastIndex}`
				);
			}
			assertRulePoint(value, centre, sigma, index);
		}
		this.lastIndex = index;
		const head = this.head + 1 === this.ringSize ? 0 : this.head + 1;
		this.head = head;
		this.ring[head] = index;
		if (this.filled < this.ringSize) this.filled++;

		const d = value - centre;
		if (sigma !== this.thresholdSigma) {
			// Points usually share one sigma (constant n): multiply once, not per point.
			const dets = this.detectors;
			for (let r = 0; r < dets.length; r++) dets[r].ks = dets[r].mult * sigma;
			this.thresholdSigma = sigma;
		}
		// Shared counters, each updated once per point whatever the number of rules reading it.
		const sideRun =
			d > 0
				? this.sideRun > 0
					? this.sideRun + 1
					: 1
				: d < 0
					? this.sideRun < 0
						? this.sideRun - 1
						: -1
					: 0;
		this.sideRun = sideRun;
		let upRun = 1;
		let downRun = 1;
		let altRun = 1;
		if (this.needsDiff) {
			const diffSign = this.hasPrev
				? value > this.prevValue
					? 1
					: value < this.prevValue
						? -1
						: 0
				: 0;
			upRun = diffSign > 0 ? this.upRun + 1 : 1;
			downRun = diffSign < 0 ? this.downRun + 1 : 1;
			altRun =
				diffSign === 0
					? 1
					: this.prevDiffSign !== 0 && diffSign === -this.prevDiffSign
						? this.altRun + 1
						: 2;
			this.upRun = upRun;
			this.downRun = downRun;
			this.altRun = altRun;
			this.prevValue = value;
			this.prevDiffSign = diffSign;
			this.hasPrev = true;
		}

		// Detectors only mark what fired (fired[pos] = UPPER/LOWER/NEUTRAL); the rare reporting
		// happens in one place afterwards, in rule-set order, keeping this loop small.
		const fired = this.fired;
		let any = false;
		const beyond = this.beyond;
		for (let r = 0; r < beyond.length; r++) {
			const det = beyond[r];
			const ks = det.ks;
			if (d > ks) {
				fired[det.pos] = FIRED_UPPER;
				any = true;
			} else if (d < -ks) {
				fired[det.pos] = FIRED_LOWER;
				any = true;
			}
		}
		const runs = this.runs;
		for (let r = 0; r < runs.length; r++) {
			const det = runs[r];
			if (sideRun >= det.length) {
				fired[det.pos] = FIRED_UPPER;
				any = true;
			} else if (-sideRun >= det.length) {
				fired[det.pos] = FIRED_LOWER;
				any = true;
			}
		}
		const trends = this.trends;
		for (let r = 0; r < trends.length; r++) {
			const det = trends[r];
			if (upRun >= det.length) {
				fired[det.pos] = FIRED_UPPER;
				any = true;
			} else if (downRun >= det.length) {
				fired[det.pos] = FIRED_LOWER;
				any = true;
			}
		}
		const alternations = this.alternations;
		for (let r = 0; r < alternations.length; r++) {
			const det = alternations[r];
			if (altRun >= det.length) {
				fired[det.pos] = FIRED_NEUTRAL;
				any = true;
			}
		}
		const kOfW = this.kOfW;
		for (let r = 0; r < kOfW.length; r++) {
			const det = kOfW[r];
			const ks = det.ks;
			const up = d > ks ? 1 : 0;
			const down = d < -ks ? 1 : 0;
			const a = ((det.a << 1) | up) & det.fullMask;
			const b = ((det.b << 1) | down) & det.fullMask;
			det.a = a;
			det.b = b;
			if (up === 1) {
				if (popcount(a) >= det.length) {
					fired[det.pos] = FIRED_UPPER;
					any = true;
				}
			} else if (down === 1 && popcount(b) >= det.length) {
				fired[det.pos] = FIRED_LOWER;
				any = true;
			}
		}
		const withins = this.withins;
		for (let r = 0; r < withins.length; r++) {
			const det = withins[r];
			const ks = det.ks;
			const run = sigma > 0 && d <= ks && d >= -ks ? det.a + 1 : 0;
			det.a = run;
			if (run >= det.length) {
				fired[det.pos] = FIRED_NEUTRAL;
				any = true;
			}
		}
		const mixtures = this.mixtures;
		for (let r = 0; r < mixtures.length; r++) {
			const det = mixtures[r];
			const ks = det.ks;
			const run = d > ks || d < -ks ? det.a + 1 : 0;
			det.a = run;
			if (run >= det.length) {
				fired[det.pos] = FIRED_NEUTRAL;
				any = true;
			}
		}
		return any ? this.report() : EMPTY;
	}

	/** Builds the violations marked in `fired`, in rule-set order, and clears the marks. */
	private report(): Violation[] {
		const out: Violation[] = [];
		const fired = this.fired;
		const dets = this.detectors;
		for (let r = 0; r < dets.length; r++) {
			const mark = fired[r];
			if (mark === 0) continue;
			fired[r] = 0;
			const det = dets[r];
			const side = mark === FIRED_UPPER ? 'upper' : mark === FIRED_LOWER ? 'lower' : null;
			let points: number[];
			if (det.kind === KIND_K_OF_W) {
				const mask = mark === FIRED_UPPER ? det.a : det.b;
				points = [];
				for (let k = det.window - 1; k >= 0; k--) {
					if ((mask >>> k) & 1) points.push(this.recentIndex(k));
				}
			} else {
				const length = det.kind === KIND_BEYOND ? 1 : det.length;
				points = new Array<number>(length);
				for (let k = 0; k < length; k++) points[length - 1 - k] = this.recentIndex(k);
			}
			out.push({
				rule: det.rule,
				index: points[points.length - 1],
				points,
				side: det.kind === KIND_TREND ? null : side,
				chart: this.chart,
				message: side === 'upper' ? det.msgUpper : side === 'lower' ? det.msgLower : det.msgNeutral
			});
		}
		return out;
	}

	private remember(index: number): void {
		this.head = this.head + 1 === this.ringSize ? 0 : this.head + 1;
		this.ring[this.head] = index;
		if (this.filled < this.ringSize) this.filled++;
	}

	/** Index of the point k steps back (0 = newest). */
	private recentIndex(k: number): number {
		let slot = this.head - k;
		if (slot < 0) slot += this.ringSize;
		return this.ring[slot];
	}
}

// ---------------------------------------------------------------------------------------------
// Reference evaluator
// ---------------------------------------------------------------------------------------------

/**
 * Naive reference: at every point, re-scan each rule's window from scratch. O(window) per rule
 * per point; written for obviousness, not speed. Used by analyze.ts and as the bench baseline.
 * Violations come ordered by point, then by the rule set's order.
 */
export function evaluateRulesBatch(
	points: RulePoint[],
	ruleSet: RuleSetSpec,
	chart: 'primary' | 'dispersion' = 'primary'
): Violation[] {
	const detectors = compile(resolveRuleSet(ruleSet));
	const out: Violation[] = [];
	for (let i = 0; i < points.length; i++) {
		const p = points[i];
		assertRulePoint(p.value, p.centre, p.sigma, p.index);
		if (i > 0 && !(p.index > points[i - 1].index)) {
			throw new RangeError(
				`rule point index ${p.index} must be greater than the previous index ${points[i - 1].index}`
			);
		}
	}
	const dev = (j: number) => points[j].value - points[j].centre;
	const above = (j: number, k: number) => dev(j) > k * points[j].sigma;
	const below = (j: number, k: number) => dev(j) < -k * points[j].sigma;
	const within = (j: number, k: number) =>
		points[j].sigma > 0 && Math.abs(dev(j)) <= k * points[j].sigma;
	const all = (from: number, to: number, test: (j: number) => boolean) => {
		for (let j = from; j <= to; j++) if (!test(j)) return false;
		return true;
	};
	const push = (det: Detector, side: 'upper' | 'lower' | null, idx: number[]) => {
		out.push({
			rule: det.rule,
			index: idx[idx.length - 1],
			points: idx,
			side: det.kind === KIND_TREND ? null : side,
			chart,
			message: side === 'upper' ? det.msgUpper : side === 'lower' ? det.msgLower : det.msgNeutral
		});
	};
	const last = (i: number, n: number) => {
		const idx: number[] = [];
		for (let j = i - n + 1; j <= i; j++) idx.push(points[j].index);
		return idx;
	};
	for (let i = 0; i < points.length; i++) {
		for (const det of detectors) {
			const L = det.length;
			const from = i - L + 1;
			switch (det.kind) {
				case KIND_BEYOND:
					if (above(i, det.mult)) push(det, 'upper', [points[i].index]);
					else if (below(i, det.mult)) push(det, 'lower', [points[i].index]);
					break;
				case KIND_RUN:
					if (from < 0) break;
					if (all(from, i, (j) => dev(j) > 0)) push(det, 'upper', last(i, L));
					else if (all(from, i, (j) => dev(j) < 0)) push(det, 'lower', last(i, L));
					break;
				case KIND_TREND:
					if (from < 0) break;
					if (all(from + 1, i, (j) => points[j].value > points[j - 1].value)) {
						push(det, 'upper', last(i, L));
					} else if (all(from + 1, i, (j) => points[j].value < points[j - 1].value)) {
						push(det, 'lower', last(i, L));
					}
					break;
				case KIND_ALTERNATING: {
					if (from < 0) break;
					const sign = (j: number) => Math.sign(points[j].value - points[j - 1].value);
					const ok = all(
						from + 1,
						i,
						(j) => sign(j) !== 0 && (j === from + 1 || sign(j) === -sign(j - 1))
					);
					if (ok) push(det, null, last(i, L));
					break;
				}
				case KIND_K_OF_W: {
					const start = Math.max(0, i - det.window + 1);
					for (const [side, test] of [
						['upper', above],
						['lower', below]
					] as const) {
						if (!test(i, det.mult)) continue;
						const idx: number[] = [];
						for (let j = start; j <= i; j++) if (test(j, det.mult)) idx.push(points[j].index);
						if (idx.length >= L) push(det, side, idx);
						break;
					}
					break;
				}
				case KIND_WITHIN:
					if (from >= 0 && all(from, i, (j) => within(j, det.mult))) push(det, null, last(i, L));
					break;
				case KIND_MIXTURE:
					if (from >= 0 && all(from, i, (j) => above(j, det.mult) || below(j, det.mult))) {
						push(det, null, last(i, L));
					}
					break;
			}
		}
	}
	return out;
}

/** The dispersion chart (MR, R, S, CUSUM C−) is tested for points beyond its limits only. */
export const DISPERSION_RULE_SET: RuleSet = {
	name: 'dispersion-beyond-limits',
	rules: [{ id: 'nelson1', params: defaultParams('nelson1') }]
};

const DISPERSION_DETECTOR = compile(DISPERSION_RULE_SET)[0];

/**
 * DISPERSION_RULE_SET (beyond 3σ) for one point, without an engine: the rule has no memory, so
 * the monitor's hot path calls this instead of a RuleEngine. Same result as
 * `new RuleEngine(DISPERSION_RULE_SET, undefined, 'dispersion').check(...)`.
 */
export function dispersionViolations(
	value: number,
	centre: number,
	sigma: number,
	index: number
): Violation[] {
	const d = value - centre;
	const ks = DISPERSION_DETECTOR.mult * sigma;
	if (!(d > ks) && !(d < -ks)) return EMPTY;
	const side = d > ks ? 'upper' : 'lower';
	return [
		{
			rule: DISPERSION_DETECTOR.rule,
			index,
			points: [index],
			side,
			chart: 'dispersion',
			message: side === 'upper' ? DISPERSION_DETECTOR.msgUpper : DISPERSION_DETECTOR.msgLower
		}
	];
}

/**
 * The rules actually run on a chart's primary statistic: the configured set, except that
 * EWMA and CUSUM points are autocorrelated (each carries the history before it), so the run and
 * zone tests, which assume independent points, do not apply; only the beyond-limit rules
 * (nelson1, we1) are kept there — Minitab does the same for time-weighted charts.
 */
export function rulesForChart(chart: ChartType, spec: RuleSetSpec): RuleSet {
	const rs = resolveRuleSet(spec);
	if (chart !== 'ewma' && chart !== 'cusum') return rs;
	return { name: rs.name, rules: rs.rules.filter((r) => RULE_KIND[r.id] === KIND_BEYOND) };
}
