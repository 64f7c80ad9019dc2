import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_FLAGS, type LivePoint, type SampleTuple } from '$lib/realtime/events';
import { seedDemoPlant } from '$lib/server/plant/service';
import {
	openAlarms,
	recentPoints,
	recentReadings,
	recentSamplesSql
} from '$lib/server/samples/snapshot';
import { writeBatch } from '$lib/server/samples/writer';
import {
	BACKENDS,
	batchOf,
	characteristicId,
	openTestDatabase,
	sampleRun,
	smallPlant,
	type TestDatabase
} from '../factories/db';

const HOUR_MS = 3_600_000;
const T0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;

/** Expected I-MR points computed from the raw tuples: MR over consecutive non-suspect values. */
function expectedPoints(samples: SampleTuple[], all: SampleTuple[]): LivePoint[] {
	return samples.map((s) => {
		const index = all.indexOf(s);
		const suspect = (s[4] & SAMPLE_FLAGS.SUSPECT) !== 0;
		let previous: SampleTuple | undefined;
		for (let j = index - 1; j >= 0 && !previous; j--) {
			if ((all[j][4] & SAMPLE_FLAGS.SUSPECT) === 0) previous = all[j];
		}
		return {
			ts: s[1],
			seq: s[2],
			value: s[3],
			dispersion: suspect || !previous ? null : Math.abs(s[3] - previous[3]),
			flags: s[4]
		};
	});
}

describe.each(BACKENDS)('recentPoints on %s', (backend) => {
	let t: TestDatabase;
	let temp: number;
	let press: number;
	let diameter: number;
	let samples: SampleTuple[];

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		temp = await characteristicId(t.database, 'L1.M1.TEMP');
		press = await characteristicId(t.database, 'L1.M1.PRESS');
		diameter = await characteristicId(t.database, 'L1.M2.DIA');
		samples = sampleRun(temp, T0, 40, (i) => 200 + ((i * 7) % 11) / 4);
		samples[25][4] = SAMPLE_FLAGS.SUSPECT;
		samples[25][3] = 999;
		await writeBatch(t.database, batchOf(samples));
		await writeBatch(t.database, batchOf(sampleRun(press, T0, 5, (i) => 1100 + i)));
		await writeBatch(
			t.database,
			batchOf([], {
				subgroups: [0, 1, 2, 3].map((i) => ({
					characteristicId: diameter,
					ts: T0 + i * 5000,
					n: 5,
					value: 4 + i / 1000,
					dispersion: 0.01 * (i + 1)
				}))
			})
		);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('returns the newest points oldest first, at most maxPoints, with moving ranges', async () => {
		const result = await recentPoints(t.database, [temp], { maxPoints: 10 });
		expect(result[temp]).toEqual(expectedPoints(samples.slice(30), samples));
	});

	it('skips suspect values in the moving range but still shows them', async () => {
		const result = await recentPoints(t.database, [temp], { maxPoints: 16 });
		const window = samples.slice(24);
		expect(result[temp]).toEqual(expectedPoints(window, samples));
		expect(result[temp][1]).toMatchObject({ value: 999, dispersion: null });
		expect(result[temp][2].dispersion).toBeCloseTo(Math.abs(samples[26][3] - samples[24][3]), 12);
	});

	it('bounds the window by time when sinceMs is given', async () => {
		const result = await recentPoints(t.database, [temp], {
			maxPoints: 600,
			sinceMs: T0 + 35_000
		});
		expect(result[temp].map((p) => p.seq)).toEqual([36, 37, 38, 39, 40]);
	});

	it('serves subgroup charts from their subgroups and several characteristics at once', async () => {
		const result = await recentPoints(t.database, [diameter, press, 424_242], { maxPoints: 3 });
		expect(result[diameter]).toEqual(
			[1, 2, 3].map((i) => ({
				ts: T0 + i * 5000,
				seq: 0,
				value: 4 + i / 1000,
				dispersion: 0.01 * (i + 1),
				flags: 0
			}))
		);
		expect(result[press].map((p) => p.value)).toEqual([1102, 1103, 1104]);
		expect(result[424_242]).toEqual([]);
	});
});

/** Expected readings straight from the tuples written (ts, seq, value, flags). */
function expectedReadings(samples: SampleTuple[]) {
	return samples.map(([, ts, seq, value, flags]) => ({ ts, seq, value, flags }));
}

describe.each(BACKENDS)('recentReadings on %s', (backend) => {
	let t: TestDatabase;
	let diameter: number;
	let leak: number;
	let samples: SampleTuple[];

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		diameter = await characteristicId(t.database, 'L1.M2.DIA');
		leak = await characteristicId(t.database, 'L2.M1.LEAKFAIL');
		// 30 raw diameters 200 ms apart, plus a second sample at the last timestamp (a higher
		// seq) and a suspect one: the raw side of an X̄-R chart, with no subgroup at all.
		samples = sampleRun(diameter, T0, 30, (i) => 4 + ((i * 3) % 7) / 1000, { stepMs: 200 });
		samples.push([diameter, T0 + 29 * 200, 31, 4.006, 0]);
		samples[20][4] = SAMPLE_FLAGS.SUSPECT;
		samples[20][3] = 9.99;
		// Written in two batches, newest first, to show order comes from the key, not arrival.
		await writeBatch(t.database, batchOf(samples.slice(15)));
		await writeBatch(t.database, batchOf(samples.slice(0, 15)));
		await writeBatch(t.database, batchOf(sampleRun(leak, T0, 4, (i) => i % 2)));
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('returns the newest raw samples oldest first, at most maxPoints, suspects flagged', async () => {
		const result = await recentReadings(t.database, [diameter], { maxPoints: 12 });
		expect(result[diameter]).toEqual(expectedReadings(samples.slice(-12)));
		expect(result[diameter].find((r) => r.value === 9.99)?.flags).toBe(SAMPLE_FLAGS.SUSPECT);
	});

	it('orders two samples at one timestamp by seq', async () => {
		const result = await recentReadings(t.database, [diameter], { maxPoints: 2 });
		expect(result[diameter].map((r) => [r.ts, r.seq])).toEqual([
			[T0 + 29 * 200, 30],
			[T0 + 29 * 200, 31]
		]);
	});

	it('bounds the window by time when sinceMs is given', async () => {
		const result = await recentReadings(t.database, [diameter], {
			maxPoints: 120,
			sinceMs: T0 + 26 * 200
		});
		expect(result[diameter].map((r) => r.seq)).toEqual([27, 28, 29, 30, 31]);
	});

	it('serves several characteristics at once and every requested id, known or not', async () => {
		const result = await recentReadings(t.database, [leak, diameter, 424_242], { maxPoints: 3 });
		expect(result[leak]).toEqual(expectedReadings(sampleRun(leak, T0, 4, (i) => i % 2).slice(1)));
		expect(result[diameter]).toEqual(expectedReadings(samples.slice(-3)));
		expect(result[424_242]).toEqual([]);
	});

	it('returns nothing for a zero window', async () => {
		expect(await recentReadings(t.database, [diameter], { maxPoints: 0 })).toEqual({
			[diameter]: []
		});
	});
});

describe.each(BACKENDS)('openAlarms on %s', (backend) => {
	let t: TestDatabase;
	let lines: Record<string, number>;
	beforeAll(async () => {
		t = await openTestDatabase(backend);
		await seedDemoPlant(t.database, smallPlant());
		const rows = await t.database.query<{ id: number; code: string }>('SELECT id, code FROM line');
		lines = Object.fromEntries(rows.map((r) => [r.code, r.id]));
		const temp = await characteristicId(t.database, 'L1.M1.TEMP');
		const leak = await characteristicId(t.database, 'L2.M1.LEAKFAIL');
		const violation = (
			characteristicId: number,
			ts: number,
			rule: 'nelson1' | 'nelson2' = 'nelson1'
		) => ({
			characteristicId,
			ts,
			rule,
			chart: 'primary' as const,
			side: 'upper' as const,
			message: `alarm at ${ts}`,
			pointTs: [ts],
			value: 1
		});
		await writeBatch(
			t.database,
			batchOf([], {
				// Two conditions on one characteristic (one alarm each; the first gets cleared), one on another.
				violations: [
					violation(temp, T0),
					violation(temp, T0 + 1000, 'nelson2'),
					violation(leak, T0 + 500)
				]
			})
		);
		await t.database.query(`UPDATE alarm SET state = 'cleared' WHERE ts = $1::timestamptz`, [
			new Date(T0).toISOString()
		]);
	});
	afterAll(async () => {
		await t?.dispose();
	});

	it('lists alarms not cleared, newest first, bounded by the limit', async () => {
		const all = await openAlarms(t.database, { limit: 10 });
		expect(all.map((a) => a.ts)).toEqual([T0 + 1000, T0 + 500]);
		expect(await openAlarms(t.database, { limit: 1 })).toHaveLength(1);
	});

	it('lists the alarms of one line only', async () => {
		const l2 = await openAlarms(t.database, { lineId: lines.L2, limit: 10 });
		expect(l2).toMatchObject([{ ts: T0 + 500, lineId: lines.L2, state: 'unacknowledged' }]);
	});
});

interface PlanNode {
	'Node Type': string;
	'Relation Name'?: string;
	'Index Name'?: string;
	'Scan Direction'?: string;
	Plans?: PlanNode[];
}

function scans(node: PlanNode): PlanNode[] {
	const own = node['Relation Name'] ? [node] : [];
	return [...own, ...(node.Plans ?? []).flatMap(scans)];
}

/**
 * The wall's snapshot query must walk the primary key backwards on each partition, never scan
 * or sort a partition — on a table big enough, analysed, so the planner's choice is honest.
 */
describe.each(BACKENDS)('snapshot query plan on %s', (backend) => {
	let t: TestDatabase;
	const now = Date.now();
	const CHARACTERISTICS = 20;
	const DAYS = 3;
	const STEP_S = 30;

	beforeAll(async () => {
		t = await openTestDatabase(backend);
		// 20 characteristics × 3 days at one sample per 30 s = 172,800 rows over 4 partitions.
		await t.database.query(
			`INSERT INTO sample (characteristic_id, ts, seq, value)
			 SELECT c, ts, extract(epoch from ts)::bigint, random()
			 FROM generate_series(1, ${CHARACTERISTICS}) AS c,
			      generate_series(to_timestamp($1::float8 / 1000) - interval '${DAYS} days',
			                      to_timestamp($1::float8 / 1000), interval '${STEP_S} seconds') AS ts`,
			[now]
		);
		await t.database.query('ANALYZE sample');
	}, 180_000);
	afterAll(async () => {
		await t?.dispose();
	});

	async function plan(withTimeBound: boolean): Promise<PlanNode> {
		const rows = await t.database.query<Record<string, unknown>>(
			`EXPLAIN (FORMAT JSON) ${recentSamplesSql(withTimeBound)}`,
			[[1], withTimeBound ? now - 15 * 60_000 : null, 601]
		);
		const raw = Object.values(rows[0])[0];
		const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
		return parsed[0].Plan;
	}

	it('reads one characteristic through the primary key backwards on every partition', async () => {
		const sampleScans = scans(await plan(false)).filter((s) =>
			s['Relation Name']?.startsWith('sample')
		);
		// Every daily partition (days back and ahead) plus the default one.
		expect(sampleScans.length).toBe(2 + 1 + 7 + 1);
		for (const scan of sampleScans) {
			expect(['Index Scan', 'Index Only Scan']).toContain(scan['Node Type']);
			expect(scan['Scan Direction']).toBe('Backward');
			expect(scan['Index Name']).toMatch(/pkey$/);
		}
	});

	it('prunes the partitions older than the time bound', async () => {
		const all = new Set(
			scans(await plan(false))
				.map((s) => s['Relation Name'])
				.filter((n) => n?.startsWith('sample'))
		);
		const bounded = scans(await plan(true)).filter((s) => s['Relation Name']?.startsWith('sample'));
		const today = new Date(now - 15 * 60_000).toISOString().slice(0, 10).replaceAll('-', '');
		const names = bounded.map((s) => s['Relation Name'] as string);
		expect(names.length).toBeLessThan(all.size);
		expect(names).toContain(`sample_p${today}`);
		for (const name of names) {
			expect(name === 'sample_default' || name >= `sample_p${today}`).toBe(true);
		}
		// Partitions holding rows are read through the index; empty ones (future days, the default)
		// may be seq-scanned, which costs nothing.
		const withRows = new Set(
			(
				await t.database.query<{ name: string }>(
					'SELECT DISTINCT tableoid::regclass::text AS name FROM sample'
				)
			).map((r) => r.name)
		);
		const populated = bounded.filter((s) => withRows.has(s['Relation Name'] as string));
		expect(populated.length).toBeGreaterThanOrEqual(1);
		for (const scan of populated) {
			expect(['Index Scan', 'Index Only Scan']).toContain(scan['Node Type']);
			expect(scan['Scan Direction']).toBe('Backward');
			expect(scan['Index Name']).toMatch(/pkey$/);
		}
	});
});
