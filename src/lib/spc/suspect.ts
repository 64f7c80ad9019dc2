/**
 * Gross-error ("suspect value") screening, applied to every raw value BEFORE it enters the
 * statistics. A suspect value is reported (never silently dropped) and kept out of the chart
 * until a person confirms or corrects it: one typing error (12.5 entered as 125) would
 * otherwise inflate sigma and widen the limits for the whole phase I baseline.
 *
 * Checks, in this order (the first that applies is reported):
 * 1. `not-finite`: NaN, +Infinity or −Infinity.
 * 2. `outside-physical-range`: strictly below `physicalMin` or strictly above `physicalMax`
 *    (the bounds themselves are possible readings, e.g. a gauge pegged at full scale).
 * 3. `far-outside-spec`: beyond a spec limit by strictly more than k spec widths,
 *    k = `specWidths` (default 1).
 *    - Two-sided spec: width W = USL − LSL; suspect when x > USL + k·W or x < LSL − k·W.
 *    - One-sided spec: there is no spec width, so W is the distance from the target to the
 *      one limit (W = USL − target, or target − LSL) and only the side with a limit is
 *      screened (a one-sided upper spec says nothing about small values). Without a target,
 *      or when the target sits on the limit (W = 0), a one-sided spec has no width and the
 *      far-outside-spec screen is off; the physical range still applies.
 *    - No spec limits at all: the screen is off.
 *
 * Configuration errors (min > max, k < 0, LSL ≥ USL, target outside the limits, non-finite
 * numbers) throw a RangeError: a broken screen must fail loudly, not pass everything.
 * `validateSuspectConfig` runs the same checks once, e.g. when a monitor is created;
 * `createSuspectScreen` validates once and returns a screen with precomputed thresholds, the
 * cheapest form for a long-lived monitor.
 *
 * The non-suspect path allocates nothing: the monitor calls this on every sample.
 */
import type { SpecLimits, SuspectConfig, SuspectFlag } from './types';

/** Default k of the far-outside-spec screen, in spec widths. */
/** A computed number as people write it: 0.3, not 0.30000000000000004 (float noise dropped). */
function short(x: number): string {
	return String(Number(x.toPrecision(12)));
}

export const DEFAULT_SUSPECT_SPEC_WIDTHS = 1;

function isSet(x: number | null | undefined): x is number {
	return x !== null && x !== undefined;
}

function assertFiniteSetting(name: string, x: number | null | undefined): void {
	if (isSet(x) && !Number.isFinite(x)) {
		throw new RangeError(`${name} must be a finite number, got ${String(x)}`);
	}
}

/**
 * Throws a RangeError describing the first problem with a suspect configuration and the spec
 * limits it is screened against; returns normally when both are usable.
 */
export function validateSuspectConfig(
	spec: SpecLimits | undefined,
	cfg: SuspectConfig | undefined
): void {
	if (cfg) {
		assertFiniteSetting('suspect.physicalMin', cfg.physicalMin);
		assertFiniteSetting('suspect.physicalMax', cfg.physicalMax);
		assertFiniteSetting('suspect.specWidths', cfg.specWidths);
		if (isSet(cfg.physicalMin) && isSet(cfg.physicalMax) && cfg.physicalMin > cfg.physicalMax) {
			throw new RangeError(
				`suspect.physicalMin (${cfg.physicalMin}) must not exceed suspect.physicalMax (${cfg.physicalMax})`
			);
		}
		if (isSet(cfg.specWidths) && cfg.specWidths < 0) {
			throw new RangeError(`suspect.specWidths must be ≥ 0, got ${cfg.specWidths}`);
		}
	}
	if (spec) validateSpecLimits(spec);
}

/**
 * Throws a RangeError unless the spec limits are usable: finite numbers, LSL < USL, and the
 * target (if any) within the limits. Shared with capability(), so both reject the same specs.
 */
export function validateSpecLimits(spec: SpecLimits): void {
	assertFiniteSetting('spec.lsl', spec.lsl);
	assertFiniteSetting('spec.usl', spec.usl);
	assertFiniteSetting('spec.target', spec.target);
	const { lsl, usl, target } = spec;
	if (isSet(lsl) && isSet(usl) && !(lsl < usl)) {
		throw new RangeError(`spec.lsl (${lsl}) must be below spec.usl (${usl})`);
	}
	if (isSet(target) && ((isSet(lsl) && target < lsl) || (isSet(usl) && target > usl))) {
		throw new RangeError(`spec.target (${target}) must lie within the spec limits`);
	}
}

function plural(k: number): string {
	return k === 1 ? 'spec width' : 'spec widths';
}

/**
 * A suspect screen with its thresholds precomputed from one configuration. `checkSuspect`
 * builds and memoises one; long-lived callers may hold their own.
 */
export interface SuspectScreen {
	check(value: number): SuspectFlag | null;
}

/** Validates the configuration once (RangeError if unusable) and precomputes the thresholds. */
export function createSuspectScreen(
	spec: SpecLimits | undefined,
	cfg: SuspectConfig | undefined
): SuspectScreen {
	validateSuspectConfig(spec, cfg);
	const physMin = cfg && isSet(cfg.physicalMin) ? cfg.physicalMin : Number.NEGATIVE_INFINITY;
	const physMax = cfg && isSet(cfg.physicalMax) ? cfg.physicalMax : Number.POSITIVE_INFINITY;
	const k = cfg && isSet(cfg.specWidths) ? cfg.specWidths : DEFAULT_SUSPECT_SPEC_WIDTHS;
	const lsl = spec && isSet(spec.lsl) ? spec.lsl : null;
	const usl = spec && isSet(spec.usl) ? spec.usl : null;
	const target = spec && isSet(spec.target) ? spec.target : null;
	let widthUpper = 0;
	let widthLower = 0;
	if (lsl !== null && usl !== null) {
		widthUpper = widthLower = usl - lsl;
	} else if (usl !== null && target !== null) {
		widthUpper = usl - target;
	} else if (lsl !== null && target !== null) {
		widthLower = target - lsl;
	}
	// A side without a limit or without a width is never screened (±∞ threshold).
	const farAbove = usl !== null && widthUpper > 0 ? usl + k * widthUpper : Number.POSITIVE_INFINITY;
	const farBelow = lsl !== null && widthLower > 0 ? lsl - k * widthLower : Number.NEGATIVE_INFINITY;
	return {
		check(value: number): SuspectFlag | null {
			if (!Number.isFinite(value)) {
				return { reason: 'not-finite', message: `value ${String(value)} is not a finite number` };
			}
			if (value < physMin) {
				return {
					reason: 'outside-physical-range',
					message: `value ${value} is below the instrument's physical minimum ${physMin}`
				};
			}
			if (value > physMax) {
				return {
					reason: 'outside-physical-range',
					message: `value ${value} is above the instrument's physical maximum ${physMax}`
				};
			}
			if (value > farAbove) {
				return {
					reason: 'far-outside-spec',
					message: `value ${value} lies more than ${k} ${plural(k)} (${short(k * widthUpper)}) above the upper spec limit ${usl}; likely an entry or sensor error`
				};
			}
			if (value < farBelow) {
				return {
					reason: 'far-outside-spec',
					message: `value ${value} lies more than ${k} ${plural(k)} (${short(k * widthLower)}) below the lower spec limit ${lsl}; likely an entry or sensor error`
				};
			}
			return null;
		}
	};
}

/**
 * Screens are memoised per configuration object, by value: the monitor passes the same
 * settings with every sample, so validation and thresholds are computed once per
 * configuration, not per value. The six settings are compared on every call (not just the
 * object identity), so an in-place edit of spec or cfg is never missed; a NaN setting never
 * compares equal, so it is re-validated and rejected every time. The last screen is checked
 * first (one monitor pushing a run of samples); a WeakMap keyed by the spec (or cfg) object
 * serves workers that interleave many characteristics, and lets the entries go with them.
 */
interface Memo {
	lsl: number | null | undefined;
	usl: number | null | undefined;
	target: number | null | undefined;
	physicalMin: number | null | undefined;
	physicalMax: number | null | undefined;
	specWidths: number | null | undefined;
	screen: SuspectScreen;
}
let lastMemo: Memo | null = null;
const memos = new WeakMap<object, Memo>();
const NO_CONFIG_KEY = {};

function memoMatches(
	m: Memo | null | undefined,
	spec: SpecLimits | undefined,
	cfg: SuspectConfig | undefined
): m is Memo {
	return (
		m !== null &&
		m !== undefined &&
		m.lsl === spec?.lsl &&
		m.usl === spec?.usl &&
		m.target === spec?.target &&
		m.physicalMin === cfg?.physicalMin &&
		m.physicalMax === cfg?.physicalMax &&
		m.specWidths === cfg?.specWidths
	);
}

/**
 * Screens one raw value. Returns null when the value may enter the statistics, otherwise the
 * reason and a sentence for the operator. Throws RangeError on an invalid configuration.
 */
export function checkSuspect(
	value: number,
	spec: SpecLimits | undefined,
	cfg: SuspectConfig | undefined
): SuspectFlag | null {
	if (memoMatches(lastMemo, spec, cfg)) return lastMemo.screen.check(value);
	const key: object = spec ?? cfg ?? NO_CONFIG_KEY;
	let m = memos.get(key);
	if (!memoMatches(m, spec, cfg)) {
		m = {
			lsl: spec?.lsl,
			usl: spec?.usl,
			target: spec?.target,
			physicalMin: cfg?.physicalMin,
			physicalMax: cfg?.physicalMax,
			specWidths: cfg?.specWidths,
			screen: createSuspectScreen(spec, cfg)
		};
		memos.set(key, m);
	}
	lastMemo = m;
	return m.screen.check(value);
}
