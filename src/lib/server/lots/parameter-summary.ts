/**
 * Per-lot parameter summaries computed from raw samples: for every characteristic of the
 * machines a lot ran on, count, min, max, mean, SD and a histogram of its samples inside the
 * lot's run intervals, suspect samples left out (as the SPC monitor leaves them out). One
 * statement shape for both uses, so the stored record and the live view never disagree:
 * - the stored summary written when a lot completes (production/lots.ts), kept for the life
 *   of the record;
 * - the live summary of a running lot on its history page (lots/history.ts).
 *
 * Speed: `sample` is range-partitioned by `ts`. When the time bounds come from a join with the
 * run rows, the planner cannot prune partitions and probes the index of every daily partition
 * of the year (a running lot's page took 28.6 s p95 over 50 million samples). So the lot's run
 * intervals are read first, overlapping runs on one machine are merged (a sample is counted
 * once), and each interval becomes its own branch with its bounds as parameters: PostgreSQL
 * prunes each branch to the partitions its interval touches.
 */
import { SAMPLE_FLAGS } from '../../realtime/events';
import { HISTOGRAM_BINS } from '../../demo/history';
import type { RawQuery } from '../db/raw';

/** Bins of every lot histogram: the same count the demo history writes. */
export { HISTOGRAM_BINS };

export interface MachineInterval {
	machineId: number;
	/** Epoch ms, inclusive. */
	from: number;
	/** Epoch ms, exclusive. */
	to: number;
}

/** Merge overlapping or touching intervals per machine (each sample counted once). */
export function mergeIntervals(intervals: readonly MachineInterval[]): MachineInterval[] {
	const sorted = intervals
		.filter((i) => i.to > i.from)
		.sort((a, b) => a.machineId - b.machineId || a.from - b.from);
	const out: MachineInterval[] = [];
	for (const i of sorted) {
		const last = out.at(-1);
		if (last && last.machineId === i.machineId && i.from <= last.to) {
			last.to = Math.max(last.to, i.to);
		} else {
			out.push({ ...i });
		}
	}
	return out;
}

/** The lot's run intervals per machine; a run still open ends at `now`. */
export async function lotIntervals(
	db: RawQuery,
	lotId: number,
	now: number
): Promise<MachineInterval[]> {
	const rows = await db.query<{ machine_id: number; a: number; b: number | null }>(
		`SELECT machine_id, (extract(epoch FROM started_at) * 1000)::float8 AS a,
		        (extract(epoch FROM ended_at) * 1000)::float8 AS b
		 FROM run WHERE lot_id = $1`,
		[lotId]
	);
	return mergeIntervals(rows.map((r) => ({ machineId: r.machine_id, from: r.a, to: r.b ?? now })));
}

/**
 * `WITH v …, st …, hb …` over the intervals, parameters numbered from `firstParam`; the caller
 * selects from `st` (cid, n, lo, hi, mean, sd) and uses {@link HISTOGRAM_JSON} for the
 * histogram of `st.cid`. Intervals must not be empty.
 */
export function summaryCtes(
	intervals: readonly MachineInterval[],
	firstParam: number
): { sql: string; params: (number | string)[] } {
	if (intervals.length === 0) throw new Error('summaryCtes: no intervals');
	const params: (number | string)[] = [];
	const branches = intervals.map((i) => {
		const m = firstParam + params.length;
		// Bounds as timestamptz values, not expressions: an expression over a parameter is only
		// pruned at executor start, after the planner has planned every daily partition (300 ms
		// of planning for a year); a value is pruned by the planner itself.
		params.push(i.machineId, new Date(i.from).toISOString(), new Date(i.to).toISOString());
		return `SELECT c.id AS cid, s.value
			FROM characteristic c
			JOIN sample s ON s.characteristic_id = c.id
			WHERE c.machine_id = $${m}::int
			  AND s.ts >= $${m + 1}::timestamptz AND s.ts < $${m + 2}::timestamptz
			  AND (s.flags & ${SAMPLE_FLAGS.SUSPECT}) = 0`;
	});
	const sql = `WITH v AS (
			${branches.join('\n\t\t\tUNION ALL\n\t\t\t')}
		), st AS (
			SELECT cid, count(*)::int AS n, min(value) AS lo, max(value) AS hi, avg(value) AS mean,
			       stddev_samp(value) AS sd
			FROM v GROUP BY cid
		), hb AS MATERIALIZED (
			SELECT v.cid,
			       CASE WHEN st.hi > st.lo
			            THEN least(${HISTOGRAM_BINS} - 1, floor((v.value - st.lo) / (st.hi - st.lo) * ${HISTOGRAM_BINS}))::int
			            ELSE 0 END AS bin,
			       count(*)::int AS n
			FROM v JOIN st ON st.cid = v.cid GROUP BY 1, 2
		)`;
	return { sql, params };
}

/**
 * jsonb `{lo, hi, counts[HISTOGRAM_BINS]}` of `st`'s row, for a select over `st`. `hb` is
 * materialised once (at most characteristics × bins rows): inlined into this correlated
 * subquery it would re-read every sample once per characteristic.
 */
export const HISTOGRAM_JSON = `jsonb_build_object('lo', st.lo, 'hi', st.hi, 'counts',
		(SELECT jsonb_agg(coalesce(hb.n, 0) ORDER BY g.b)
		 FROM generate_series(0, ${HISTOGRAM_BINS} - 1) AS g(b)
		 LEFT JOIN hb ON hb.cid = st.cid AND hb.bin = g.b))`;
