/**
 * The batch analyser: one AnalysisSpec (chart, data, frozen limits or phase-I options, rule
 * set, spec limits) in, the whole chart out (centre, per-point limits, sigma and its
 * estimator, statistic per point, violations per rule, capability when specs are given).
 * The CLI (scripts/spc.ts) and validation teams use it; docs/spc.md documents the schema.
 *
 * Two faces, one truth: every point is computed with points.ts and every rule with
 * evaluateRulesBatch, in the same order and with the same screening (checkSuspect) as the
 * incremental monitor, so in phase II (frozen limits) `analyze` returns exactly the points and
 * violations that pushing the same data through createMonitor one by one returns
 * (monitor.property.test.ts).
 *
 * Conventions:
 * - Positions are 0-based indices into `data`. A null (missing) value or a suspect value
 *   (checkSuspect) makes no point: it is listed in `skipped` and the series closes up (the
 *   moving range spans the gap), exactly as the monitor never sees a missing value. Inside an
 *   X̄ subgroup a null drops that one value (the subgroup's n shrinks, limits follow n); a
 *   subgroup left with fewer than 2 values is skipped; one suspect member withholds the whole
 *   subgroup (the monitor does the same).
 * - Every number in the result is finite; "no value" is null.
 */
import { z } from 'zod';
import { capability, type CapabilityResult } from './capability';
import { MAX_RANGE_N } from './constants';
import {
	DEFAULT_ESTIMATOR,
	phaseOne,
	type Baseline,
	type Exclusion,
	type SigmaEstimate
} from './estimate';
import { createMonitor } from './monitor';
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
	subgroupStats
} from './points';
import {
	DISPERSION_RULE_SET,
	evaluateRulesBatch,
	RULE_IDS,
	rulesForChart,
	type RulePoint
} from './rules';
import { checkSuspect } from './suspect';
import {
	CHART_TYPES,
	type ChartPoint,
	type ChartType,
	type FrozenLimits,
	type RuleId,
	type RuleSet,
	type SigmaEstimator,
	type Violation
} from './types';

// ---------------------------------------------------------------------------------------------
// Input schema
// ---------------------------------------------------------------------------------------------

/** A data value: a number, or null for a missing value. (JSON cannot carry NaN/Infinity; a
 * TypeScript caller's non-finite number is screened as suspect, like the monitor does.) */
const value = z.custom<number | null>((v) => v === null || typeof v === 'number', {
	message: 'expected a number (or null for a missing value)'
});
const finite = z.number().finite();
const optionalFinite = finite.nullable().optional();

const frozenLimitsSchema = z.strictObject({
	centre: finite,
	sigma: finite.nonnegative(),
	dispersionCentre: finite.nonnegative().nullable().optional(),
	source: z.string().max(500).optional(),
	version: z.number().int().nonnegative().optional()
});

const estimatorSchema = z.enum(['rbar-d2', 'sbar-c4', 'pooled-sd', 'mr-d2', 'overall-sd']);

const phase1Schema = z.strictObject({
	estimator: estimatorSchema.optional(),
	/** positions (0-based, into `data`) with known assignable causes */
	exclude: z.array(z.number().int().nonnegative()).max(100_000).optional(),
	iterate: z.boolean().optional(),
	maxIterations: z.number().int().min(1).max(100).optional(),
	known: z
		.strictObject({ centre: optionalFinite, sigma: finite.nonnegative().nullable().optional() })
		.optional()
});

// Typed as exactly as RuleSetSpec, so a RuleSet value type-checks as an AnalysisSpec's `rules`;
// unknown presets, rule ids and parameters are refused here with their path.
const ruleParamsSchema = z.strictObject({
	runLength: z.number().int().optional(),
	trendLength: z.number().int().optional(),
	alternatingLength: z.number().int().optional(),
	count: z.number().int().optional(),
	window: z.number().int().optional(),
	stratificationLength: z.number().int().optional(),
	mixtureLength: z.number().int().optional(),
	sigmaMultiple: z.number().positive().optional()
});

const RULE_PRESET_NAMES = ['nelson-all', 'western-electric', 'aiag', 'beyond-limits'] as const;

const ruleSetSpecSchema = z.union(
	[
		z.enum(RULE_PRESET_NAMES),
		z.strictObject({
			name: z.string(),
			rules: z.array(
				z.strictObject({
					id: z.enum(RULE_IDS as [RuleId, ...RuleId[]]),
					params: ruleParamsSchema.optional()
				})
			)
		})
	],
	{
		error: (issue) =>
			typeof issue.input === 'string'
				? `unknown rule preset "${issue.input}" (use one of ${RULE_PRESET_NAMES.join(', ')})`
				: undefined
	}
);

const common = {
	limits: frozenLimitsSchema.optional(),
	phase1: phase1Schema.optional(),
	rules: ruleSetSpecSchema.optional(),
	spec: z
		.strictObject({ lsl: optionalFinite, target: optionalFinite, usl: optionalFinite })
		.optional(),
	suspect: z
		.strictObject({
			physicalMin: optionalFinite,
			physicalMax: optionalFinite,
			specWidths: finite.nonnegative().nullable().optional()
		})
		.optional(),
	capability: z.strictObject({ confidence: z.number().gt(0).lt(1).optional() }).optional()
};

const MAX_POINTS = 1_000_000;

const individualsSchema = (chart: 'imr' | 'ewma' | 'cusum') =>
	z.strictObject({
		chart: z.literal(chart),
		data: z
			.array(value, { error: `${chart}: data must be an array of numbers (null = missing)` })
			.min(1, `${chart}: data is empty`)
			.max(MAX_POINTS),
		movingRangeSpan: z.number().int().min(2).max(MAX_RANGE_N).optional(),
		ewma: z
			.strictObject({
				lambda: z.number().gt(0).max(1).optional(),
				L: z.number().positive().finite().optional(),
				start: optionalFinite
			})
			.optional(),
		cusum: z
			.strictObject({
				k: finite.nonnegative().optional(),
				h: z.number().positive().finite().optional(),
				headstart: finite.nonnegative().optional()
			})
			.optional(),
		...common
	});

const subgroupSchema = (chart: 'xbar-r' | 'xbar-s') =>
	z.strictObject({
		chart: z.literal(chart),
		data: z
			.array(
				z
					.array(value, { error: `${chart}: each subgroup must be an array of numbers` })
					.min(
						2,
						`${chart}: every subgroup needs at least 2 values (a subgroup of 1 has no within-subgroup spread; use an imr chart for individual values)`
					)
					.max(chart === 'xbar-r' ? MAX_RANGE_N : 10_000),
				{ error: `${chart}: data must be an array of subgroups (arrays of numbers)` }
			)
			.min(1, `${chart}: data is empty`)
			.max(MAX_POINTS),
		...common
	});

const attributeEntry = z.union(
	[value, z.strictObject({ count: value, n: z.number().positive().finite() })],
	{
		error:
			'expected a count (number, or null if missing) or { "count": number | null, "n": number > 0 }'
	}
);

const attributeSchema = (chart: 'p' | 'np' | 'c' | 'u') =>
	z
		.strictObject({
			chart: z.literal(chart),
			/** sample size for entries given as a bare count (p, np: units inspected; u: inspection units) */
			n: z.number().positive().finite().optional(),
			data: z
				.array(attributeEntry, {
					error: `${chart}: data must be an array of counts or { count, n } objects`
				})
				.min(1, `${chart}: data is empty`)
				.max(MAX_POINTS),
			...common
		})
		.superRefine((s, ctx) => {
			if (chart === 'c' || s.n !== undefined) return;
			const bare = s.data.findIndex((e) => typeof e === 'number');
			if (bare >= 0) {
				ctx.addIssue({
					code: 'custom',
					path: ['data', bare],
					message: `${chart}: a bare count needs the sample size: give "n" at the top level or { "count", "n" }`
				});
			}
		});

/** The CLI's input: one chart specification with its data (docs/spc.md §Input). */
export const analysisSpecSchema = z.discriminatedUnion('chart', [
	individualsSchema('imr'),
	subgroupSchema('xbar-r'),
	subgroupSchema('xbar-s'),
	attributeSchema('p'),
	attributeSchema('np'),
	attributeSchema('c'),
	attributeSchema('u'),
	individualsSchema('ewma'),
	individualsSchema('cusum')
]);

export type AnalysisSpec = z.input<typeof analysisSpecSchema>;

/**
 * Parses untrusted input into an AnalysisSpec or throws a RangeError whose message lists every
 * problem with its path (e.g. "data[3]: expected a number").
 */
export function parseAnalysisSpec(input: unknown): z.output<typeof analysisSpecSchema> {
	if (input === null || typeof input !== 'object' || Array.isArray(input)) {
		throw new RangeError('analysis spec must be a JSON object with "chart" and "data"');
	}
	const chart = (input as { chart?: unknown }).chart;
	if (typeof chart !== 'string' || !(CHART_TYPES as readonly string[]).includes(chart)) {
		throw new RangeError(
			`unknown chart ${JSON.stringify(chart ?? null)}: expected one of ${CHART_TYPES.join(', ')}`
		);
	}
	const parsed = analysisSpecSchema.safeParse(input);
	if (!parsed.success) {
		const lines = parsed.error.issues.map((i) => {
			const path = i.path
				.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? String(p) : `.${String(p)}`))
				.join('');
			return path ? `${path}: ${i.message}` : i.message;
		});
		throw new RangeError(`invalid analysis spec:\n  ${lines.join('\n  ')}`);
	}
	return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------

export interface SkippedValue {
	/** 0-based position in `data` */
	position: number;
	reason: 'missing' | 'suspect' | 'too-few-values';
	message: string;
}

export interface ReportedExclusion extends Exclusion {
	/** 0-based position in `data` of the excluded subgroup/value/sample */
	position: number;
	/** its plotted point */
	pointIndex: number;
}

export interface AnalysisResult {
	chart: ChartType;
	/** phase-2: frozen limits were given; phase-1: limits estimated from this data. */
	phase: 'phase-1' | 'phase-2';
	/** The limits the points are plotted against (centre = process mean, p̄, c̄ or ū; sigma = process σ). */
	limits: FrozenLimits;
	sigma: {
		/** process (within) sigma; null for attribute charts */
		value: number | null;
		/** estimator used; 'frozen' for given limits, 'known' for a known-standard sigma */
		estimator: SigmaEstimator | 'frozen' | 'known' | null;
		/** R̄, S̄, s_p, M̄R or s behind the estimate (equal n: the classical value), else null */
		statistic: number | null;
		count: number | null;
	};
	/** Limits collapse onto the centre (σ = 0, or an attribute centre of 0 or 1): see warnings. */
	sigmaZero: boolean;
	ruleSet: RuleSet;
	params: {
		movingRangeSpan: number | null;
		ewma: { lambda: number; L: number; start: number } | null;
		cusum: { k: number; h: number; headstart: number } | null;
	};
	points: ChartPoint[];
	/** pointSource[i] = position in `data` of point i */
	pointSource: number[];
	skipped: SkippedValue[];
	/** Phase I only: subgroups left out of the estimate (still plotted). */
	exclusions: ReportedExclusion[];
	iterations: number;
	converged: boolean;
	/** Every violation, ordered by point, primary chart before dispersion chart. */
	violations: Violation[];
	violationsByRule: Partial<Record<RuleId, Violation[]>>;
	capability: CapabilityResult | null;
	warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

type ParsedSpec = z.output<typeof analysisSpecSchema>;

interface Item {
	position: number;
	/** individuals: [x]; subgroups: the values; attributes: unused */
	values: number[];
	count: number;
	n: number;
}

function isVariable(chart: ChartType): chart is 'imr' | 'xbar-r' | 'xbar-s' | 'ewma' | 'cusum' {
	return (
		chart === 'imr' ||
		chart === 'xbar-r' ||
		chart === 'xbar-s' ||
		chart === 'ewma' ||
		chart === 'cusum'
	);
}

/** Screen the raw data into plotted items, exactly as the monitor would receive them. */
function collectItems(spec: ParsedSpec): { items: Item[]; skipped: SkippedValue[] } {
	const items: Item[] = [];
	const skipped: SkippedValue[] = [];
	const screen = (v: number) => checkSuspect(v, spec.spec ?? undefined, spec.suspect ?? undefined);
	switch (spec.chart) {
		case 'imr':
		case 'ewma':
		case 'cusum':
			spec.data.forEach((v, position) => {
				if (v === null) {
					skipped.push({ position, reason: 'missing', message: 'missing value' });
					return;
				}
				const flag = screen(v);
				if (flag) skipped.push({ position, reason: 'suspect', message: flag.message });
				else items.push({ position, values: [v], count: 0, n: 1 });
			});
			break;
		case 'xbar-r':
		case 'xbar-s':
			spec.data.forEach((group, position) => {
				const present = group.filter((v): v is number => v !== null);
				if (present.length === 0) {
					skipped.push({
						position,
						reason: 'missing',
						message: 'every value of the subgroup is missing'
					});
					return;
				}
				for (const v of present) {
					const flag = screen(v);
					if (flag) {
						skipped.push({
							position,
							reason: 'suspect',
							message: `subgroup withheld: ${flag.message}`
						});
						return;
					}
				}
				if (present.length < 2) {
					skipped.push({
						position,
						reason: 'too-few-values',
						message: `only ${present.length} value left after removing missing ones; an X̄ subgroup needs 2`
					});
					return;
				}
				items.push({ position, values: present, count: 0, n: present.length });
			});
			break;
		default: {
			const chart = spec.chart;
			spec.data.forEach((entry, position) => {
				const count = entry !== null && typeof entry === 'object' ? entry.count : entry;
				const n = entry !== null && typeof entry === 'object' ? entry.n : (spec.n ?? 1);
				if (count === null) {
					skipped.push({ position, reason: 'missing', message: 'missing count' });
					return;
				}
				const flag = screen(count);
				if (flag) {
					skipped.push({ position, reason: 'suspect', message: flag.message });
				} else if (count < 0 || !Number.isInteger(count)) {
					skipped.push({
						position,
						reason: 'suspect',
						message: `count ${count} is not a whole number ≥ 0`
					});
				} else if ((chart === 'p' || chart === 'np') && !Number.isInteger(n)) {
					throw new RangeError(
						`data[${position}]: ${chart} chart: n must be a whole number, got ${n}`
					);
				} else if ((chart === 'p' || chart === 'np') && count > n) {
					skipped.push({
						position,
						reason: 'suspect',
						message: `count ${count} exceeds the ${n} units inspected`
					});
				} else {
					items.push({ position, values: [], count, n });
				}
			});
		}
	}
	return { items, skipped };
}

function baselineOf(chart: ChartType, items: Item[]): Baseline {
	if (chart === 'xbar-r' || chart === 'xbar-s') {
		return { kind: 'subgroups', subgroups: items.map((it) => it.values) };
	}
	if (isVariable(chart)) return { kind: 'individuals', values: items.map((it) => it.values[0]) };
	return { kind: 'attribute', samples: items.map((it) => ({ count: it.count, n: it.n })) };
}

/** The most frequent subgroup/sample size (the monitor's nominal size). */
function nominalSize(chart: ChartType, items: Item[]): number {
	if (!(
		chart === 'xbar-r' ||
		chart === 'xbar-s' ||
		chart === 'p' ||
		chart === 'np' ||
		chart === 'u'
	)) {
		return 1;
	}
	const freq = new Map<number, number>();
	let best = items[0]?.n ?? (chart === 'xbar-r' || chart === 'xbar-s' ? 2 : 1);
	for (const it of items) {
		const f = (freq.get(it.n) ?? 0) + 1;
		freq.set(it.n, f);
		if (f > (freq.get(best) ?? 0)) best = it.n;
	}
	return best;
}

interface Computed {
	points: ChartPoint[];
	primary: RulePoint[];
	dispersion: RulePoint[];
}

/** Points exactly as the monitor computes them (points.ts, same order of operations). */
function computePoints(
	chart: ChartType,
	items: Item[],
	limits: FrozenLimits,
	params: AnalysisResult['params']
): Computed {
	const points: ChartPoint[] = [];
	const primary: RulePoint[] = [];
	const dispersion: RulePoint[] = [];
	const span = params.movingRangeSpan ?? DEFAULT_MOVING_RANGE_SPAN;
	const opts = {
		ewma: params.ewma ?? undefined,
		cusum: params.cusum ?? undefined
	};
	let z = params.ewma?.start ?? limits.centre;
	let cUp = (params.cusum?.headstart ?? 0) * limits.sigma;
	let cLo = cUp;
	const kSigma = (params.cusum?.k ?? DEFAULT_CUSUM_K) * limits.sigma;
	items.forEach((it, index) => {
		let value: number;
		let n = 1;
		let disp: ChartPoint['dispersion'] = null;
		const pl = primaryLimits(
			chart,
			limits,
			chart === 'imr' || chart === 'ewma' || chart === 'cusum' ? 1 : it.n,
			{
				...opts,
				index
			}
		);
		switch (chart) {
			case 'imr': {
				value = it.values[0];
				if (index >= span - 1) {
					let lo = value;
					let hi = value;
					for (let k = index - span + 1; k < index; k++) {
						const x = items[k].values[0];
						if (x < lo) lo = x;
						if (x > hi) hi = x;
					}
					const mr = hi - lo;
					const dl = dispersionLimits('imr', limits, 1, span);
					disp = { value: mr, centre: dl.centre, ucl: dl.ucl, lcl: dl.lcl };
					dispersion.push({ value: mr, centre: dl.centre, sigma: dl.sigma, index });
				}
				break;
			}
			case 'xbar-r':
			case 'xbar-s': {
				const st = subgroupStats(it.values);
				value = st.mean;
				n = it.n;
				const dl = dispersionLimits(chart, limits, n);
				const spread = chart === 'xbar-r' ? st.range : st.sd;
				disp = { value: spread, centre: dl.centre, ucl: dl.ucl, lcl: dl.lcl };
				dispersion.push({ value: spread, centre: dl.centre, sigma: dl.sigma, index });
				break;
			}
			case 'ewma':
				z = ewmaNext(z, it.values[0], params.ewma?.lambda ?? DEFAULT_EWMA_LAMBDA);
				value = z;
				break;
			case 'cusum': {
				const next = cusumNext(cUp, cLo, it.values[0], limits.centre, kSigma);
				cUp = next.upper;
				cLo = next.lower;
				value = cUp;
				// C− drawn below zero against the same decision interval (points.ts, monitor.ts).
				disp = { value: -cLo, centre: pl.centre, ucl: pl.ucl, lcl: pl.lcl };
				dispersion.push({ value: -cLo, centre: pl.centre, sigma: ruleSigma(chart, pl), index });
				break;
			}
			default:
				n = it.n;
				value = chart === 'p' || chart === 'u' ? it.count / it.n : it.count;
		}
		primary.push({ value, centre: pl.centre, sigma: ruleSigma(chart, pl), index });
		points.push({
			index,
			value,
			centre: pl.centre,
			ucl: pl.ucl,
			lcl: pl.lcl,
			n,
			dispersion: disp,
			violations: []
		});
	});
	return { points, primary, dispersion };
}

function assertJsonSafe(v: unknown, path: string): void {
	if (typeof v === 'number') {
		// A non-finite number here is a bug in the engine, never an input problem.
		if (!Number.isFinite(v)) throw new Error(`internal error: ${path} is ${v}`);
	} else if (Array.isArray(v)) {
		v.forEach((x, i) => assertJsonSafe(x, `${path}[${i}]`));
	} else if (v !== null && typeof v === 'object') {
		for (const [k, x] of Object.entries(v)) assertJsonSafe(x, `${path}.${k}`);
	}
}

/**
 * Analyse one chart. Accepts anything (the spec is validated with analysisSpecSchema) and
 * throws a RangeError with a readable message on bad input.
 */
export function analyze(input: AnalysisSpec | unknown): AnalysisResult {
	const spec = parseAnalysisSpec(input);
	const chart = spec.chart;
	const warnings: string[] = [];
	const { items, skipped } = collectItems(spec);
	if (items.length === 0) {
		throw new RangeError(`${chart}: no usable data (every entry is missing or suspect)`);
	}
	const timeWeighted = chart === 'ewma' || chart === 'cusum';
	const params: AnalysisResult['params'] = {
		movingRangeSpan:
			chart === 'imr'
				? ('movingRangeSpan' in spec && spec.movingRangeSpan) || DEFAULT_MOVING_RANGE_SPAN
				: null,
		ewma: null,
		cusum: null
	};
	if (chart === 'ewma' && 'ewma' in spec) {
		params.ewma = {
			lambda: spec.ewma?.lambda ?? DEFAULT_EWMA_LAMBDA,
			L: spec.ewma?.L ?? DEFAULT_EWMA_L,
			start: 0 // set once the centre is known
		};
	}
	if (chart === 'cusum' && 'cusum' in spec) {
		params.cusum = {
			k: spec.cusum?.k ?? DEFAULT_CUSUM_K,
			h: spec.cusum?.h ?? DEFAULT_CUSUM_H,
			headstart: spec.cusum?.headstart ?? DEFAULT_CUSUM_HEADSTART
		};
	}
	if (chart === 'ewma' && !params.ewma)
		params.ewma = { lambda: DEFAULT_EWMA_LAMBDA, L: DEFAULT_EWMA_L, start: 0 };
	if (chart === 'cusum' && !params.cusum) {
		params.cusum = { k: DEFAULT_CUSUM_K, h: DEFAULT_CUSUM_H, headstart: DEFAULT_CUSUM_HEADSTART };
	}

	// Limits: frozen (phase II) or estimated (phase I).
	let limits: FrozenLimits;
	let sigma: AnalysisResult['sigma'];
	let exclusions: ReportedExclusion[] = [];
	let iterations = 0;
	let converged = true;
	let sigmaEstimate: SigmaEstimate | null = null;
	const phase: AnalysisResult['phase'] = spec.limits ? 'phase-2' : 'phase-1';
	if (spec.limits) {
		if (spec.phase1)
			throw new RangeError('give either "limits" (phase II) or "phase1" options, not both');
		limits = { ...spec.limits };
		sigma = isVariable(chart)
			? { value: limits.sigma, estimator: 'frozen', statistic: null, count: null }
			: { value: null, estimator: null, statistic: null, count: null };
	} else {
		const p1 = spec.phase1 ?? {};
		const itemOf = new Map(items.map((it, i) => [it.position, i]));
		const exclude = (p1.exclude ?? []).map((position) => {
			const i = itemOf.get(position);
			if (i === undefined) {
				throw new RangeError(
					`phase1.exclude: position ${position} has no plotted point (missing, suspect or beyond the data)`
				);
			}
			return i;
		});
		if (p1.estimator && !isVariable(chart)) {
			throw new RangeError(
				`phase1.estimator does not apply to a ${chart} chart (its sigma follows from the centre)`
			);
		}
		const result = phaseOne(chart, baselineOf(chart, items), {
			estimator: p1.estimator,
			exclude,
			iterate: p1.iterate,
			maxIterations: p1.maxIterations,
			known: p1.known,
			movingRangeSpan: params.movingRangeSpan ?? undefined
		});
		limits = result.limits;
		sigmaEstimate = result.sigma;
		iterations = result.iterations;
		converged = result.converged;
		exclusions = result.exclusions.map((e) => ({
			...e,
			position: items[e.item].position,
			pointIndex: e.item
		}));
		if (!converged) {
			warnings.push(
				`iterative exclusion stopped after ${iterations} passes with points still beyond the limits`
			);
		}
		const knownSigma = p1.known?.sigma ?? null;
		sigma = !isVariable(chart)
			? { value: null, estimator: null, statistic: null, count: null }
			: knownSigma !== null
				? { value: knownSigma, estimator: 'known', statistic: null, count: null }
				: {
						value: limits.sigma,
						estimator: sigmaEstimate?.estimator ?? DEFAULT_ESTIMATOR[chart],
						statistic: sigmaEstimate?.statistic ?? null,
						count: sigmaEstimate?.count ?? null
					};
	}
	if (params.ewma) {
		const start = 'ewma' in spec ? (spec.ewma?.start ?? null) : null;
		params.ewma.start = start ?? limits.centre;
	}

	// The monitor's validation is the single source of truth for what a limit set must satisfy.
	const ruleSpec = spec.rules ?? 'beyond-limits';
	try {
		createMonitor({
			chart,
			subgroupSize: nominalSize(chart, items),
			limits,
			rules: ruleSpec,
			spec: spec.spec ?? undefined,
			suspect: spec.suspect ?? undefined,
			ewma: params.ewma ?? undefined,
			cusum: params.cusum ?? undefined,
			movingRangeSpan: params.movingRangeSpan ?? undefined
		});
	} catch (e) {
		throw new RangeError(
			e instanceof Error ? e.message.replace(/^monitor config: /, '') : String(e),
			{ cause: e }
		);
	}
	const ruleSet = rulesForChart(chart, ruleSpec);

	const computed = computePoints(chart, items, limits, params);
	const primaryViolations = evaluateRulesBatch(computed.primary, ruleSet, 'primary');
	const dispersionRuleSet =
		chart === 'cusum' ? { ...ruleSet, name: 'cusum-lower' } : DISPERSION_RULE_SET;
	const dispersionViolations =
		computed.dispersion.length > 0
			? evaluateRulesBatch(computed.dispersion, dispersionRuleSet, 'dispersion')
			: [];
	for (const v of primaryViolations) computed.points[v.index].violations.push(v);
	for (const v of dispersionViolations) computed.points[v.index].violations.push(v);
	const violations = computed.points.flatMap((p) => p.violations);
	const violationsByRule: Partial<Record<RuleId, Violation[]>> = {};
	for (const v of violations) (violationsByRule[v.rule] ??= []).push(v);

	const sigmaZero = isVariable(chart)
		? limits.sigma === 0
		: limits.centre === 0 || ((chart === 'p' || chart === 'np') && limits.centre === 1);
	if (sigmaZero) {
		warnings.push(
			isVariable(chart)
				? 'process sigma is 0 (all values equal): the limits coincide with the centre, so any different value is out of control'
				: `the ${chart} chart centre is ${limits.centre}: the limits coincide with the centre`
		);
	}
	if (timeWeighted && ruleSet.rules.length === 0) {
		warnings.push(`${chart}: the rule set has no beyond-limit rule, so no point can signal`);
	}

	let cap: CapabilityResult | null = null;
	const specLimits = spec.spec;
	const hasSpec = specLimits && (specLimits.lsl != null || specLimits.usl != null);
	if (hasSpec && isVariable(chart)) {
		const excluded = new Set(exclusions.map((e) => e.pointIndex));
		const values = items.filter((_, i) => !excluded.has(i)).flatMap((it) => it.values);
		cap = capability(values, {
			spec: specLimits,
			withinSigma: limits.sigma > 0 ? limits.sigma : null,
			withinDf: sigmaEstimate?.df ?? null,
			inControl: violations.length === 0,
			confidence: spec.capability?.confidence
		});
	} else if (hasSpec) {
		warnings.push(
			`capability indices need measured values; a ${chart} chart has counts, so none are computed`
		);
	}

	const result: AnalysisResult = {
		chart,
		phase,
		limits,
		sigma,
		sigmaZero,
		ruleSet,
		params,
		points: computed.points,
		pointSource: items.map((it) => it.position),
		skipped,
		exclusions,
		iterations,
		converged,
		violations,
		violationsByRule,
		capability: cap,
		warnings
	};
	assertJsonSafe(result, 'result');
	return result;
}
