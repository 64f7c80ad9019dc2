/**
 * Status of a characteristic and of a machine on a wall screen, derived purely from what the
 * client holds (latest point, configuration, recent signals, connection) and the current time.
 * No I/O, no clock of its own: the caller passes `now` (server-corrected) so tests and the page
 * agree on what "stale" means.
 */
import type { CharacteristicConfig, LiveAlarm, LivePoint, LiveReading } from './events';
import { SAMPLE_FLAGS } from './events';
import { primaryLimits, ruleSigma } from '$lib/spc/points';

export const LIVE_STATUSES = ['in-control', 'warning', 'out-of-spec', 'stale', 'offline'] as const;
export type LiveStatus = (typeof LIVE_STATUSES)[number];

/** A characteristic is stale after this many point intervals without a new point… */
export const STALE_INTERVALS = 3;
/**
 * …but never sooner than this. Points reach the browser through worker batching, the hub's
 * ~100 ms coalescing and the client's own throttled flush; a 10 Hz characteristic would otherwise
 * flicker between live and stale on delivery jitter alone.
 */
export const STALE_FLOOR_MS = 3_000;
/** A rule that fired within this window keeps the characteristic in "warning". */
export const RECENT_SIGNAL_MS = 60_000;
/** A point this many sigmas (of the plotted statistic) from the centre is a warning. */
export const WARNING_SIGMAS = 2;
/** A data source (worker) not seen for this long is offline. */
export const SOURCE_TIMEOUT_MS = 30_000;

export type StatusConfig = Pick<
	CharacteristicConfig,
	'chart' | 'kind' | 'subgroupSize' | 'samplingIntervalMs' | 'spec' | 'limits'
>;

export interface CharacteristicStatusInput {
	config: StatusConfig;
	/** Newest plotted point held for the characteristic, if any. */
	latest: LivePoint | undefined;
	/**
	 * Newest raw reading, for characteristics whose chart plots subgroups or counts (the hub
	 * sends their readings separately); undefined otherwise, and then the points are the data.
	 */
	reading?: LiveReading | undefined;
	/** Time of the newest unacknowledged signal of the characteristic, or null. */
	lastSignalAt: number | null;
	/** Server-corrected current time, epoch ms. */
	now: number;
	/** Socket is live (subscribed and receiving). */
	connected: boolean;
	/** The data source feeding the characteristic was seen recently. */
	sourceOnline: boolean;
}

/** Milliseconds between two plotted points: subgroup charts plot one point per subgroup. */
export function pointIntervalMs(
	config: Pick<StatusConfig, 'chart' | 'subgroupSize' | 'samplingIntervalMs'>
): number {
	const perPoint = config.chart === 'xbar-r' || config.chart === 'xbar-s' ? config.subgroupSize : 1;
	return config.samplingIntervalMs * Math.max(1, perPoint);
}

/** How long without a new raw reading before the characteristic shows as stale. */
export function readingStaleAfterMs(config: Pick<StatusConfig, 'samplingIntervalMs'>): number {
	return Math.max(STALE_FLOOR_MS, STALE_INTERVALS * config.samplingIntervalMs);
}

/** How long without a new plotted point before the characteristic shows as stale. */
export function staleAfterMs(
	config: Pick<StatusConfig, 'chart' | 'subgroupSize' | 'samplingIntervalMs'>
): number {
	return Math.max(STALE_FLOOR_MS, STALE_INTERVALS * pointIntervalMs(config));
}

/**
 * Distance of `value` from the centre line in sigmas of the plotted statistic, or null when the
 * characteristic has no active limits (or they are degenerate).
 */
export function sigmaDistance(config: StatusConfig, value: number): number | null {
	if (config.limits === null) return null;
	const n = config.subgroupSize > 0 ? config.subgroupSize : 1;
	// EWMA limits widen over the first points; the wall judges a running chart: asymptotic limits.
	const limits = primaryLimits(config.chart, config.limits, n, { index: 1_000 });
	const sigma = ruleSigma(config.chart, limits);
	if (!(sigma > 0)) return null;
	return Math.abs(value - limits.centre) / sigma;
}

/** True when a plotted value lies outside the specification (only where spec applies to it). */
export function isOutOfSpec(config: StatusConfig, value: number): boolean {
	// Spec limits bound individual measurements (and their means); EWMA/CUSUM statistics and
	// attribute rates are not on the measurement's scale.
	const onMeasurementScale =
		config.kind === 'variable' &&
		(config.chart === 'imr' || config.chart === 'xbar-r' || config.chart === 'xbar-s');
	if (!onMeasurementScale) return false;
	const { lsl, usl } = config.spec;
	return (
		(lsl !== null && lsl !== undefined && value < lsl) ||
		(usl !== null && usl !== undefined && value > usl)
	);
}

export function characteristicStatus(input: CharacteristicStatusInput): LiveStatus {
	const { config, latest, reading, now } = input;
	if (!input.connected || !input.sourceOnline) return 'offline';
	// What the machine measures now: the raw reading where the hub sends them (a subgroup chart
	// plots only every 6-60 s), else the newest plotted point.
	const current = reading ?? latest;
	const staleAfter = reading !== undefined ? readingStaleAfterMs(config) : staleAfterMs(config);
	// Undefined: the source is talking but nothing arrived for this characteristic in the window
	// (a subgroup chart before its first subgroup closes, or a sensor the source stopped reading).
	if (current === undefined || now - current.ts > staleAfter) return 'stale';
	const suspect = (current.flags & SAMPLE_FLAGS.SUSPECT) !== 0;
	// A suspect value is most likely a data error, not the process: it warns, it does not
	// declare the product out of spec. Spec limits bound single parts, so a raw reading outside
	// them is out of spec even when the subgroup mean is not.
	if (!suspect && isOutOfSpec(config, current.value)) return 'out-of-spec';
	if (suspect) return 'warning';
	if (input.lastSignalAt !== null && now - input.lastSignalAt <= RECENT_SIGNAL_MS) return 'warning';
	if (latest === undefined) return 'in-control';
	// Zones are in sigmas of the plotted statistic: judged on the plotted point.
	const z = sigmaDistance(config, latest.value);
	if (z !== null && z >= WARNING_SIGMAS) return 'warning';
	return 'in-control';
}

/**
 * Status of a machine from its characteristics: out of spec or warning as soon as one of them is;
 * otherwise in control while any of them has current data; stale (or offline) only when none
 * has. A single quiet characteristic does not grey out a machine whose other readings are live:
 * it shows in the tile's rows and on its own chart instead. 'offline' when empty.
 */
export function machineStatus(statuses: Iterable<LiveStatus>): LiveStatus {
	const seen = new Set<LiveStatus>(statuses);
	for (const status of ['out-of-spec', 'warning', 'in-control', 'stale'] as const) {
		if (seen.has(status)) return status;
	}
	return 'offline';
}

/**
 * Whether the sources feeding a room are alive: any seen within `timeoutMs`. No source at all
 * means none has fed the room since the hub started: offline.
 */
export function sourcesOnline(
	sourcesSeenAt: Record<string, number>,
	now: number,
	timeoutMs = SOURCE_TIMEOUT_MS
): boolean {
	return Object.values(sourcesSeenAt).some((t) => now - t <= timeoutMs);
}

/**
 * Alarms a wall must show: not yet acknowledged — active ones (`unacknowledged`) first, then
 * those that returned to normal unacknowledged — latest activity first within each. Shelved,
 * suppressed and out-of-service alarms are set aside by a person or by design: not shown.
 */
export function unacknowledgedAlarms(alarms: Iterable<LiveAlarm>): LiveAlarm[] {
	const open: LiveAlarm[] = [];
	for (const alarm of alarms) {
		if (alarm.state === 'unacknowledged' || alarm.state === 'returned') open.push(alarm);
	}
	const rank = (a: LiveAlarm) => (a.state === 'unacknowledged' ? 0 : 1);
	return open.sort((a, b) => rank(a) - rank(b) || b.lastTs - a.lastTs || b.id - a.id);
}

/** Time of the latest unacknowledged violation per characteristic id. */
export function lastSignalByCharacteristic(alarms: Iterable<LiveAlarm>): Map<number, number> {
	const last = new Map<number, number>();
	for (const alarm of alarms) {
		if (alarm.state !== 'unacknowledged' && alarm.state !== 'returned') continue;
		if (alarm.characteristicId === null) continue;
		const prev = last.get(alarm.characteristicId);
		if (prev === undefined || alarm.lastTs > prev) last.set(alarm.characteristicId, alarm.lastTs);
	}
	return last;
}

/** A line with no new data for this long shows as stale on the landing page. */
export const LINE_STALE_MS = 15_000;

/** Live state of a whole line for the landing page, from its summary. */
export function lineStatus(
	summary: { unacknowledgedAlarms: number; lastDataAt: number | null },
	now: number,
	connected: boolean
): LiveStatus {
	if (!connected || summary.lastDataAt === null) return 'offline';
	if (now - summary.lastDataAt > LINE_STALE_MS) return 'stale';
	return summary.unacknowledgedAlarms > 0 ? 'warning' : 'in-control';
}
