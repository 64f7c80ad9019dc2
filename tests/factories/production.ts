/**
 * A small production world for tests of the production services: the small plant (two lines),
 * a customer and a product on L1 with an effective process version, materials and material lots
 * in each status, and people of each role as `Person` principals (created through the users
 * service, so they exist and are audited like real ones). Only what tests need: the demo history
 * lives in the demo seeder.
 */
import { eq } from 'drizzle-orm';
import type { Role } from '$lib/auth/roles';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import { createUser } from '$lib/server/auth/users';
import type { Database } from '$lib/server/db';
import {
	certification,
	customer,
	inspectionPlan,
	line,
	machine,
	material,
	materialLot,
	processSpec,
	processVersion,
	product,
	supplier
} from '$lib/server/db/schema';
import type { InspectionTrigger, MaterialLotStatus } from '$lib/server/db/schema/production';
import { seedDemoPlant } from '$lib/server/plant/service';
import type { Person } from '$lib/server/production/access';
import { characteristicId, smallPlant } from './db';

let counter = 0;

/** A person with `role` on every site (or on one line), as the services receive them. */
export async function personWith(
	database: Database,
	role: Role,
	options: { lineId?: number; fullName?: string } = {}
): Promise<Person> {
	const username = `p-${role}-${++counter}-${Math.random().toString(36).slice(2, 6)}`;
	const fullName = options.fullName ?? `Test ${role} ${counter}`;
	const lineId = options.lineId ?? null;
	const userId = await database.transaction((tx) =>
		createUser(tx, SYSTEM_ACTOR, { username, fullName, canSign: false, grants: [{ role, lineId }] })
	);
	// Built then asserted: the principal type grows fields (customerId) other areas fill in.
	return {
		kind: 'user',
		userId,
		username,
		fullName,
		sessionId: 'test',
		customerId: null,
		canSign: false,
		grants: [{ role, siteId: null, lineId }]
	} as Person;
}

export interface ProductionWorld {
	lineId: number;
	otherLineId: number;
	/** L1.M1 (moulding) and L1.M2 (moulding), L2.M1 (leak-test). */
	m1: number;
	m2: number;
	otherLineMachine: number;
	productId: number;
	processVersionId: number;
	/** L1.M1.TEMP: spec 190..210 under the process version. */
	tempId: number;
	materialLots: Record<MaterialLotStatus, { id: number; code: string }>;
	materialId: number;
	supplierId: number;
}

const DAY = 86_400_000;

export async function productionWorld(database: Database): Promise<ProductionWorld> {
	await seedDemoPlant(database, smallPlant());
	const db = database.db;
	const [l1] = await db.select({ id: line.id }).from(line).where(eq(line.code, 'L1'));
	const [l2] = await db.select({ id: line.id }).from(line).where(eq(line.code, 'L2'));
	const machineId = async (code: string, operation: string) => {
		const [m] = await db
			.update(machine)
			.set({ operation })
			.where(eq(machine.code, code))
			.returning({ id: machine.id });
		return m.id;
	};
	const m1 = await machineId('L1.M1', 'moulding');
	const m2 = await machineId('L1.M2', 'moulding');
	const otherLineMachine = await machineId('L2.M1', 'leak-test');
	const [cust] = await db
		.insert(customer)
		.values({ code: 'ACME', name: 'Acme Medical' })
		.returning({ id: customer.id });
	const [prod] = await db
		.insert(product)
		.values({ code: 'PN-100', name: 'Luer connector', customerId: cust.id, lineId: l1.id })
		.returning({ id: product.id });
	const [pv] = await db
		.insert(processVersion)
		.values({
			productId: prod.id,
			version: 1,
			status: 'effective',
			effectiveFrom: new Date(Date.now() - 365 * DAY)
		})
		.returning({ id: processVersion.id });
	const tempId = await characteristicId(database, 'L1.M1.TEMP');
	await db
		.insert(processSpec)
		.values({ processVersionId: pv.id, characteristicId: tempId, lsl: 190, target: 200, usl: 210 });
	const [mat] = await db
		.insert(material)
		.values({ code: 'PC-RESIN', name: 'Polycarbonate resin', unit: 'kg' })
		.returning({ id: material.id });
	const [sup] = await db
		.insert(supplier)
		.values({ code: 'SUP1', name: 'Resin Supplier' })
		.returning({ id: supplier.id });
	const materialLots = {} as ProductionWorld['materialLots'];
	for (const status of ['validated', 'quarantine', 'rejected'] as const) {
		const code = `ML-${status.toUpperCase()}`;
		const [row] = await db
			.insert(materialLot)
			.values({
				code,
				materialId: mat.id,
				supplierId: sup.id,
				supplierLot: `S-${status}`,
				quantity: 500,
				receivedAt: new Date(Date.now() - 30 * DAY),
				status
			})
			.returning({ id: materialLot.id });
		materialLots[status] = { id: row.id, code };
	}
	return {
		lineId: l1.id,
		otherLineId: l2.id,
		m1,
		m2,
		otherLineMachine,
		productId: prod.id,
		processVersionId: pv.id,
		tempId,
		materialLots,
		materialId: mat.id,
		supplierId: sup.id
	};
}

/** A certification row (granting is the admin page's business; tests plant the facts). */
export async function certify(
	database: Database,
	userId: number,
	values: {
		operation?: string;
		machineId?: number | null;
		lineId?: number | null;
		validFrom?: Date;
		validTo?: Date;
		revokedAt?: Date | null;
	} = {}
): Promise<number> {
	const [row] = await database.db
		.insert(certification)
		.values({
			userId,
			operation: values.operation ?? 'moulding',
			machineId: values.machineId ?? null,
			lineId: values.lineId ?? null,
			validFrom: values.validFrom ?? new Date(Date.now() - 100 * DAY),
			validTo: values.validTo ?? new Date(Date.now() + 100 * DAY),
			revokedAt: values.revokedAt ?? null,
			evidence: 'TR-TEST'
		})
		.returning({ id: certification.id });
	return row.id;
}

export async function addInspectionPlan(
	database: Database,
	productId: number,
	values: {
		name?: string;
		trigger: InspectionTrigger;
		characteristicId?: number | null;
		everyParts?: number;
		everyMinutes?: number;
		graceMinutes?: number;
	}
): Promise<number> {
	const [row] = await database.db
		.insert(inspectionPlan)
		.values({
			productId,
			name: values.name ?? `${values.trigger} check`,
			trigger: values.trigger,
			characteristicId: values.characteristicId ?? null,
			everyParts: values.everyParts ?? null,
			everyMinutes: values.everyMinutes ?? null,
			graceMinutes: values.graceMinutes ?? 15
		})
		.returning({ id: inspectionPlan.id });
	return row.id;
}
