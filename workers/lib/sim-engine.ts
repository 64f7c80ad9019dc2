/**
 * The simulator's engine, without sockets or disk: it turns the demo plant, the hub's
 * configuration and the clock into ingest batches.
 *
 * - What the machines DO comes from the demo plant and its schedule (src/lib/demo): process
 *   mean and sigma, sampling interval, special causes.
 * - How the data is JUDGED comes from the hub's configuration: chart, subgroup size, active
 *   limits, rule set, spec and suspect screens. A new configuration replaces a characteristic's
 *   monitor when any of those change; the engine keeps generating meanwhile.
 *
 * Time: simulated time = (now − start) × speed. Sample k of a characteristic is due at
 * simulated k × samplingIntervalMs and is stamped with the real time that maps to it (integer
 * epoch ms, never before the previous sample of the same characteristic). A stalled process
 * (laptop asleep, debugger) does not produce a burst of back-dated samples: anything due more
 * than MAX_CATCH_UP_MS (real) ago is skipped and counted, as a real gauge would have missed it.
 *
 * Sequence numbers: per characteristic, starting at 10 × the epoch ms of the (re)start and never
 * below the persisted last seq + 1, then +1 per sample. With at most one sample per ms per
 * characteristic (10 Hz × speed ≤ 100), seq grows slower than 10 × the clock, so even a worker
 * that lost its state file restarts above every seq it ever used: seq increases across restarts.
 *
 * Screens before the monitor: a variable characteristic whose reading stays bit-identical for
 * STUCK_REPEATS samples in a row is a frozen input (no real process repeats to the last digit
 * that often); from that sample on the readings are flagged suspect ('stuck-sensor'), kept and
 * sent, but not pushed into the statistics. The monitor's own checkSuspect flags gross errors.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
	DEMO_PLANT,
	demoCharacteristics,
	type DemoCharacteristic,
	type DemoPlant
} from '../../src/lib/demo/plant';
import { createGenerator, type CharacteristicGenerator } from '../../src/lib/demo/generator';
import type { DemoSchedule } from '../../src/lib/demo/schedule';
import {
	SAMPLE_FLAGS,
	type CharacteristicConfig,
	type IngestBatch,
	type IngestConfig,
	type IngestSubgroup,
	type IngestViolation,
	type SampleTuple
} from '../../src/lib/realtime/events';
import { createMonitor, type Monitor, type MonitorState } from '../../src/lib/spc/monitor';
import type { MonitorConfig } from '../../src/lib/spc/types';

/** Identical consecutive readings that mark a stuck sensor. */
export const STUCK_REPEATS = 8;
/** Samples due longer ago than this (real ms) are skipped, not back-filled. */
export const MAX_CATCH_UP_MS = 2000;
/** Timestamps of the most recent plotted points kept per characteristic (≥ the longest rule pattern). */
export const POINT_TS_WINDOW = 100;
/** seq = SEQ_PER_MS × epoch ms at (re)start; see the file comment. */
export const SEQ_PER_MS = 10;
const MAX_REASON = 200;

export interface EngineLogger {
	info(obj: object, msg?: string): void;
	warn(obj: object, msg?: string): void;
	error(obj: object, msg?: string): void;
}

/** Persisted per characteristic (by code) so a restart resumes. */
export interface SimCharacteristicState {
	seq: number;
	ts: number;
	monitor?: { signature: string; state: MonitorState; pointTs: (number | null)[] };
}

export interface SimState {
	version: 1;
	seed: number;
	savedAt: number;
	characteristics: Record<string, SimCharacteristicState>;
}

export const simStateSchema = z.object({
	version: z.literal(1),
	seed: z.number(),
	savedAt: z.number(),
	characteristics: z.record(
		z.string(),
		z.object({
			seq: z.number().int().min(0),
			ts: z.number().int().min(0),
			monitor: z
				.object({
					signature: z.string(),
					// The monitor validates its own state when it is handed back (createMonitor).
					state: z.custom<MonitorState>((v) => typeof v === 'object' && v !== null),
					pointTs: z.array(z.number().nullable())
				})
				.optional()
		})
	)
}) satisfies z.ZodType<SimState>;

export interface SimEngineOptions {
	seed: number;
	speed: number;
	/** Real epoch ms at simulated time 0. */
	startMs: number;
	plant?: DemoPlant;
	schedule?: DemoSchedule;
	resume?: SimState | null;
	log: EngineLogger;
	newBatchId?: () => string;
}

export interface SimEngineStats {
	characteristics: number;
	monitored: number;
	generated: number;
	skipped: number;
	notAcquired: number;
	suspects: number;
	violations: number;
	monitorErrors: number;
}

export interface ApplyConfigResult {
	/** Demo characteristics now generated. */
	active: string[];
	/** Characteristics whose monitor was (re)created. */
	monitorsChanged: string[];
	/** Demo characteristics the hub does not know (not generated). */
	unconfigured: string[];
}

export interface SimEngine {
	applyConfig(config: IngestConfig): ApplyConfigResult;
	/**
	 * Generates everything due up to `nowMs`. With `acquire` false (the spool is full) due
	 * samples are passed over and counted as not acquired. Returns null when nothing was due.
	 */
	step(nowMs: number, acquire?: boolean): IngestBatch | null;
	state(nowMs: number): SimState;
	stats(): SimEngineStats;
	/** Simulated ms since start at real time `nowMs`. */
	simTime(nowMs: number): number;
}

interface Runtime {
	demo: DemoCharacteristic;
	gen: CharacteristicGenerator;
	config: CharacteristicConfig;
	monitor: Monitor | null;
	signature: string | null;
	nextK: number;
	seq: number;
	lastTs: number;
	lastValue: number | null;
	repeats: number;
	/** Ring of plotted points' timestamps, by point index mod POINT_TS_WINDOW. */
	pointTs: (number | null)[];
}

function monitorConfigOf(c: CharacteristicConfig): MonitorConfig | null {
	if (!c.limits) return null;
	return {
		chart: c.chart,
		subgroupSize: c.subgroupSize,
		limits: {
			centre: c.limits.centre,
			sigma: c.limits.sigma,
			source: c.limits.source,
			version: c.limits.version
		},
		rules: c.rules,
		spec: c.spec,
		suspect: c.suspect
	};
}

function signatureOf(m: MonitorConfig): string {
	return JSON.stringify([m.chart, m.subgroupSize, m.limits, m.rules, m.spec, m.suspect]);
}

/** What the monitor's statistics depend on: a change of spec or suspect screen alone keeps them. */
function statisticsOf(m: MonitorConfig | null): string | null {
	return m ? JSON.stringify([m.chart, m.subgroupSize, m.limits, m.rules]) : null;
}

function clip(s: string): string {
	return s.length <= MAX_REASON ? s : `${s.slice(0, MAX_REASON - 1)}…`;
}

export function createSimEngine(options: SimEngineOptions): SimEngine {
	const { seed, speed, startMs, log } = options;
	if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
	const plant = options.plant ?? DEMO_PLANT;
	const demoByCode = new Map(
		demoCharacteristics(plant).map((c) => [c.characteristic.code, c.characteristic])
	);
	const resume = options.resume && options.resume.version === 1 ? options.resume : null;
	const newBatchId = options.newBatchId ?? randomUUID;
	const runtimes = new Map<string, Runtime>();
	const seqFloor = SEQ_PER_MS * Math.floor(startMs);
	const counters = {
		generated: 0,
		skipped: 0,
		notAcquired: 0,
		suspects: 0,
		violations: 0,
		monitorErrors: 0
	};

	const simTime = (nowMs: number): number => (nowMs - startMs) * speed;
	const realTimeOf = (simMs: number): number => Math.floor(startMs + simMs / speed);

	function buildMonitor(rt: Runtime, saved?: SimCharacteristicState['monitor']): void {
		const mc = monitorConfigOf(rt.config);
		if (!mc) {
			rt.monitor = null;
			rt.signature = null;
			return;
		}
		const signature = signatureOf(mc);
		try {
			if (saved && saved.signature === signature) {
				try {
					rt.monitor = createMonitor(mc, saved.state);
					rt.pointTs = saved.pointTs.slice(0, POINT_TS_WINDOW);
					while (rt.pointTs.length < POINT_TS_WINDOW) rt.pointTs.push(null);
					rt.signature = signature;
					return;
				} catch (error) {
					log.warn(
						{ code: rt.demo.code, err: (error as Error).message },
						'saved monitor state does not fit; starting the monitor fresh'
					);
				}
			}
			rt.monitor = createMonitor(mc);
			rt.pointTs = new Array<number | null>(POINT_TS_WINDOW).fill(null);
			rt.signature = signature;
		} catch (error) {
			// A configuration the engine refuses: keep sending raw samples, say why, loudly.
			counters.monitorErrors++;
			rt.monitor = null;
			rt.signature = null;
			log.error(
				{ code: rt.demo.code, err: (error as Error).message },
				'cannot monitor this characteristic with its configuration; sending raw samples only'
			);
		}
	}

	function applyConfig(config: IngestConfig): ApplyConfigResult {
		const result: ApplyConfigResult = { active: [], monitorsChanged: [], unconfigured: [] };
		const seen = new Set<string>();
		for (const c of config.characteristics) {
			const demo = demoByCode.get(c.code);
			if (!demo) continue; // fed by another worker
			seen.add(c.code);
			let rt = runtimes.get(c.code);
			if (!rt) {
				const saved = resume?.characteristics[c.code];
				rt = {
					demo,
					gen: createGenerator(demo, { seed, schedule: options.schedule }),
					config: c,
					monitor: null,
					signature: null,
					nextK: 0,
					seq: Math.max(seqFloor, saved ? saved.seq + 1 : 0),
					lastTs: saved?.ts ?? 0,
					lastValue: null,
					repeats: 0,
					pointTs: new Array<number | null>(POINT_TS_WINDOW).fill(null)
				};
				runtimes.set(c.code, rt);
				buildMonitor(rt, saved?.monitor);
				result.monitorsChanged.push(c.code);
			} else {
				const before = monitorConfigOf(rt.config);
				rt.config = c;
				const mc = monitorConfigOf(c);
				const signature = mc ? signatureOf(mc) : null;
				if (signature !== rt.signature) {
					// Only the spec or the suspect screen changed (a lot under another process version
					// started on the machine): the rule histories and a half-full subgroup carry over,
					// so a run handover does not blind the pattern rules.
					const carry =
						mc && rt.monitor && statisticsOf(before) === statisticsOf(mc)
							? { signature: signature!, state: rt.monitor.state(), pointTs: rt.pointTs }
							: undefined;
					buildMonitor(rt, carry);
					result.monitorsChanged.push(c.code);
				}
			}
			result.active.push(c.code);
		}
		for (const code of [...runtimes.keys()]) {
			// Removed from the configuration: stop generating it (its state is kept no longer).
			if (!seen.has(code)) runtimes.delete(code);
		}
		for (const code of demoByCode.keys()) if (!seen.has(code)) result.unconfigured.push(code);
		return result;
	}

	function step(nowMs: number, acquire = true): IngestBatch | null {
		const simNow = simTime(nowMs);
		const oldestSim = simTime(nowMs - MAX_CATCH_UP_MS);
		const samples: SampleTuple[] = [];
		const subgroups: IngestSubgroup[] = [];
		const violations: IngestViolation[] = [];
		const suspects: IngestBatch['suspects'] = [];

		for (const rt of runtimes.values()) {
			const id = rt.config.id;
			for (; rt.gen.timeOf(rt.nextK) <= simNow; rt.nextK++) {
				const t = rt.gen.timeOf(rt.nextK);
				if (t < oldestSim) {
					counters.skipped++;
					continue;
				}
				if (!acquire) {
					counters.notAcquired++;
					continue;
				}
				const s = rt.gen.sample(rt.nextK);
				if (s.kind === 'none') {
					rt.lastValue = null;
					rt.repeats = 0;
					continue;
				}
				const ts = Math.max(rt.lastTs, realTimeOf(t));
				const seq = rt.seq++;
				rt.lastTs = ts;
				counters.generated++;
				let flags = 0;
				let suspectReason: string | null = null;

				if (rt.demo.kind === 'variable') {
					rt.repeats = s.value === rt.lastValue ? rt.repeats + 1 : 1;
					rt.lastValue = s.value;
					if (rt.repeats >= STUCK_REPEATS) {
						suspectReason = `stuck-sensor: the same reading ${s.value} ${rt.repeats} times in a row`;
					}
				}
				if (suspectReason === null && rt.monitor) {
					const input = rt.demo.kind === 'attribute' ? { count: s.value, n: s.n } : s.value;
					let result;
					try {
						result = rt.monitor.push(input);
					} catch (error) {
						counters.monitorErrors++;
						log.error(
							{ code: rt.demo.code, err: (error as Error).message },
							'monitor refused a sample; sending it unmonitored'
						);
						result = null;
					}
					if (result?.suspect) {
						suspectReason = `${result.suspect.reason}: ${result.suspect.message}`;
					}
					const point = result?.point;
					if (point) {
						rt.pointTs[point.index % POINT_TS_WINDOW] = ts;
						if (rt.config.chart !== 'imr') {
							subgroups.push({
								characteristicId: id,
								ts,
								n: point.n,
								value: point.value,
								dispersion: point.dispersion?.value ?? null
							});
						}
						for (const v of point.violations) {
							counters.violations++;
							const pointTs = v.points
								.filter((i) => i > point.index - POINT_TS_WINDOW)
								.map((i) => rt.pointTs[i % POINT_TS_WINDOW])
								.filter((x): x is number => x !== null);
							violations.push({
								characteristicId: id,
								ts,
								rule: v.rule,
								chart: v.chart,
								side: v.side,
								message: clip(v.message),
								pointTs,
								value:
									v.chart === 'dispersion' && point.dispersion
										? point.dispersion.value
										: point.value
							});
						}
					}
				}
				if (suspectReason !== null) {
					flags |= SAMPLE_FLAGS.SUSPECT;
					counters.suspects++;
					suspects.push({ characteristicId: id, ts, seq, reason: clip(suspectReason) });
				}
				samples.push([id, ts, seq, s.value, flags]);
			}
		}
		if (samples.length === 0 && subgroups.length === 0 && violations.length === 0) return null;
		return { batchId: newBatchId(), samples, subgroups, violations, suspects };
	}

	return {
		applyConfig,
		step,
		simTime,
		state(nowMs) {
			const characteristics: Record<string, SimCharacteristicState> = {};
			// Keep what a previous run saved for characteristics not configured right now.
			if (resume) Object.assign(characteristics, resume.characteristics);
			for (const [code, rt] of runtimes) {
				characteristics[code] = {
					seq: rt.seq - 1,
					ts: rt.lastTs,
					...(rt.monitor && rt.signature
						? {
								monitor: {
									signature: rt.signature,
									state: rt.monitor.state(),
									pointTs: rt.pointTs.slice()
								}
							}
						: {})
				};
			}
			return { version: 1, seed, savedAt: nowMs, characteristics };
		},
		stats: () => ({
			characteristics: runtimes.size,
			monitored: [...runtimes.values()].filter((r) => r.monitor).length,
			...counters
		})
	};
}
