import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addUsd, unitsToUsd, usdUnits } from '../../src/model/formats.js';

describe('exact USD sums', () => {
  it('keep every digit of a run and never round a small one away', () => {
    expect(addUsd(0.00123456789)).toBe(0.00123456789);
    expect(addUsd(4e-7)).toBe(4e-7);
    expect(addUsd(0.1, 0.2)).toBe(0.3);
    expect(addUsd(...Array.from({ length: 1000 }, () => 0.001))).toBe(1);
    expect(addUsd(1.5, -0.25)).toBe(1.25);
  });

  it('sum as the integers the figures are, whatever the order', () => {
    const nanos = fc.array(fc.integer({ min: 0, max: 10_000_000_000 }), { maxLength: 50 });
    fc.assert(
      fc.property(nanos, (ns) => {
        const values = ns.map((n) => n / 1e9);
        const exact = ns.reduce((s, n) => s + BigInt(n), 0n);
        expect(usdUnits(addUsd(...values))).toBe(exact * 10n ** 9n);
        expect(addUsd(...values)).toBe(addUsd(...[...values].reverse()));
      }),
    );
  });

  it('convert back to the nearest number', () => {
    expect(unitsToUsd(usdUnits(123.456789012))).toBe(123.456789012);
    expect(unitsToUsd(0n)).toBe(0);
  });
});
