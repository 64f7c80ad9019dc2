/**
 * zod schemas for every payload that arrives at the hub, and the per-sample validation of an
 * ingest batch.
 *
 * A batch is checked in two layers:
 * - the envelope (batch id, subgroups, violations, suspects): a malformed envelope is a worker
 *   bug, so the whole batch is refused with `bad_request` and nothing is persisted;
 * - each sample tuple on its own: a bad sample is refused with a reason and the good samples of
 *   the same batch are persisted. One broken sensor must not block a whole machine's data.
 */
import { z } from 'zod';
import type {
	IngestBatch,
	IngestSubgroup,
	IngestViolation,
	RejectReason,
	RoomRef,
	SampleTuple
} from '$lib/realtime/events';

/** Upper bound of samples per batch; the byte limit (INGEST_MAX_BATCH_BYTES) usually bites first. */
export const MAX_SAMPLES_PER_BATCH = 50_000;
const MAX_AUX_PER_BATCH = 50_000;

/** Bounds shared by the zod schemas and the hand-written fast path of `sampleRejectReason`. */
const MAX_ID = 2_147_483_647;
const MAX_EPOCH_MS = 8_640_000_000_000_000;
const MAX_FLAGS = 32_767;

const id = z.number().int().positive().max(MAX_ID);
/** Epoch ms; the time window (future/too old) is checked per sample against the clock. */
const epochMs = z.number().int().min(0).max(MAX_EPOCH_MS);
/** `z.number()` refuses NaN and ±Infinity (zod 4), so this is "a finite number". */
const finite = z.number();

const RULE_IDS = [
	'nelson1',
	'nelson2',
	'nelson3',
	'nelson4',
	'nelson5',
	'nelson6',
	'nelson7',
	'nelson8',
	'we1',
	'we2',
	'we3',
	'we4'
] as const;

/**
 * [characteristicId, ts, seq, value, flags]. seq is stored as bigint; flags as smallint.
 * The value is position 3: a failure there is `not_finite`, anywhere else `malformed`.
 */
export const sampleTupleSchema = z.tuple([
	id,
	epochMs,
	z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
	finite,
	z.number().int().min(0).max(MAX_FLAGS)
]);
const VALUE_INDEX = 3;

export const ingestSubgroupSchema = z.object({
	characteristicId: id,
	ts: epochMs,
	n: z.number().int().min(1).max(1_000_000),
	value: finite,
	dispersion: finite.nullable()
}) satisfies z.ZodType<IngestSubgroup>;

export const ingestViolationSchema = z.object({
	characteristicId: id,
	ts: epochMs,
	rule: z.enum(RULE_IDS),
	chart: z.enum(['primary', 'dispersion']),
	side: z.enum(['upper', 'lower']).nullable(),
	message: z.string().min(1).max(500),
	pointTs: z.array(epochMs).max(100),
	value: finite
}) satisfies z.ZodType<IngestViolation>;

export const ingestSuspectSchema = z.object({
	characteristicId: id,
	ts: epochMs,
	seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
	reason: z.string().min(1).max(200)
});

/** The envelope; samples stay `unknown[]` here and are validated one by one. */
export const ingestBatchEnvelopeSchema = z.object({
	batchId: z.string().min(1).max(128),
	samples: z.array(z.unknown()).max(MAX_SAMPLES_PER_BATCH),
	subgroups: z.array(ingestSubgroupSchema).max(MAX_AUX_PER_BATCH).default([]),
	violations: z.array(ingestViolationSchema).max(MAX_AUX_PER_BATCH).default([]),
	suspects: z.array(ingestSuspectSchema).max(MAX_AUX_PER_BATCH).default([])
});
export type IngestBatchEnvelope = z.infer<typeof ingestBatchEnvelopeSchema>;

export const roomRefSchema = z.discriminatedUnion('kind', [
	z.object({ kind: z.literal('line'), id }),
	z.object({ kind: z.literal('machine'), id }),
	z.object({ kind: z.literal('characteristic'), id }),
	z.object({ kind: z.literal('alarms') })
]) satisfies z.ZodType<RoomRef>;

/** `config:get` and `lines:list` take no arguments; accept nothing, null or an empty object. */
export const emptyPayloadSchema = z.union([z.undefined(), z.null(), z.object({}).strict()]);

export interface SampleWindow {
	isKnownCharacteristic(id: number): boolean;
	now: number;
	maxFutureMs: number;
	maxAgeMs: number;
}

export interface SampleValidation {
	valid: SampleTuple[];
	rejected: { index: number; reason: RejectReason }[];
}

/**
 * The hot path of ingest validation: true only for a tuple `sampleTupleSchema` accepts (the
 * same bounds, written out). Running zod on each of 10,000 tuples/s cost ~1.5 ms per
 * 1000-sample batch; this check costs a few µs. Whatever it does not accept goes through zod,
 * which alone decides the reason, so only "accepted here ⇒ accepted by zod" must hold for the
 * results to be the same (schemas.test.ts checks both agree on edge cases).
 */
export function isWellFormedSample(raw: unknown): raw is SampleTuple {
	if (!Array.isArray(raw) || raw.length !== 5) return false;
	const tuple = raw as unknown[];
	const characteristicId = tuple[0];
	const ts = tuple[1];
	const seq = tuple[2];
	const value = tuple[3];
	const flags = tuple[4];
	return (
		typeof characteristicId === 'number' &&
		Number.isInteger(characteristicId) &&
		characteristicId > 0 &&
		characteristicId <= MAX_ID &&
		typeof ts === 'number' &&
		Number.isInteger(ts) &&
		ts >= 0 &&
		ts <= MAX_EPOCH_MS &&
		typeof seq === 'number' &&
		Number.isSafeInteger(seq) &&
		seq >= 0 &&
		typeof value === 'number' &&
		Number.isFinite(value) &&
		typeof flags === 'number' &&
		Number.isInteger(flags) &&
		flags >= 0 &&
		flags <= MAX_FLAGS
	);
}

/** Classifies one raw sample: a reason to refuse it, or null when it is good. */
export function sampleRejectReason(raw: unknown, window: SampleWindow): RejectReason | null {
	let characteristicId: number;
	let ts: number;
	if (isWellFormedSample(raw)) {
		characteristicId = raw[0];
		ts = raw[1];
	} else {
		const parsed = sampleTupleSchema.safeParse(raw);
		if (!parsed.success) {
			// Only a wrong value at the value position is "not finite" (NaN/±Infinity arrive as
			// null through JSON, or as a non-number): a wrong shape anywhere else is "malformed".
			const onlyValue =
				Array.isArray(raw) &&
				raw.length === 5 &&
				parsed.error.issues.every((issue) => issue.path[0] === VALUE_INDEX);
			return onlyValue ? 'not_finite' : 'malformed';
		}
		characteristicId = parsed.data[0];
		ts = parsed.data[1];
	}
	if (!window.isKnownCharacteristic(characteristicId)) return 'unknown_characteristic';
	if (ts > window.now + window.maxFutureMs) return 'future_timestamp';
	if (ts < window.now - window.maxAgeMs) return 'too_old';
	return null;
}

/** Splits a batch's raw samples into good tuples and refused indices with reasons. */
export function validateSamples(
	samples: readonly unknown[],
	window: SampleWindow
): SampleValidation {
	const valid: SampleTuple[] = [];
	const rejected: SampleValidation['rejected'] = [];
	for (let index = 0; index < samples.length; index++) {
		const raw = samples[index];
		const reason = sampleRejectReason(raw, window);
		if (reason === null) valid.push(raw as SampleTuple);
		else rejected.push({ index, reason });
	}
	return { valid, rejected };
}

/**
 * The validated batch handed to the writer: only known characteristics, finite values, times
 * inside the window. Subgroups, violations and suspects about unknown characteristics or
 * outside the time window are left out (they describe samples that were refused); the count
 * of what was left out is returned so the handler can log it.
 */
export function toValidBatch(
	envelope: IngestBatchEnvelope,
	samples: SampleTuple[],
	window: SampleWindow
): { batch: IngestBatch; droppedAux: number } {
	const inWindow = (characteristicId: number, ts: number) =>
		window.isKnownCharacteristic(characteristicId) &&
		ts <= window.now + window.maxFutureMs &&
		ts >= window.now - window.maxAgeMs;
	const subgroups = envelope.subgroups.filter((s) => inWindow(s.characteristicId, s.ts));
	const violations = envelope.violations.filter((v) => inWindow(v.characteristicId, v.ts));
	const suspects = envelope.suspects.filter((s) => inWindow(s.characteristicId, s.ts));
	const droppedAux =
		envelope.subgroups.length -
		subgroups.length +
		(envelope.violations.length - violations.length) +
		(envelope.suspects.length - suspects.length);
	return {
		batch: { batchId: envelope.batchId, samples, subgroups, violations, suspects },
		droppedAux
	};
}
