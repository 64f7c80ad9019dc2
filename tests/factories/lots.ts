/**
 * Lots and everything around them for the drill-down and traceability tests: customers,
 * products, process versions, material lots, certifications, lots with runs, consumption,
 * inspections, alarms, shipments, summaries and deviations — inserted directly (the production
 * services that enforce the rules are tested on their own; here the record must be whatever the
 * test needs, including the departures a lot history has to show).
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Role } from '$lib/auth/roles';
import { SYSTEM_ACTOR } from '$lib/server/audit/append';
import type { Principal } from '$lib/server/auth/policy';
import { createUser } from '$lib/server/auth/users';
import type { Database } from '$lib/server/db';
import {
	alarm,
	appUser,
	certification,
	customer,
	deviation,
	inspection,
	inspectionPlan,
	line,
	lot,
	lotMaterial,
	lotParameterSummary,
	machine,
	material,
	materialLot,
	processSpec,
	processVersion,
	product,
	run,
	shipment,
	supplier
} from '$lib/server/db/schema';
import { seedDemoPlant } from '$lib/server/plant/service';
import { smallPlant } from './db';

const tag = () => randomBytes(3).toString('hex');

export interface LotWorld {
	lines: Record<string, number>;
	machines: Record<string, number>;
	siteId: number;
}

/** The small test plant (two lines, three machines) with its ids by code. */
export async function lotWorld(database: Database): Promise<LotWorld> {
	await seedDemoPlant(database, smallPlant());
	const lines = await database.db.select().from(line);
	const machines = await database.db.select().from(machine);
	return {
		lines: Object.fromEntries(lines.map((l) => [l.code, l.id])),
		machines: Object.fromEntries(machines.map((m) => [m.code, m.id])),
		siteId: lines[0].siteId
	};
}

/** A user (audited creation) and the principal a session for them would carry. */
export async function person(
	database: Database,
	role: Role,
	options: { fullName?: string; lineId?: number; customerId?: number | null } = {}
): Promise<Extract<Principal, { kind: 'user' }>> {
	const username = `p-${role}-${tag()}`;
	const fullName = options.fullName ?? `Test ${role} ${tag()}`;
	const userId = await database.transaction((tx) =>
		createUser(tx, SYSTEM_ACTOR, {
			username,
			fullName,
			grants: [{ role, lineId: options.lineId ?? null }]
		})
	);
	if (options.customerId !== undefined) {
		await database.db
			.update(appUser)
			.set({ customerId: options.customerId })
			.where(eq(appUser.id, userId));
	}
	return {
		kind: 'user',
		userId,
		username,
		fullName,
		sessionId: `test-${tag()}`,
		canSign: false,
		grants: [{ role, siteId: null, lineId: options.lineId ?? null }],
		customerId: options.customerId ?? null
	};
}

export async function makeCustomer(database: Database, name = 'Customer'): Promise<number> {
	const [row] = await database.db
		.insert(customer)
		.values({ code: `C-${tag()}`, name: `${name} ${tag()}` })
		.returning({ id: customer.id });
	return row.id;
}

/** A product of `customerId` on `lineId` with an effective process version (and its specs). */
export async function makeProduct(
	database: Database,
	customerId: number,
	lineId: number,
	options: { code?: string; specs?: { characteristicId: number; lsl: number; usl: number }[] } = {}
): Promise<{ productId: number; processVersionId: number; code: string }> {
	const code = options.code ?? `PN-${tag()}`;
	const [p] = await database.db
		.insert(product)
		.values({ code, name: `Part ${code}`, customerId, lineId })
		.returning({ id: product.id });
	const [pv] = await database.db
		.insert(processVersion)
		.values({ productId: p.id, version: 1, status: 'effective', effectiveFrom: new Date(0) })
		.returning({ id: processVersion.id });
	for (const s of options.specs ?? []) {
		await database.db.insert(processSpec).values({
			processVersionId: pv.id,
			characteristicId: s.characteristicId,
			lsl: s.lsl,
			target: (s.lsl + s.usl) / 2,
			usl: s.usl
		});
	}
	return { productId: p.id, processVersionId: pv.id, code };
}

/** A received material lot (validated by `decidedBy` unless another status is asked). */
export async function makeMaterialLot(
	database: Database,
	options: {
		status?: 'quarantine' | 'validated' | 'rejected';
		decidedBy?: number;
		supplierLot?: string;
		code?: string;
		materialCode?: string;
	} = {}
): Promise<{ materialLotId: number; code: string; supplierLot: string; materialId: number }> {
	const [s] = await database.db
		.insert(supplier)
		.values({ code: `SUP-${tag()}`, name: `Supplier ${tag()}` })
		.returning({ id: supplier.id });
	const [m] = await database.db
		.insert(material)
		.values({ code: options.materialCode ?? `MAT-${tag()}`, name: 'PC resin', unit: 'kg' })
		.returning({ id: material.id });
	const status = options.status ?? 'validated';
	const code = options.code ?? `ML-${tag()}`;
	const supplierLot = options.supplierLot ?? `SL-${tag()}`;
	const [ml] = await database.db
		.insert(materialLot)
		.values({
			code,
			materialId: m.id,
			supplierId: s.id,
			supplierLot,
			quantity: 500,
			receivedAt: new Date('2026-01-02T08:00:00Z'),
			status,
			decidedBy: status === 'quarantine' ? null : (options.decidedBy ?? null),
			decidedAt: status === 'quarantine' ? null : new Date('2026-01-03T09:00:00Z'),
			evidence: status === 'quarantine' ? null : 'CoA 4711 checked'
		})
		.returning({ id: materialLot.id });
	return { materialLotId: ml.id, code, supplierLot, materialId: m.id };
}

export async function makeCertification(
	database: Database,
	userId: number,
	operation: string,
	validFrom: Date,
	validTo: Date,
	scope: { machineId?: number; lineId?: number } = {}
): Promise<number> {
	const [row] = await database.db
		.insert(certification)
		.values({
			userId,
			operation,
			lineId: scope.lineId ?? null,
			machineId: scope.machineId ?? null,
			validFrom,
			validTo,
			evidence: `Training record ${tag()}`
		})
		.returning({ id: certification.id });
	return row.id;
}

export async function makeLot(
	database: Database,
	p: { productId: number; processVersionId: number },
	lineId: number,
	options: {
		code?: string;
		status?: 'planned' | 'running' | 'completed' | 'in_review' | 'released' | 'rejected';
		startedAt?: Date | null;
		completedAt?: Date | null;
	} = {}
): Promise<{ lotId: number; code: string }> {
	const code = options.code ?? `LOT-${tag()}`;
	const [row] = await database.db
		.insert(lot)
		.values({
			code,
			productId: p.productId,
			processVersionId: p.processVersionId,
			lineId,
			plannedQty: 1000,
			goodQty: 980,
			scrapQty: 15,
			reworkQty: 5,
			status: options.status ?? 'completed',
			startedAt: options.startedAt ?? null,
			completedAt: options.completedAt ?? null
		})
		.returning({ id: lot.id });
	return { lotId: row.id, code };
}

export async function makeRun(
	database: Database,
	lotId: number,
	machineId: number,
	operatorId: number,
	startedAt: Date,
	endedAt: Date | null,
	options: { operation?: string; certificationId?: number | null } = {}
): Promise<number> {
	const [row] = await database.db
		.insert(run)
		.values({
			lotId,
			machineId,
			operatorId,
			operation: options.operation ?? 'moulding',
			startedAt,
			endedAt,
			certificationId: options.certificationId ?? null,
			checks: { certification: { ok: options.certificationId != null } }
		})
		.returning({ id: run.id });
	return row.id;
}

export async function consume(
	database: Database,
	lotId: number,
	materialLotId: number,
	runId: number | null,
	consumedAt: Date
): Promise<number> {
	const [row] = await database.db
		.insert(lotMaterial)
		.values({ lotId, materialLotId, runId, quantity: 12.5, consumedAt })
		.returning({ id: lotMaterial.id });
	return row.id;
}

export async function makeInspectionPlan(
	database: Database,
	productId: number,
	options: { graceMinutes?: number; name?: string } = {}
): Promise<number> {
	const [row] = await database.db
		.insert(inspectionPlan)
		.values({
			productId,
			name: options.name ?? 'First-article dimension check',
			trigger: 'every-t-minutes',
			everyMinutes: 60,
			graceMinutes: options.graceMinutes ?? 15
		})
		.returning({ id: inspectionPlan.id });
	return row.id;
}

export async function makeInspection(
	database: Database,
	lotId: number,
	planId: number,
	seq: number,
	dueAt: Date,
	result: {
		status: 'due' | 'done' | 'missed' | 'suspect' | 'waived';
		doneAt?: Date;
		doneBy?: number;
		value?: number;
		runId?: number;
	}
): Promise<number> {
	const [row] = await database.db
		.insert(inspection)
		.values({
			lotId,
			planId,
			seq,
			dueAt,
			runId: result.runId ?? null,
			status: result.status,
			doneAt: result.doneAt ?? null,
			doneBy: result.doneBy ?? null,
			value: result.value ?? null,
			passed: result.status === 'done' ? true : null,
			suspectReason: result.status === 'suspect' ? 'far outside spec' : null
		})
		.returning({ id: inspection.id });
	return row.id;
}

export async function makeAlarm(
	database: Database,
	characteristicId: number,
	machineId: number,
	lineId: number,
	ts: Date,
	options: { rule?: string; value?: number; state?: string } = {}
): Promise<number> {
	const [row] = await database.db
		.insert(alarm)
		.values({
			characteristicId,
			machineId,
			lineId,
			kind: 'spc',
			rule: (options.rule ?? 'nelson-1') as never,
			ts,
			lastTs: ts,
			message: 'Point beyond the control limits',
			value: options.value ?? 215,
			state: (options.state ?? 'cleared') as never,
			pointTs: [ts.getTime()]
		})
		.returning({ id: alarm.id });
	return row.id;
}

export async function makeShipment(
	database: Database,
	lotId: number,
	customerId: number,
	shippedAt: Date
): Promise<number> {
	const [row] = await database.db
		.insert(shipment)
		.values({ code: `SH-${tag()}`, lotId, customerId, quantity: 400, shippedAt })
		.returning({ id: shipment.id });
	return row.id;
}

export async function storeSummary(
	database: Database,
	lotId: number,
	characteristicId: number,
	stats: { count: number; min: number; max: number; mean: number; sd: number; counts: number[] }
): Promise<void> {
	await database.db.insert(lotParameterSummary).values({
		lotId,
		characteristicId,
		count: stats.count,
		min: stats.min,
		max: stats.max,
		mean: stats.mean,
		sd: stats.sd,
		histogram: { lo: stats.min, hi: stats.max, counts: stats.counts }
	});
}

export async function openDeviation(
	database: Database,
	lotId: number,
	openedBy: number,
	options: { inspectionId?: number } = {}
): Promise<number> {
	const [row] = await database.db
		.insert(deviation)
		.values({
			code: `DEV-${tag()}`,
			title: 'Inspection missed during night shift',
			description: 'Operator called away; parts quarantined and re-inspected.',
			lotId,
			inspectionId: options.inspectionId ?? null,
			openedBy
		})
		.returning({ id: deviation.id });
	return row.id;
}
