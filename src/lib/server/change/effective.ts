/**
 * Effective dates arriving. An implemented change creates its version with an effective date;
 * from that moment the workers must run on it and the walls must draw it:
 *
 * - control_limit_version rows are effective rows whose `effective_from` the configuration query
 *   already respects (plant/service.ts): the hub only has to publish the configuration again
 *   once the date has passed;
 * - characteristic_config_version rows (rule set, subgroup size, sampling interval) are copied
 *   onto the characteristic when due (`applied_at` set in the same audited transaction);
 * - process versions are picked by date when a lot starts (lots.ts): nothing to apply.
 *
 * Every sixth sweep also re-reads the whole configuration and publishes it when it differs from
 * what the hub holds, so a configuration changed elsewhere (another hub node, a failed publish)
 * reaches workers and walls within 30 s.
 *
 * Restarts: the first sweep runs (awaited) at start and applies everything that fell due while
 * the server was down; it also re-asserts the latest applied configuration version of each
 * characteristic, because the demo seeding rewrites the characteristic rows at every start.
 */
import { and, asc, desc, eq, gt, isNotNull, isNull, lte, sql } from 'drizzle-orm';
import { appendAudit, SYSTEM_ACTOR } from '../audit/append';
import type { Database } from '../db';
import { characteristic, characteristicConfigVersion, controlLimitVersion } from '../db/schema';
import type { Log } from '../log';

type ConfigVersionRow = typeof characteristicConfigVersion.$inferSelect;

/** Copy one configuration version onto its characteristic when it differs (audited). */
async function applyConfigVersion(
	database: Database,
	v: ConfigVersionRow,
	reason: string
): Promise<boolean> {
	return database.transaction(async (tx) => {
		const [c] = await tx.db
			.select({
				rules: characteristic.rules,
				subgroupSize: characteristic.subgroupSize,
				samplingIntervalMs: characteristic.samplingIntervalMs
			})
			.from(characteristic)
			.where(eq(characteristic.id, v.characteristicId))
			.for('update');
		const next = {
			rules: (v.rules ?? c.rules) as typeof c.rules,
			subgroupSize: v.subgroupSize ?? c.subgroupSize,
			samplingIntervalMs: v.samplingIntervalMs ?? c.samplingIntervalMs
		};
		const differs = JSON.stringify(next) !== JSON.stringify(c);
		if (differs) {
			await tx.db
				.update(characteristic)
				.set({ ...next, updatedAt: sql`now()` })
				.where(eq(characteristic.id, v.characteristicId));
		}
		const first = v.appliedAt === null;
		if (first) {
			await tx.db
				.update(characteristicConfigVersion)
				.set({ appliedAt: sql`clock_timestamp()` })
				.where(eq(characteristicConfigVersion.id, v.id));
		}
		if (differs || first) {
			await appendAudit(tx, {
				actor: SYSTEM_ACTOR,
				action: 'state',
				entityType: 'characteristic',
				entityId: v.characteristicId,
				oldValues: c,
				newValues: { ...next, configVersion: v.version },
				reason
			});
		}
		return differs;
	});
}

/**
 * Apply every configuration version whose effective date has passed and that was not applied
 * yet, oldest first. Returns how many changed a characteristic.
 */
export async function applyDueConfigVersions(database: Database): Promise<number> {
	const due = await database.db
		.select()
		.from(characteristicConfigVersion)
		.where(
			and(
				isNull(characteristicConfigVersion.appliedAt),
				lte(characteristicConfigVersion.effectiveFrom, sql`now()`)
			)
		)
		.orderBy(
			asc(characteristicConfigVersion.effectiveFrom),
			asc(characteristicConfigVersion.version)
		);
	let changed = 0;
	for (const v of due) {
		if (await applyConfigVersion(database, v, 'change-controlled configuration version effective'))
			changed++;
	}
	return changed;
}

/**
 * The latest applied version of each characteristic, written back where the row differs (a
 * seeding at start rewrote it). Returns how many characteristics were corrected.
 */
export async function reassertAppliedConfigVersions(database: Database): Promise<number> {
	const latest = await database.db
		.selectDistinctOn([characteristicConfigVersion.characteristicId])
		.from(characteristicConfigVersion)
		.where(isNotNull(characteristicConfigVersion.appliedAt))
		.orderBy(
			characteristicConfigVersion.characteristicId,
			desc(characteristicConfigVersion.effectiveFrom),
			desc(characteristicConfigVersion.version)
		);
	let changed = 0;
	for (const v of latest) {
		if (await applyConfigVersion(database, v, 'configuration version in force re-applied at start'))
			changed++;
	}
	return changed;
}

/** Did a limit version become active in (since, until]? Then the walls need new limits. */
async function limitsBecameActive(database: Database, since: Date, until: Date): Promise<boolean> {
	const [row] = await database.db
		.select({ id: controlLimitVersion.id })
		.from(controlLimitVersion)
		.where(
			and(
				eq(controlLimitVersion.status, 'effective'),
				gt(controlLimitVersion.effectiveFrom, since),
				lte(controlLimitVersion.effectiveFrom, until)
			)
		)
		.limit(1);
	return row !== undefined;
}

export interface ChangeUpkeep {
	/** The first sweep (at start): resolves when due versions were applied. */
	ready: Promise<void>;
	stop(): Promise<void>;
}

/**
 * Apply due versions now and then every `everyMs`; publish the configuration to workers and
 * walls whenever something came into force.
 */
export function startChangeUpkeep(deps: {
	database: Database;
	hub: { publishConfig(options?: { onlyIfChanged?: boolean }): Promise<unknown> };
	log: Log;
	everyMs?: number;
	/**
	 * Every this many sweeps, re-read the configuration and publish it if it changed without a
	 * publish here (another hub node's change, a publish after a run start that failed). Default
	 * 6: every 30 s at the default period.
	 */
	recheckEvery?: number;
}): ChangeUpkeep {
	const { database, hub, log } = deps;
	const everyMs = deps.everyMs ?? 5_000;
	const recheckEvery = deps.recheckEvery ?? 6;
	let sweeps = 0;
	// At start the hub loaded the configuration as of now: only later activations matter.
	let checkedUntil = new Date();
	let running: Promise<void> | null = null;
	let stopped = false;

	async function sweep(atStart: boolean): Promise<void> {
		const until = new Date();
		const reasserted = atStart ? await reassertAppliedConfigVersions(database) : 0;
		const applied = await applyDueConfigVersions(database);
		const limits = await limitsBecameActive(database, checkedUntil, until);
		checkedUntil = until;
		if (reasserted + applied > 0 || limits) {
			await hub.publishConfig();
			log.info({ applied, reasserted, limits }, 'change-controlled versions came into force');
		} else if (!atStart && ++sweeps % recheckEvery === 0) {
			await hub.publishConfig({ onlyIfChanged: true });
		}
	}

	function tick(): void {
		if (running || stopped) return;
		running = sweep(false)
			.catch((error: unknown) => log.error({ err: error }, 'applying due change versions failed'))
			.finally(() => {
				running = null;
			});
	}

	const ready = sweep(true);
	const timer = setInterval(tick, everyMs);
	timer.unref();
	return {
		ready,
		async stop() {
			stopped = true;
			clearInterval(timer);
			await ready.catch(() => undefined);
			await running;
		}
	};
}
