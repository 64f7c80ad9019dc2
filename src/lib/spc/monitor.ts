/**
 * The incremental phase-II monitor of one characteristic: `push` a value, a subgroup or an
 * attribute count; get the plotted point with its limits and the violations it completed.
 * O(1) work per rule per point; the state is plain JSON so a worker can persist it and resume
 * after a restart exactly where it stopped (`createMonitor(config, monitor.state())`).
 *
 * Order of work on each push:
 * 1. Screen every raw value with the suspect screen (suspect.ts; the same test as
 *    checkSuspect, built once per monitor). A suspect value is reported as
 *    `{ point: null, suspect }` and never enters the statistics; for a whole-subgroup push one
 *    suspect member withholds the whole subgroup (a subgroup is plotted only as measured).
 *    Attribute counts that cannot be real (negative, fractional, or above n for p/np) are
 *    reported as `outside-physical-range`.
 * 2. X̄ charts: single values accumulate until `subgroupSize` are pending (point null until
 *    then); an array is one whole subgroup of any size ≥ 2 (unequal n → per-point limits).
 * 3. Compute the point with points.ts (same functions as analyze.ts).
 * 4. Primary chart: the configured rule set (EWMA/CUSUM: its beyond-limit rules only, see
 *    rulesForChart); dispersion chart (MR, R, S, CUSUM C−): beyond limits only.
 *
 * The batch analyser in phase II mode (frozen limits) gives the same points and violations
 * (monitor.property.test.ts checks it).
 */
import {
	DEFAULT_CUSUM_H,
	DEFAULT_CUSUM_HEADSTART,
	DEFAULT_CUSUM_K,
	DEFAULT_EWMA_L,
	DEFAULT_EWMA_LAMBDA,
	DEFAULT_MOVING_RANGE_SPAN,
	cusumNext,
	dispersionLimits,
	ewmaNext,
	primaryLimits,
	ruleSigma,
	subgroupStats,
	type PointLimits
} from './points';
import { MAX_RANGE_N } from './constants';
import { RuleEngine, dispersionViolations, rulesForChart, type RuleEngineState } from './rules';
import { createSuspectScreen, type SuspectScreen } from './suspect';
import {
	CHART_TYPES,
	type ChartPoint,
	type ChartType,
	type MonitorConfig,
	type MonitorInput,
	type PushResult,
	type SuspectFlag,
	type Violation
} from './types';

/** JSON-serialisable monitor state. */
export interface MonitorState {
	version: 1;
	chart: ChartType;
	/** Points plotted so far (the next point's index). */
	count: number;
	/** X̄ charts: single values of the subgroup being filled. */
	pending: number[];
	/** I-MR: the last (span − 1) individual values, oldest first. */
	recent: number[];
	/** EWMA: the last z (z0 before the first point). */
	ewma: number | null;
	/** CUSUM: the upper and lower sums C+, C−. */
	cusumUpper: number | null;
	cusumLower: number | null;
	rules: RuleEngineState;
	/** CUSUM lower sum only (the MR, R and S tests are memoryless). */
	dispersionRules: RuleEngineState | null;
}

export interface Monitor {
	readonly config: MonitorConfig;
	push(input: MonitorInput): PushResult;
	state(): MonitorState;
	/** Points plotted so far. */
	count(): number;
}

function fail(message: string): never {
	throw new RangeError(`monitor config: ${message}`);
}

function isFiniteNumber(x: unknown): x is number {
	return typeof x === 'number' && Number.isFinite(x);
}

function validateConfig(c: MonitorConfig): void {
	if (!c || typeof c !== 'object') fail('expected an object');
	if (!CHART_TYPES.includes(c.chart)) {
		fail(`unknown chart "${String(c.chart)}" (expected one of ${CHART_TYPES.join(', ')})`);
	}
	const n = c.subgroupSize;
	if (!isFiniteNumber(n) || n <= 0) fail(`subgroupSize must be a positive number, got ${n}`);
	const L = c.limits;
	if (!L || !isFiniteNumber(L.centre)) fail('limits.centre must be a finite number');
	switch (c.chart) {
		case 'imr':
		case 'ewma':
		case 'cusum':
			if (n !== 1) fail(`${c.chart} charts take single values: subgroupSize must be 1, got ${n}`);
			break;
		case 'xbar-r':
		case 'xbar-s':
			if (!Number.isInteger(n) || n < 2) {
				fail(`${c.chart} needs subgroups of at least 2 values, got subgroupSize ${n}`);
			}
			if (c.chart === 'xbar-r' && n > MAX_RANGE_N) {
				fail(`xbar-r supports subgroups up to ${MAX_RANGE_N}; use xbar-s for larger ones`);
			}
			break;
		case 'p':
		case 'np':
			if (!Number.isInteger(n)) fail(`${c.chart} needs a whole number inspected, got ${n}`);
			if (!(L.centre >= 0 && L.centre <= 1)) {
				fail(`limits.centre of a ${c.chart} chart is the fraction p̄ in [0, 1], got ${L.centre}`);
			}
			break;
		case 'c':
		case 'u':
			if (!(L.centre >= 0))
				fail(`limits.centre of a ${c.chart} chart must be ≥ 0, got ${L.centre}`);
			break;
	}
	const variable = c.chart !== 'p' && c.chart !== 'np' && c.chart !== 'c' && c.chart !== 'u';
	if (variable && (!isFiniteNumber(L.sigma) || L.sigma < 0)) {
		fail(`limits.sigma must be a finite number ≥ 0, got ${L.sigma}`);
	}
	const dc = L.dispersionCentre;
	if (dc !== undefined && dc !== null && (!isFiniteNumber(dc) || dc < 0)) {
		fail(`limits.dispersionCentre must be a finite number ≥ 0 or null, got ${dc}`);
	}
	if (c.movingRangeSpan !== undefined) {
		const w = c.movingRangeSpan;
		if (!Number.isInteger(w) || w < 2 || w > MAX_RANGE_N) {
			fail(`movingRangeSpan must be an integer from 2 to ${MAX_RANGE_N}, got ${w}`);
		}
	}
	if (c.ewma) {
		const { lambda, L: width, start } = c.ewma;
		if (lambda !== undefined && !(isFiniteNumber(lambda) && lambda > 0 && lambda <= 1)) {
			fail(`ewma.lambda must be in (0, 1], got ${lambda}`);
		}
		if (width !== undefined && !(isFiniteNumber(width) && width > 0)) {
			fail(`ewma.L must be a positive number, got ${width}`);
		}
		if (start !== undefined && start !== null && !isFiniteNumber(start)) {
			fail(`ewma.start must be a finite number or null, got ${start}`);
		}
	}
	if (c.cusum) {
		const { k, h, headstart } = c.cusum;
		if (k !== undefined && !(isFiniteNumber(k) && k >= 0)) fail(`cusum.k must be ≥ 0, got ${k}`);
		if (h !== undefined && !(isFiniteNumber(h) && h > 0)) fail(`cusum.h must be > 0, got ${h}`);
		const hh = h ?? DEFAULT_CUSUM_H;
		if (
			headstart !== undefined &&
			!(isFiniteNumber(headstart) && headstart >= 0 && headstart < hh)
		) {
			fail(`cusum.headstart must be in [0, h), got ${headstart}`);
		}
	}
}

/** The suspect screen of a configuration (validates spec and suspect settings once). */
function screenFor(c: MonitorConfig): SuspectScreen {
	try {
		return createSuspectScreen(c.spec, c.suspect);
	} catch (e) {
		return fail(e instanceof Error ? e.message : String(e));
	}
}

function physicalFlag(message: string): SuspectFlag {
	return { reason: 'outside-physical-range', message };
}

class SpcMonitor implements Monitor {
	readonly config: MonitorConfig;
	private readonly chart: ChartType;
	private readonly nominalN: number;
	private readonly span: number;
	private readonly lambda: number;
	private readonly kSigma: number;
	private readonly screen: SuspectScreen;
	private readonly primary: RuleEngine;
	private readonly dispersion: RuleEngine | null;
	/** Limits at the nominal size, computed once (I-MR, X̄ and attributes at the usual n). */
	private readonly nominalPrimary: PointLimits | null;
	private readonly nominalPrimarySigma: number;
	private readonly nominalDispersion: PointLimits | null;

	private n = 0; // points plotted
	private pending: number[] = [];
	private recent: number[] = []; // I-MR: last span − 1 values, oldest first
	private prevX = 0; // I-MR span 2 fast path: previous value
	private ewma = 0;
	private cusumUpper = 0;
	private cusumLower = 0;

	constructor(config: MonitorConfig, state?: MonitorState) {
		validateConfig(config);
		this.screen = screenFor(config);
		// A private copy: a caller editing its config object later must not desync the monitor.
		this.config = structuredClone(config);
		this.chart = config.chart;
		this.nominalN = config.subgroupSize;
		this.span = config.movingRangeSpan ?? DEFAULT_MOVING_RANGE_SPAN;
		this.lambda = config.ewma?.lambda ?? DEFAULT_EWMA_LAMBDA;
		this.kSigma = (config.cusum?.k ?? DEFAULT_CUSUM_K) * config.limits.sigma;
		const ruleSet = rulesForChart(config.chart, config.rules);
		this.primary = new RuleEngine(ruleSet, state?.rules);
		// MR, R and S charts are tested with the memoryless beyond-limits rule
		// (dispersionViolations); only CUSUM's lower sum needs an engine of its own.
		this.dispersion =
			this.chart === 'cusum'
				? new RuleEngine(
						{ ...ruleSet, name: 'cusum-lower' },
						state?.dispersionRules ?? undefined,
						'dispersion'
					)
				: null;
		const timeWeighted = this.chart === 'ewma';
		this.nominalPrimary = timeWeighted ? null : this.primaryAt(this.nominalN, 0);
		this.nominalPrimarySigma = this.nominalPrimary ? ruleSigma(this.chart, this.nominalPrimary) : 0;
		this.nominalDispersion =
			this.chart === 'imr' || this.chart === 'xbar-r' || this.chart === 'xbar-s'
				? dispersionLimits(this.chart, config.limits, this.nominalN, this.span)
				: null;
		this.ewma = config.ewma?.start ?? config.limits.centre;
		const head = (config.cusum?.headstart ?? DEFAULT_CUSUM_HEADSTART) * config.limits.sigma;
		this.cusumUpper = head;
		this.cusumLower = head;
		if (state) this.restore(state);
	}

	private primaryAt(n: number, index: number): PointLimits {
		return primaryLimits(this.chart, this.config.limits, n, {
			ewma: this.config.ewma,
			cusum: this.config.cusum,
			index
		});
	}

	private restore(s: MonitorState): void {
		if (!s || s.version !== 1 || s.chart !== this.chart) {
			throw new RangeError('monitor state does not belong to this configuration');
		}
		if (!Number.isInteger(s.count) || s.count < 0) {
			throw new RangeError('monitor state: count must be a whole number ≥ 0');
		}
		if (!Array.isArray(s.pending) || s.pending.length >= Math.max(2, this.nominalN)) {
			throw new RangeError('monitor state: pending subgroup does not fit the subgroup size');
		}
		if (!Array.isArray(s.recent) || s.recent.length >= this.span) {
			throw new RangeError('monitor state: recent values do not fit the moving-range span');
		}
		this.n = s.count;
		this.pending = s.pending.slice();
		this.recent = s.recent.slice();
		if (this.recent.length > 0) this.prevX = this.recent[this.recent.length - 1];
		if (s.ewma !== null) this.ewma = s.ewma;
		if (s.cusumUpper !== null) this.cusumUpper = s.cusumUpper;
		if (s.cusumLower !== null) this.cusumLower = s.cusumLower;
	}

	state(): MonitorState {
		const recent =
			this.chart === 'imr' && this.span === 2
				? this.n > 0
					? [this.prevX]
					: []
				: this.recent.slice();
		return {
			version: 1,
			chart: this.chart,
			count: this.n,
			pending: this.pending.slice(),
			recent,
			ewma: this.chart === 'ewma' ? this.ewma : null,
			cusumUpper: this.chart === 'cusum' ? this.cusumUpper : null,
			cusumLower: this.chart === 'cusum' ? this.cusumLower : null,
			rules: this.primary.state(),
			dispersionRules: this.dispersion ? this.dispersion.state() : null
		};
	}

	count(): number {
		return this.n;
	}

	push(input: MonitorInput): PushResult {
		switch (this.chart) {
			case 'imr':
				return this.pushIndividual(input);
			case 'xbar-r':
			case 'xbar-s':
				return this.pushVariableSubgroup(input);
			case 'ewma':
			case 'cusum':
				return this.pushTimeWeighted(input);
			default:
				return this.pushAttribute(input);
		}
	}

	private single(input: MonitorInput): number {
		if (typeof input !== 'number') {
			throw new RangeError(`${this.chart} chart takes one number per push`);
		}
		return input;
	}

	private pushIndividual(input: MonitorInput): PushResult {
		const x = this.single(input);
		const suspect = this.screen.check(x);
		if (suspect !== null) return { point: null, suspect };
		const index = this.n++;
		const pl = this.nominalPrimary as PointLimits;
		const v1 = this.primary.check(x, pl.centre, this.nominalPrimarySigma, index);
		let mr = -1;
		if (this.span === 2) {
			// Fast path of the default span: MR = max − min of the last two values.
			if (index > 0) mr = x > this.prevX ? x - this.prevX : this.prevX - x;
			this.prevX = x;
		} else {
			const r = this.recent;
			if (r.length === this.span - 1) {
				let lo = x;
				let hi = x;
				for (let k = 0; k < r.length; k++) {
					if (r[k] < lo) lo = r[k];
					if (r[k] > hi) hi = r[k];
				}
				mr = hi - lo;
				r.shift();
			}
			r.push(x);
		}
		let dispersion: ChartPoint['dispersion'] = null;
		let violations = v1;
		if (mr >= 0) {
			const dl = this.nominalDispersion as PointLimits;
			const v2 = dispersionViolations(mr, dl.centre, dl.sigma, index);
			dispersion = { value: mr, centre: dl.centre, ucl: dl.ucl, lcl: dl.lcl };
			if (v2.length > 0) violations = v1.length > 0 ? v1.concat(v2) : v2;
		}
		return {
			point: {
				index,
				value: x,
				centre: pl.centre,
				ucl: pl.ucl,
				lcl: pl.lcl,
				n: 1,
				dispersion,
				violations
			},
			suspect: null
		};
	}

	private pushVariableSubgroup(input: MonitorInput): PushResult {
		let values: readonly number[];
		if (typeof input === 'number') {
			const suspect = this.screen.check(input);
			if (suspect !== null) return { point: null, suspect };
			this.pending.push(input);
			if (this.pending.length < this.nominalN) return { point: null, suspect: null };
			values = this.pending;
			this.pending = [];
		} else if (Array.isArray(input)) {
			if (this.pending.length > 0) {
				throw new RangeError(
					`a whole subgroup arrived while ${this.pending.length} single value(s) are pending`
				);
			}
			if (input.length < 2) {
				throw new RangeError(`${this.chart} subgroups need at least 2 values, got ${input.length}`);
			}
			if (this.chart === 'xbar-r' && input.length > MAX_RANGE_N) {
				throw new RangeError(`xbar-r subgroups may hold at most ${MAX_RANGE_N} values`);
			}
			for (const v of input) {
				if (typeof v !== 'number') throw new RangeError(`subgroup values must be numbers`);
				const suspect = this.screen.check(v);
				if (suspect !== null) return { point: null, suspect };
			}
			values = input;
		} else {
			throw new RangeError(`${this.chart} chart takes a number or an array of numbers`);
		}
		const size = values.length;
		const stats = subgroupStats(values);
		const index = this.n++;
		const nominal = size === this.nominalN;
		const pl = nominal ? (this.nominalPrimary as PointLimits) : this.primaryAt(size, index);
		const dl = nominal
			? (this.nominalDispersion as PointLimits)
			: dispersionLimits(this.chart as 'xbar-r' | 'xbar-s', this.config.limits, size);
		const spread = this.chart === 'xbar-r' ? stats.range : stats.sd;
		const v1 = this.primary.check(stats.mean, pl.centre, ruleSigma(this.chart, pl), index);
		const v2 = dispersionViolations(spread, dl.centre, dl.sigma, index);
		return {
			point: {
				index,
				value: stats.mean,
				centre: pl.centre,
				ucl: pl.ucl,
				lcl: pl.lcl,
				n: size,
				dispersion: { value: spread, centre: dl.centre, ucl: dl.ucl, lcl: dl.lcl },
				violations: merge(v1, v2)
			},
			suspect: null
		};
	}

	private pushTimeWeighted(input: MonitorInput): PushResult {
		const x = this.single(input);
		const suspect = this.screen.check(x);
		if (suspect !== null) return { point: null, suspect };
		const index = this.n++;
		const pl =
			this.chart === 'ewma' ? this.primaryAt(1, index) : (this.nominalPrimary as PointLimits);
		const zs = ruleSigma(this.chart, pl);
		if (this.chart === 'ewma') {
			this.ewma = ewmaNext(this.ewma, x, this.lambda);
			const v = this.primary.check(this.ewma, pl.centre, zs, index);
			return {
				point: {
					index,
					value: this.ewma,
					centre: pl.centre,
					ucl: pl.ucl,
					lcl: pl.lcl,
					n: 1,
					dispersion: null,
					violations: v
				},
				suspect: null
			};
		}
		const next = cusumNext(
			this.cusumUpper,
			this.cusumLower,
			x,
			this.config.limits.centre,
			this.kSigma
		);
		this.cusumUpper = next.upper;
		this.cusumLower = next.lower;
		const v1 = this.primary.check(next.upper, pl.centre, zs, index);
		// C− is drawn below zero (Minitab's convention) against the same decision interval.
		const v2 = (this.dispersion as RuleEngine).check(-next.lower, pl.centre, zs, index);
		return {
			point: {
				index,
				value: next.upper,
				centre: pl.centre,
				ucl: pl.ucl,
				lcl: pl.lcl,
				n: 1,
				dispersion: { value: -next.lower, centre: pl.centre, ucl: pl.ucl, lcl: pl.lcl },
				violations: merge(v1, v2)
			},
			suspect: null
		};
	}

	private pushAttribute(input: MonitorInput): PushResult {
		let count: number;
		let n: number;
		if (typeof input === 'number') {
			count = input;
			n = this.nominalN;
		} else if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
			count = input.count;
			n = input.n;
			if (typeof n !== 'number' || !(n > 0) || !Number.isFinite(n)) {
				throw new RangeError(`${this.chart} chart: n must be a positive number, got ${String(n)}`);
			}
			if ((this.chart === 'p' || this.chart === 'np') && !Number.isInteger(n)) {
				throw new RangeError(`${this.chart} chart: n must be a whole number, got ${n}`);
			}
		} else {
			throw new RangeError(`${this.chart} chart takes a count or { count, n }`);
		}
		if (typeof count !== 'number')
			throw new RangeError(`${this.chart} chart: count must be a number`);
		const suspect = this.screen.check(count);
		if (suspect !== null) return { point: null, suspect };
		if (count < 0 || !Number.isInteger(count)) {
			return {
				point: null,
				suspect: physicalFlag(`count ${count} is not a whole number ≥ 0`)
			};
		}
		if ((this.chart === 'p' || this.chart === 'np') && count > n) {
			return {
				point: null,
				suspect: physicalFlag(`count ${count} exceeds the ${n} units inspected`)
			};
		}
		const index = this.n++;
		const pl =
			n === this.nominalN ? (this.nominalPrimary as PointLimits) : this.primaryAt(n, index);
		const value = this.chart === 'p' || this.chart === 'u' ? count / n : count;
		const v = this.primary.check(value, pl.centre, pl.sigma, index);
		return {
			point: {
				index,
				value,
				centre: pl.centre,
				ucl: pl.ucl,
				lcl: pl.lcl,
				n,
				dispersion: null,
				violations: v
			},
			suspect: null
		};
	}
}

function merge(a: Violation[], b: Violation[]): Violation[] {
	if (b.length === 0) return a;
	if (a.length === 0) return b;
	return a.concat(b);
}

/**
 * A monitor for `config`, optionally resuming from a saved state. Throws a RangeError naming
 * the problem when the configuration (or the state) is unusable.
 */
export function createMonitor(config: MonitorConfig, state?: MonitorState): Monitor {
	return new SpcMonitor(config, state);
}

/** Defaults the monitor applies, for documentation and for the batch analyser. */
export const MONITOR_DEFAULTS = {
	movingRangeSpan: DEFAULT_MOVING_RANGE_SPAN,
	ewmaLambda: DEFAULT_EWMA_LAMBDA,
	ewmaL: DEFAULT_EWMA_L,
	cusumK: DEFAULT_CUSUM_K,
	cusumH: DEFAULT_CUSUM_H,
	cusumHeadstart: DEFAULT_CUSUM_HEADSTART
} as const;
