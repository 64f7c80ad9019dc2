import { describe, expect, it } from 'vitest';
import { checkSuspect, createSuspectScreen, validateSuspectConfig } from './suspect';

// Expected outcomes follow directly from the definitions in suspect.ts / docs/spc-capability.md
// (boundaries worked by hand: spec 10..12 has width 2, so with k = 1 the screen starts
// strictly beyond 14 and strictly below 8).

describe('checkSuspect: not-finite values', () => {
	it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
		'flags %s as not-finite',
		(v) => {
			const flag = checkSuspect(v, { lsl: 10, usl: 12 }, undefined);
			expect(flag?.reason).toBe('not-finite');
			expect(flag?.message).toContain('not a finite number');
		}
	);

	it('checks finiteness before the physical range', () => {
		expect(checkSuspect(Number.NaN, undefined, { physicalMin: 0 })?.reason).toBe('not-finite');
	});
});

describe('checkSuspect: physical range', () => {
	const cfg = { physicalMin: 0, physicalMax: 100 };

	it('accepts values on the physical bounds', () => {
		expect(checkSuspect(0, undefined, cfg)).toBeNull();
		expect(checkSuspect(100, undefined, cfg)).toBeNull();
	});

	it('flags values strictly outside the physical range with the bound in the message', () => {
		const below = checkSuspect(-0.001, undefined, cfg);
		expect(below).toEqual({
			reason: 'outside-physical-range',
			message: "value -0.001 is below the instrument's physical minimum 0"
		});
		const above = checkSuspect(100.5, undefined, cfg);
		expect(above?.reason).toBe('outside-physical-range');
		expect(above?.message).toContain('physical maximum 100');
	});

	it('reports the physical range before a far-outside-spec verdict', () => {
		expect(checkSuspect(1000, { lsl: 10, usl: 12 }, cfg)?.reason).toBe('outside-physical-range');
	});

	it('applies a one-sided physical range', () => {
		expect(checkSuspect(-5, undefined, { physicalMin: 0 })?.reason).toBe('outside-physical-range');
		expect(checkSuspect(1e9, undefined, { physicalMin: 0 })).toBeNull();
	});
});

describe('checkSuspect: far outside a two-sided spec', () => {
	const spec = { lsl: 10, usl: 12 };

	it('uses one spec width by default, strictly', () => {
		expect(checkSuspect(14, spec, undefined)).toBeNull();
		expect(checkSuspect(8, spec, undefined)).toBeNull();
		expect(checkSuspect(14.000001, spec, undefined)?.reason).toBe('far-outside-spec');
		expect(checkSuspect(7.999999, spec, undefined)?.reason).toBe('far-outside-spec');
	});

	it('does not flag ordinary out-of-spec values', () => {
		expect(checkSuspect(13, spec, undefined)).toBeNull();
		expect(checkSuspect(9, spec, {})).toBeNull();
	});

	it('honours a configured number of spec widths', () => {
		const cfg = { specWidths: 3 };
		expect(checkSuspect(18, spec, cfg)).toBeNull();
		const flag = checkSuspect(18.5, spec, cfg);
		expect(flag?.reason).toBe('far-outside-spec');
		expect(flag?.message).toBe(
			'value 18.5 lies more than 3 spec widths (6) above the upper spec limit 12; likely an entry or sensor error'
		);
	});

	it('treats specWidths null as the default of 1', () => {
		expect(checkSuspect(14.5, spec, { specWidths: null })?.reason).toBe('far-outside-spec');
	});

	it('flags anything beyond the limits when k is 0', () => {
		expect(checkSuspect(12.01, spec, { specWidths: 0 })?.reason).toBe('far-outside-spec');
		expect(checkSuspect(12, spec, { specWidths: 0 })).toBeNull();
	});
});

describe('checkSuspect: far outside a one-sided spec', () => {
	it('measures the width from the target to the single upper limit', () => {
		// USL 5, target 1: W = 4, k = 1 → suspect strictly above 9; small values never.
		const spec = { usl: 5, target: 1 };
		expect(checkSuspect(9, spec, undefined)).toBeNull();
		expect(checkSuspect(9.5, spec, undefined)?.reason).toBe('far-outside-spec');
		expect(checkSuspect(-1000, spec, undefined)).toBeNull();
	});

	it('measures the width from the target to the single lower limit', () => {
		// LSL 20, target 50: W = 30 → suspect strictly below −10.
		const spec = { lsl: 20, target: 50 };
		expect(checkSuspect(-10, spec, undefined)).toBeNull();
		const flag = checkSuspect(-11, spec, undefined);
		expect(flag?.reason).toBe('far-outside-spec');
		expect(flag?.message).toContain('below the lower spec limit 20');
		expect(checkSuspect(1e6, spec, undefined)).toBeNull();
	});

	it('has no spec screen for a one-sided spec without a target', () => {
		expect(checkSuspect(1e12, { usl: 5 }, undefined)).toBeNull();
		expect(checkSuspect(1e12, { usl: 5, target: 5 }, undefined)).toBeNull();
	});

	it('has no spec screen without spec limits', () => {
		expect(checkSuspect(1e12, undefined, { specWidths: 1 })).toBeNull();
		expect(checkSuspect(1e12, { target: 3 }, undefined)).toBeNull();
	});
});

describe('validateSuspectConfig', () => {
	it('accepts an empty configuration', () => {
		expect(() => validateSuspectConfig(undefined, undefined)).not.toThrow();
	});

	it.each([
		[{}, { physicalMin: 5, physicalMax: 1 }, /physicalMin/],
		[{}, { specWidths: -1 }, /specWidths/],
		[{}, { physicalMax: Number.NaN }, /finite/],
		[{ lsl: 3, usl: 3 }, {}, /lsl/],
		[{ lsl: 4, usl: 3 }, {}, /lsl/],
		[{ lsl: 1, usl: 3, target: 7 }, {}, /target/],
		[{ usl: Number.POSITIVE_INFINITY }, {}, /finite/]
	])('rejects spec %o with config %o', (spec, cfg, message) => {
		expect(() => validateSuspectConfig(spec, cfg)).toThrow(message);
		expect(() => checkSuspect(1, spec, cfg)).toThrow(RangeError);
	});
});

describe('checkSuspect memoisation of the configuration', () => {
	it('notices an in-place edit of the spec between calls', () => {
		const spec = { lsl: 10, usl: 12 };
		expect(checkSuspect(15, spec, undefined)?.reason).toBe('far-outside-spec');
		spec.usl = 20; // W = 10 → the screen now starts beyond 30
		expect(checkSuspect(15, spec, undefined)).toBeNull();
	});

	it('re-validates a configuration that became invalid in place', () => {
		const cfg: { physicalMin: number; physicalMax: number } = { physicalMin: 0, physicalMax: 10 };
		expect(checkSuspect(5, undefined, cfg)).toBeNull();
		cfg.physicalMin = Number.NaN;
		expect(() => checkSuspect(5, undefined, cfg)).toThrow(RangeError);
		expect(() => checkSuspect(5, undefined, cfg)).toThrow(RangeError);
	});

	it('keeps interleaved characteristics apart', () => {
		const narrow = { lsl: 0, usl: 1 };
		const wide = { lsl: 0, usl: 100 };
		for (let i = 0; i < 3; i++) {
			expect(checkSuspect(50, narrow, undefined)?.reason).toBe('far-outside-spec');
			expect(checkSuspect(50, wide, undefined)).toBeNull();
			expect(checkSuspect(50, undefined, { physicalMax: 10 })?.reason).toBe(
				'outside-physical-range'
			);
		}
	});

	it('gives the same verdicts through a precomputed screen', () => {
		const spec = { lsl: 10, usl: 12 };
		const cfg = { physicalMin: 0, physicalMax: 100, specWidths: 2 };
		const screen = createSuspectScreen(spec, cfg);
		for (const v of [-1, 0, 5.9, 6, 11, 16, 16.1, 100, 100.1, Number.NaN]) {
			expect(screen.check(v)).toEqual(checkSuspect(v, spec, cfg));
		}
		expect(() => createSuspectScreen({ lsl: 2, usl: 1 }, undefined)).toThrow(RangeError);
	});
});

describe('suspect message numbers', () => {
	it('prints a computed spec width without float noise', () => {
		const flag = checkSuspect(124.4, { lsl: 12.25, usl: 12.55 }, undefined);
		expect(flag?.message).toContain('(0.3)');
		expect(flag?.message).not.toMatch(/0\.3000000/);
	});
});
