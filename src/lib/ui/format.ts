/**
 * Display formatting for walls: UCUM unit codes as people write them, values at the
 * characteristic's precision, rule ids in words. Pure, so every screen shows the same text.
 */
import type { LiveAlarm } from '$lib/realtime/events';
import type { LiveStatus } from '$lib/realtime/status';

const UNIT_WORDS: Record<string, string> = {
	Cel: '°C',
	'[degF]': '°F',
	'1': '',
	'%': '%',
	'[psi]': 'psi',
	'[in_i]': 'in'
};

const SUPERSCRIPT: Record<string, string> = {
	'-': '⁻',
	'0': '⁰',
	'1': '¹',
	'2': '²',
	'3': '³',
	'4': '⁴',
	'5': '⁵',
	'6': '⁶',
	'7': '⁷',
	'8': '⁸',
	'9': '⁹'
};

/**
 * A UCUM code as it is written on a label: `Cel` → `°C`, `mJ/cm2` → `mJ/cm²`, `N.m` → `N·m`,
 * `N/(15.mm)` → `N/15 mm`, `{defects}` → `defects`, `1` → `` (a pure number).
 */
export function formatUnit(ucum: string): string {
	const known = UNIT_WORDS[ucum];
	if (known !== undefined) return known;
	return (
		ucum
			// Annotations {…} are words for people already.
			.replace(/\{([^}]*)\}/g, '$1')
			// "per 15 mm": a leading factor inside parentheses reads as a quantity.
			.replace(/\((\d+)\.([A-Za-z[\]_]+)\)/g, '$1 $2')
			.replace(/\(([^)]*)\)/g, '$1')
			// Exponents after a unit symbol (cm2, s-1).
			.replace(/([A-Za-z\]])(-?\d+)/g, (_, symbol: string, exp: string) => {
				return symbol + [...exp].map((c) => SUPERSCRIPT[c] ?? c).join('');
			})
			.replace(/\./g, '·')
			.replace(/Cel/g, '°C')
	);
}

/** A value at `decimals` places, with a real minus sign; an em dash when there is none. */
export function formatValue(value: number | null | undefined, decimals: number): string {
	if (value === null || value === undefined || !Number.isFinite(value)) return '—';
	const text = value.toFixed(Math.max(0, Math.min(10, decimals)));
	return text.startsWith('-') ? `−${text.slice(1)}` : text;
}

/** Short name of what fired, shown before the message on an alarm. */
export function ruleLabel(rule: LiveAlarm['rule']): string {
	if (rule === 'spec') return 'Out of spec';
	if (rule === 'stale') return 'No data';
	if (rule === 'suspect') return 'Suspect value';
	if (rule === 'inspection-missed') return 'Inspection missed';
	const nelson = /^nelson(\d)$/.exec(rule);
	if (nelson) return `Nelson rule ${nelson[1]}`;
	const we = /^we(\d)$/.exec(rule);
	if (we) return `Western Electric rule ${we[1]}`;
	return rule;
}

export const STATUS_LABELS: Record<LiveStatus, string> = {
	'in-control': 'In control',
	warning: 'Warning',
	'out-of-spec': 'Out of spec',
	stale: 'Stale',
	offline: 'Offline'
};

/** HH:MM:SS in the screen's local time zone (a wall shows the plant's clock). */
export function formatClock(ms: number): string {
	const d = new Date(ms);
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "12 s ago", "4 min ago", "2 h ago": how old a reading or signal is. */
export function formatAge(ms: number): string {
	const s = Math.max(0, Math.round(ms / 1000));
	if (s < 60) return `${s} s ago`;
	const min = Math.round(s / 60);
	if (min < 60) return `${min} min ago`;
	return `${Math.round(min / 60)} h ago`;
}
