import { describe, expect, it } from 'vitest';
import type { LiveAlarm, LivePoint } from './events';
import {
	characteristicStatus,
	lastSignalByCharacteristic,
	LINE_STALE_MS,
	lineStatus,
	machineStatus,
	RECENT_SIGNAL_MS,
	sigmaDistance,
	sourcesOnline,
	staleAfterMs,
	unacknowledgedAlarms,
	type CharacteristicStatusInput,
	type StatusConfig
} from './status';

const NOW = 1_800_000_000_000;

/** Barrel temperature: I-MR, centre 230 °C, process sigma 0.5, spec 227-233, 1 Hz. */
const IMR: StatusConfig = {
	chart: 'imr',
	kind: 'variable',
	subgroupSize: 1,
	samplingIntervalMs: 1000,
	spec: { lsl: 227, target: 230, usl: 233 },
	limits: { version: 1, centre: 230, sigma: 0.5, source: 'test' }
};

function point(value: number, ts = NOW - 100, flags = 0): LivePoint {
	return { ts, seq: 1, value, dispersion: null, flags };
}

function input(overrides: Partial<CharacteristicStatusInput>): CharacteristicStatusInput {
	return {
		config: IMR,
		latest: point(230),
		lastSignalAt: null,
		now: NOW,
		connected: true,
		sourceOnline: true,
		...overrides
	};
}

function alarm(overrides: Partial<LiveAlarm>): LiveAlarm {
	return {
		id: 1,
		characteristicId: 1,
		machineId: 1,
		lineId: 1,
		rule: 'nelson1',
		message: '1 point beyond the control limits',
		ts: NOW,
		// A single violation unless the test says otherwise: last = first.
		lastTs: overrides.lastTs ?? overrides.ts ?? NOW,
		occurrences: 1,
		kind: 'spc',
		shelvedUntil: null,
		acknowledgedBy: null,
		cause: null,
		action: null,
		state: 'unacknowledged',
		value: null,
		...overrides
	};
}

describe('characteristicStatus', () => {
	it('is in control for a fresh value near the centre', () => {
		expect(characteristicStatus(input({}))).toBe('in-control');
	});

	it('warns when the value lies beyond 2 sigma but inside the spec', () => {
		// 230 + 2.2 × 0.5 = 231.1: z = 2.2, inside USL 233.
		expect(characteristicStatus(input({ latest: point(231.1) }))).toBe('warning');
		expect(characteristicStatus(input({ latest: point(230.9) }))).toBe('in-control');
	});

	it('is out of spec beyond either specification limit', () => {
		expect(characteristicStatus(input({ latest: point(233.01) }))).toBe('out-of-spec');
		expect(characteristicStatus(input({ latest: point(226.99) }))).toBe('out-of-spec');
	});

	it('warns for a rule that fired recently and forgets it after the window', () => {
		expect(characteristicStatus(input({ lastSignalAt: NOW - 5_000 }))).toBe('warning');
		expect(characteristicStatus(input({ lastSignalAt: NOW - RECENT_SIGNAL_MS - 1 }))).toBe(
			'in-control'
		);
	});

	it('warns rather than declaring out of spec for a suspect value', () => {
		expect(characteristicStatus(input({ latest: point(2300, NOW - 100, 1) }))).toBe('warning');
	});

	it('is stale after three sampling intervals without data (never under the floor)', () => {
		const slow: StatusConfig = { ...IMR, samplingIntervalMs: 5_000 };
		expect(characteristicStatus(input({ config: slow, latest: point(230, NOW - 14_900) }))).toBe(
			'in-control'
		);
		expect(characteristicStatus(input({ config: slow, latest: point(230, NOW - 15_100) }))).toBe(
			'stale'
		);
		// 1 Hz: three intervals are 3 s, equal to the floor.
		expect(characteristicStatus(input({ latest: point(230, NOW - 3_001) }))).toBe('stale');
	});

	it('prefers stale to out of spec: an old reading says nothing about now', () => {
		expect(characteristicStatus(input({ latest: point(240, NOW - 60_000) }))).toBe('stale');
	});

	it('is offline when the socket is down or the source is gone', () => {
		expect(characteristicStatus(input({ connected: false }))).toBe('offline');
		expect(characteristicStatus(input({ sourceOnline: false }))).toBe('offline');
	});

	it('is stale while the source talks but nothing was plotted in the window yet', () => {
		expect(characteristicStatus(input({ latest: undefined }))).toBe('stale');
	});
});

describe('characteristicStatus with raw readings', () => {
	/** Shot weight charted as X̄-S of 10 readings taken every 1 s (σ = 0.03 g, spec 12.25-12.55). */
	const XBAR: StatusConfig = {
		chart: 'xbar-s',
		kind: 'variable',
		subgroupSize: 10,
		samplingIntervalMs: 1000,
		spec: { lsl: 12.25, usl: 12.55 },
		limits: { version: 1, centre: 12.4, sigma: 0.03, source: 'test' }
	};
	const reading = (value: number, ts = NOW - 100) => ({ ts, value, flags: 0 });

	it('is live while readings flow even if the last subgroup point is older', () => {
		// Last point 9 s ago is within 3 × 10 s; the reading decides staleness anyway.
		expect(
			characteristicStatus(
				input({ config: XBAR, latest: point(12.4, NOW - 9_000), reading: reading(12.41) })
			)
		).toBe('in-control');
	});

	it('is stale three sampling intervals after the last reading', () => {
		expect(
			characteristicStatus(
				input({
					config: XBAR,
					latest: point(12.4, NOW - 1_000),
					reading: reading(12.4, NOW - 3_100)
				})
			)
		).toBe('stale');
	});

	it('is out of spec when a single part is, even with the mean inside', () => {
		expect(
			characteristicStatus(input({ config: XBAR, latest: point(12.4), reading: reading(12.6) }))
		).toBe('out-of-spec');
	});

	it('judges zones on the plotted mean, not on a single reading', () => {
		// σ_x̄ = 0.03/√10 ≈ 0.00949: a reading 0.05 above the centre is 1.7 σ of one part
		// (in control), and a mean of 12.42 is 2.1 σ_x̄ (warning).
		expect(
			characteristicStatus(input({ config: XBAR, latest: point(12.4), reading: reading(12.45) }))
		).toBe('in-control');
		expect(
			characteristicStatus(input({ config: XBAR, latest: point(12.42), reading: reading(12.4) }))
		).toBe('warning');
	});
});

describe('staleAfterMs', () => {
	it('counts subgroups, not samples, for X-bar charts', () => {
		// X̄-R of n = 5 sampled every 2 s: one point each 10 s, stale after 30 s.
		expect(staleAfterMs({ chart: 'xbar-r', subgroupSize: 5, samplingIntervalMs: 2_000 })).toBe(
			30_000
		);
	});

	it('keeps a floor for fast characteristics so delivery jitter does not flicker', () => {
		expect(staleAfterMs({ chart: 'imr', subgroupSize: 1, samplingIntervalMs: 100 })).toBe(3_000);
	});
});

describe('sigmaDistance', () => {
	it('uses the sigma of the subgroup mean on an X-bar chart', () => {
		// σ = 2, n = 4 → σ_x̄ = 1; 13 is 3 σ_x̄ above 10.
		const xbar: StatusConfig = {
			...IMR,
			chart: 'xbar-s',
			subgroupSize: 4,
			limits: { version: 1, centre: 10, sigma: 2, source: 'test' }
		};
		expect(sigmaDistance(xbar, 13)).toBeCloseTo(3, 12);
		expect(sigmaDistance(xbar, 8.5)).toBeCloseTo(1.5, 12);
	});

	it('has no answer without active limits', () => {
		expect(sigmaDistance({ ...IMR, limits: null }, 1)).toBeNull();
	});
});

describe('machineStatus', () => {
	it('reports out of spec or warning as soon as one characteristic is', () => {
		expect(machineStatus(['in-control', 'stale', 'warning'])).toBe('warning');
		expect(machineStatus(['warning', 'out-of-spec', 'offline'])).toBe('out-of-spec');
	});

	it('stays in control while some readings are current', () => {
		expect(machineStatus(['in-control', 'stale', 'offline'])).toBe('in-control');
	});

	it('is stale or offline only when no characteristic has current data', () => {
		expect(machineStatus(['stale', 'offline'])).toBe('stale');
		expect(machineStatus(['offline', 'offline'])).toBe('offline');
		expect(machineStatus([])).toBe('offline');
	});
});

describe('sourcesOnline', () => {
	it('is online while any source was seen within the timeout', () => {
		expect(sourcesOnline({ a: NOW - 60_000, b: NOW - 1_000 }, NOW)).toBe(true);
		expect(sourcesOnline({ a: NOW - 60_000 }, NOW)).toBe(false);
	});

	it('is offline when no source has fed the room', () => {
		expect(sourcesOnline({}, NOW)).toBe(false);
	});
});

describe('unacknowledged alarms', () => {
	it('lists active unacknowledged alarms first, then returned ones, newest first within each, without acknowledged, cleared or set-aside ones', () => {
		const list = unacknowledgedAlarms([
			alarm({ id: 1, ts: NOW - 3_000 }),
			alarm({ id: 2, ts: NOW - 1_000, state: 'acknowledged' }),
			alarm({ id: 3, ts: NOW - 2_000, state: 'returned' }),
			alarm({ id: 4, ts: NOW, state: 'cleared' }),
			alarm({ id: 5, ts: NOW - 500 }),
			alarm({ id: 6, ts: NOW - 100, state: 'returned' }),
			alarm({ id: 7, ts: NOW, state: 'shelved' }),
			alarm({ id: 8, ts: NOW, state: 'suppressed' }),
			alarm({ id: 9, ts: NOW, state: 'out_of_service' })
		]);
		expect(list.map((a) => a.id)).toEqual([5, 1, 6, 3]);
	});

	it('orders alarms by their latest violation, not by when they were raised', () => {
		const list = unacknowledgedAlarms([
			alarm({ id: 1, ts: NOW - 60_000, lastTs: NOW - 1_000, occurrences: 12 }),
			alarm({ id: 2, ts: NOW - 5_000 })
		]);
		expect(list.map((a) => a.id)).toEqual([1, 2]);
	});

	it('gives the time of the latest unacknowledged violation per characteristic', () => {
		const last = lastSignalByCharacteristic([
			alarm({ characteristicId: 1, ts: NOW - 3_000 }),
			alarm({ characteristicId: 1, ts: NOW - 9_000, lastTs: NOW - 1_000 }),
			alarm({ characteristicId: 2, ts: NOW, state: 'acknowledged' })
		]);
		expect(last.get(1)).toBe(NOW - 1_000);
		expect(last.has(2)).toBe(false);
	});
});

describe('lineStatus', () => {
	it('is in control while data flows and nothing is open', () => {
		expect(lineStatus({ unacknowledgedAlarms: 0, lastDataAt: NOW - 1_000 }, NOW, true)).toBe(
			'in-control'
		);
	});

	it('warns while signals are unacknowledged', () => {
		expect(lineStatus({ unacknowledgedAlarms: 2, lastDataAt: NOW }, NOW, true)).toBe('warning');
	});

	it('is stale when the line has gone quiet and offline without data or connection', () => {
		expect(
			lineStatus({ unacknowledgedAlarms: 0, lastDataAt: NOW - LINE_STALE_MS - 1 }, NOW, true)
		).toBe('stale');
		expect(lineStatus({ unacknowledgedAlarms: 0, lastDataAt: null }, NOW, true)).toBe('offline');
		expect(lineStatus({ unacknowledgedAlarms: 0, lastDataAt: NOW }, NOW, false)).toBe('offline');
	});
});
