import { describe, expect, it } from 'vitest';
import {
	ingestBatchEnvelopeSchema,
	isWellFormedSample,
	roomRefSchema,
	sampleRejectReason,
	sampleTupleSchema,
	validateSamples,
	type SampleWindow
} from './schemas';

const NOW = 1_800_000_000_000;
const window: SampleWindow = {
	isKnownCharacteristic: (id) => id === 1,
	now: NOW,
	maxFutureMs: 60_000,
	maxAgeMs: 7 * 24 * 3600_000
};

describe('sampleRejectReason', () => {
	it('accepts a well-formed sample of a known characteristic inside the time window', () => {
		expect(sampleRejectReason([1, NOW, 1, 12.5, 0], window)).toBeNull();
		expect(sampleRejectReason([1, NOW + 60_000, 1, -0, 32_767], window)).toBeNull();
		expect(sampleRejectReason([1, NOW - 7 * 24 * 3600_000, 0, 0, 0], window)).toBeNull();
	});

	it.each([
		['NaN', NaN],
		['Infinity', Infinity],
		['-Infinity', -Infinity],
		['null (NaN after JSON)', null],
		['a string', '12.5'],
		['missing', undefined]
	])('calls a value that is %s not_finite', (_name, value) => {
		expect(sampleRejectReason([1, NOW, 1, value, 0], window)).toBe('not_finite');
	});

	it.each([
		['not an array', { c: 1 }],
		['too short', [1, NOW, 1, 2]],
		['too long', [1, NOW, 1, 2, 0, 9]],
		['a fractional id', [1.5, NOW, 1, 2, 0]],
		['a string timestamp', [1, '2026-01-01', 1, 2, 0]],
		['a fractional timestamp', [1, NOW + 0.5, 1, 2, 0]],
		['a negative seq', [1, NOW, -1, 2, 0]],
		['flags beyond smallint', [1, NOW, 1, 2, 32_768]],
		['a bad value and a bad seq', [1, NOW, -1, null, 0]]
	])('calls a sample that is %s malformed', (_name, raw) => {
		expect(sampleRejectReason(raw, window)).toBe('malformed');
	});

	it('refuses unknown characteristics and times outside the window with their own reasons', () => {
		expect(sampleRejectReason([2, NOW, 1, 1, 0], window)).toBe('unknown_characteristic');
		expect(sampleRejectReason([1, NOW + 60_001, 1, 1, 0], window)).toBe('future_timestamp');
		expect(sampleRejectReason([1, NOW - 7 * 24 * 3600_000 - 1, 1, 1, 0], window)).toBe('too_old');
	});
});

describe('isWellFormedSample (the fast path before zod)', () => {
	const good: unknown[] = [1, NOW, 1, 12.5, 0];
	/** Candidates at every tuple position: bounds, just past them, and wrong types. */
	const candidates: unknown[] = [
		0,
		-0,
		1,
		-1,
		1.5,
		2_147_483_647,
		2_147_483_648,
		8_640_000_000_000_000,
		8_640_000_000_000_001,
		Number.MAX_SAFE_INTEGER,
		Number.MAX_SAFE_INTEGER + 1,
		32_767,
		32_768,
		NaN,
		Infinity,
		-Infinity,
		null,
		undefined,
		'1',
		true,
		[1],
		{ valueOf: () => 1 }
	];

	it('accepts exactly what the zod tuple schema accepts at every position', () => {
		for (let position = 0; position < 5; position++) {
			for (const candidate of candidates) {
				const raw = [...good];
				raw[position] = candidate;
				expect(isWellFormedSample(raw), `position ${position}: ${String(candidate)}`).toBe(
					sampleTupleSchema.safeParse(raw).success
				);
			}
		}
	});

	it('refuses what is not a five-element array, as zod does', () => {
		const shapes: unknown[] = [
			null,
			'x',
			{ 0: 1, 1: NOW, 2: 1, 3: 1, 4: 0, length: 5 },
			[1, NOW, 1, 1],
			[1, NOW, 1, 1, 0, 0],
			// A hole reads as undefined.
			Object.assign(new Array(5), { 0: 1, 1: NOW, 3: 1, 4: 0 })
		];
		for (const raw of shapes) {
			expect(isWellFormedSample(raw)).toBe(false);
			expect(sampleTupleSchema.safeParse(raw).success).toBe(false);
		}
	});

	it('gives the same reasons through validateSamples as one sample at a time', () => {
		const raws: unknown[] = [
			[1, NOW, 1, 12.5, 0],
			[1, NOW, 2, null, 0],
			[1.5, NOW, 3, 1, 0],
			[2, NOW, 4, 1, 0],
			[1, NOW + 60_001, 5, 1, 0],
			[1, NOW, 6, -0, 32_767]
		];
		const { valid, rejected } = validateSamples(raws, window);
		expect(valid).toEqual([raws[0], raws[5]]);
		expect(rejected).toEqual([
			{ index: 1, reason: 'not_finite' },
			{ index: 2, reason: 'malformed' },
			{ index: 3, reason: 'unknown_characteristic' },
			{ index: 4, reason: 'future_timestamp' }
		]);
	});
});

describe('ingestBatchEnvelopeSchema', () => {
	it('defaults the optional lists and keeps samples unparsed', () => {
		const parsed = ingestBatchEnvelopeSchema.parse({ batchId: 'b', samples: [[1], 'x'] });
		expect(parsed).toEqual({
			batchId: 'b',
			samples: [[1], 'x'],
			subgroups: [],
			violations: [],
			suspects: []
		});
	});

	it('refuses a subgroup with a non-finite statistic', () => {
		const result = ingestBatchEnvelopeSchema.safeParse({
			batchId: 'b',
			samples: [],
			subgroups: [{ characteristicId: 1, ts: NOW, n: 5, value: null, dispersion: null }]
		});
		expect(result.success).toBe(false);
	});
});

describe('roomRefSchema', () => {
	it('accepts the four room kinds and nothing else', () => {
		expect(roomRefSchema.safeParse({ kind: 'line', id: 3 }).success).toBe(true);
		expect(roomRefSchema.safeParse({ kind: 'alarms' }).success).toBe(true);
		expect(roomRefSchema.safeParse({ kind: 'line' }).success).toBe(false);
		expect(roomRefSchema.safeParse({ kind: 'site', id: 1 }).success).toBe(false);
		expect(roomRefSchema.safeParse({ kind: 'machine', id: 0 }).success).toBe(false);
	});
});
