/**
 * The public contract of the SPC engine. Pure data types: the engine is imported by the
 * workers, the server and the browser, so nothing here may touch I/O.
 *
 * Everything the engine returns is JSON-serialisable (no Maps, no class instances, no
 * Infinity/NaN: "no value" is `null`), because results travel over sockets and the CLI.
 */

/** Charts the engine draws. `imr` = individuals + moving range. */
export type VariableChartType = 'imr' | 'xbar-r' | 'xbar-s';
export type AttributeChartType = 'p' | 'np' | 'c' | 'u';
export type TimeWeightedChartType = 'ewma' | 'cusum';
export type ChartType = VariableChartType | AttributeChartType | TimeWeightedChartType;

export const CHART_TYPES: readonly ChartType[] = [
	'imr',
	'xbar-r',
	'xbar-s',
	'p',
	'np',
	'c',
	'u',
	'ewma',
	'cusum'
] as const;

/**
 * How the process sigma (within-subgroup) is estimated.
 * - `rbar-d2`:    R̄ / d2(n) (with unequal n: mean of R_i/d2(n_i))
 * - `sbar-c4`:    S̄ / c4(n) (with unequal n: mean of S_i/c4(n_i))
 * - `pooled-sd`:  sqrt(Σ(n_i−1)s_i² / Σ(n_i−1)) / c4(Σ(n_i−1)+1)
 * - `mr-d2`:      average moving range of span w / d2(w) (individuals)
 * - `overall-sd`: sample standard deviation of all values (long-term, "Pp" sigma)
 */
export type SigmaEstimator = 'rbar-d2' | 'sbar-c4' | 'pooled-sd' | 'mr-d2' | 'overall-sd';

/** Run rules. Nelson 1..8 and Western Electric 1..4 (WE numbering, not Nelson's). */
export type RuleId =
	| 'nelson1'
	| 'nelson2'
	| 'nelson3'
	| 'nelson4'
	| 'nelson5'
	| 'nelson6'
	| 'nelson7'
	| 'nelson8'
	| 'we1'
	| 'we2'
	| 'we3'
	| 'we4';

/**
 * Rule parameters. Every rule reads only the fields it needs; defaults are Nelson's (1984)
 * and the Western Electric handbook's (1956) values, documented in docs/spc.md.
 */
export interface RuleParams {
	/** nelson2/we4: points in a row on one side of the centre line (Nelson 9, WE 8). */
	runLength?: number;
	/** nelson3: points in a row steadily increasing or decreasing (Nelson 6; AIAG uses 7). */
	trendLength?: number;
	/** nelson4: points in a row alternating up and down (14). */
	alternatingLength?: number;
	/** nelson5/we2: `count` of `window` beyond 2σ on the same side (2 of 3). */
	count?: number;
	window?: number;
	/** nelson7: points in a row within 1σ of the centre (15). */
	stratificationLength?: number;
	/** nelson8: points in a row beyond 1σ on either side (8). */
	mixtureLength?: number;
	/** nelson1/we1: the zone in sigma units (3). */
	sigmaMultiple?: number;
}

export interface RuleConfig {
	id: RuleId;
	params?: RuleParams;
}

/** Named presets; a characteristic stores either a preset name or an explicit list. */
export type RuleSetPreset = 'nelson-all' | 'western-electric' | 'aiag' | 'beyond-limits';

export interface RuleSet {
	name: string;
	rules: RuleConfig[];
}

export type RuleSetSpec = RuleSetPreset | RuleSet;

/** One rule firing. `points` are indices (into the plotted series) of every point of the pattern. */
export interface Violation {
	rule: RuleId;
	/** Index of the point that completed the pattern (the last of `points`). */
	index: number;
	points: number[];
	/** Which side of the centre the pattern lies, where meaningful. */
	side: 'upper' | 'lower' | null;
	/** Which chart of a pair fired: the primary (I, X̄, p, …) or the dispersion chart (MR, R, S). */
	chart: 'primary' | 'dispersion';
	/** Plain words for walls and reports, e.g. "9 points in a row above the centre line". */
	message: string;
}

/** Specification limits of a characteristic; any side may be absent (one-sided spec). */
export interface SpecLimits {
	lsl?: number | null;
	target?: number | null;
	usl?: number | null;
}

/**
 * Frozen (phase II) limits for a characteristic, as stored in a versioned control-limit set.
 * For variable charts `centre` is the process mean and `sigma` the within-subgroup process
 * sigma (not the sigma of the plotted statistic); the engine derives per-point limits from them
 * and the subgroup size. For attribute charts `centre` is p̄ (p, np: the fraction), c̄ or ū and
 * `sigma` is ignored. For EWMA/CUSUM `centre` is the target mean μ0 and `sigma` the process σ.
 */
export interface FrozenLimits {
	centre: number;
	sigma: number;
	/** Optional dispersion-chart centre override (R̄, S̄ or M̄R); derived from sigma when absent. */
	dispersionCentre?: number | null;
	/** Free text naming where the limits came from (baseline, known standard, version). */
	source?: string;
	version?: number;
}

export interface EwmaParams {
	/** Smoothing constant 0 < λ ≤ 1 (default 0.2). */
	lambda?: number;
	/** Limit width in sigma units (default 3; Montgomery suggests 2.7–3 with λ 0.05–0.25). */
	L?: number;
	/** Start value z0 (default: the centre μ0). */
	start?: number | null;
}

export interface CusumParams {
	/** Reference value in sigma units (default 0.5). */
	k?: number;
	/** Decision interval in sigma units (default 5; 4 or 5 are usual). */
	h?: number;
	/** Fast-initial-response headstart in sigma units (default 0; FIR uses h/2). */
	headstart?: number;
}

/** Gross-error (suspect value) screening, applied before a value enters the statistics. */
export interface SuspectConfig {
	/** Physical range of the instrument; outside it a value cannot be real. */
	physicalMin?: number | null;
	physicalMax?: number | null;
	/** Flag values beyond the spec limits by more than k spec widths (default 1). */
	specWidths?: number | null;
}

export type SuspectReason = 'not-finite' | 'outside-physical-range' | 'far-outside-spec';

export interface SuspectFlag {
	reason: SuspectReason;
	message: string;
}

/** Configuration of one characteristic's monitor. */
export interface MonitorConfig {
	chart: ChartType;
	/** Nominal subgroup size (X̄ charts: ≥ 2; I-MR, EWMA, CUSUM: 1; attributes: inspected units n). */
	subgroupSize: number;
	limits: FrozenLimits;
	rules: RuleSetSpec;
	spec?: SpecLimits;
	suspect?: SuspectConfig;
	ewma?: EwmaParams;
	cusum?: CusumParams;
	/** Span of the moving range for I-MR (default 2). */
	movingRangeSpan?: number;
}

/** Input of one push: one value, one subgroup of values, or one attribute count. */
export type MonitorInput = number | number[] | { count: number; n: number };

/** A plotted point as produced by both the monitor and the batch analyser. */
export interface ChartPoint {
	/** Index in the plotted series (0-based, counting only points that entered the chart). */
	index: number;
	/** The plotted statistic (x, x̄, p, np, c, u, EWMA z, or CUSUM C+). */
	value: number;
	centre: number;
	ucl: number | null;
	lcl: number | null;
	/** Subgroup/sample size behind the point (1 for individuals). */
	n: number;
	/** Dispersion chart point (MR, R, S) or CUSUM C−; null where the chart has none (first MR). */
	dispersion: { value: number; centre: number; ucl: number | null; lcl: number | null } | null;
	violations: Violation[];
}

/** Result of one push. `point` is null while a subgroup is still filling or a value was suspect. */
export interface PushResult {
	point: ChartPoint | null;
	suspect: SuspectFlag | null;
}
