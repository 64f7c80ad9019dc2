/**
 * Plant configuration: seeding the demo plant, and reading what the hub pushes to workers and
 * walls (characteristic configuration with active control limits, lines, machines).
 */
import { and, asc, desc, eq, lte, sql, type SQL } from 'drizzle-orm';
import type { DemoPlant } from '../../demo/plant';
import type {
	CharacteristicConfig,
	IngestConfig,
	LineInfo,
	LineSummary,
	MachineInfo,
	SpecSource
} from '../../realtime/events';
import type { SpecLimits } from '../../spc/types';
import type { Database } from '../db';
import { epochMs } from '../db/raw';
import { characteristic, controlLimitVersion, line, machine, site } from '../db/schema';

/** Source text of the limits seeded from the demo plant's known process mean and sigma. */
export const DEMO_LIMITS_SOURCE = 'known standard (demo)';

export interface SeedResult {
	lines: number;
	machines: number;
	characteristics: number;
	/** Limit versions inserted by this call (0 when every characteristic already had version 1). */
	limitsCreated: number;
}

/**
 * Upsert the demo plant by code, in one transaction; safe to run at every start. A changed
 * characteristic definition updates the row (and bumps `updated_at`, hence the config revision);
 * an unchanged one is left as it is. Control limits version 1 is created from the plant's
 * known process mean/sigma only where it does not exist, so later versions are never touched.
 */
export async function seedDemoPlant(database: Database, plant: DemoPlant): Promise<SeedResult> {
	return database.transaction(async ({ db }) => {
		const result: SeedResult = { lines: 0, machines: 0, characteristics: 0, limitsCreated: 0 };
		const [siteRow] = await db
			.insert(site)
			.values({ code: plant.site.code, name: plant.site.name })
			.onConflictDoUpdate({ target: site.code, set: { name: plant.site.name } })
			.returning({ id: site.id });
		for (const demoLine of plant.lines) {
			const [lineRow] = await db
				.insert(line)
				.values({ siteId: siteRow.id, code: demoLine.code, name: demoLine.name })
				.onConflictDoUpdate({
					target: line.code,
					set: { siteId: siteRow.id, name: demoLine.name }
				})
				.returning({ id: line.id });
			result.lines++;
			for (const demoMachine of demoLine.machines) {
				const [machineRow] = await db
					.insert(machine)
					.values({
						lineId: lineRow.id,
						code: demoMachine.code,
						name: demoMachine.name,
						operation: demoMachine.operation ?? null
					})
					.onConflictDoUpdate({
						target: machine.code,
						// An operation set since (an administrator's) is kept; a missing one is filled.
						set: {
							lineId: lineRow.id,
							name: demoMachine.name,
							operation: sql`coalesce(${machine.operation}, excluded.operation)`
						}
					})
					.returning({ id: machine.id });
				result.machines++;
				for (const c of demoMachine.characteristics) {
					const values = {
						machineId: machineRow.id,
						code: c.code,
						name: c.name,
						unit: c.unit,
						kind: c.kind,
						chart: c.chart,
						subgroupSize: c.subgroupSize,
						samplingIntervalMs: c.samplingIntervalMs,
						specLsl: c.spec.lsl ?? null,
						specTarget: c.spec.target ?? null,
						specUsl: c.spec.usl ?? null,
						suspect: c.suspect,
						rules: c.rules,
						decimals: c.decimals
					};
					const [charRow] = await db
						.insert(characteristic)
						.values(values)
						.onConflictDoUpdate({
							target: characteristic.code,
							set: { ...values, updatedAt: sql.raw(UPDATED_AT_IF_CHANGED) }
						})
						.returning({ id: characteristic.id });
					result.characteristics++;
					const inserted = await db
						.insert(controlLimitVersion)
						.values({
							characteristicId: charRow.id,
							version: 1,
							centre: c.process.mean,
							sigma: c.process.sigma,
							source: DEMO_LIMITS_SOURCE,
							// Effective since the epoch: replayed spools carry old timestamps too.
							effectiveFrom: new Date(0)
						})
						.onConflictDoNothing({
							target: [controlLimitVersion.characteristicId, controlLimitVersion.version]
						})
						.returning({ id: controlLimitVersion.id });
					result.limitsCreated += inserted.length;
				}
			}
		}
		return result;
	});
}

/** Columns whose change counts as a configuration change (compared old row vs `excluded`). */
const CONFIG_COLUMNS = [
	'machine_id',
	'name',
	'unit',
	'kind',
	'chart',
	'subgroup_size',
	'sampling_interval_ms',
	'spec_lsl',
	'spec_target',
	'spec_usl',
	'suspect',
	'rules',
	'decimals'
];
const UPDATED_AT_IF_CHANGED = `CASE WHEN (${CONFIG_COLUMNS.map((c) => `"characteristic"."${c}"`).join(', ')}) IS DISTINCT FROM (${CONFIG_COLUMNS.map((c) => `excluded."${c}"`).join(', ')}) THEN now() ELSE "characteristic"."updated_at" END`;

/* ---------------------------------------------------------------------------------------- */
/* Reading configuration                                                                     */
/* ---------------------------------------------------------------------------------------- */

interface RunningSpecs {
	source: SpecSource;
	/** Epoch ms the run started (feeds the configuration revision). */
	startedAt: number;
	/** Spec limits of the lot's process version, by characteristic. */
	specs: Map<number, SpecLimits>;
}

/**
 * By machine: the lot running there now (its latest open run) and the spec limits of the process
 * version fixed on that lot when it started. A change-controlled spec change creates a process
 * version that applies to lots started from its effective date (docs/change-control.md), so this
 * is what the parts on the machine are judged against, and what the lot record will show.
 */
async function specsInForce(database: Database): Promise<Map<number, RunningSpecs>> {
	const rows = await database.query<{
		machine_id: number;
		started_ms: number;
		lot: string;
		product: string;
		version: number;
		characteristic_id: number | null;
		lsl: number | null;
		target: number | null;
		usl: number | null;
	}>(
		`WITH open_run AS (
		   SELECT DISTINCT ON (r.machine_id) r.machine_id, r.started_at, r.lot_id
		   FROM run r WHERE r.ended_at IS NULL
		   ORDER BY r.machine_id, r.started_at DESC, r.id DESC
		 )
		 SELECT o.machine_id, ${epochMs('o.started_at')} AS started_ms, l.code AS lot,
		        p.code AS product, pv.version, ps.characteristic_id, ps.lsl, ps.target, ps.usl
		 FROM open_run o
		 JOIN lot l ON l.id = o.lot_id
		 JOIN product p ON p.id = l.product_id
		 JOIN process_version pv ON pv.id = l.process_version_id
		 LEFT JOIN process_spec ps ON ps.process_version_id = pv.id`
	);
	const out = new Map<number, RunningSpecs>();
	for (const r of rows) {
		let entry = out.get(r.machine_id);
		if (!entry) {
			entry = {
				source: { lot: r.lot, product: r.product, processVersion: r.version },
				startedAt: Number(r.started_ms),
				specs: new Map()
			};
			out.set(r.machine_id, entry);
		}
		if (r.characteristic_id !== null) {
			entry.specs.set(r.characteristic_id, { lsl: r.lsl, target: r.target, usl: r.usl });
		}
	}
	return out;
}

interface ConfigRows {
	configs: CharacteristicConfig[];
	/** Latest change among the rows read (epoch ms). */
	changedAt: number;
}

async function readCharacteristicConfigs(database: Database, where?: SQL): Promise<ConfigRows> {
	const { db } = database;
	const rows = await db
		.select({
			c: characteristic,
			lineId: machine.lineId
		})
		.from(characteristic)
		.innerJoin(machine, eq(machine.id, characteristic.machineId))
		.where(where)
		.orderBy(asc(characteristic.id));
	// Active version per characteristic: latest effective_from not in the future, then highest
	// version; drafts under change control never count. DISTINCT ON keeps this one
	// index-friendly pass over a small table.
	const limits = await db
		.selectDistinctOn([controlLimitVersion.characteristicId])
		.from(controlLimitVersion)
		.where(
			and(
				eq(controlLimitVersion.status, 'effective'),
				lte(controlLimitVersion.effectiveFrom, sql`now()`)
			)
		)
		.orderBy(
			controlLimitVersion.characteristicId,
			desc(controlLimitVersion.effectiveFrom),
			desc(controlLimitVersion.version)
		);
	const active = new Map(limits.map((l) => [l.characteristicId, l]));
	const inForce = await specsInForce(database);
	let changedAt = 0;
	const configs = rows.map(({ c, lineId }): CharacteristicConfig => {
		const l = active.get(c.id);
		const running = inForce.get(c.machineId);
		const processSpec = running?.specs.get(c.id);
		changedAt = Math.max(
			changedAt,
			c.updatedAt.getTime(),
			l ? Math.max(l.createdAt.getTime(), l.effectiveFrom.getTime()) : 0,
			running?.startedAt ?? 0
		);
		return {
			id: c.id,
			code: c.code,
			name: c.name,
			unit: c.unit,
			lineId,
			machineId: c.machineId,
			kind: c.kind,
			chart: c.chart,
			subgroupSize: c.subgroupSize,
			samplingIntervalMs: c.samplingIntervalMs,
			spec: processSpec ?? { lsl: c.specLsl, target: c.specTarget, usl: c.specUsl },
			specSource: processSpec && running ? running.source : null,
			suspect: c.suspect,
			rules: c.rules,
			limits: l ? { version: l.version, centre: l.centre, sigma: l.sigma, source: l.source } : null,
			decimals: c.decimals
		};
	});
	return { configs, changedAt };
}

/**
 * Everything workers need. `revision` is the latest change time (epoch ms) among
 * characteristics and their active limits: it grows on every change, so a worker can ignore a
 * push older than what it has.
 */
export async function loadIngestConfig(database: Database): Promise<IngestConfig> {
	const { configs, changedAt } = await readCharacteristicConfigs(database);
	return { revision: changedAt, characteristics: configs };
}

export async function characteristicsOfLine(
	database: Database,
	lineId: number
): Promise<CharacteristicConfig[]> {
	return (await readCharacteristicConfigs(database, eq(machine.lineId, lineId))).configs;
}

export async function characteristicsOfMachine(
	database: Database,
	machineId: number
): Promise<CharacteristicConfig[]> {
	return (await readCharacteristicConfigs(database, eq(characteristic.machineId, machineId)))
		.configs;
}

export async function characteristicConfig(
	database: Database,
	characteristicId: number
): Promise<CharacteristicConfig | null> {
	const { configs } = await readCharacteristicConfigs(
		database,
		eq(characteristic.id, characteristicId)
	);
	return configs[0] ?? null;
}

export async function lineInfo(database: Database, lineId: number): Promise<LineInfo | null> {
	const [row] = await database.db
		.select({ id: line.id, code: line.code, name: line.name, siteName: site.name })
		.from(line)
		.innerJoin(site, eq(site.id, line.siteId))
		.where(eq(line.id, lineId));
	return row ?? null;
}

export async function machinesOfLine(database: Database, lineId: number): Promise<MachineInfo[]> {
	return database.db
		.select({ id: machine.id, code: machine.code, name: machine.name, lineId: machine.lineId })
		.from(machine)
		.where(eq(machine.lineId, lineId))
		.orderBy(asc(machine.code));
}

export async function machineInfo(
	database: Database,
	machineId: number
): Promise<MachineInfo | null> {
	const [row] = await database.db
		.select({ id: machine.id, code: machine.code, name: machine.name, lineId: machine.lineId })
		.from(machine)
		.where(eq(machine.id, machineId));
	return row ?? null;
}

/** Every line with its live state for the landing page. */
export async function listLineSummaries(database: Database): Promise<LineSummary[]> {
	const rows = await database.query<{
		id: number;
		code: string;
		name: string;
		site_name: string;
		machines: number;
		characteristics: number;
		unacknowledged: number;
		last_data_at: number | null;
	}>(
		`SELECT l.id, l.code, l.name, s.name AS site_name,
			(SELECT count(*)::int FROM machine m WHERE m.line_id = l.id) AS machines,
			(SELECT count(*)::int FROM characteristic c JOIN machine m ON m.id = c.machine_id
				WHERE m.line_id = l.id) AS characteristics,
			-- Every alarm kind (missed inspections have no characteristic): line_id is always set.
			(SELECT count(*)::int FROM alarm a
				WHERE a.line_id = l.id AND a.state IN ('unacknowledged', 'returned')) AS unacknowledged,
			(SELECT ${epochMs('max(last.ts)')} FROM characteristic c
				JOIN machine m ON m.id = c.machine_id
				CROSS JOIN LATERAL (
					SELECT x.ts FROM sample x WHERE x.characteristic_id = c.id ORDER BY x.ts DESC LIMIT 1
				) last
				WHERE m.line_id = l.id) AS last_data_at
		FROM line l JOIN site s ON s.id = l.site_id
		ORDER BY l.code`
	);
	return rows.map((r) => ({
		line: { id: r.id, code: r.code, name: r.name, siteName: r.site_name },
		machines: r.machines,
		characteristics: r.characteristics,
		unacknowledgedAlarms: r.unacknowledged,
		lastDataAt: r.last_data_at
	}));
}
