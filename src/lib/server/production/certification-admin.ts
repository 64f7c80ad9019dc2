/**
 * Granting and revoking certifications (`certification:manage`). A certification is never
 * edited or deleted: it is granted with its evidence and validity, and revoked with a reason;
 * the lot records cite the one that qualified each run. Reads of "who is certified when" live
 * in certifications.ts.
 */
import { and, desc, eq, isNull } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { appendAudit } from '../audit/append';
import type { Database } from '../db';
import { appUser, certification, line, machine } from '../db/schema';
import { actorOf, ensureCan, type Person } from './access';
import { standingAt, type CertificationStanding } from './certifications';
import { ProductionError } from './errors';

export const CERTIFICATION_ENTITY = 'certification';

export interface GrantInput {
	userId: number;
	operation: string;
	/** Both null: the operation anywhere. */
	lineId: number | null;
	machineId: number | null;
	validFrom: Date;
	validTo: Date;
	evidence: string;
}

export async function grantCertification(
	database: Database,
	person: Person,
	input: GrantInput
): Promise<{ id: number }> {
	ensureCan(person, 'certification:manage');
	const operation = input.operation.trim().toLowerCase();
	const evidence = input.evidence.trim();
	if (!/^[a-z0-9][a-z0-9 ._-]{0,59}$/.test(operation)) {
		throw new ProductionError('invalid', 'Name the operation (letters, digits, dash).', {
			field: 'operation'
		});
	}
	if (evidence.length < 3) {
		throw new ProductionError(
			'invalid',
			'Name the evidence: training record, assessment or certificate.',
			{
				field: 'evidence'
			}
		);
	}
	if (input.validTo.getTime() <= input.validFrom.getTime()) {
		throw new ProductionError('invalid', 'Valid to must be after valid from.', {
			field: 'validTo'
		});
	}
	if (input.lineId !== null && input.machineId !== null) {
		throw new ProductionError('invalid', 'Choose a line or a machine, not both.', {
			field: 'scope'
		});
	}
	return database.transaction(async (tx) => {
		const [u] = await tx.db
			.select({ id: appUser.id, disabledAt: appUser.disabledAt })
			.from(appUser)
			.where(eq(appUser.id, input.userId));
		if (!u) throw new ProductionError('invalid', 'Choose a person.', { field: 'userId' });
		if (u.disabledAt)
			throw new ProductionError('invalid', 'That account is disabled.', { field: 'userId' });
		if (input.machineId !== null) {
			const [m] = await tx.db
				.select({ id: machine.id })
				.from(machine)
				.where(eq(machine.id, input.machineId));
			if (!m) throw new ProductionError('invalid', 'No such machine.', { field: 'scope' });
		}
		if (input.lineId !== null) {
			const [l] = await tx.db.select({ id: line.id }).from(line).where(eq(line.id, input.lineId));
			if (!l) throw new ProductionError('invalid', 'No such line.', { field: 'scope' });
		}
		const values = {
			userId: input.userId,
			operation,
			lineId: input.lineId,
			machineId: input.machineId,
			validFrom: input.validFrom,
			validTo: input.validTo,
			evidence,
			grantedBy: person.userId
		};
		const [row] = await tx.db
			.insert(certification)
			.values(values)
			.returning({ id: certification.id });
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'create',
			entityType: CERTIFICATION_ENTITY,
			entityId: row.id,
			newValues: values
		});
		return row;
	});
}

export async function revokeCertification(
	database: Database,
	person: Person,
	input: { id: number; reason: string; now?: Date }
): Promise<void> {
	ensureCan(person, 'certification:manage');
	const reason = input.reason.trim();
	if (reason.length < 3)
		throw new ProductionError('invalid', 'Give a reason for the audit trail.', { field: 'reason' });
	await database.transaction(async (tx) => {
		const now = input.now ?? new Date();
		const [row] = await tx.db
			.update(certification)
			.set({ revokedAt: now, revokedBy: person.userId, revokeReason: reason })
			.where(and(eq(certification.id, input.id), isNull(certification.revokedAt)))
			.returning({ id: certification.id });
		if (!row) {
			const [exists] = await tx.db
				.select({ id: certification.id })
				.from(certification)
				.where(eq(certification.id, input.id));
			throw exists
				? new ProductionError('illegal-transition', 'This certification is already revoked.')
				: new ProductionError('not-found', 'No such certification.');
		}
		await appendAudit(tx, {
			actor: actorOf(person),
			action: 'revoke',
			entityType: CERTIFICATION_ENTITY,
			entityId: input.id,
			oldValues: { revokedAt: null },
			newValues: { revokedAt: now, revokeReason: reason },
			reason
		});
	});
}

export interface CertificationListItem {
	id: number;
	userId: number;
	userName: string;
	operation: string;
	lineCode: string | null;
	machineName: string | null;
	validFrom: Date;
	validTo: Date;
	evidence: string;
	grantedByName: string | null;
	revokedAt: Date | null;
	revokeReason: string | null;
	standing: CertificationStanding;
	/** Current, but ending within 30 days. */
	expiringSoon: boolean;
}

export async function listCertifications(
	database: Database,
	filter: { userId?: number; limit?: number } = {},
	now = new Date()
): Promise<CertificationListItem[]> {
	const granter = alias(appUser, 'granter');
	const rows = await database.db
		.select({
			id: certification.id,
			userId: certification.userId,
			userName: appUser.fullName,
			operation: certification.operation,
			lineCode: line.code,
			machineName: machine.name,
			validFrom: certification.validFrom,
			validTo: certification.validTo,
			evidence: certification.evidence,
			grantedByName: granter.fullName,
			revokedAt: certification.revokedAt,
			revokeReason: certification.revokeReason
		})
		.from(certification)
		.innerJoin(appUser, eq(appUser.id, certification.userId))
		.leftJoin(granter, eq(granter.id, certification.grantedBy))
		.leftJoin(line, eq(line.id, certification.lineId))
		.leftJoin(machine, eq(machine.id, certification.machineId))
		.where(filter.userId ? eq(certification.userId, filter.userId) : undefined)
		.orderBy(desc(certification.validTo), desc(certification.id))
		.limit(Math.min(filter.limit ?? 500, 2000));
	return rows.map((r) => {
		const standing = standingAt(r, now);
		return {
			...r,
			standing,
			expiringSoon: standing === 'current' && r.validTo.getTime() - now.getTime() < 30 * 86_400_000
		};
	});
}

/** People, lines, machines and known operations for the grant form. */
export async function grantOptions(database: Database) {
	const [people, lines, machines] = await Promise.all([
		database.db
			.select({ id: appUser.id, fullName: appUser.fullName, username: appUser.username })
			.from(appUser)
			.where(isNull(appUser.disabledAt))
			.orderBy(appUser.fullName),
		database.db
			.select({ id: line.id, code: line.code, name: line.name })
			.from(line)
			.orderBy(line.code),
		database.db
			.select({
				id: machine.id,
				code: machine.code,
				name: machine.name,
				operation: machine.operation
			})
			.from(machine)
			.orderBy(machine.code)
	]);
	const operations = [
		...new Set(machines.flatMap((m) => (m.operation ? [m.operation] : [])))
	].sort();
	return { people, lines, machines, operations };
}
