import { describe, expect, it } from 'vitest';
import { numberArrayLiteral } from './writer';

describe('numberArrayLiteral', () => {
	it('writes each number as String(x) does, the text the drivers sent before', () => {
		const xs = [1, -0, 0.1 + 0.2, 100.00123456789012, 1_763_808_925_123, 1e21, -5e-324];
		expect(numberArrayLiteral(xs)).toBe(`{${xs.map((x) => String(x)).join(',')}}`);
	});

	it('writes null as an unquoted NULL and an empty list as {}', () => {
		expect(numberArrayLiteral([1, null, 2])).toBe('{1,null,2}');
		expect(numberArrayLiteral([])).toBe('{}');
	});

	it.each([NaN, Infinity, -Infinity])('refuses %s instead of writing null', (x) => {
		expect(() => numberArrayLiteral([1, x])).toThrow(RangeError);
	});
});
