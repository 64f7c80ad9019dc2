/**
 * The demo plant as pure data: a medical-device contract manufacturer moulding and assembling
 * catheter hubs. Shared by the server's seeder (which turns it into site/line/machine/
 * characteristic rows and version-1 control limits) and by the simulator worker (which
 * generates samples from the same numbers). No I/O; imported with relative paths only, because
 * workers run under tsx, which does not know SvelteKit's `$lib` alias.
 *
 * Conventions:
 * - Codes are stable identifiers (`<machine>.<parameter>`); they never change once shipped,
 *   because the database keys characteristics by code on re-seeding.
 * - Units are UCUM case-sensitive codes (`Cel`, `bar`, `mm`, `N/(15.mm)`, `cN.m`, …).
 * - `process` is the in-control truth the simulator draws from AND the known standard the
 *   seeder uses for limits version 1, so a healthy simulated process sits exactly on its limits.
 *   Variable charts: mean and within-subgroup sigma of ONE measurement (an X̄ chart's limits
 *   are mean ± 3σ/√n of it). Attribute charts: the in-control rate (p̄ as a fraction for p/np,
 *   c̄ per inspected lot for c, ū per unit for u); `sigma` is ignored there (0).
 * - `samplingIntervalMs` is the time between raw measurements (100 ms = 10 Hz .. 1000 ms =
 *   1 Hz; attribute lots are slower). X̄ charts plot one point per `subgroupSize` measurements;
 *   attribute charts plot one point per inspected lot of `subgroupSize` units.
 * - For attribute characteristics a raw sample's value is the count (defectives or defects) in
 *   one inspected lot; `unit` and `decimals` describe the plotted statistic.
 * - The special-cause schedule lives in ./schedule.ts and is re-exported here.
 *
 * Alarm load (docs/simulator.md, "In-control alarm rate"; measure with
 * scripts/false-alarms.ts): every plotted point of an in-control chart is a chance of a false
 * alarm — about 1 in 180 for an X̄-S chart judged by rule 1 (X̄ and S beyond 3σ), 1 in 50 with
 * all of Nelson's rules, 1 in 85 for the I and MR pair of an individuals chart. So the raw
 * sampling stays at 1-10 Hz (the tiles show it live) while the CHARTS plot rational subgroups:
 * one X̄-S point per minute of raw samples (a per-shot or thermal parameter averaged over
 * several shots), every 30 s where a rule family needs points to show its pattern in a demo
 * cycle, every 6 s for the first signal. Rule sets: 'beyond-limits' by default; the full Nelson
 * set, Western Electric or AIAG only on the characteristics whose scheduled special cause needs
 * that family (each says which).
 */
import type { ChartType, RuleSetSpec, SpecLimits, SuspectConfig } from '../spc/types';

export interface DemoNoise {
	/** Instrument resolution: generated values are rounded to a multiple of it (default 10^-decimals). */
	resolution?: number;
}

export interface DemoCharacteristic {
	code: string;
	name: string;
	/** UCUM code of the plotted value. */
	unit: string;
	kind: 'variable' | 'attribute';
	chart: ChartType;
	subgroupSize: number;
	samplingIntervalMs: number;
	decimals: number;
	spec: SpecLimits;
	suspect: SuspectConfig;
	rules: RuleSetSpec;
	/** In-control truth = known-standard limits (see the file comment). */
	process: { mean: number; sigma: number };
	noise?: DemoNoise;
}

export interface DemoMachine {
	code: string;
	name: string;
	/** The operation it performs; certifications name it, and a run starts under it by default. */
	operation?: string;
	characteristics: DemoCharacteristic[];
}

export interface DemoLine {
	code: string;
	name: string;
	machines: DemoMachine[];
}

export interface DemoPlant {
	site: { code: string; name: string };
	lines: DemoLine[];
}

/** Raw samples per plotted point by default: one X̄ point per minute. */
export const POINT_MS = 60_000;
/**
 * Points of the characteristics whose scheduled cause shows a run or zone pattern (Nelson 2-8,
 * WE 3-4): such a pattern takes 6 to 15 points, which must fit in the 10-minute demo cycle.
 */
export const PATTERN_POINT_MS = 30_000;
/**
 * Points of the first-signal characteristic (IM1.INJ.PRESS): its subgroup closes 0.8 s after
 * the cause starts at 5 s, so the wall shows Nelson 1 within a second of it (schedule.ts).
 */
export const FIRST_SIGNAL_POINT_MS = 6_000;

/**
 * X̄-S characteristic of a raw signal sampled every `everyMs`, one point per `pointMs`, with a
 * two-sided spec centred on the target (the common case).
 */
function xbarS(
	code: string,
	name: string,
	unit: string,
	o: {
		mean: number;
		sigma: number;
		tol: number;
		everyMs: number;
		pointMs?: number;
		decimals: number;
		phys: [number, number];
		rules?: RuleSetSpec;
	}
): DemoCharacteristic {
	const pointMs = o.pointMs ?? POINT_MS;
	const n = pointMs / o.everyMs;
	if (!Number.isInteger(n) || n < 2) {
		throw new RangeError(`${code}: ${pointMs} ms is not a whole number ≥ 2 of ${o.everyMs} ms`);
	}
	return {
		code,
		name,
		unit,
		kind: 'variable',
		chart: 'xbar-s',
		subgroupSize: n,
		samplingIntervalMs: o.everyMs,
		decimals: o.decimals,
		spec: { lsl: o.mean - o.tol, target: o.mean, usl: o.mean + o.tol },
		suspect: { physicalMin: o.phys[0], physicalMax: o.phys[1], specWidths: 1 },
		rules: o.rules ?? 'beyond-limits',
		process: { mean: o.mean, sigma: o.sigma }
	};
}

/** Per-characteristic tuning of one moulding machine, by parameter (`BZ3.TEMP`, `CUSHION`, …). */
type Tuning = Record<string, { rules: RuleSetSpec; pointMs: number }>;

/** Barrel zones 1-4 (feed → front) at 1 Hz and nozzle at 2 Hz of a polycarbonate moulding machine. */
function barrel(machine: string, setpoints: number[], tune: Tuning): DemoCharacteristic[] {
	const zones = setpoints.slice(0, 4).map((sp, i) =>
		xbarS(`${machine}.BZ${i + 1}.TEMP`, `Barrel zone ${i + 1} temperature`, 'Cel', {
			mean: sp,
			sigma: 0.6,
			tol: 5,
			everyMs: 1000,
			decimals: 1,
			phys: [0, 450],
			...tune[`BZ${i + 1}.TEMP`]
		})
	);
	const nozzle = xbarS(`${machine}.NOZ.TEMP`, 'Nozzle temperature', 'Cel', {
		mean: setpoints[4],
		sigma: 0.8,
		tol: 6,
		everyMs: 500,
		decimals: 1,
		phys: [0, 450],
		...tune['NOZ.TEMP']
	});
	return [...zones, nozzle];
}

/**
 * One injection-moulding machine: 8-cavity mould of Luer catheter hubs (PC), a shot every
 * ~14 s. The per-shot parameters come first (the wall's first charts plot soonest).
 */
function mouldingMachine(
	code: string,
	name: string,
	o: {
		setpoints: number[];
		injectionEveryMs: number;
		tune: Tuning;
		dimension: DemoCharacteristic;
	}
): DemoMachine {
	return {
		code,
		name,
		operation: 'moulding',
		characteristics: [
			xbarS(`${code}.INJ.PRESS`, 'Peak injection pressure', 'bar', {
				mean: 1100,
				sigma: 8,
				tol: 60,
				everyMs: o.injectionEveryMs,
				decimals: 0,
				phys: [0, 2500],
				...o.tune['INJ.PRESS']
			}),
			xbarS(`${code}.HOLD.PRESS`, 'Hold pressure', 'bar', {
				mean: 600,
				sigma: 4,
				tol: 40,
				everyMs: 200,
				decimals: 0,
				phys: [0, 2500],
				...o.tune['HOLD.PRESS']
			}),
			xbarS(`${code}.CUSHION`, 'Cushion', 'mm', {
				mean: 4,
				sigma: 0.15,
				tol: 1.5,
				everyMs: 500,
				decimals: 2,
				phys: [0, 60],
				...o.tune.CUSHION
			}),
			xbarS(`${code}.CYCLE.TIME`, 'Cycle time', 's', {
				mean: 14,
				sigma: 0.08,
				tol: 0.5,
				everyMs: 1000,
				decimals: 2,
				phys: [0, 120]
			}),
			xbarS(`${code}.MOULD.TEMP`, 'Mould temperature', 'Cel', {
				mean: 85,
				sigma: 0.4,
				tol: 5,
				everyMs: 1000,
				decimals: 1,
				phys: [0, 200],
				...o.tune['MOULD.TEMP']
			}),
			xbarS(`${code}.SHOT.WT`, 'Shot weight (8 cavities)', 'g', {
				mean: 12.4,
				sigma: 0.03,
				tol: 0.15,
				everyMs: 1000,
				decimals: 2,
				phys: [0, 200]
			}),
			...barrel(code, o.setpoints, o.tune),
			o.dimension
		]
	};
}

/** Dimensional characteristic from the in-line gauge, one part every 600 ms, X̄-S per minute. */
function dimension(
	code: string,
	name: string,
	o: { mean: number; sigma: number; tol: number; phys: [number, number] }
): DemoCharacteristic {
	return {
		...xbarS(code, name, 'mm', { ...o, everyMs: 600, decimals: 3 }),
		suspect: { physicalMin: o.phys[0], physicalMax: o.phys[1], specWidths: 1 }
	};
}

/** Attribute characteristic from final visual inspection; one lot a minute. */
function attribute(
	code: string,
	name: string,
	chart: 'p' | 'c' | 'u',
	o: { unit: string; n: number; rate: number; decimals: number; usl: number }
): DemoCharacteristic {
	return {
		code,
		name,
		unit: o.unit,
		kind: 'attribute',
		chart,
		subgroupSize: o.n,
		samplingIntervalMs: 60_000,
		decimals: o.decimals,
		spec: { usl: o.usl },
		// Counts cannot be negative; no far-outside-spec screen (a one-sided spec without target).
		suspect: { physicalMin: 0, physicalMax: null, specWidths: null },
		// Zone and run rules on small Poisson/binomial counts false-alarm far more often than their
		// normal-theory rates; a bare 3-sigma chart is the usual practice for these.
		rules: 'beyond-limits',
		process: { mean: o.rate, sigma: 0 }
	};
}

export const DEMO_PLANT: DemoPlant = {
	site: { code: 'GWY', name: 'Meridian Medical Contract Manufacturing — Galway' },
	lines: [
		{
			code: 'L1',
			name: 'Line 1 — Injection moulding, catheter hubs',
			machines: [
				mouldingMachine('IM1', 'Moulding machine IM1 (Engel e-mac 100)', {
					setpoints: [270, 280, 290, 295, 300],
					injectionEveryMs: 200,
					tune: {
						// The first signal (rule 1 within a second of 5 s) needs a short subgroup.
						'INJ.PRESS': { rules: 'beyond-limits', pointMs: FIRST_SIGNAL_POINT_MS },
						// barrel-drift: Nelson 3 (a trend of 6 points).
						'BZ3.TEMP': { rules: 'nelson-all', pointMs: PATTERN_POINT_MS },
						// nozzle-stratification: Nelson 7 (15 points hugging the centre line).
						'NOZ.TEMP': { rules: 'nelson-all', pointMs: PATTERN_POINT_MS }
					},
					dimension: {
						// The plant's X̄-R chart (ranges, as operators read them: n = 10, the usual
						// limit for R). hub-od-variance fires on the R chart.
						...dimension('IM1.HUB.OD', 'Hub outer diameter', {
							mean: 7.5,
							sigma: 0.01,
							tol: 0.05,
							phys: [0, 25]
						}),
						chart: 'xbar-r',
						samplingIntervalMs: 1000,
						subgroupSize: 10
					}
				}),
				mouldingMachine('IM2', 'Moulding machine IM2 (Engel e-mac 100)', {
					setpoints: [270, 280, 290, 295, 300],
					injectionEveryMs: 100,
					tune: {
						// hold-pressure-shift: Nelson 2, 5 and 6 (a sustained small shift).
						'HOLD.PRESS': { rules: 'nelson-all', pointMs: PATTERN_POINT_MS },
						// mould-temp-hunting: Nelson 4 (14 points alternating).
						'MOULD.TEMP': { rules: 'nelson-all', pointMs: PATTERN_POINT_MS }
					},
					dimension: dimension('IM2.HUB.LEN', 'Hub overall length', {
						mean: 18,
						sigma: 0.02,
						tol: 0.1,
						phys: [0, 60]
					})
				}),
				mouldingMachine('IM3', 'Moulding machine IM3 (Arburg Allrounder 370)', {
					setpoints: [265, 275, 285, 290, 295],
					injectionEveryMs: 200,
					tune: {
						// barrel-shift-we: Western Electric 3 and 4 (the WE handbook's own zone rules).
						'BZ1.TEMP': { rules: 'western-electric', pointMs: PATTERN_POINT_MS }
					},
					dimension: dimension('IM3.BORE.ID', 'Hub bore inner diameter', {
						mean: 1.2,
						sigma: 0.004,
						tol: 0.02,
						phys: [0, 10]
					})
				})
			]
		},
		{
			code: 'L2',
			name: 'Line 2 — Assembly, leak and seal testing',
			machines: [
				{
					code: 'UV1',
					name: 'UV bonding station UV1 (cannula to hub)',
					operation: 'uv-bonding',
					characteristics: [
						xbarS('UV1.UV.DOSE', 'UV dose', 'mJ/cm2', {
							mean: 1500,
							sigma: 25,
							tol: 150,
							everyMs: 500,
							decimals: 0,
							phys: [0, 10000]
						}),
						xbarS('UV1.UV.IRR', 'UV irradiance', 'mW/cm2', {
							mean: 300,
							sigma: 4,
							tol: 30,
							everyMs: 500,
							decimals: 1,
							phys: [0, 2000]
						}),
						xbarS('UV1.LAMP.TEMP', 'Lamp housing temperature', 'Cel', {
							mean: 45,
							sigma: 0.5,
							tol: 10,
							everyMs: 1000,
							decimals: 1,
							phys: [-20, 150]
						}),
						{
							...xbarS('UV1.BOND.STR', 'Bond pull strength (cannula–hub)', 'N', {
								mean: 45,
								sigma: 2,
								tol: 15,
								everyMs: 1000,
								decimals: 1,
								phys: [0, 500]
							}),
							// One-sided: ISO 10555-1 asks for a minimum pull force; the target gives the
							// suspect screen its width.
							spec: { lsl: 30, target: 45, usl: null }
						}
					]
				},
				{
					code: 'LT1',
					name: 'Pressure-decay leak tester LT1',
					operation: 'leak-test',
					characteristics: [
						{
							...xbarS('LT1.LEAK.RATE', 'Leak rate (pressure decay)', 'Pa/s', {
								mean: 2,
								sigma: 0.25,
								tol: 3,
								everyMs: 1000,
								decimals: 2,
								phys: [0, 1000]
							}),
							spec: { lsl: null, target: 2, usl: 5 }
						},
						xbarS('LT1.TEST.PRESS', 'Test pressure', 'kPa', {
							mean: 200,
							sigma: 0.8,
							tol: 5,
							everyMs: 200,
							decimals: 1,
							phys: [0, 1000]
						}),
						xbarS('LT1.FILL.TIME', 'Fill time', 's', {
							mean: 1.5,
							sigma: 0.03,
							tol: 0.2,
							everyMs: 1000,
							decimals: 2,
							phys: [0, 30]
						})
					]
				},
				{
					code: 'SP1',
					name: 'Pouch sealer and seal-strength tester SP1',
					operation: 'pouch-sealing',
					characteristics: [
						{
							...xbarS('SP1.SEAL.STR', 'Seal strength (ASTM F88)', 'N/(15.mm)', {
								mean: 12,
								sigma: 0.6,
								tol: 6,
								everyMs: 1000,
								decimals: 2,
								phys: [0, 200]
							}),
							spec: { lsl: 8, target: 12, usl: 18 }
						},
						xbarS('SP1.SEAL.TEMP', 'Seal platen temperature', 'Cel', {
							mean: 150,
							sigma: 0.5,
							tol: 5,
							everyMs: 100,
							decimals: 1,
							phys: [0, 400]
						}),
						xbarS('SP1.DWELL', 'Seal dwell time', 's', {
							mean: 1.2,
							sigma: 0.01,
							tol: 0.1,
							everyMs: 1000,
							decimals: 3,
							phys: [0, 30]
						}),
						xbarS('SP1.SEAL.PRESS', 'Seal pressure', 'bar', {
							mean: 4,
							sigma: 0.04,
							tol: 0.4,
							everyMs: 200,
							decimals: 2,
							phys: [0, 16],
							// seal-pressure-mixture: Nelson 8 (8 points avoiding the centre zone).
							rules: 'nelson-all',
							pointMs: PATTERN_POINT_MS
						})
					]
				},
				{
					code: 'TQ1',
					name: 'Luer cap torque station TQ1',
					operation: 'cap-torque',
					characteristics: [
						xbarS('TQ1.TORQUE', 'Cap closing torque', 'cN.m', {
							mean: 25,
							sigma: 0.8,
							tol: 5,
							everyMs: 500,
							decimals: 1,
							phys: [0, 200]
						}),
						xbarS('TQ1.ANGLE', 'Closing angle', 'deg', {
							mean: 120,
							sigma: 3,
							tol: 15,
							everyMs: 500,
							decimals: 1,
							phys: [0, 720],
							// angle-trend: the AIAG trend (7 points), the plant's example of that preset.
							rules: 'aiag',
							pointMs: PATTERN_POINT_MS
						})
					]
				},
				{
					code: 'VI1',
					name: 'Final visual inspection VI1',
					operation: 'visual-inspection',
					characteristics: [
						attribute('VI1.DEFECTIVE', 'Defective fraction per lot', 'p', {
							unit: '1',
							n: 200,
							rate: 0.01,
							decimals: 3,
							usl: 0.05
						}),
						attribute('VI1.COSMETIC', 'Cosmetic defects per lot of 50', 'c', {
							unit: '{defects}',
							n: 50,
							rate: 4,
							decimals: 0,
							usl: 15
						}),
						attribute('VI1.PARTICLES', 'Particulate defects per unit', 'u', {
							unit: '{defects}/{unit}',
							n: 20,
							rate: 0.3,
							decimals: 2,
							usl: 1.5
						})
					]
				}
			]
		}
	]
};

/** Every characteristic of a plant, with its line and machine, in plant order. */
export function demoCharacteristics(
	plant: DemoPlant = DEMO_PLANT
): { line: DemoLine; machine: DemoMachine; characteristic: DemoCharacteristic }[] {
	return plant.lines.flatMap((line) =>
		line.machines.flatMap((machine) =>
			machine.characteristics.map((characteristic) => ({ line, machine, characteristic }))
		)
	);
}

export { DEMO_SCHEDULE, activeCauses } from './schedule';
export type { SpecialCause, SpecialCauseKind, ActiveCause, DemoSchedule } from './schedule';
