/**
 * The fast subset of `npm run fuzz` (scripts/fuzz.ts): the same targets, 2,000 cases each. A target
 * fails when any input made it throw something other than BudgetgateError/ProfileError.
 */
import { describe, expect, it } from 'vitest';
import { fuzzTarget, TARGETS } from '../../scripts/fuzz.js';

describe('fuzz (fast subset)', () => {
  for (const t of TARGETS) {
    it(`happy: ${t.name} throws only typed errors on 2,000 arbitrary inputs`, () => {
      const r = fuzzTarget(t, 2000);
      expect(r.firstFailure?.error ?? '').toBe('');
      expect(r.failures).toBe(0);
    });
  }

  it('sad: the harness counts an untyped exception as a failure (it can fail)', () => {
    const r = fuzzTarget({ name: 'throws', arbitrary: TARGETS[0]?.arbitrary ?? (null as never), run: () => JSON.parse('{') as unknown }, 50);
    expect(r.failures).toBe(50);
    expect(r.firstFailure?.error).toMatch(/SyntaxError/);
  });
});
