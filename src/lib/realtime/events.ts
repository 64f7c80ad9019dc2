/**
 * The one typed contract of every socket event, both directions, for both namespaces:
 *
 * - `/ingest`: acquisition workers → hub (data up), hub → workers (config down).
 * - `/` (default): hub → browsers (wall screens, desks): subscribe → snapshot, then deltas.
 *
 * Every request a client makes is answered only through its ack, with `Ack<T>`; the hub never
 * answers a request with a broadcast. Payloads arriving at the hub are parsed with the zod
 * schemas in `src/lib/server/realtime/schemas.ts`; these types are what those schemas produce.
 *
 * Times on the wire are epoch milliseconds (UTC). Numbers are finite; "no value" is `null`.
 */
import type { ChartType, RuleId, RuleSetSpec, SpecLimits, SuspectConfig } from '$lib/spc/types';

/** Closed set of error codes a client can receive. Never raw database or exception text. */
export const ERROR_CODES = [
	'bad_request',
	'unauthorized',
	'forbidden',
	'not_found',
	'payload_too_large',
	'rate_limited',
	'unavailable',
	'internal'
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorCode; message?: string };
export type AckCallback<T> = (response: Ack<T>) => void;

/* ------------------------------------------------------------------------------------------ */
/* /ingest namespace                                                                           */
/* ------------------------------------------------------------------------------------------ */

/** Bit flags carried by each sample. */
export const SAMPLE_FLAGS = {
	/** Gross error: kept, shown, excluded from statistics until confirmed. */
	SUSPECT: 1,
	/** Produced while the machine was in changeover/idle (suppressed by design). */
	SUPPRESSED: 2
} as const;

/**
 * One sample as a tuple, to keep batches small and parsing cheap at 10k+ samples/s:
 * [characteristicId, ts (epoch ms), seq (per characteristic, monotonically increasing), value, flags].
 * (characteristicId, ts, seq) is the natural key that makes re-delivery idempotent.
 */
export type SampleTuple = [
	characteristicId: number,
	ts: number,
	seq: number,
	value: number,
	flags: number
];

/** An SPC rule violation detected by the worker's monitor. (characteristicId, rule, ts) is its key. */
export interface IngestViolation {
	characteristicId: number;
	/** Timestamp of the point that completed the pattern. */
	ts: number;
	rule: RuleId;
	chart: 'primary' | 'dispersion';
	side: 'upper' | 'lower' | null;
	message: string;
	/** Timestamps of every point of the pattern. */
	pointTs: number[];
	/** Plotted value of the completing point. */
	value: number;
}

/** A plotted chart point for charts whose points are not single samples (X̄-R, X̄-S, p, …). */
export interface IngestSubgroup {
	characteristicId: number;
	/** Timestamp of the last sample of the subgroup. */
	ts: number;
	n: number;
	/** Plotted statistic (x̄, p, …) and dispersion (R or S), where the chart has one. */
	value: number;
	dispersion: number | null;
}

export interface IngestBatch {
	/** Unique per batch (UUID); a re-sent batch carries the same id. */
	batchId: string;
	samples: SampleTuple[];
	subgroups: IngestSubgroup[];
	violations: IngestViolation[];
	/** Samples flagged suspect by the worker (also flagged in `samples`), with the reason. */
	suspects: { characteristicId: number; ts: number; seq: number; reason: string }[];
}

/** Why a sample was refused; each is counted in /metrics (`tracewall_samples_rejected_total`). */
export const REJECT_REASONS = [
	'malformed',
	'not_finite',
	'unknown_characteristic',
	'future_timestamp',
	'too_old'
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface IngestResult {
	batchId: string;
	accepted: number;
	/** Same key and same value as a stored sample: no-op. */
	duplicates: number;
	/** Same key, different value: quarantined, never overwritten. */
	quarantined: number;
	/** Refused samples by index in `samples`, with reasons. Good samples of the batch are kept. */
	rejected: { index: number; reason: RejectReason }[];
}

/** The lot whose process version supplies a characteristic's spec limits now. */
export interface SpecSource {
	lot: string;
	product: string;
	processVersion: number;
}

/** Characteristic configuration pushed down to workers (and included in wall snapshots). */
export interface CharacteristicConfig {
	id: number;
	code: string;
	name: string;
	unit: string;
	lineId: number;
	machineId: number;
	kind: 'variable' | 'attribute';
	chart: ChartType;
	subgroupSize: number;
	samplingIntervalMs: number;
	/**
	 * The spec limits in force on the machine now: those of the process version fixed on the lot
	 * running there (a change-controlled spec change reaches the line with the first lot started
	 * under it), else the characteristic's plant default. The suspect screen and the wall use it.
	 */
	spec: SpecLimits;
	/** Where `spec` comes from; null (or absent) for the characteristic's plant default. */
	specSource?: SpecSource | null;
	suspect: SuspectConfig;
	rules: RuleSetSpec;
	/** Active (effective) control-limit version; null until one is approved/estimated. */
	limits: {
		version: number;
		centre: number;
		sigma: number;
		source: string;
	} | null;
	/** Display precision (decimals). */
	decimals: number;
}

export interface IngestConfig {
	/** Increments on every change so workers can ignore stale pushes. */
	revision: number;
	characteristics: CharacteristicConfig[];
}

export interface IngestClientToServer {
	/** Persist a batch; the ack is sent only after the batch's transaction committed. */
	'ingest:batch': (batch: unknown, ack: AckCallback<IngestResult>) => void;
	/** Ask for the current configuration (also pushed on connect and on change). */
	'config:get': (payload: unknown, ack: AckCallback<IngestConfig>) => void;
}

export interface IngestServerToClient {
	'config:update': (config: IngestConfig) => void;
}

/* ------------------------------------------------------------------------------------------ */
/* default namespace: live views                                                               */
/* ------------------------------------------------------------------------------------------ */

/** Rooms a browser may subscribe to. Names are built only by `src/lib/server/realtime/rooms.ts`. */
export type RoomRef =
	| { kind: 'line'; id: number }
	| { kind: 'machine'; id: number }
	| { kind: 'characteristic'; id: number }
	| { kind: 'alarms' };

/** One live point for a characteristic (a sample for I-MR charts, a subgroup statistic otherwise). */
export interface LivePoint {
	ts: number;
	seq: number;
	value: number;
	/** Dispersion chart value (MR, R or S) where known, else null. */
	dispersion: number | null;
	flags: number;
}

/**
 * A raw reading (one sample) for tiles and sparklines. Sent only for characteristics whose chart
 * plots subgroups or attribute counts (X̄-R, X̄-S, p, np, c, u): their chart moves at the SPC
 * cadence (a point every 6-60 s in the demo), while the machine value behind it changes at 1-10
 * Hz. For I-MR, EWMA and CUSUM characteristics the points ARE the readings, so none are sent.
 */
export interface LiveReading {
	ts: number;
	value: number;
	flags: number;
}

/** How many raw readings a snapshot carries and a client keeps per characteristic. */
export const READINGS_WINDOW = { maxPoints: 120, maxAgeMs: 5 * 60 * 1000 } as const;

/** What an alarm is about: a control-chart rule, a spec limit, a missed inspection, no data. */
export type AlarmKind = 'spc' | 'spec' | 'inspection' | 'stale';

/** What fired: a chart rule, or one of the non-SPC conditions. */
export type AlarmRule = RuleId | 'spec' | 'stale' | 'suspect' | 'inspection-missed';

/**
 * ISA-18.2 alarm states (src/lib/alarms/lifecycle.ts has the transition table).
 * `unacknowledged`: active, nobody has acknowledged it. `acknowledged`: active, seen.
 * `returned`: the condition returned to normal but nobody acknowledged it yet; it turns
 * `unacknowledged` again if the condition comes back. `cleared`: returned and acknowledged (the
 * alarm is closed). `shelved` (hidden by a person until `shelvedUntil`), `suppressed` (by design:
 * the machine is not running) and `out_of_service` are set aside: not on the wall's banner, but
 * still absorbing violations of their condition.
 */
export type AlarmStateName =
	| 'unacknowledged'
	| 'acknowledged'
	| 'returned'
	| 'cleared'
	| 'shelved'
	| 'suppressed'
	| 'out_of_service';

/**
 * One alarm = one condition (characteristic × rule) from raise to clear, not one violation:
 * a pattern that goes on firing at every further point, or fires again while its alarm is open,
 * updates the same alarm (`lastTs`, `occurrences`) instead of flooding the wall with new ones.
 * A missed-inspection alarm has no characteristic: its machine and line say where it is.
 */
export interface LiveAlarm {
	id: number;
	kind: AlarmKind;
	characteristicId: number | null;
	machineId: number | null;
	lineId: number;
	rule: AlarmRule;
	message: string;
	/** When the condition was first raised (the completing point of its first violation). */
	ts: number;
	/** The latest violation of the same condition (equal to `ts` for a single occurrence). */
	lastTs: number;
	/** How many violations this alarm has absorbed while open. */
	occurrences: number;
	state: AlarmStateName;
	/** Plotted value of the latest violation. */
	value: number | null;
	/** Auto-unshelve deadline (epoch ms) while shelved, else null. */
	shelvedUntil: number | null;
	/** Full name (or username) of whoever acknowledged it, once acknowledged. */
	acknowledgedBy: string | null;
	/** Labels of the assignable cause and action recorded at acknowledgement. */
	cause: string | null;
	action: string | null;
}

export interface MachineInfo {
	id: number;
	code: string;
	name: string;
	lineId: number;
}

export interface LineInfo {
	id: number;
	code: string;
	name: string;
	siteName: string;
}

/** Full state of a room at `seq`: the client replaces what it had. */
export interface RoomSnapshot {
	room: string;
	seq: number;
	serverTime: number;
	line: LineInfo | null;
	machines: MachineInfo[];
	characteristics: CharacteristicConfig[];
	/** Recent points per characteristic id, oldest first, bounded (see LIVE_WINDOW). */
	points: Record<number, LivePoint[]>;
	/** Recent raw readings of subgroup/attribute characteristics, oldest first (READINGS_WINDOW). */
	readings: Record<number, LiveReading[]>;
	alarms: LiveAlarm[];
	/** Last time each worker feeding this room was seen (epoch ms) — for the offline state. */
	sourcesSeenAt: Record<string, number>;
}

/** Changes since `seq − 1`. A client that sees a gap in `seq` re-subscribes for a fresh snapshot. */
export interface RoomDelta {
	room: string;
	seq: number;
	serverTime: number;
	/** New points per characteristic id, oldest first. */
	points: Record<number, LivePoint[]>;
	/** New raw readings of subgroup/attribute characteristics, oldest first (bounded per flush). */
	readings: Record<number, LiveReading[]>;
	/** New or changed alarms. */
	alarms: LiveAlarm[];
	/** Characteristics whose configuration changed (limits, spec, rules). */
	characteristics: CharacteristicConfig[];
	sourcesSeenAt: Record<string, number>;
}

/** How much history a snapshot carries and a live buffer keeps (points per characteristic). */
// The age bound is long because subgroup charts plot slowly (a point a minute gives 600 points
// in 10 hours); the point bound keeps fast I-MR charts (10 Hz: one minute) just as small.
export const LIVE_WINDOW = { maxPoints: 600, maxAgeMs: 12 * 60 * 60 * 1000 } as const;

export interface LineSummary {
	line: LineInfo;
	machines: number;
	characteristics: number;
	unacknowledgedAlarms: number;
	lastDataAt: number | null;
}

export interface LiveClientToServer {
	subscribe: (room: unknown, ack: AckCallback<RoomSnapshot>) => void;
	unsubscribe: (room: unknown, ack: AckCallback<null>) => void;
	'lines:list': (payload: unknown, ack: AckCallback<LineSummary[]>) => void;
}

export interface LiveServerToClient {
	delta: (delta: RoomDelta) => void;
}
