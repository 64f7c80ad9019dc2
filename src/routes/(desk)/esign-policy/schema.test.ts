import { describe, expect, it } from 'vitest';
import { acknowledgeForm, safeNext } from './schema';

describe('the way back after acknowledging the policy', () => {
	it('keeps a same-site path', () => {
		expect(safeNext('/characteristics/3')).toBe('/characteristics/3');
	});

	it.each([
		null,
		'',
		'https://evil.example/',
		'//evil.example/x',
		'/\\evil.example',
		'characteristics/3'
	])('drops %j, which could lead off the site', (next) => {
		expect(safeNext(next)).toBeNull();
	});

	it('requires the confirmation box', () => {
		expect(acknowledgeForm.safeParse({}).success).toBe(false);
		expect(acknowledgeForm.safeParse({ confirm: 'yes', next: '//x' }).data).toEqual({
			confirm: 'yes',
			next: null
		});
	});
});
