/** Words for alarm states and kinds, the same on every desk page. */
import type { AlarmKind, AlarmStateName } from '$lib/realtime/events';

export const ALARM_STATE_LABEL: Record<AlarmStateName, string> = {
	unacknowledged: 'Unacknowledged',
	acknowledged: 'Acknowledged',
	returned: 'Returned, unacknowledged',
	cleared: 'Cleared',
	shelved: 'Shelved',
	suppressed: 'Suppressed by design',
	out_of_service: 'Out of service'
};

export const ALARM_KIND_LABEL: Record<AlarmKind, string> = {
	spc: 'SPC rule',
	spec: 'Out of spec',
	inspection: 'Missed inspection',
	stale: 'No data'
};

/** CSS tone of a state: what needs a person is loud, what is set aside is quiet. */
export function alarmTone(state: AlarmStateName): 'bad' | 'warn' | 'ok' | 'muted' {
	if (state === 'unacknowledged') return 'bad';
	if (state === 'returned' || state === 'acknowledged') return 'warn';
	if (state === 'cleared') return 'ok';
	return 'muted';
}

/**
 * One line saying what the alarm is: "Inspection missed: <plan> … on <machine>" for a missed
 * inspection (its message already names the plan and lot), else the message itself.
 */
export function alarmWhat(a: {
	kind: AlarmKind;
	message: string;
	machineCode: string | null;
}): string {
	if (a.kind !== 'inspection') return a.message;
	const text = a.message.replace(/^Inspection missed:\s*/i, '');
	return `Inspection missed: ${text}${a.machineCode ? ` on ${a.machineCode}` : ''}`;
}
