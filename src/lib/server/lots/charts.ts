/**
 * The SPC chart data of a lot: for every characteristic of the machines the lot ran on, its
 * points during the lot's runs and the lot's alarms on it as markers, in the shape the wall's
 * option builder draws (src/lib/charts/spc-chart-options.ts: `buildSpcChartOption`).
 *
 * Bounded whatever the lot's length: each run window is cut into CHART_BUCKETS equal slices and
 * each slice contributes its first point, found by one probe of the primary key
 * (characteristic_id, ts, …) of `sample` (I-MR, EWMA, CUSUM) or `subgroup` (the other charts).
 * A run with fewer points than slices shows all of them; a longer one is thinned evenly, and the
 * page says so. Alarm markers come from the alarms themselves, so a thinned chart still shows
 * every alarm at its value.
 */
import type { ChartConfig } from '../../charts/spc-chart-options';
import type { LivePoint } from '../../realtime/events';
import type { ChartType } from '../../spc/types';
import { epochMs, type RawQuery } from '../db/raw';
import type { LotHistory } from './history';
import { lotIntervals, type MachineInterval } from './parameter-summary';

/** Slices per run window: enough for a readable chart, few enough for ~1 ms of probes. */
export const CHART_BUCKETS = 240;

/** Charts drawn from raw samples; the others from `subgroup`. */
const SAMPLE_CHART_TYPES: ReadonlySet<ChartType> = new Set<ChartType>(['imr', 'ewma', 'cusum']);

export interface LotChart {
	characteristic: { id: number; code: string; name: string; unit: string; machineId: number };
	config: ChartConfig;
	/** Oldest first, over all the lot's runs on the machine (gaps between runs stay gaps). */
	points: LivePoint[];
	/** The lot's alarms on this characteristic (completing point: time and value). */
	markers: { ts: number; value: number; alarmId: number }[];
	/** Some run window had more points than CHART_BUCKETS: the line is thinned. */
	thinned: boolean;
	/** Raw samples exist in the windows (false with a stored summary: retention removed them). */
	hasSamples: boolean;
	/** The lot's time on the machine (first run start → last run end, or now): the x axis. */
	window: { from: number; to: number };
}

interface CharRow {
	id: number;
	code: string;
	name: string;
	unit: string;
	machine_id: number;
	chart: ChartType;
	subgroup_size: number;
	decimals: number;
	lsl: number | null;
	target: number | null;
	usl: number | null;
	lv_version: number | null;
	lv_centre: number | null;
	lv_sigma: number | null;
	lv_source: string | null;
	has_samples: boolean;
}

/**
 * Chart data for the lot of `history` (already loaded, so already access-checked). Two
 * statements: the characteristics with the spec of the lot's process version and the control
 * limits in force when the lot started, then the thinned points of every run window.
 */
export async function loadLotCharts(db: RawQuery, history: LotHistory): Promise<LotChart[]> {
	const lotId = history.header.id;
	if (history.runs.length === 0) return [];
	// The lot's run windows per machine, read first so every statement below carries its time
	// bounds as values: `sample` and `subgroup` are partitioned/indexed by time, and bounds that
	// come from a join with `run` leave the planner probing every daily partition of the year
	// (40-90 s per lot over 50 million samples, measured; see parameter-summary.ts).
	const intervals = await lotIntervals(db, lotId, history.readAt.getTime());
	if (intervals.length === 0) return [];
	const chars = await db.query<CharRow>(
		`SELECT ch.id, ch.code, ch.name, ch.unit, ch.machine_id, ch.chart, ch.subgroup_size,
		        ch.decimals, coalesce(ps.lsl, ch.spec_lsl) AS lsl,
		        coalesce(ps.target, ch.spec_target) AS target, coalesce(ps.usl, ch.spec_usl) AS usl,
		        lv.version AS lv_version, lv.centre AS lv_centre, lv.sigma AS lv_sigma,
		        lv.source AS lv_source, false AS has_samples
		 FROM lot l
		 JOIN characteristic ch ON ch.machine_id = ANY($2::int[])
		 LEFT JOIN process_spec ps ON ps.process_version_id = l.process_version_id
		                          AND ps.characteristic_id = ch.id
		 LEFT JOIN LATERAL (
			SELECT v.version, v.centre, v.sigma, v.source FROM control_limit_version v
			WHERE v.characteristic_id = ch.id AND v.status = 'effective'
			  AND v.effective_from <= coalesce(l.started_at, now())
			ORDER BY v.effective_from DESC, v.version DESC LIMIT 1
		 ) lv ON true
		 WHERE l.id = $1
		 ORDER BY ch.machine_id, ch.id`,
		[lotId, [...new Set(intervals.map((i) => i.machineId))]]
	);
	if (chars.length === 0) return [];
	const withSamples = await charsWithSamples(db, intervals);
	for (const c of chars) c.has_samples = withSamples.has(c.id);
	const sampleChart = new Set(
		chars.filter((c) => SAMPLE_CHART_TYPES.has(c.chart)).map((c) => c.id)
	);
	// One statement per run window and kind, run side by side on the pool.
	const statements = intervals.flatMap((i) => {
		const ofMachine = chars.filter((c) => c.machine_id === i.machineId);
		const probed = ofMachine.filter((c) => sampleChart.has(c.id)).map((c) => c.id);
		const ranged = ofMachine.filter((c) => !sampleChart.has(c.id)).map((c) => c.id);
		const bounds = [CHART_BUCKETS, new Date(i.from).toISOString(), new Date(i.to).toISOString()];
		const out: { sql: string; params: unknown[] }[] = [];
		if (probed.length > 0) {
			// Raw samples can be dense (10 per second): one primary-key probe per slice, the first
			// two of it (a second one means the slice is thinned).
			out.push({
				sql: `SELECT b.cid, p.rn::int AS rn, false AS more, ${epochMs('p.ts')} AS ts, p.value,
				        p.flags::int AS flags
				FROM (
					SELECT c.cid, $2::timestamptz + ($3::timestamptz - $2::timestamptz) * g.i / $1::int AS bs,
					       $2::timestamptz + ($3::timestamptz - $2::timestamptz) * (g.i + 1) / $1::int AS be
					FROM unnest($4::int[]) AS c(cid) CROSS JOIN generate_series(0, $1::int - 1) AS g(i)
				) b CROSS JOIN LATERAL (
					SELECT sa.ts, sa.value, sa.flags, row_number() OVER (ORDER BY sa.ts) AS rn
					FROM (SELECT sa.ts, sa.value, sa.flags FROM sample sa
					      WHERE sa.characteristic_id = b.cid
					        AND sa.ts >= $2::timestamptz AND sa.ts < $3::timestamptz
					        AND sa.ts >= b.bs AND sa.ts < b.be
					      ORDER BY sa.ts LIMIT 2) sa
				) p`,
				params: [...bounds, probed]
			});
		}
		if (ranged.length > 0) {
			// Subgroups are already aggregated (one per subgroup duration, a few hundred per run):
			// one range read per window beats a probe per slice and characteristic. The first of
			// each slice is kept, with whether the slice held more; slices by date_bin (integer
			// microseconds), so a subgroup on a slice edge lands where the probes put it.
			out.push({
				sql: `SELECT x.cid, 1 AS rn, x.n > 1 AS more, ${epochMs('x.ts')} AS ts, x.value, 0 AS flags
				FROM (
					SELECT sg.characteristic_id AS cid, sg.ts, sg.value,
					       row_number() OVER w AS rn, count(*) OVER w AS n
					FROM subgroup sg
					WHERE sg.characteristic_id = ANY($4::int[])
					  AND sg.ts >= $2::timestamptz AND sg.ts < $3::timestamptz
					WINDOW w AS (
					  PARTITION BY sg.characteristic_id,
					    date_bin(($3::timestamptz - $2::timestamptz) / $1::int, sg.ts, $2::timestamptz)
					  ORDER BY sg.ts ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
				) x WHERE x.rn = 1`,
				params: [...bounds, ranged]
			});
		}
		return out;
	});
	type PointRow = {
		cid: number;
		rn: number;
		more: boolean;
		ts: number;
		value: number;
		flags: number;
	};
	const points = (
		await Promise.all(statements.map((q) => db.query<PointRow>(q.sql, q.params)))
	).flat();
	// A second point of a slice, or a slice that held more than its first: the window is
	// thinned. Only the first of each slice is drawn.
	const byChar = new Map<number, { points: LivePoint[]; thinned: boolean }>();
	for (const c of chars) byChar.set(c.id, { points: [], thinned: false });
	for (const p of points) {
		const entry = byChar.get(p.cid);
		if (!entry) continue;
		if (p.more) entry.thinned = true;
		if (p.rn > 1) {
			entry.thinned = true;
			continue;
		}
		entry.points.push({ ts: p.ts, seq: 0, value: p.value, dispersion: null, flags: p.flags });
	}
	for (const entry of byChar.values()) entry.points.sort((a, b) => a.ts - b.ts);
	return chars.map((c) => {
		const entry = byChar.get(c.id) ?? { points: [], thinned: false };
		const markers = history.alarms
			.filter((a) => a.characteristic?.id === c.id && a.value !== null)
			.map((a) => ({ ts: a.ts.getTime(), value: a.value as number, alarmId: a.id }));
		// Every alarm's point is on the line, even where thinning dropped it: the marker then
		// sits on the drawn data and inside the y range.
		const drawn = entry.points.length > 0 ? withAlarmPoints(entry.points, markers) : [];
		const runs = history.runs.filter((r) => r.machine.id === c.machine_id);
		const window = {
			from: Math.min(...runs.map((r) => r.startedAt.getTime())),
			to: Math.max(...runs.map((r) => (r.endedAt ?? history.readAt).getTime()))
		};
		return {
			characteristic: {
				id: c.id,
				code: c.code,
				name: c.name,
				unit: c.unit,
				machineId: c.machine_id
			},
			config: {
				chart: c.chart,
				subgroupSize: c.subgroup_size,
				decimals: c.decimals,
				spec: {
					...(c.lsl !== null ? { lsl: c.lsl } : {}),
					...(c.target !== null ? { target: c.target } : {}),
					...(c.usl !== null ? { usl: c.usl } : {})
				},
				limits:
					c.lv_version === null
						? null
						: {
								version: c.lv_version,
								centre: c.lv_centre as number,
								sigma: c.lv_sigma as number,
								source: c.lv_source as string
							}
			},
			points: drawn,
			markers,
			thinned: entry.thinned,
			hasSamples: c.has_samples,
			window
		};
	});
}

/** Characteristics of the intervals' machines with at least one raw sample inside them. */
async function charsWithSamples(
	db: RawQuery,
	intervals: readonly MachineInterval[]
): Promise<Set<number>> {
	const params: (number | string)[] = [];
	const branches = intervals.map((i) => {
		const m = params.length + 1;
		params.push(i.machineId, new Date(i.from).toISOString(), new Date(i.to).toISOString());
		return `SELECT ch.id FROM characteristic ch
			WHERE ch.machine_id = $${m}::int AND EXISTS (
				SELECT 1 FROM sample sa WHERE sa.characteristic_id = ch.id
				  AND sa.ts >= $${m + 1}::timestamptz AND sa.ts < $${m + 2}::timestamptz)`;
	});
	const rows = await db.query<{ id: number }>(branches.join('\n\t\tUNION\n\t\t'), params);
	return new Set(rows.map((r) => r.id));
}

/** `points` (oldest first) with a point at each marker not already there, still in order. */
function withAlarmPoints(
	points: readonly LivePoint[],
	markers: readonly { ts: number; value: number }[]
): LivePoint[] {
	const have = new Set(points.map((p) => p.ts));
	const extra = markers
		.filter((m) => !have.has(m.ts))
		.map((m): LivePoint => ({ ts: m.ts, seq: 0, value: m.value, dispersion: null, flags: 0 }));
	if (extra.length === 0) return [...points];
	return [...points, ...extra].sort((a, b) => a.ts - b.ts);
}
