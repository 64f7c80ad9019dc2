import { describe, expect, it } from 'vitest';
import { materialRows, planForm, quantitiesForm, recordForm, startForm } from './schema';

function formOf(pairs: [string, string][]): FormData {
	const form = new FormData();
	for (const [k, v] of pairs) form.append(k, v);
	return form;
}

describe('station forms', () => {
	it('pairs repeated material code and quantity fields, leaving blank rows out', () => {
		const rows = materialRows(
			formOf([
				['materialCode', ' ML-1 '],
				['materialQty', '2.5'],
				['materialCode', ''],
				['materialQty', ''],
				['materialCode', 'ML-2'],
				['materialQty', '']
			])
		);
		expect(rows).toEqual([
			{ code: 'ML-1', quantity: '2.5' },
			{ code: 'ML-2', quantity: '' }
		]);
		const parsed = startForm.safeParse({ lotId: '3', machineId: '4', materials: rows });
		expect(parsed.success).toBe(false);
	});

	it('reads a pass/fail choice and an optional measured value', () => {
		expect(recordForm.parse({ inspectionId: '7', passed: 'fail', value: '' })).toMatchObject({
			inspectionId: 7,
			passed: false,
			value: undefined
		});
		const measured = recordForm.parse({ inspectionId: '7', value: '12.5' });
		expect(measured.value).toBe(12.5);
		expect(measured.passed).toBeUndefined();
		expect(recordForm.safeParse({ inspectionId: '7', value: 'abc' }).success).toBe(false);
	});

	it('refuses negative or fractional quantities and a zero planned quantity', () => {
		expect(
			quantitiesForm.safeParse({ lotId: '1', goodQty: '-1', scrapQty: '0', reworkQty: '0' }).success
		).toBe(false);
		expect(
			quantitiesForm.safeParse({ lotId: '1', goodQty: '1.5', scrapQty: '0', reworkQty: '0' })
				.success
		).toBe(false);
		expect(planForm.safeParse({ productId: '1', plannedQty: '0' }).success).toBe(false);
		expect(
			planForm.parse({ productId: '1', plannedQty: '500', plannedStart: '2026-12-05T06:00' })
		).toMatchObject({ plannedQty: 500, plannedStart: new Date('2026-12-05T06:00:00Z') });
	});
});
