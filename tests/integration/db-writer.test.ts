import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestViolation, SampleTuple } from '$lib/realtime/events';
import { seedDemoPlant } from '$lib/server/plant/service';
import { writeBatch } from '$lib/server/samples/writer';
import { returnQuietAlarms } from '$lib/server/samples/snapshot';
import {
	BACKENDS,
	batchOf,
	characteristicId,
	openTestDatabase,
	sampleRun,
	smallPlant,
	type TestDatabase
} from '../factories/db';

// A fixed recent hour, so rows land in daily partitions (not the default one).
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;

describe.each(BACKENDS)('writeBatch on %s', (backend) => {
	let t: TestDatabase;
	let temp: number;
	let press: number;
	let nextTs = T0;
	/** Fresh, never-used timestamps per test, so tests do not depend on each other's rows. */
	const freshStart = (n: number) => {
		const start = nextTs;
		nextTs += n * 1000 + 60_000;
		return start;
	};

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		temp = await characteristicId(t.database, 'L1.M1.TEMP');
		press = await characteristicId(t.database, 'L1.M1.PRESS');
	});
	afterAll(async () => {
		await t?.dispose();
	});

	async function stored(id: number, fromMs: number, toMs: number) {
		return t.database.query<{ ts: number; seq: number; value: number; flags: number }>(
			`SELECT (extract(epoch from ts) * 1000)::float8 AS ts, seq::float8 AS seq, value, flags::int AS flags
			 FROM sample WHERE characteristic_id = $1 AND ts >= to_timestamp($2::float8 / 1000)
			 AND ts < to_timestamp($3::float8 / 1000) ORDER BY ts, seq`,
			[id, fromMs, toMs]
		);
	}

	async function quarantineRows(id: number) {
		return t.database.query<{
			ts: number;
			seq: number;
			stored_value: number;
			stored_flags: number;
			received_value: number;
			received_flags: number;
		}>(
			`SELECT (extract(epoch from ts) * 1000)::float8 AS ts, seq::float8 AS seq, stored_value,
				stored_flags::int AS stored_flags, received_value, received_flags::int AS received_flags
			 FROM sample_quarantine WHERE characteristic_id = $1 ORDER BY id`,
			[id]
		);
	}

	it('stores every sample of a new batch exactly as sent and reports them accepted', async () => {
		const start = freshStart(50);
		const samples = sampleRun(temp, start, 50, (i) => 200 + Math.sin(i) * 1.234567891234);
		const result = await writeBatch(t.database, batchOf(samples));
		expect(result).toMatchObject({ accepted: 50, duplicates: 0, quarantined: 0 });
		expect(result.acceptedSamples).toEqual(samples);
		const rows = await stored(temp, start, start + 50_000);
		expect(rows.map((r): SampleTuple => [temp, r.ts, r.seq, r.value, r.flags])).toEqual(samples);
	});

	it('treats a re-sent batch as duplicates and stores nothing twice', async () => {
		const start = freshStart(20);
		const batch = batchOf(sampleRun(temp, start, 20, (i) => 199 + i / 10));
		await writeBatch(t.database, batch);
		const again = await writeBatch(t.database, batch);
		expect(again).toMatchObject({ accepted: 0, duplicates: 20, quarantined: 0 });
		expect(again.acceptedSamples).toEqual([]);
		expect(await stored(temp, start, start + 20_000)).toHaveLength(20);
	});

	it('accepts the new samples of a batch that overlaps one already stored', async () => {
		const start = freshStart(30);
		const all = sampleRun(temp, start, 30, (i) => 201 + i / 100);
		await writeBatch(t.database, batchOf(all.slice(0, 20)));
		const result = await writeBatch(t.database, batchOf(all.slice(10)));
		expect(result).toMatchObject({ accepted: 10, duplicates: 10, quarantined: 0 });
		expect(result.acceptedSamples).toEqual(all.slice(20));
		expect(await stored(temp, start, start + 30_000)).toHaveLength(30);
	});

	it('quarantines a repeated key with a different value and never overwrites the stored one', async () => {
		const start = freshStart(3);
		const original = sampleRun(press, start, 3, (i) => 1100 + i);
		await writeBatch(t.database, batchOf(original));
		const changed: SampleTuple = [press, original[1][1], original[1][2], 1234.5, 0];
		const result = await writeBatch(t.database, batchOf([changed]));
		expect(result).toMatchObject({ accepted: 0, duplicates: 0, quarantined: 1 });
		const rows = await stored(press, start, start + 3000);
		expect(rows.map((r) => r.value)).toEqual([1100, 1101, 1102]);
		const q = (await quarantineRows(press)).filter((r) => r.ts === original[1][1]);
		expect(q).toEqual([
			{
				ts: original[1][1],
				seq: original[1][2],
				stored_value: 1101,
				stored_flags: 0,
				received_value: 1234.5,
				received_flags: 0
			}
		]);
	});

	it('quarantines a repeated key whose flags differ even when the value is equal', async () => {
		const start = freshStart(1);
		const [sample] = sampleRun(press, start, 1, () => 1099);
		await writeBatch(t.database, batchOf([sample]));
		const result = await writeBatch(t.database, batchOf([[press, start, sample[2], 1099, 1]]));
		expect(result).toMatchObject({ accepted: 0, duplicates: 0, quarantined: 1 });
		const q = (await quarantineRows(press)).filter((r) => r.ts === start);
		expect(q).toMatchObject([{ stored_flags: 0, received_flags: 1 }]);
	});

	it('counts a re-sent conflicting sample again but keeps one quarantine row per version', async () => {
		const start = freshStart(1);
		await writeBatch(t.database, batchOf([[press, start, 1, 1100, 0]]));
		const conflicting = batchOf([[press, start, 1, 1150, 0]]);
		expect((await writeBatch(t.database, conflicting)).quarantined).toBe(1);
		expect((await writeBatch(t.database, conflicting)).quarantined).toBe(1);
		expect((await quarantineRows(press)).filter((r) => r.ts === start)).toHaveLength(1);
	});

	it('judges a key repeated inside one batch against its first occurrence', async () => {
		const start = freshStart(2);
		const result = await writeBatch(
			t.database,
			batchOf([
				[temp, start, 1, 200, 0],
				[temp, start, 1, 200, 0],
				[temp, start, 1, 205, 0],
				[temp, start + 1000, 2, 201, 0]
			])
		);
		expect(result).toMatchObject({ accepted: 2, duplicates: 1, quarantined: 1 });
		expect((await stored(temp, start, start + 2000)).map((r) => r.value)).toEqual([200, 201]);
		const q = (await quarantineRows(temp)).filter((r) => r.ts === start);
		expect(q).toMatchObject([{ stored_value: 200, received_value: 205 }]);
	});

	it('keeps the same sequence number at different times as different samples', async () => {
		const start = freshStart(2);
		const result = await writeBatch(
			t.database,
			batchOf([
				[temp, start, 7, 200, 0],
				[temp, start + 1000, 7, 200, 0]
			])
		);
		expect(result.accepted).toBe(2);
	});

	it('writes many thousands of rows in one batch', async () => {
		const n = 5000;
		const start = freshStart(n / 10);
		const samples = sampleRun(temp, start, n, (i) => 200 + (i % 17) / 10, { stepMs: 100 });
		const result = await writeBatch(t.database, batchOf(samples));
		expect(result.accepted).toBe(n);
		expect(await stored(temp, start, start + n * 100)).toHaveLength(n);
	});
});

describe.each(BACKENDS)('writeBatch subgroups and alarms on %s', (backend) => {
	let t: TestDatabase;
	let temp: number;
	let diameter: number;
	let lineId: number;
	let machineId: number;

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		temp = await characteristicId(t.database, 'L1.M1.TEMP');
		diameter = await characteristicId(t.database, 'L1.M2.DIA');
		const [row] = await t.database.query<{ machine_id: number; line_id: number }>(
			`SELECT m.id AS machine_id, m.line_id FROM characteristic c JOIN machine m ON m.id = c.machine_id
			 WHERE c.id = $1`,
			[temp]
		);
		machineId = row.machine_id;
		lineId = row.line_id;
	});
	afterAll(async () => {
		await t?.dispose();
	});

	function violation(ts: number, overrides: Partial<IngestViolation> = {}): IngestViolation {
		return {
			characteristicId: temp,
			ts,
			rule: 'nelson1',
			chart: 'primary',
			side: 'upper',
			message: '1 point beyond the upper control limit',
			pointTs: [ts],
			value: 207.5,
			...overrides
		};
	}

	it('returns each new alarm once, with its line and machine, and none when re-sent', async () => {
		const ts = T0 + 10_000;
		const batch = batchOf([[temp, ts, 1, 207.5, 0]], {
			violations: [
				violation(ts),
				violation(ts, {
					rule: 'nelson5',
					message: '2 of 3 beyond 2 sigma',
					pointTs: [ts - 2000, ts]
				})
			]
		});
		const first = await writeBatch(t.database, batch);
		expect(first.newAlarms).toHaveLength(2);
		expect(first.newAlarms.map((a) => a.rule).sort()).toEqual(['nelson1', 'nelson5']);
		expect(first.newAlarms[0]).toMatchObject({
			characteristicId: temp,
			machineId,
			lineId,
			ts,
			state: 'unacknowledged',
			value: 207.5
		});
		expect(new Set(first.newAlarms.map((a) => a.id)).size).toBe(2);
		const again = await writeBatch(t.database, batch);
		expect(again.newAlarms).toEqual([]);
		const rows = await t.database.query<{ point_ts: number[] }>(
			`SELECT point_ts FROM alarm WHERE characteristic_id = $1 AND rule = 'nelson5'`,
			[temp]
		);
		expect(rows.map((r) => r.point_ts)).toEqual([[ts - 2000, ts]]);
	});

	it('folds further violations of an open condition into its alarm instead of raising new ones', async () => {
		const ts = T0 + 100_000;
		const tsOf = (i: number) => ts + i * 1000;
		const first = await writeBatch(
			t.database,
			batchOf([[temp, tsOf(0), 100, 1, 0]], {
				violations: [violation(tsOf(0), { rule: 'nelson2', message: 'run of 9' })]
			})
		);
		expect(first.newAlarms).toHaveLength(1);
		const id = first.newAlarms[0].id;
		expect(first.newAlarms[0]).toMatchObject({ ts: tsOf(0), lastTs: tsOf(0), occurrences: 1 });

		// The run goes on: two more points complete the pattern again in the next batch.
		const later = batchOf([[temp, tsOf(2), 102, 1, 0]], {
			violations: [
				violation(tsOf(1), { rule: 'nelson2', message: 'run of 10' }),
				violation(tsOf(2), { rule: 'nelson2', message: 'run of 11', value: 208 })
			]
		});
		const second = await writeBatch(t.database, later);
		expect(second.newAlarms).toEqual([
			expect.objectContaining({
				id,
				ts: tsOf(0),
				lastTs: tsOf(2),
				occurrences: 3,
				message: 'run of 11',
				value: 208,
				state: 'unacknowledged'
			})
		]);
		// Re-delivery of the same batch changes nothing and counts nothing twice.
		expect((await writeBatch(t.database, later)).newAlarms).toEqual([]);
		const rows = await t.database.query<{ n: number; occurrences: number }>(
			`SELECT count(*)::int AS n, max(occurrences) AS occurrences FROM alarm
			 WHERE characteristic_id = $1 AND rule = 'nelson2'`,
			[temp]
		);
		expect(rows).toEqual([{ n: 1, occurrences: 3 }]);
	});

	it('returns quiet conditions to normal and re-raises the same alarm when the condition comes back', async () => {
		const ts = T0 + 200_000;
		const raised = await writeBatch(
			t.database,
			batchOf([], { violations: [violation(ts, { rule: 'nelson3', message: 'trend' })] })
		);
		const id = raised.newAlarms[0].id;
		// Not quiet long enough yet: nothing moves.
		expect(
			(await returnQuietAlarms(t.database, { quietMs: 60_000, now: ts + 30_000 })).filter(
				(a) => a.id === id
			)
		).toEqual([]);
		const moved = await returnQuietAlarms(t.database, { quietMs: 60_000, now: ts + 61_000 });
		expect(moved.find((a) => a.id === id)).toMatchObject({ state: 'returned', lastTs: ts });

		const back = await writeBatch(
			t.database,
			batchOf([], { violations: [violation(ts + 90_000, { rule: 'nelson3', message: 'trend' })] })
		);
		expect(back.newAlarms).toEqual([
			expect.objectContaining({ id, state: 'unacknowledged', occurrences: 2 })
		]);
	});

	it('raises a new alarm after the previous one was cleared, but not for violations it covered', async () => {
		const ts = T0 + 300_000;
		const raised = await writeBatch(
			t.database,
			batchOf([], { violations: [violation(ts, { rule: 'nelson4', message: 'alternating' })] })
		);
		const id = raised.newAlarms[0].id;
		// Acknowledgement arrives with the alarm lifecycle; clear it directly meanwhile.
		await t.database.query(`UPDATE alarm SET state = 'cleared' WHERE id = $1`, [id]);

		const old = await writeBatch(
			t.database,
			batchOf([], { violations: [violation(ts, { rule: 'nelson4', message: 'alternating' })] })
		);
		expect(old.newAlarms).toEqual([]);
		const fresh = await writeBatch(
			t.database,
			batchOf([], {
				violations: [violation(ts + 5000, { rule: 'nelson4', message: 'alternating' })]
			})
		);
		expect(fresh.newAlarms).toHaveLength(1);
		expect(fresh.newAlarms[0].id).not.toBe(id);
		expect(fresh.newAlarms[0]).toMatchObject({ state: 'unacknowledged', occurrences: 1 });
	});

	it('raises a suspect alarm carrying the suspect sample value', async () => {
		const ts = T0 + 20_000;
		const result = await writeBatch(
			t.database,
			batchOf([[temp, ts, 2, 2000, 1]], {
				suspects: [{ characteristicId: temp, ts, seq: 2, reason: 'far outside spec' }]
			})
		);
		expect(result.newAlarms).toMatchObject([
			{ rule: 'suspect', ts, value: 2000, message: 'far outside spec' }
		]);
	});

	it('stores subgroups idempotently', async () => {
		const ts = T0 + 30_000;
		const batch = batchOf([], {
			subgroups: [
				{ characteristicId: diameter, ts, n: 5, value: 4.002, dispersion: 0.02 },
				{ characteristicId: diameter, ts: ts + 5000, n: 5, value: 3.998, dispersion: null }
			]
		});
		await writeBatch(t.database, batch);
		await writeBatch(t.database, batch);
		const rows = await t.database.query<{ n: number; value: number; dispersion: number | null }>(
			'SELECT n, value, dispersion FROM subgroup WHERE characteristic_id = $1 ORDER BY ts',
			[diameter]
		);
		expect(rows).toEqual([
			{ n: 5, value: 4.002, dispersion: 0.02 },
			{ n: 5, value: 3.998, dispersion: null }
		]);
	});

	it('stores nothing of a batch whose transaction fails', async () => {
		const ts = T0 + 40_000;
		// An alarm for a characteristic that does not exist violates its foreign key.
		const batch = batchOf([[temp, ts, 3, 200, 0]], {
			violations: [violation(ts, { characteristicId: 999_999 })]
		});
		await expect(writeBatch(t.database, batch)).rejects.toThrow();
		const rows = await t.database.query(
			'SELECT 1 FROM sample WHERE characteristic_id = $1 AND seq = 3',
			[temp]
		);
		expect(rows).toEqual([]);
	});
});
