/**
 * Material lots: received into quarantine, then validated or rejected by quality on evidence
 * (certificate of analysis, incoming inspection). Only validated lots may be consumed by a run
 * (runs.ts). Every change is audited in the transaction that makes it.
 */
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { appendAudit } from '../audit/append';
import type { Database, TxContext } from '../db';
import { appUser, material, materialLot, supplier } from '../db/schema';
import type { MaterialLotStatus } from '../db/schema/production';
import { actorOf, ensureCan, type Person } from './access';
import { ProductionError } from './errors';

export const MATERIAL_LOT_ENTITY = 'material_lot';

export interface ReceiveMaterialLotInput {
	materialId: number;
	supplierId: number;
	supplierLot: string;
	quantity: number;
	/** Internal receiving number; generated (`ML-000123`) when absent. */
	code?: string | null;
	expiresAt?: Date | null;
	receivedAt?: Date;
}

export interface MaterialLotRow {
	id: number;
	code: string;
	materialId: number;
	materialCode: string;
	materialName: string;
	unit: string;
	supplierId: number;
	supplierCode: string;
	supplierName: string;
	supplierLot: string;
	quantity: number;
	receivedAt: Date;
	expiresAt: Date | null;
	status: MaterialLotStatus;
	decidedByName: string | null;
	decidedAt: Date | null;
	evidence: string | null;
}

async function nextId(tx: TxContext, table: string): Promise<number> {
	const [row] = await tx.query<{ id: number }>(
		`SELECT nextval(pg_get_serial_sequence('${table}', 'id'))::float8 AS id`
	);
	return row.id;
}

/** Receive a material lot: it enters quarantine. */
export async function receiveMaterialLot(
	database: Database,
	person: Person,
	input: ReceiveMaterialLotInput
): Promise<{ id: number; code: string }> {
	ensureCan(person, 'material:manage');
	return database.transaction(async (tx) => {
		const [mat] = await tx.db
			.select({ id: material.id })
			.from(material)
			.where(eq(material.id, input.materialId));
		if (!mat) throw new ProductionError('invalid', 'Choose a material.', { field: 'materialId' });
		const [sup] = await tx.db
			.select({ id: supplier.id, approved: supplier.approved, name: supplier.name })
			.from(supplier)
			.where(eq(supplier.id, input.supplierId));
		if (!sup) throw new ProductionError('invalid', 'Choose a supplier.', { field: 'supplierId' });
		if (!sup.approved) {
			throw new ProductionError(
				'invalid',
				`${sup.name} is not on the approved supplier list; material from it cannot be received.`,
				{ field: 'supplierId' }
			);
		}
		const id = await nextId(tx, 'material_lot');
		const code = input.code?.trim() || `ML-${String(id).padStart(6, '0')}`;
		const [clash] = await tx.db
			.select({ id: materialLot.id })
			.from(materialLot)
			.where(eq(materialLot.code, code));
		if (clash) {
			throw new ProductionError('invalid', `Receiving number ${code} is already used.`, {
				field: 'code'
			});
		}
		const values = {
			id,
			code,
			materialId: input.materialId,
			supplierId: input.supplierId,
			supplierLot: input.supplierLot,
			quantity: input.quantity,
			receivedAt: input.receivedAt ?? new Date(),
			expiresAt: input.expiresAt ?? null,
			status: 'quarantine' as const
		};
		await tx.db.insert(materialLot).values(values);
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'create',
			entityType: MATERIAL_LOT_ENTITY,
			entityId: id,
			newValues: values
		});
		return { id, code };
	});
}

/**
 * Decide on a quarantined lot: `validated` (may be consumed) or `rejected` (never). Evidence is
 * required: the record must say on what the decision rests.
 */
export async function decideMaterialLot(
	database: Database,
	person: Person,
	input: { id: number; decision: 'validated' | 'rejected'; evidence: string; now?: Date }
): Promise<void> {
	ensureCan(person, 'material:manage');
	const evidence = input.evidence.trim();
	if (evidence.length < 3) {
		throw new ProductionError(
			'invalid',
			'Name the evidence (certificate of analysis, inspection report) the decision rests on.',
			{ field: 'evidence' }
		);
	}
	await database.transaction(async (tx) => {
		const [row] = await tx.db
			.select({ id: materialLot.id, code: materialLot.code, status: materialLot.status })
			.from(materialLot)
			.where(eq(materialLot.id, input.id))
			.for('update');
		if (!row) throw new ProductionError('not-found', 'No such material lot.');
		if (row.status !== 'quarantine') {
			throw new ProductionError(
				'material-not-pending',
				`Material lot ${row.code} is already ${row.status}; only a quarantined lot can be validated or rejected.`
			);
		}
		const now = input.now ?? new Date();
		await tx.db
			.update(materialLot)
			.set({ status: input.decision, decidedBy: person.userId, decidedAt: now, evidence })
			.where(eq(materialLot.id, input.id));
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'state',
			entityType: MATERIAL_LOT_ENTITY,
			entityId: input.id,
			oldValues: { status: row.status },
			newValues: { status: input.decision, decidedAt: now, evidence },
			reason: evidence
		});
	});
}

/** Material lots, newest first, optionally of one status (bounded: `limit`, default 200). */
export async function listMaterialLots(
	database: Database,
	filter: { status?: MaterialLotStatus; materialId?: number; limit?: number } = {}
): Promise<MaterialLotRow[]> {
	const where: SQL[] = [];
	if (filter.status) where.push(eq(materialLot.status, filter.status));
	if (filter.materialId) where.push(eq(materialLot.materialId, filter.materialId));
	const rows = await database.db
		.select({
			id: materialLot.id,
			code: materialLot.code,
			materialId: material.id,
			materialCode: material.code,
			materialName: material.name,
			unit: material.unit,
			supplierId: supplier.id,
			supplierCode: supplier.code,
			supplierName: supplier.name,
			supplierLot: materialLot.supplierLot,
			quantity: materialLot.quantity,
			receivedAt: materialLot.receivedAt,
			expiresAt: materialLot.expiresAt,
			status: materialLot.status,
			decidedByName: appUser.fullName,
			decidedAt: materialLot.decidedAt,
			evidence: materialLot.evidence
		})
		.from(materialLot)
		.innerJoin(material, eq(material.id, materialLot.materialId))
		.innerJoin(supplier, eq(supplier.id, materialLot.supplierId))
		.leftJoin(appUser, eq(appUser.id, materialLot.decidedBy))
		.where(where.length ? and(...where) : undefined)
		.orderBy(desc(materialLot.receivedAt), desc(materialLot.id))
		.limit(Math.min(filter.limit ?? 200, 1000));
	return rows;
}

/** Materials and approved suppliers, for the receiving form. */
export async function receivingOptions(database: Database) {
	const [materials, suppliers] = await Promise.all([
		database.db
			.select({ id: material.id, code: material.code, name: material.name, unit: material.unit })
			.from(material)
			.orderBy(material.code),
		database.db
			.select({ id: supplier.id, code: supplier.code, name: supplier.name })
			.from(supplier)
			.where(eq(supplier.approved, true))
			.orderBy(supplier.code)
	]);
	return { materials, suppliers };
}
