/**
 * Words and times of the lot record, the same on the server and in every browser (times in UTC
 * with the zone written out, as signatures show them: no hydration drift, no ambiguity in a
 * dossier printed in another country).
 */

/** `2026-03-10 11:00 UTC`; '—' for none. */
export function utcMinute(at: Date | string | number | null | undefined): string {
	if (at === null || at === undefined) return '—';
	const d = at instanceof Date ? at : new Date(at);
	if (Number.isNaN(d.getTime())) return '—';
	return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `2026-03-10`; '—' for none. */
export function utcDay(at: Date | null | undefined): string {
	return at ? at.toISOString().slice(0, 10) : '—';
}

export const LOT_STATUS_LABEL: Record<string, string> = {
	planned: 'Planned',
	running: 'Running',
	completed: 'Completed',
	in_review: 'In review',
	released: 'Released',
	rejected: 'Rejected'
};

export const MATERIAL_STATUS_LABEL: Record<string, string> = {
	quarantine: 'Quarantine',
	validated: 'Validated',
	rejected: 'Rejected'
};

export const TIMING_LABEL: Record<string, string> = {
	'on-time': 'On time',
	late: 'Late',
	missed: 'Missed',
	suspect: 'Suspect — awaiting confirmation',
	waived: 'Waived (deviation)',
	overdue: 'Overdue',
	pending: 'Pending'
};

export const STANDING_LABEL: Record<string, string> = {
	current: 'Certified',
	expired: 'Expired',
	'not-yet-valid': 'Not yet valid',
	revoked: 'Revoked'
};

/** Tone of a badge: good, warning, bad or neutral. */
export function tone(value: string): 'ok' | 'warn' | 'bad' | 'neutral' {
	if (['released', 'validated', 'on-time', 'current', 'closed', 'cleared'].includes(value))
		return 'ok';
	if (
		[
			'rejected',
			'missed',
			'expired',
			'revoked',
			'not-yet-valid',
			'overdue',
			'unacknowledged',
			'open'
		].includes(value)
	)
		return 'bad';
	if (
		['late', 'suspect', 'quarantine', 'in_review', 'running', 'acknowledged', 'returned'].includes(
			value
		)
	)
		return 'warn';
	return 'neutral';
}
