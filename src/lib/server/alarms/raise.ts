/**
 * Raising an alarm that does not come from the ingest path: a missed inspection (the production
 * code's due-inspection sweep), and later stale-data or manual raises. SPC and spec violations
 * are raised in bulk by the batch writer (src/lib/server/samples/writer.ts) with the same rules.
 *
 * The alarm starts `unacknowledged`, or `suppressed` by design when its machine is not running
 * (changeover, idle): ISA-18.2 state-based suppression, so a machine being set up does not
 * flood the wall. Runs inside the caller's transaction and audits the raise there; after the
 * commit the caller pushes it live with `publishAlarms` (./live.ts).
 */
import { appendAudit, type Actor } from '../audit/append';
import type { TxContext } from '../db';
import { fromEpochMs } from '../db/raw';

export interface RaiseAlarmInput {
	kind: 'spc' | 'spec' | 'inspection' | 'stale';
	lineId: number;
	machineId: number | null;
	characteristicId: number | null;
	inspectionId?: number | null;
	rule: string;
	message: string;
	ts: Date;
}

/** A raise refused before touching the database: the caller passed something impossible. */
export class RaiseAlarmError extends Error {
	constructor(
		readonly code: 'bad_input' | 'unknown_machine' | 'machine_not_on_line',
		message: string
	) {
		super(message);
		this.name = 'RaiseAlarmError';
	}
}

const MAX_RULE = 64;
const MAX_MESSAGE = 500;

export async function raiseAlarm(
	tx: TxContext,
	input: RaiseAlarmInput,
	actor: Actor
): Promise<{ id: number }> {
	const rule = input.rule.trim();
	const message = input.message.trim();
	if (rule.length === 0 || rule.length > MAX_RULE) {
		throw new RaiseAlarmError('bad_input', `raiseAlarm: rule must be 1-${MAX_RULE} characters`);
	}
	if (message.length === 0 || message.length > MAX_MESSAGE) {
		throw new RaiseAlarmError(
			'bad_input',
			`raiseAlarm: message must be 1-${MAX_MESSAGE} characters`
		);
	}
	const ms = input.ts.getTime();
	if (!Number.isFinite(ms)) throw new RaiseAlarmError('bad_input', 'raiseAlarm: invalid ts');

	let mode: string = 'running';
	if (input.machineId !== null) {
		const [machine] = await tx.query<{ line_id: number; mode: string }>(
			'SELECT line_id, mode FROM machine WHERE id = $1',
			[input.machineId]
		);
		if (!machine) {
			throw new RaiseAlarmError('unknown_machine', `raiseAlarm: no machine ${input.machineId}`);
		}
		if (machine.line_id !== input.lineId) {
			throw new RaiseAlarmError(
				'machine_not_on_line',
				`raiseAlarm: machine ${input.machineId} is not on line ${input.lineId}`
			);
		}
		mode = machine.mode;
	}
	const suppressed = mode !== 'running';
	const state = suppressed ? 'suppressed' : 'unacknowledged';
	const stateBefore = suppressed ? 'unacknowledged' : null;
	const setAsideReason = suppressed ? `machine ${mode}` : null;

	const [row] = await tx.query<{ id: number }>(
		`INSERT INTO alarm (kind, line_id, machine_id, characteristic_id, inspection_id, rule, ts,
			last_ts, message, state, state_before, set_aside_reason, point_ts)
		VALUES ($1, $2, $3, $4, $5, $6, ${fromEpochMs('$7::float8')}, ${fromEpochMs('$7::float8')},
			$8, $9, $10, $11, $12::jsonb)
		RETURNING id`,
		[
			input.kind,
			input.lineId,
			input.machineId,
			input.characteristicId,
			input.inspectionId ?? null,
			rule,
			ms,
			message,
			state,
			stateBefore,
			setAsideReason,
			JSON.stringify([ms])
		]
	);
	await appendAudit(tx, {
		actor,
		action: 'create',
		entityType: 'alarm',
		entityId: row.id,
		newValues: {
			kind: input.kind,
			lineId: input.lineId,
			machineId: input.machineId,
			characteristicId: input.characteristicId,
			inspectionId: input.inspectionId ?? null,
			rule,
			message,
			ts: new Date(ms).toISOString(),
			state,
			stateBefore,
			setAsideReason
		}
	});
	return { id: row.id };
}
