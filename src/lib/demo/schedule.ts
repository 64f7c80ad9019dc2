/**
 * The demo's special-cause schedule: pure data plus a pure lookup. The simulator applies it to
 * the in-control process of DEMO_PLANT so that every rule family fires during a demo, and tests
 * and docs/simulator.md know exactly what fires when.
 *
 * Time is simulated time since the simulator started generating (its first configuration from
 * the hub), in ms. The schedule repeats every `cycleMs`; each cause occupies
 * [startMs, startMs + durationMs) of every cycle. Causes are spread over the cycle so that
 * something is happening somewhere most of the time.
 *
 * Sizes are in process sigmas of ONE measurement (`process.sigma` of the characteristic), except
 * for attribute characteristics, where a shift multiplies the defect rate, and for a gross
 * error, where `size` is the factor of the decimal-point slip.
 */
import type { RuleId } from '../spc/types';

export type SpecialCauseKind =
	/** Mean offset of `size` σ (attribute: rate × `size`). Nelson 2, 5, 6 (and 1 when large). */
	| 'shift'
	/** Ramp of `size` σ per sample since the cause started (noise × `sdFactor`). Nelson 3. */
	| 'drift'
	/** Noise × `sdFactor`. Nelson 1 on the primary chart and beyond limits on MR/R/S. */
	| 'variance'
	/**
	 * Each sample (or each `holdMs`) comes from one of two populations at ±`size` σ (noise ×
	 * `sdFactor`), picked at random: two regulators or two cavities alternating without
	 * pattern. Nelson 8.
	 */
	| 'mixture'
	/** Alternation ±`size` σ on successive samples or `holdMs` (a controller hunting). Nelson 4. */
	| 'cycle'
	/** Noise × `sdFactor` < 1 (readings averaged or a filter changed). Nelson 7. */
	| 'stratification'
	/** The reading freezes at the value of the first sample of the window. Flagged stuck. */
	| 'stuck'
	/** No samples at all during the window. Stale on the wall. */
	| 'dropout'
	/** The samples of the window (one, by design) are offset by `size` σ. Nelson 1. */
	| 'outlier'
	/** The samples of the window (one, by design) are multiplied by `size` (decimal slip). Suspect. */
	| 'gross-error';

export interface SpecialCause {
	/** Stable id, used in docs and tests. */
	id: string;
	kind: SpecialCauseKind;
	/** Characteristic codes the cause applies to. */
	characteristics: readonly string[];
	/** Start within the cycle, ms of simulated time. */
	startMs: number;
	durationMs: number;
	/** See SpecialCauseKind; 0 where unused. */
	size: number;
	/** Multiplies the noise while active (variance > 1, stratification < 1, a smooth drift < 1). */
	sdFactor?: number;
	/**
	 * Cycle and mixture: how long each level holds, ms from the cause's start (default: one
	 * sample). On a subgroup chart a level must hold for a whole subgroup, or the X̄ averages
	 * the pattern away; with the cause starting on a subgroup boundary, holdMs = one subgroup
	 * makes successive points alternate (cycle) or pick a population each (mixture).
	 */
	holdMs?: number;
	/** What the monitor (and the worker's screens) must report while the cause is active. */
	expect: {
		/** Every one of these rules fires at least once between the start and the end + one point. */
		rules: readonly RuleId[];
		/** Which chart the rules fire on (default primary). */
		chart?: 'primary' | 'dispersion';
		/** The worker flags samples of the window as suspect, for this reason. */
		suspect?: 'far-outside-spec' | 'stuck-sensor';
		/** No data arrives: the wall shows the characteristic stale. */
		stale?: boolean;
	};
	/** The story, in plain words, for the docs and the demo script. */
	what: string;
}

export interface DemoSchedule {
	cycleMs: number;
	causes: readonly SpecialCause[];
}

export interface ActiveCause {
	cause: SpecialCause;
	/** Simulated ms since the cause started in the current cycle. */
	sinceMs: number;
}

const S = 1000;

/**
 * The one cause the end-to-end test waits for: a +6σ jump of IM1's injection pressure from 5 s
 * after the simulator starts. IM1.INJ.PRESS plots an X̄-S point every 6 s (30 samples at 5 Hz,
 * closing at 5.8 s, 11.8 s, …): the point closing at 5.8 s holds the first 5 shifted samples,
 * +6σ·5/30 = +1σ of one measurement = +5.5σ of X̄, and its S is 2.5σ against an upper limit of
 * 1.4σ, so Nelson 1 fires 0.8 s after the cause starts.
 */
export const FIRST_SIGNAL_CAUSE_ID = 'first-signal';

/**
 * Causes on subgroup charts start on a subgroup boundary of their characteristic (a multiple
 * of its point interval, plant.ts) and are sized in σ of ONE measurement: a shift of d σ moves
 * an X̄ of n by d·√n of its own sigma. Run and zone patterns need their 6-15 points, hence
 * the long windows (30 s per point on those characteristics).
 */
export const DEMO_SCHEDULE: DemoSchedule = {
	cycleMs: 600 * S,
	causes: [
		{
			id: FIRST_SIGNAL_CAUSE_ID,
			kind: 'shift',
			characteristics: ['IM1.INJ.PRESS'],
			startMs: 5 * S,
			durationMs: 4 * S,
			size: 6,
			expect: { rules: ['nelson1'] },
			what: 'Injection pressure jumps (cold slug blocking the nozzle)'
		},
		{
			// +0.6σ per 30-s point (6.6σ of X̄ with the noise halved): rule 1 on the first point,
			// the 6-point trend 2.5 min in.
			id: 'barrel-drift',
			kind: 'drift',
			characteristics: ['IM1.BZ3.TEMP'],
			startMs: 30 * S,
			durationMs: 210 * S,
			size: 0.02,
			sdFactor: 0.5,
			expect: { rules: ['nelson3', 'nelson1'] },
			what: 'Barrel zone 3 heater band controller fails: temperature ramps up'
		},
		{
			// +0.25σ = +3.1σ of X̄ (n = 150): every point above the centre line, nearly all beyond
			// 1σ, most beyond 2σ (and about half beyond 3σ).
			id: 'hold-pressure-shift',
			kind: 'shift',
			characteristics: ['IM2.HOLD.PRESS'],
			startMs: 60 * S,
			durationMs: 360 * S,
			size: 0.25,
			expect: { rules: ['nelson2', 'nelson5', 'nelson6'] },
			what: 'Hold pressure set point changed without a change request'
		},
		{
			// +0.3σ per 30-s point (4.6σ of X̄ with the noise halved): AIAG's 7-point trend 3 min in.
			id: 'angle-trend',
			kind: 'drift',
			characteristics: ['TQ1.ANGLE'],
			startMs: 60 * S,
			durationMs: 240 * S,
			size: 0.005,
			sdFactor: 0.5,
			expect: { rules: ['nelson3'] },
			what: 'Torque head clutch slipping progressively: closing angle creeps up'
		},
		{
			// Every 30-s X̄ within ±0.2σ of X̄ of the centre: Nelson 7 at the 15th point; the S chart
			// (0.2σ against a lower limit of 0.73σ) fires at once.
			id: 'nozzle-stratification',
			kind: 'stratification',
			characteristics: ['IM1.NOZ.TEMP'],
			startMs: 90 * S,
			durationMs: 450 * S,
			size: 0,
			sdFactor: 0.2,
			expect: { rules: ['nelson7'] },
			what: 'PLC update turned on signal averaging: nozzle readings hug the centre line'
		},
		{
			// S ≈ 3σ against an upper limit of 1.2σ: the S chart fires on both points.
			id: 'cushion-variance',
			kind: 'variance',
			characteristics: ['IM1.CUSHION'],
			startMs: 120 * S,
			durationMs: 120 * S,
			size: 0,
			sdFactor: 3,
			expect: { rules: ['nelson1'], chart: 'dispersion' },
			what: 'Worn check ring: cushion scatters shot to shot'
		},
		{
			// ±0.5σ held for one 30-s subgroup each = ±2.7σ of X̄, alternating: 14 points in 7 min.
			id: 'mould-temp-hunting',
			kind: 'cycle',
			characteristics: ['IM2.MOULD.TEMP'],
			startMs: 120 * S,
			durationMs: 450 * S,
			size: 0.5,
			holdMs: 30 * S,
			expect: { rules: ['nelson4'] },
			what: 'Mould temperature controller hunting (badly tuned loop, one-minute period)'
		},
		{
			id: 'stuck-thermocouple',
			kind: 'stuck',
			characteristics: ['IM2.BZ2.TEMP'],
			startMs: 180 * S,
			durationMs: 60 * S,
			size: 0,
			expect: { rules: [], suspect: 'stuck-sensor' },
			what: 'Barrel zone 2 thermocouple input frozen at its last reading'
		},
		{
			// −1σ = −7.7σ of X̄ (n = 60).
			id: 'seal-strength-drop',
			kind: 'shift',
			characteristics: ['SP1.SEAL.STR'],
			startMs: 180 * S,
			durationMs: 120 * S,
			size: -1,
			expect: { rules: ['nelson1'] },
			what: 'New lot of pouch web with a thinner heat-seal coating: seal strength drops'
		},
		{
			id: 'im3-comms-loss',
			kind: 'dropout',
			characteristics: [
				'IM3.INJ.PRESS',
				'IM3.HOLD.PRESS',
				'IM3.CUSHION',
				'IM3.CYCLE.TIME',
				'IM3.MOULD.TEMP',
				'IM3.SHOT.WT',
				'IM3.BZ1.TEMP',
				'IM3.BZ2.TEMP',
				'IM3.BZ3.TEMP',
				'IM3.BZ4.TEMP',
				'IM3.NOZ.TEMP',
				'IM3.BORE.ID'
			],
			startMs: 210 * S,
			durationMs: 45 * S,
			size: 0,
			expect: { rules: [], stale: true },
			what: 'Network switch of IM3 reboots: no data from the whole machine'
		},
		{
			// One part cured twice at +12σ (+20 %, above the USL but not a gross error): in a subgroup
			// of 120 it moves X̄ by 1.1σ of X̄ only, but S to ≈ 1.5σ against an upper limit of 1.2σ.
			id: 'uv-dose-outlier',
			kind: 'outlier',
			characteristics: ['UV1.UV.DOSE'],
			startMs: 240 * S,
			durationMs: 500,
			size: 12,
			expect: { rules: ['nelson1'], chart: 'dispersion' },
			what: 'One part cured twice after a conveyor stop'
		},
		{
			// p: 5 × 1 % = 5 % in lots of 200, against an upper limit of 3.1 %: 7 or more
			// defectives (P ≈ 0.87 per lot) in 5 lots.
			id: 'defective-rise',
			kind: 'shift',
			characteristics: ['VI1.DEFECTIVE'],
			startMs: 240 * S,
			durationMs: 300 * S,
			size: 5,
			expect: { rules: ['nelson1'] },
			what: 'Short shots from a blocked cavity reach final inspection: defective fraction ×5'
		},
		{
			id: 'shot-weight-slip',
			kind: 'gross-error',
			characteristics: ['IM2.SHOT.WT'],
			startMs: 270 * S,
			durationMs: 1 * S,
			size: 10,
			expect: { rules: [], suspect: 'far-outside-spec' },
			what: 'Check-weigh entered with the decimal point slipped (124.0 g instead of 12.40 g)'
		},
		{
			// +0.5σ = +2.7σ of X̄ (n = 30), after IM3 is back: all four WE rules within the 10 points
			// (8 on one side, 4 of 5 beyond 1σ, 2 of 3 beyond 2σ, and some point beyond 3σ).
			id: 'barrel-shift-we',
			kind: 'shift',
			characteristics: ['IM3.BZ1.TEMP'],
			startMs: 270 * S,
			durationMs: 300 * S,
			size: 0.5,
			expect: { rules: ['we1', 'we2', 'we3', 'we4'] },
			what: 'Feed-zone cooling water valve partly closed: zone 1 runs warm'
		},
		{
			// ±0.4σ held for one 30-s subgroup each, at random = ±4.9σ of X̄: no point near the
			// centre line, 8 in a row within the 11 points.
			id: 'seal-pressure-mixture',
			kind: 'mixture',
			characteristics: ['SP1.SEAL.PRESS'],
			startMs: 270 * S,
			durationMs: 330 * S,
			size: 0.4,
			holdMs: 30 * S,
			expect: { rules: ['nelson8'] },
			what: 'Sticking pressure regulator on the sealer flips between two pressures'
		},
		{
			// +0.5σ = +5σ of X̄ (n = 100).
			id: 'hub-length-shift',
			kind: 'shift',
			characteristics: ['IM2.HUB.LEN'],
			startMs: 300 * S,
			durationMs: 180 * S,
			size: 0.5,
			expect: { rules: ['nelson1'] },
			what: 'Mould insert replaced after maintenance: hub length shifts up'
		},
		{
			// c: 4 × 4 = 16 defects per lot against an upper limit of 10: P ≈ 0.92 per lot, 5 lots.
			id: 'cosmetic-rise',
			kind: 'shift',
			characteristics: ['VI1.COSMETIC'],
			startMs: 300 * S,
			durationMs: 300 * S,
			size: 4,
			expect: { rules: ['nelson1'] },
			what: 'Flow marks after a resin lot change: cosmetic defects ×4'
		},
		{
			// Range of 10 with σ × 2.5: beyond the R chart's 5.5σ in about 9 subgroups of 10.
			id: 'hub-od-variance',
			kind: 'variance',
			characteristics: ['IM1.HUB.OD'],
			startMs: 330 * S,
			durationMs: 60 * S,
			size: 0,
			sdFactor: 2.5,
			expect: { rules: ['nelson1'], chart: 'dispersion' },
			what: 'One cavity with a damaged vent: diameters scatter within subgroups'
		},
		{
			// +0.3σ per minute (4.6σ of X̄ with the noise halved): beyond the limit from the second
			// point.
			id: 'leak-drift',
			kind: 'drift',
			characteristics: ['LT1.LEAK.RATE'],
			startMs: 360 * S,
			durationMs: 180 * S,
			size: 0.005,
			sdFactor: 0.5,
			expect: { rules: ['nelson1'] },
			what: 'Test fixture O-ring wearing: measured leak rate creeps up'
		},
		{
			// u: 3 × 0.3 = 0.9 per unit in lots of 20 (18 defects) against an upper limit of 0.67
			// (13.3): P ≈ 0.85 per lot, 4 lots.
			id: 'particles-rise',
			kind: 'shift',
			characteristics: ['VI1.PARTICLES'],
			startMs: 360 * S,
			durationMs: 240 * S,
			size: 3,
			expect: { rules: ['nelson1'] },
			what: 'Clean-room HEPA filter pressure alarm: particulates per unit ×3'
		},
		{
			// −0.5σ = −5.5σ of X̄ (n = 120).
			id: 'torque-shift',
			kind: 'shift',
			characteristics: ['TQ1.TORQUE'],
			startMs: 480 * S,
			durationMs: 120 * S,
			size: -0.5,
			expect: { rules: ['nelson1'] },
			what: 'Air pressure to the torque head drops: caps closed with less torque'
		},
		{
			// −12σ (lamp flicker; below the LSL, not a gross error): the S chart, as uv-dose-outlier.
			id: 'irradiance-outlier',
			kind: 'outlier',
			characteristics: ['UV1.UV.IRR'],
			startMs: 540 * S,
			durationMs: 500,
			size: -12,
			expect: { rules: ['nelson1'], chart: 'dispersion' },
			what: 'Lamp flicker during one cure'
		}
	]
};

const byCharacteristic = new WeakMap<DemoSchedule, Map<string, SpecialCause[]>>();

function indexOf(schedule: DemoSchedule): Map<string, SpecialCause[]> {
	let index = byCharacteristic.get(schedule);
	if (!index) {
		index = new Map();
		for (const cause of schedule.causes) {
			for (const code of cause.characteristics) {
				const list = index.get(code) ?? [];
				list.push(cause);
				index.set(code, list);
			}
		}
		byCharacteristic.set(schedule, index);
	}
	return index;
}

/**
 * The causes acting on a characteristic at simulated time `tMs` (ms since the simulator
 * started), in schedule order. Pure: the same arguments always give the same answer.
 */
export function activeCauses(
	charCode: string,
	tMs: number,
	schedule: DemoSchedule = DEMO_SCHEDULE
): ActiveCause[] {
	const causes = indexOf(schedule).get(charCode);
	if (!causes || !(tMs >= 0)) return [];
	const inCycle = tMs % schedule.cycleMs;
	const active: ActiveCause[] = [];
	for (const cause of causes) {
		const sinceMs = inCycle - cause.startMs;
		if (sinceMs >= 0 && sinceMs < cause.durationMs) active.push({ cause, sinceMs });
	}
	return active;
}
