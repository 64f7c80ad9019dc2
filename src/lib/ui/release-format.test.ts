import { describe, expect, it } from 'vitest';
import { formatWaiting } from './release-format';

describe('formatWaiting', () => {
	it('says minutes, then hours and minutes, then days and hours', () => {
		expect(formatWaiting(-5)).toBe('0 min');
		expect(formatWaiting(12 * 60_000)).toBe('12 min');
		expect(formatWaiting(200 * 60_000)).toBe('3 h 20 min');
		expect(formatWaiting(5 * 3_600_000)).toBe('5 h');
		expect(formatWaiting(52 * 3_600_000)).toBe('2 d 4 h');
		expect(formatWaiting(72 * 3_600_000)).toBe('3 d');
	});
});
