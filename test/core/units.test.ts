import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, formatPercent, parseDuration, parsePercent } from '../../src/core/units.js';

describe('parseDuration', () => {
  it.each([
    ['happy', '30s', 30_000],
    ['happy', '250ms', 250],
    ['happy', '1.5s', 1_500],
    ['happy', '2m', 120_000],
    ['happy', '1h', 3_600_000],
    ['happy', '500us', 0.5],
    ['happy', '1m30s', 90_000],
    ['happy', ' 0s ', 0],
    ['happy', '.5s', 500],
    ['sad', 30, undefined],
    ['sad', '30', undefined],
    ['sad', '', undefined],
    ['sad', '-5s', undefined],
    ['sad', '5 s', undefined],
    ['sad', '5sec', undefined],
    ['sad', '5x', undefined],
    ['sad', '1.s', undefined],
    ['sad', null, undefined],
    ['sad', { s: 5 }, undefined],
  ] as const)('%s: %j → %j', (_label, input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });
});

describe('parsePercent', () => {
  it.each([
    ['happy', '1%', 0.01],
    ['happy', '0.5%', 0.005],
    ['happy', '100%', 1],
    ['happy', '0%', 0],
    ['happy', 0.25, 0.25],
    ['happy', 1, 1],
    ['sad', 5, undefined],
    ['sad', -0.1, undefined],
    ['sad', '101%', undefined],
    ['sad', '1', undefined],
    ['sad', '-1%', undefined],
    ['sad', 'one%', undefined],
    ['sad', Number.NaN, undefined],
    ['sad', true, undefined],
  ] as const)('%s: %j → %j', (_label, input, expected) => {
    expect(parsePercent(input)).toBe(expected);
  });
});

describe('formatDuration', () => {
  it.each([
    [800, '800ms'],
    [2_000, '2s'],
    [90_000, '1m30s'],
    [0.5, '0.5ms'],
    [0, '0ms'],
    [1_500, '1.5s'],
    [3_600_000, '1h'],
    [3_661_000, '1h1m1s'],
    [-250, '-250ms'],
  ])('%j → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration for any integer number of ms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000_000 }), (ms) => {
        const back = parseDuration(formatDuration(ms));
        expect(back).toBeDefined();
        expect(Math.abs((back ?? Number.NaN) - ms)).toBeLessThan(1e-6 * Math.max(1, ms));
      }),
    );
  });
});

describe('formatPercent', () => {
  it.each([
    [0.01, '1%'],
    [0.005, '0.5%'],
    [0.1, '10%'],
    [1, '100%'],
  ])('%j → %s', (fraction, text) => {
    expect(formatPercent(fraction)).toBe(text);
  });

  it('round-trips through parsePercent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (basisPoints) => {
        const fraction = basisPoints / 10_000;
        expect(parsePercent(formatPercent(fraction))).toBeCloseTo(fraction, 10);
      }),
    );
  });
});
