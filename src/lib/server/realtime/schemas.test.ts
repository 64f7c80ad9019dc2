import { describe, expect, it } from 'vitest';
import {
	ingestBatchEnvelopeSchema,
	roomRefSchema,
	sampleRejectReason,
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
