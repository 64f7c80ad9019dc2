import { describe, expect, it } from 'vitest';
import { formatAge, formatUnit, formatValue, ruleLabel } from './format';

describe('formatUnit', () => {
	it('writes UCUM codes the way labels do', () => {
		expect(formatUnit('Cel')).toBe('°C');
		expect(formatUnit('mJ/cm2')).toBe('mJ/cm²');
		expect(formatUnit('mW/cm2')).toBe('mW/cm²');
		expect(formatUnit('N.m')).toBe('N·m');
		expect(formatUnit('N/(15.mm)')).toBe('N/15 mm');
		expect(formatUnit('Pa/s')).toBe('Pa/s');
		expect(formatUnit('s-1')).toBe('s⁻¹');
	});

	it('turns annotations into words and drops the unit of pure numbers', () => {
		expect(formatUnit('{defects}')).toBe('defects');
		expect(formatUnit('{defects}/{unit}')).toBe('defects/unit');
		expect(formatUnit('1')).toBe('');
	});
});

describe('formatValue', () => {
	it('rounds to the characteristic precision with a true minus sign', () => {
		expect(formatValue(230.449, 1)).toBe('230.4');
		expect(formatValue(-0.5, 2)).toBe('−0.50');
		expect(formatValue(1100.4, 0)).toBe('1100');
	});

	it('shows a dash when there is no value', () => {
		expect(formatValue(null, 1)).toBe('—');
		expect(formatValue(undefined, 1)).toBe('—');
	});
});

describe('ruleLabel', () => {
	it('names rules in words', () => {
		expect(ruleLabel('nelson2')).toBe('Nelson rule 2');
		expect(ruleLabel('we3')).toBe('Western Electric rule 3');
		expect(ruleLabel('spec')).toBe('Out of spec');
	});
});

describe('formatAge', () => {
	it('uses the largest sensible unit', () => {
		expect(formatAge(12_400)).toBe('12 s ago');
		expect(formatAge(4 * 60_000)).toBe('4 min ago');
		expect(formatAge(2 * 3_600_000)).toBe('2 h ago');
	});
});
