/**
 * The configurable code lists an acknowledgement draws from: assignable causes and actions
 * taken. Codes are never deleted (acknowledged alarms refer to them): they are deactivated, and
 * an inactive code is refused for new acknowledgements. Every change is audited.
 */
import { z } from 'zod';
import { appendAudit, type Actor } from '../audit/append';
import type { Database } from '../db';
import type { RawQuery } from '../db/raw';

export type CodeList = 'cause' | 'action';

export interface AlarmCodeView {
	id: number;
	list: CodeList;
	code: string;
	label: string;
	active: boolean;
}

/** Seeded at every start when missing (idempotent): a usable default, edited at /admin/alarm-codes. */
export const DEFAULT_ALARM_CODES: readonly { list: CodeList; code: string; label: string }[] = [
	{ list: 'cause', code: 'TOOL-WEAR', label: 'Tool wear' },
	{ list: 'cause', code: 'MATERIAL', label: 'Material variation' },
	{ list: 'cause', code: 'SETUP', label: 'Setup or changeover' },
	{ list: 'cause', code: 'GAUGE', label: 'Measurement / gauge error' },
	{ list: 'cause', code: 'OPERATOR', label: 'Operator method' },
	{ list: 'cause', code: 'ENVIRONMENT', label: 'Environment (temperature, humidity)' },
	{ list: 'cause', code: 'NO-CAUSE', label: 'No assignable cause found' },
	{ list: 'action', code: 'ADJUST', label: 'Process adjusted' },
	{ list: 'action', code: 'TOOL-CHANGE', label: 'Tool changed' },
	{ list: 'action', code: 'RECALIBRATE', label: 'Gauge recalibrated' },
	{ list: 'action', code: 'CONTAIN', label: 'Parts contained for review' },
	{ list: 'action', code: 'MONITOR', label: 'Monitoring, no change' },
	{ list: 'action', code: 'INSPECT', label: 'Inspection done late' }
];

export async function seedAlarmCodes(database: Database): Promise<{ created: number }> {
	return database.transaction(async (tx) => {
		let created = 0;
		for (const c of DEFAULT_ALARM_CODES) {
			const rows = await tx.query<{ id: number }>(
				`INSERT INTO alarm_code (list, code, label) VALUES ($1, $2, $3)
				ON CONFLICT (list, code) DO NOTHING RETURNING id`,
				[c.list, c.code, c.label]
			);
			if (rows.length === 0) continue;
			created++;
			await appendAudit(tx, {
				actor: { userId: null, label: 'system' },
				action: 'create',
				entityType: 'alarm-code',
				entityId: rows[0].id,
				newValues: { ...c, active: true },
				reason: 'default code list'
			});
		}
		return { created };
	});
}

export async function listAlarmCodes(
	q: RawQuery,
	options: { activeOnly?: boolean } = {}
): Promise<AlarmCodeView[]> {
	return q.query<AlarmCodeView>(
		`SELECT id, list, code, label, active FROM alarm_code
		${options.activeOnly ? 'WHERE active' : ''}
		ORDER BY list DESC, active DESC, label, id`
	);
}

export const codeSchema = z.object({
	list: z.enum(['cause', 'action']),
	code: z
		.string()
		.trim()
		.toUpperCase()
		.regex(/^[A-Z0-9][A-Z0-9_-]{0,31}$/, 'Letters, digits, - and _ only (at most 32)'),
	label: z.string().trim().min(2, 'At least 2 characters').max(120, 'At most 120 characters')
});

export type CodeResult =
	{ ok: true; id: number } | { ok: false; code: 'duplicate' | 'not_found'; message: string };

export async function createAlarmCode(
	database: Database,
	actor: Actor,
	input: z.infer<typeof codeSchema>
): Promise<CodeResult> {
	return database.transaction(async (tx) => {
		const rows = await tx.query<{ id: number }>(
			`INSERT INTO alarm_code (list, code, label) VALUES ($1, $2, $3)
			ON CONFLICT (list, code) DO NOTHING RETURNING id`,
			[input.list, input.code, input.label]
		);
		if (rows.length === 0) {
			return {
				ok: false as const,
				code: 'duplicate' as const,
				message: `The ${input.list} list already has code ${input.code}.`
			};
		}
		await appendAudit(tx, {
			actor,
			action: 'create',
			entityType: 'alarm-code',
			entityId: rows[0].id,
			newValues: { ...input, active: true }
		});
		return { ok: true as const, id: rows[0].id };
	});
}

/** Relabel and/or (de)activate one code. */
export async function updateAlarmCode(
	database: Database,
	actor: Actor,
	id: number,
	change: { label?: string; active?: boolean }
): Promise<CodeResult> {
	return database.transaction(async (tx) => {
		const [before] = await tx.query<AlarmCodeView>(
			'SELECT id, list, code, label, active FROM alarm_code WHERE id = $1 FOR UPDATE',
			[id]
		);
		if (!before)
			return { ok: false as const, code: 'not_found' as const, message: 'No such code.' };
		const label = change.label ?? before.label;
		const active = change.active ?? before.active;
		if (label === before.label && active === before.active) return { ok: true as const, id };
		await tx.query('UPDATE alarm_code SET label = $2, active = $3 WHERE id = $1', [
			id,
			label,
			active
		]);
		await appendAudit(tx, {
			actor,
			action: 'update',
			entityType: 'alarm-code',
			entityId: id,
			oldValues: { label: before.label, active: before.active },
			newValues: { label, active }
		});
		return { ok: true as const, id };
	});
}
