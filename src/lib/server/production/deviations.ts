/**
 * Deviations, minimal: opened from a lot, an alarm or an inspection, and closed. A deviation
 * linked to a lot covers that lot's overdue and missed inspections; one linked to an inspection
 * (directly, or through the missed-inspection alarm it was opened from) covers that inspection.
 * Covered inspections become `waived` when the lot completes (lots.ts). The investigation and
 * CAPA workflow builds on this record later.
 */
import { eq, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/append';
import type { Database, TxContext } from '../db';
import { alarm, deviation, inspection, lot } from '../db/schema';
import { actorOf, ensureCan, type Person } from './access';
import { ProductionError } from './errors';

export const DEVIATION_ENTITY = 'deviation';

export interface OpenDeviationInput {
	title: string;
	description: string;
	lotId?: number | null;
	alarmId?: number | null;
	inspectionId?: number | null;
	now?: Date;
}

export async function openDeviation(
	database: Database,
	person: Person,
	input: OpenDeviationInput
): Promise<{ id: number; code: string }> {
	ensureCan(person, 'deviation:open');
	const title = input.title.trim();
	const description = input.description.trim();
	if (title.length < 3)
		throw new ProductionError('invalid', 'Give the deviation a title.', { field: 'title' });
	if (description.length < 3) {
		throw new ProductionError('invalid', 'Describe what departed from the process or plan.', {
			field: 'description'
		});
	}
	if (!input.lotId && !input.alarmId && !input.inspectionId) {
		throw new ProductionError('invalid', 'Link the deviation to a lot, an alarm or an inspection.');
	}
	return database.transaction(async (tx) => {
		let lotId = input.lotId ?? null;
		if (input.inspectionId) {
			const [i] = await tx.db
				.select({ lotId: inspection.lotId })
				.from(inspection)
				.where(eq(inspection.id, input.inspectionId));
			if (!i) throw new ProductionError('not-found', 'No such inspection.');
			if (lotId !== null && lotId !== i.lotId) {
				throw new ProductionError('invalid', 'The inspection belongs to another lot.');
			}
			lotId = i.lotId;
		}
		if (lotId !== null) {
			const [l] = await tx.db.select({ id: lot.id }).from(lot).where(eq(lot.id, lotId));
			if (!l) throw new ProductionError('not-found', 'No such lot.');
		}
		if (input.alarmId) {
			const [a] = await tx.db
				.select({ id: alarm.id })
				.from(alarm)
				.where(eq(alarm.id, input.alarmId));
			if (!a) throw new ProductionError('not-found', 'No such alarm.');
		}
		const [{ id }] = await tx.query<{ id: number }>(
			`SELECT nextval(pg_get_serial_sequence('deviation', 'id'))::float8 AS id`
		);
		const now = input.now ?? new Date();
		const code = `DEV-${now.getUTCFullYear()}-${String(id).padStart(5, '0')}`;
		const values = {
			id,
			code,
			title,
			description,
			lotId,
			alarmId: input.alarmId ?? null,
			inspectionId: input.inspectionId ?? null,
			status: 'open' as const,
			openedBy: person.userId,
			openedAt: now
		};
		await tx.db.insert(deviation).values(values);
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'create',
			entityType: DEVIATION_ENTITY,
			entityId: id,
			newValues: values
		});
		return { id, code };
	});
}

export async function closeDeviation(
	database: Database,
	person: Person,
	input: { id: number; reason: string; now?: Date }
): Promise<void> {
	ensureCan(person, 'deviation:open');
	const reason = input.reason.trim();
	if (reason.length < 3)
		throw new ProductionError('invalid', 'Say why it is closed.', { field: 'reason' });
	await database.transaction(async (tx) => {
		const [d] = await tx.db
			.select({ status: deviation.status })
			.from(deviation)
			.where(eq(deviation.id, input.id))
			.for('update');
		if (!d) throw new ProductionError('not-found', 'No such deviation.');
		if (d.status !== 'open')
			throw new ProductionError('illegal-transition', 'The deviation is already closed.');
		const now = input.now ?? new Date();
		await tx.db
			.update(deviation)
			.set({ status: 'closed', closedAt: now, closedBy: person.userId })
			.where(eq(deviation.id, input.id));
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'state',
			entityType: DEVIATION_ENTITY,
			entityId: input.id,
			oldValues: { status: 'open' },
			newValues: { status: 'closed', closedAt: now },
			reason
		});
	});
}

/**
 * The deviation covering an inspection of `lotId`, if any: one on the inspection itself, on a
 * missed-inspection alarm about it, or on the lot. Most specific first.
 */
export async function coveringDeviation(
	tx: TxContext,
	lotId: number,
	inspectionId: number
): Promise<{ id: number; code: string } | null> {
	const [row] = await tx.db
		.select({ id: deviation.id, code: deviation.code })
		.from(deviation)
		.leftJoin(alarm, eq(alarm.id, deviation.alarmId))
		.where(
			sql`${deviation.inspectionId} = ${inspectionId} OR ${alarm.inspectionId} = ${inspectionId} OR (${deviation.lotId} = ${lotId} AND ${deviation.inspectionId} IS NULL AND ${deviation.alarmId} IS NULL)`
		)
		.orderBy(
			sql`(${deviation.inspectionId} IS NOT NULL) DESC, (${deviation.alarmId} IS NOT NULL) DESC, ${deviation.id}`
		)
		.limit(1);
	return row ?? null;
}
