import { describe, expect, it } from 'vitest';
import { accessForm, createForm, fieldErrors, formInput } from './schema';

function formOf(entries: [string, string][]): FormData {
	const form = new FormData();
	for (const [k, v] of entries) form.append(k, v);
	return form;
}

describe('the user form schemas', () => {
	it('turns repeated role/scope fields into scoped grants', () => {
		const parsed = createForm.safeParse(
			formInput(
				formOf([
					['username', ' Jane.Doe '],
					['fullName', 'Jane Doe'],
					['email', ''],
					['canSign', 'on'],
					['role', 'operator'],
					['scope', 'line:3'],
					['role', 'shift-lead'],
					['scope', 'site:1'],
					['role', 'manager'],
					['scope', 'all']
				])
			)
		);
		expect(parsed.success && parsed.data).toEqual({
			username: 'jane.doe',
			fullName: 'Jane Doe',
			email: null,
			canSign: true,
			grants: [
				{ role: 'operator', siteId: null, lineId: 3 },
				{ role: 'shift-lead', siteId: 1, lineId: null },
				{ role: 'manager', siteId: null, lineId: null }
			],
			customerId: null
		});
	});

	it('reads the customer link of a customer account, and refuses a malformed one', () => {
		const base: [string, string][] = [
			['username', 'acme.qa'],
			['fullName', 'Acme QA'],
			['role', 'customer'],
			['scope', 'all']
		];
		const linked = createForm.safeParse(formInput(formOf([...base, ['customer', '7']])));
		expect(linked.success && linked.data.customerId).toBe(7);
		const none = createForm.safeParse(formInput(formOf([...base, ['customer', '']])));
		expect(none.success && none.data.customerId).toBeNull();
		const bad = createForm.safeParse(formInput(formOf([...base, ['customer', 'acme']])));
		expect(bad.success).toBe(false);
		if (!bad.success) expect(fieldErrors(bad.error).customerId).toBe('Choose a customer.');
	});

	it('names the field of each problem', () => {
		const parsed = createForm.safeParse(
			formInput(
				formOf([
					['username', '1x'],
					['fullName', ' '],
					['email', 'not-mail'],
					['role', 'overlord'],
					['scope', 'all']
				])
			)
		);
		expect(parsed.success).toBe(false);
		if (parsed.success) return;
		expect(Object.keys(fieldErrors(parsed.error)).sort()).toEqual([
			'email',
			'fullName',
			'grants',
			'username'
		]);
	});

	it('requires at least one role and a reason for access changes', () => {
		const parsed = accessForm.safeParse(
			formInput(
				formOf([
					['fullName', 'Jane Doe'],
					['reason', ' ']
				])
			)
		);
		expect(parsed.success).toBe(false);
		if (parsed.success) return;
		const errors = fieldErrors(parsed.error);
		expect(errors.grants).toMatch(/at least one role/);
		expect(errors.reason).toMatch(/reason/);
	});

	it('refuses a scope that is not all, a site or a line', () => {
		const parsed = createForm.safeParse(
			formInput(
				formOf([
					['username', 'jane'],
					['fullName', 'Jane'],
					['role', 'operator'],
					['scope', 'line:1;drop']
				])
			)
		);
		expect(parsed.success).toBe(false);
	});
});
