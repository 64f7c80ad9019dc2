/**
 * Runs: one machine working on one lot, run by one operator, over an interval.
 *
 * Starting a run is where the plant's two hard rules are enforced, on the server, whoever calls
 * (station form, JSON API, tests):
 * - the operator holds a certification current now for the operation on that machine
 *   (certifications.ts decides what "current" and "covers" mean);
 * - every material lot to be consumed exists, is validated and not expired.
 * What the checks found is stored with the run (`checks`, `certification_id`); a refused start
 * is audited on the lot (the attempt, who, and why), so an auditor sees it. One open run per
 * machine: starts lock the machine row, so two racing starts cannot both pass.
 */
import { and, asc, eq, inArray, isNull, or } from 'drizzle-orm';
import { appendAudit } from '../audit/append';
import type { Database, TxContext } from '../db';
import { appUser, lot, lotMaterial, machine, material, materialLot, run } from '../db/schema';
import { actorOf, ensureCan, lineScope, type Person } from './access';
import { certificationsOfUser, currentCertificationFor, standingAt } from './certifications';
import { ProductionError, type ProductionErrorCode } from './errors';
import { ensureDueInspections } from './inspections';
import { LOT_ENTITY, lotForUpdate, markLotRunning } from './lots';

export const RUN_ENTITY = 'run';
export const LOT_MATERIAL_ENTITY = 'lot_material';

export interface MaterialToConsume {
	/** By id (the form's choice) or by receiving number (a scanned label). */
	materialLotId?: number;
	materialLotCode?: string;
	quantity: number;
}

export interface StartRunInput {
	lotId: number;
	machineId: number;
	/** Default: the machine's operation. */
	operation?: string | null;
	materials?: MaterialToConsume[];
	now?: Date;
}

export interface CertificationCheck {
	ok: boolean;
	certificationId: number | null;
	scope: 'machine' | 'line' | 'plant' | null;
	validTo: string | null;
	/** Why not, in words (expired, another machine, revoked, none). */
	finding: string;
}

export interface MaterialCheck {
	ref: string;
	materialLotId: number | null;
	code: string | null;
	material: string | null;
	status: string | null;
	quantity: number;
	ok: boolean;
	finding: string;
}

export interface RunChecks {
	at: string;
	operatorId: number;
	operation: string;
	machineId: number;
	certification: CertificationCheck;
	materials: MaterialCheck[];
	outcome: 'started' | 'refused';
	[key: string]: unknown;
}

async function checkCertification(
	tx: TxContext,
	operatorId: number,
	operation: string,
	m: { id: number; code: string; lineId: number },
	at: Date
): Promise<CertificationCheck> {
	const cert = await currentCertificationFor(tx, operatorId, operation, m.id, at);
	if (cert) {
		return {
			ok: true,
			certificationId: cert.id,
			scope: cert.machineId !== null ? 'machine' : cert.lineId !== null ? 'line' : 'plant',
			validTo: cert.validTo.toISOString(),
			finding: `certified for ${operation} until ${cert.validTo.toISOString().slice(0, 10)}`
		};
	}
	// Say why: the closest certification for the operation, and what is wrong with it.
	const all = (await certificationsOfUser(tx, operatorId)).filter((c) => c.operation === operation);
	let finding = `no certification for ${operation}`;
	const covering = all.filter(
		(c) =>
			c.machineId === m.id || (c.machineId === null && (c.lineId === m.lineId || c.lineId === null))
	);
	if (covering.length > 0) {
		const c = covering[0];
		const standing = standingAt(c, at);
		finding =
			standing === 'expired'
				? `certification for ${operation} expired on ${c.validTo.toISOString().slice(0, 10)}`
				: standing === 'revoked'
					? `certification for ${operation} was revoked`
					: standing === 'not-yet-valid'
						? `certification for ${operation} is valid only from ${c.validFrom.toISOString().slice(0, 10)}`
						: finding;
	} else if (all.length > 0) {
		finding = `certified for ${operation} on another ${all.some((c) => c.machineId !== null) ? 'machine' : 'line'} only, not on ${m.code}`;
	}
	return { ok: false, certificationId: null, scope: null, validTo: null, finding };
}

async function checkMaterials(
	tx: TxContext,
	wanted: MaterialToConsume[],
	at: Date
): Promise<MaterialCheck[]> {
	const ids = wanted.flatMap((w) => (w.materialLotId !== undefined ? [w.materialLotId] : []));
	const codes = wanted.flatMap((w) =>
		w.materialLotCode !== undefined ? [w.materialLotCode.trim()] : []
	);
	const found =
		ids.length + codes.length === 0
			? []
			: await tx.db
					.select({
						id: materialLot.id,
						code: materialLot.code,
						status: materialLot.status,
						expiresAt: materialLot.expiresAt,
						material: material.name
					})
					.from(materialLot)
					.innerJoin(material, eq(material.id, materialLot.materialId))
					.where(
						or(
							ids.length ? inArray(materialLot.id, ids) : undefined,
							codes.length ? inArray(materialLot.code, codes) : undefined
						)
					);
	return wanted.map((w): MaterialCheck => {
		const ref = w.materialLotCode?.trim() ?? `#${w.materialLotId}`;
		const row = found.find((f) =>
			w.materialLotId !== undefined
				? f.id === w.materialLotId
				: f.code === w.materialLotCode?.trim()
		);
		if (!row) {
			return {
				ref,
				materialLotId: null,
				code: null,
				material: null,
				status: null,
				quantity: w.quantity,
				ok: false,
				finding: `material lot ${ref} is unknown`
			};
		}
		const base = {
			ref,
			materialLotId: row.id,
			code: row.code,
			material: row.material,
			status: row.status,
			quantity: w.quantity
		};
		if (row.status !== 'validated') {
			return {
				...base,
				ok: false,
				finding: `material lot ${row.code} (${row.material}) is ${row.status === 'quarantine' ? 'in quarantine' : 'rejected'}`
			};
		}
		if (row.expiresAt && row.expiresAt.getTime() <= at.getTime()) {
			return {
				...base,
				ok: false,
				finding: `material lot ${row.code} (${row.material}) expired on ${row.expiresAt.toISOString().slice(0, 10)}`
			};
		}
		return { ...base, ok: true, finding: 'validated' };
	});
}

export interface StartedRun {
	runId: number;
	checks: RunChecks;
	newInspections: number[];
}

/** Start a run, or throw a ProductionError saying exactly what refused it (and audit that). */
export async function startRun(
	database: Database,
	person: Person,
	input: StartRunInput
): Promise<StartedRun> {
	ensureCan(person, 'run:operate');
	const at = input.now ?? new Date();
	const wanted = input.materials ?? [];
	for (const w of wanted) {
		if (!(w.quantity > 0) || !Number.isFinite(w.quantity)) {
			throw new ProductionError('invalid', 'Each material needs a quantity above zero.', {
				field: 'materials'
			});
		}
		if (w.materialLotId === undefined && !w.materialLotCode?.trim()) {
			throw new ProductionError('invalid', 'Name each material lot to consume.', {
				field: 'materials'
			});
		}
	}
	const outcome = await database.transaction(async (tx): Promise<StartedRun | ProductionError> => {
		const l = await lotForUpdate(tx, input.lotId);
		const scope = await lineScope(tx, l.lineId);
		ensureCan(person, 'run:operate', scope ?? undefined);
		const [m] = await tx.db
			.select({
				id: machine.id,
				code: machine.code,
				name: machine.name,
				lineId: machine.lineId,
				operation: machine.operation
			})
			.from(machine)
			.where(eq(machine.id, input.machineId))
			.for('update');
		if (!m || m.lineId !== l.lineId) {
			throw new ProductionError('invalid', `That machine is not on lot ${l.code}'s line.`, {
				field: 'machineId'
			});
		}
		const operation = input.operation?.trim() || m.operation;
		if (!operation) {
			throw new ProductionError('invalid', `Name the operation: ${m.name} has none configured.`, {
				field: 'operation'
			});
		}
		const refuse = async (
			code: ProductionErrorCode,
			message: string,
			checks: Record<string, unknown>
		) => {
			await appendAudit(tx, {
				actor: actorOf(person),
				action: 'state',
				entityType: LOT_ENTITY,
				entityId: l.id,
				oldValues: { status: l.status },
				newValues: {
					runStart: 'refused',
					code,
					machineId: m.id,
					operatorId: person.userId,
					operation,
					checks
				},
				reason: message
			});
			return new ProductionError(code, message, { details: checks });
		};
		if (l.status !== 'planned' && l.status !== 'running') {
			return refuse(
				'illegal-transition',
				`Lot ${l.code} is ${l.status.replace('_', ' ')}: no run can start on it.`,
				{}
			);
		}
		const [busy] = await tx.db
			.select({ lotCode: lot.code })
			.from(run)
			.innerJoin(lot, eq(lot.id, run.lotId))
			.where(and(eq(run.machineId, m.id), isNull(run.endedAt)));
		if (busy) {
			return refuse(
				'machine-busy',
				`${m.name} is already running lot ${busy.lotCode}: end that run first.`,
				{}
			);
		}
		const certification = await checkCertification(tx, person.userId, operation, m, at);
		const materials = await checkMaterials(tx, wanted, at);
		const badMaterials = materials.filter((c) => !c.ok);
		const checks: RunChecks = {
			at: at.toISOString(),
			operatorId: person.userId,
			operation,
			machineId: m.id,
			certification,
			materials,
			outcome: certification.ok && badMaterials.length === 0 ? 'started' : 'refused'
		};
		if (!certification.ok) {
			const also = badMaterials.length
				? ` Also: ${badMaterials.map((b) => b.finding).join('; ')}.`
				: '';
			return refuse(
				'operator-not-certified',
				`Run refused: ${person.fullName} is not certified to run ${operation} on ${m.name} (${certification.finding}).${also}`,
				checks
			);
		}
		if (badMaterials.length > 0) {
			return refuse(
				'material-not-validated',
				`Run refused: ${badMaterials.map((b) => b.finding).join('; ')}. Only validated material may be used.`,
				checks
			);
		}

		const actor = actorOf(person);
		if (l.status === 'planned') await markLotRunning(tx, l, at, actor);
		const [created] = await tx.db
			.insert(run)
			.values({
				lotId: l.id,
				machineId: m.id,
				operatorId: person.userId,
				operation,
				startedAt: at,
				certificationId: certification.certificationId,
				checks,
				startedBy: person.userId
			})
			.returning({ id: run.id });
		await appendAudit(tx, {
			actor,
			action: 'create',
			entityType: RUN_ENTITY,
			entityId: created.id,
			newValues: {
				lotId: l.id,
				machineId: m.id,
				operatorId: person.userId,
				operation,
				startedAt: at,
				certificationId: certification.certificationId,
				checks
			}
		});
		for (const c of materials) {
			const [edge] = await tx.db
				.insert(lotMaterial)
				.values({
					lotId: l.id,
					materialLotId: c.materialLotId!,
					runId: created.id,
					quantity: c.quantity,
					consumedAt: at
				})
				.returning({ id: lotMaterial.id });
			await appendAudit(tx, {
				actor,
				action: 'create',
				entityType: LOT_MATERIAL_ENTITY,
				entityId: edge.id,
				newValues: {
					lotId: l.id,
					materialLotId: c.materialLotId,
					code: c.code,
					runId: created.id,
					quantity: c.quantity
				}
			});
		}
		const newInspections = await ensureDueInspections(tx, l.id, at, actor, 'run-start');
		return { runId: created.id, checks, newInspections };
	});
	if (outcome instanceof ProductionError) throw outcome;
	return outcome;
}

/** End an open run (anyone who may operate on the line: shifts hand over). */
export async function endRun(
	database: Database,
	person: Person,
	input: { id: number; now?: Date }
): Promise<{ newInspections: number[] }> {
	ensureCan(person, 'run:operate');
	return database.transaction(async (tx) => {
		const [r] = await tx.db
			.select({
				id: run.id,
				lotId: run.lotId,
				lineId: lot.lineId,
				endedAt: run.endedAt,
				startedAt: run.startedAt
			})
			.from(run)
			.innerJoin(lot, eq(lot.id, run.lotId))
			.where(eq(run.id, input.id))
			.for('update', { of: run });
		if (!r) throw new ProductionError('not-found', 'No such run.');
		const scope = await lineScope(tx, r.lineId);
		ensureCan(person, 'run:operate', scope ?? undefined);
		if (r.endedAt !== null) throw new ProductionError('run-ended', 'This run has already ended.');
		const now = input.now ?? new Date();
		const endedAt =
			now.getTime() > r.startedAt.getTime() ? now : new Date(r.startedAt.getTime() + 1);
		await tx.db.update(run).set({ endedAt }).where(eq(run.id, r.id));
		const actor = actorOf(person);
		await appendAudit(tx, {
			actor,
			action: 'state',
			entityType: RUN_ENTITY,
			entityId: r.id,
			oldValues: { endedAt: null },
			newValues: { endedAt },
			reason: 'run ended'
		});
		const newInspections = await ensureDueInspections(tx, r.lotId, endedAt, actor, 'run-end');
		return { newInspections };
	});
}

export interface OpenRun {
	id: number;
	lotId: number;
	lotCode: string;
	machineId: number;
	machineName: string;
	operatorName: string;
	operation: string;
	startedAt: Date;
}

/** Open runs on a line's machines. */
export async function openRunsOfLine(database: Database, lineId: number): Promise<OpenRun[]> {
	return database.db
		.select({
			id: run.id,
			lotId: run.lotId,
			lotCode: lot.code,
			machineId: run.machineId,
			machineName: machine.name,
			operatorName: appUser.fullName,
			operation: run.operation,
			startedAt: run.startedAt
		})
		.from(run)
		.innerJoin(lot, eq(lot.id, run.lotId))
		.innerJoin(machine, eq(machine.id, run.machineId))
		.innerJoin(appUser, eq(appUser.id, run.operatorId))
		.where(and(eq(machine.lineId, lineId), isNull(run.endedAt)))
		.orderBy(asc(machine.code));
}

/** Machines of a line with the operation each performs (the start-run form). */
export async function machinesOfLine(database: Database, lineId: number) {
	return database.db
		.select({
			id: machine.id,
			code: machine.code,
			name: machine.name,
			operation: machine.operation
		})
		.from(machine)
		.where(eq(machine.lineId, lineId))
		.orderBy(asc(machine.code));
}
