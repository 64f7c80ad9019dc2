import { describe, expect, it } from 'vitest';
import { editForm, signForm } from './schema';

const SIGN = {
	recordType: 'control-limit-version',
	recordId: '12',
	recordVersion: '3',
	meaning: 'approved',
	password: 'secret words here'
};

describe('the sign form', () => {
	it('reads a later signing without user ID as "no user ID"', () => {
		const parsed = signForm.parse({ ...SIGN, username: '  ', reason: '' });
		expect(parsed).toMatchObject({ recordVersion: 3, username: null, reason: null });
	});

	it('refuses unknown record types and meanings, and an empty password', () => {
		expect(signForm.safeParse({ ...SIGN, recordType: 'lot' }).success).toBe(false);
		expect(signForm.safeParse({ ...SIGN, meaning: 'liked' }).success).toBe(false);
		expect(signForm.safeParse({ ...SIGN, password: '' }).success).toBe(false);
		expect(signForm.safeParse({ ...SIGN, recordId: '1 OR 1=1' }).success).toBe(false);
	});
});

describe('the edit form', () => {
	const EDIT = {
		versionId: '4',
		expectedRevision: '2',
		centre: '1101.5',
		sigma: '4',
		source: 'baseline',
		justification: 'more data',
		reason: 'typo'
	};

	it('turns the numbers into numbers', () => {
		expect(editForm.parse(EDIT)).toMatchObject({ centre: 1101.5, sigma: 4, expectedRevision: 2 });
	});

	it('refuses a centre that is not a number and an edit without a reason', () => {
		expect(editForm.safeParse({ ...EDIT, centre: 'abc' }).success).toBe(false);
		expect(editForm.safeParse({ ...EDIT, centre: '' }).success).toBe(false);
		expect(editForm.safeParse({ ...EDIT, reason: ' ' }).success).toBe(false);
	});
});
