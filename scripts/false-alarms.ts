/**
 * How often the demo plant cries wolf: runs every characteristic of the demo plant through the
 * real SPC monitor for some hours of IN-CONTROL data (the generator with no special causes)
 * and counts what a wall screen would see:
 *
 *   npx tsx scripts/false-alarms.ts [--seed 1[,2,…]] [--hours 1] [--quiet-s 30] [--top 15]
 *
 * (QUIET=<ms> in the environment sets the quiet period too, as the first ad-hoc version did;
 * --quiet-s wins.) Prints points per second, rule violations per hour, alarm raises per hour
 * and the average number of active alarm conditions, in total, by rule, by line and for the
 * noisiest characteristics; with several seeds, one summary line per seed and their mean.
 *
 * Alarm model: the hub's (src/lib/server/samples/writer.ts, UPSERT_ALARMS). One condition per
 * characteristic × rule — the primary and the dispersion chart share a rule's condition, as
 * they share the alarm row. A violation raises the condition when it is not active, and
 * extends it when it is; a condition returns to normal after `quietMs` without a violation (a
 * violation exactly `quietMs` after the last still extends it). "Active" is from the raising
 * violation to `quietMs` after the last one, cut at the end of the run. Timestamps are the
 * simulated times of the samples that complete the points.
 *
 * Everything in control fires at the rules' natural false-alarm rates, so these figures are
 * the floor of what the wall shows; docs/simulator.md quotes them and explains the tuning.
 */
import { pathToFileURL } from 'node:url';
import { createGenerator } from '../src/lib/demo/generator';
import { DEMO_PLANT, demoCharacteristics, type DemoPlant } from '../src/lib/demo/plant';
import type { DemoSchedule } from '../src/lib/demo/schedule';
import { createMonitor } from '../src/lib/spc/monitor';
import type { RuleId } from '../src/lib/spc/types';

const HOUR_MS = 3_600_000;
/** The hub's quiet period: a condition without a violation for this long returns to normal. */
export const DEFAULT_QUIET_MS = 30_000;
/** A schedule without causes: the plant in control. */
export const IN_CONTROL: DemoSchedule = { cycleMs: HOUR_MS, causes: [] };
/** Refuse runs longer than this: the measurement is linear in hours × characteristics. */
const MAX_HOURS = 1_000;

/** Alarm conditions keyed by a string, fed violations in time order. */
export interface ConditionTracker {
	/** Records a violation of condition `key` at `ts`; true when it raised the condition. */
	observe(key: string, ts: number): boolean;
	/** Conditions raised so far. */
	readonly raises: number;
	/** Total active time of every condition up to `endMs` (each cut at `endMs`). */
	activeMs(endMs: number): number;
}

export function createConditionTracker(quietMs: number): ConditionTracker {
	if (!(quietMs >= 0)) throw new RangeError(`quietMs must be ≥ 0, got ${quietMs}`);
	// Per open episode: first and last violation. Closed episodes only add to `closedMs`, so the
	// tracker holds one entry per condition, not one per violation.
	const open = new Map<string, { first: number; last: number }>();
	let closedMs = 0;
	let raises = 0;
	return {
		observe(key, ts) {
			const e = open.get(key);
			if (e && ts - e.last <= quietMs) {
				e.last = Math.max(e.last, ts);
				return false;
			}
			if (e) closedMs += e.last + quietMs - e.first;
			open.set(key, { first: ts, last: ts });
			raises++;
			return true;
		},
		get raises() {
			return raises;
		},
		activeMs(endMs) {
			let total = closedMs;
			for (const e of open.values()) {
				total += Math.max(0, Math.min(endMs, e.last + quietMs) - e.first);
			}
			return total;
		}
	};
}

export interface RuleTally {
	violations: number;
	raises: number;
}

export interface CharacteristicTally extends RuleTally {
	code: string;
	line: string;
	chart: string;
	subgroupSize: number;
	samplingIntervalMs: number;
	rules: string;
	points: number;
	activeMs: number;
}

export interface FalseAlarmReport {
	seed: number;
	hours: number;
	quietMs: number;
	samples: number;
	points: number;
	violations: number;
	raises: number;
	pointsPerSecond: number;
	violationsPerHour: number;
	raisesPerHour: number;
	/** Conditions active at a random instant, on average. */
	averageActive: number;
	byRule: Partial<Record<RuleId, RuleTally>>;
	byLine: Record<string, RuleTally & { averageActive: number }>;
	/** In plant order. */
	byCharacteristic: CharacteristicTally[];
}

export interface FalseAlarmOptions {
	seed: number;
	hours?: number;
	quietMs?: number;
	plant?: DemoPlant;
}

function addTo(t: RuleTally, raised: boolean): void {
	t.violations++;
	if (raised) t.raises++;
}

/** Runs the whole plant in control for `hours` of simulated time; see the file comment. */
export function measureFalseAlarms(options: FalseAlarmOptions): FalseAlarmReport {
	const hours = options.hours ?? 1;
	const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
	if (!(hours > 0 && hours <= MAX_HOURS)) {
		throw new RangeError(`hours must be in (0, ${MAX_HOURS}], got ${hours}`);
	}
	const endMs = hours * HOUR_MS;
	const byRule: Partial<Record<RuleId, RuleTally>> = {};
	const byLine: FalseAlarmReport['byLine'] = {};
	const byCharacteristic: CharacteristicTally[] = [];
	let samples = 0;

	for (const { line, characteristic: c } of demoCharacteristics(options.plant ?? DEMO_PLANT)) {
		const generator = createGenerator(c, { seed: options.seed, schedule: IN_CONTROL });
		const monitor = createMonitor({
			chart: c.chart,
			subgroupSize: c.subgroupSize,
			// The known standard the seeder writes as limits version 1 (src/lib/server/plant).
			limits: { centre: c.process.mean, sigma: c.process.sigma },
			rules: c.rules,
			spec: c.spec,
			suspect: c.suspect
		});
		const conditions = createConditionTracker(quietMs);
		const tally: CharacteristicTally = {
			code: c.code,
			line: line.code,
			chart: c.chart,
			subgroupSize: c.subgroupSize,
			samplingIntervalMs: c.samplingIntervalMs,
			rules: typeof c.rules === 'string' ? c.rules : c.rules.name,
			points: 0,
			violations: 0,
			raises: 0,
			activeMs: 0
		};
		const lineTally = (byLine[line.code] ??= { violations: 0, raises: 0, averageActive: 0 });
		for (let k = 0; generator.timeOf(k) < endMs; k++) {
			const s = generator.sample(k);
			if (s.kind !== 'value') continue;
			samples++;
			const r = monitor.push(c.kind === 'attribute' ? { count: s.value, n: s.n } : s.value);
			if (!r.point) continue;
			tally.points++;
			const ts = generator.timeOf(k);
			for (const v of r.point.violations) {
				const raised = conditions.observe(v.rule, ts);
				addTo(tally, raised);
				addTo(lineTally, raised);
				addTo((byRule[v.rule] ??= { violations: 0, raises: 0 }), raised);
			}
		}
		tally.activeMs = conditions.activeMs(endMs);
		lineTally.averageActive += tally.activeMs / endMs;
		byCharacteristic.push(tally);
	}

	const sum = (f: (t: CharacteristicTally) => number) =>
		byCharacteristic.reduce((a, t) => a + f(t), 0);
	const points = sum((t) => t.points);
	const violations = sum((t) => t.violations);
	const raises = sum((t) => t.raises);
	return {
		seed: options.seed,
		hours,
		quietMs,
		samples,
		points,
		violations,
		raises,
		pointsPerSecond: points / (endMs / 1000),
		violationsPerHour: violations / hours,
		raisesPerHour: raises / hours,
		averageActive: sum((t) => t.activeMs) / endMs,
		byRule,
		byLine,
		byCharacteristic
	};
}

const fixed = (x: number, d = 1): string => x.toFixed(d);

/** The report as the CLI prints it. */
export function formatReport(r: FalseAlarmReport, top = 15): string {
	const perHour = (n: number) => fixed(n / r.hours);
	const out = [
		`seed ${r.seed}, ${r.hours} h in control, quiet ${r.quietMs / 1000} s`,
		`  samples/s ${fixed(r.samples / (r.hours * 3600))}, points/s ${fixed(r.pointsPerSecond, 2)}`,
		`  violations/h ${fixed(r.violationsPerHour)}, alarm raises/h ${fixed(r.raisesPerHour)}, ` +
			`average active conditions ${fixed(r.averageActive, 2)}`,
		'  by rule (violations/h, raises/h):'
	];
	for (const [rule, t] of Object.entries(r.byRule).sort((a, b) => b[1].raises - a[1].raises)) {
		out.push(
			`    ${rule.padEnd(8)} ${perHour(t.violations).padStart(8)} ${perHour(t.raises).padStart(7)}`
		);
	}
	out.push('  by line (violations/h, raises/h, average active):');
	for (const [line, t] of Object.entries(r.byLine)) {
		out.push(
			`    ${line.padEnd(8)} ${perHour(t.violations).padStart(8)} ${perHour(t.raises).padStart(7)} ${fixed(t.averageActive, 2).padStart(7)}`
		);
	}
	const noisy = [...r.byCharacteristic]
		.sort((a, b) => b.raises - a.raises || a.code.localeCompare(b.code))
		.slice(0, top);
	out.push(`  noisiest ${noisy.length} characteristics (raises/h, violations/h, points/h, chart):`);
	for (const t of noisy) {
		out.push(
			`    ${t.code.padEnd(16)} ${perHour(t.raises).padStart(6)} ${perHour(t.violations).padStart(7)} ` +
				`${perHour(t.points).padStart(7)}  ${t.chart} n=${t.subgroupSize} every ${t.samplingIntervalMs} ms, ${t.rules}`
		);
	}
	return out.join('\n');
}

const USAGE = `usage: npx tsx scripts/false-alarms.ts [--seed N[,N…]] [--hours H] [--quiet-s S] [--top K]`;

interface CliOptions {
	seeds: number[];
	hours: number;
	quietMs: number;
	top: number;
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
	const quietEnv = env.QUIET === undefined ? DEFAULT_QUIET_MS : Number(env.QUIET);
	const o: CliOptions = { seeds: [1], hours: 1, quietMs: quietEnv, top: 15 };
	for (let i = 0; i < argv.length; i += 2) {
		const [flag, value] = [argv[i], argv[i + 1]];
		if (value === undefined) throw new RangeError(`${flag} needs a value\n${USAGE}`);
		if (flag === '--seed') o.seeds = value.split(',').map(Number);
		else if (flag === '--hours') o.hours = Number(value);
		else if (flag === '--quiet-s') o.quietMs = Number(value) * 1000;
		else if (flag === '--top') o.top = Number(value);
		else throw new RangeError(`unknown option ${flag}\n${USAGE}`);
	}
	if (o.seeds.length === 0 || !o.seeds.every((s) => Number.isInteger(s) && s >= 0)) {
		throw new RangeError(`seeds must be whole numbers ≥ 0\n${USAGE}`);
	}
	if (!(o.quietMs >= 0)) throw new RangeError(`the quiet period must be ≥ 0 s\n${USAGE}`);
	if (!(Number.isInteger(o.top) && o.top >= 0)) throw new RangeError(`--top must be ≥ 0\n${USAGE}`);
	return o;
}

function main(argv: string[]): void {
	if (argv[0] === '--help' || argv[0] === '-h') {
		process.stdout.write(`${USAGE}\n`);
		return;
	}
	const o = parseArgs(argv, process.env);
	const reports = o.seeds.map((seed) =>
		measureFalseAlarms({ seed, hours: o.hours, quietMs: o.quietMs })
	);
	if (reports.length === 1) {
		process.stdout.write(`${formatReport(reports[0], o.top)}\n`);
		return;
	}
	const mean = (f: (r: FalseAlarmReport) => number) =>
		reports.reduce((a, r) => a + f(r), 0) / reports.length;
	for (const r of reports) {
		process.stdout.write(
			`seed ${String(r.seed).padStart(3)}: raises/h ${fixed(r.raisesPerHour).padStart(6)}, ` +
				`violations/h ${fixed(r.violationsPerHour).padStart(7)}, active ${fixed(r.averageActive, 2)}\n`
		);
	}
	process.stdout.write(
		`mean of ${reports.length} seeds: raises/h ${fixed(mean((r) => r.raisesPerHour))}, ` +
			`violations/h ${fixed(mean((r) => r.violationsPerHour))}, ` +
			`active ${fixed(
				mean((r) => r.averageActive),
				2
			)}, points/s ${fixed(
				mean((r) => r.pointsPerSecond),
				2
			)}\n`
	);
}

// Run as a script, not when a test imports the functions.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	try {
		main(process.argv.slice(2));
	} catch (e) {
		process.stderr.write(`false-alarms: ${e instanceof Error ? e.message : String(e)}\n`);
		process.exitCode = e instanceof RangeError ? 2 : 1;
	}
}
