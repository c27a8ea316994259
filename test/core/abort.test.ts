import { describe, expect, it } from 'vitest';
import { AbortWatch } from '../../src/core/abort.js';
import type { Budget } from '../../src/core/profile-types.js';
import type { ObservedTimings } from '../../src/core/recorder.js';

const PHASES = [{ name: 'steady', warmup: false }];
const ok: ObservedTimings = { stages: new Map(), unmeasured: [], path: 'primary' };
const p50 = (over: Partial<Budget> = {}): Budget => ({ kind: 'latency', id: 'total p50', stage: 'total', key: 'p50', limitMs: 100, abort: { windowMs: 3000, afterMs: 2000 }, ...over }) as Budget;

/** 50 completions a second with latency `ms(second)`, for seconds [from, to). */
function feed(w: AbortWatch, to: number, ms: (s: number) => number, from = 0): void {
  for (let s = from; s < to; s++) {
    for (let i = 0; i < 50; i++) {
      const done = s * 1000 + i * 20;
      w.completed(0, done - ms(s), done, ok);
    }
  }
}

describe('AbortWatch', () => {
  it('happy: only budgets with abort are watched', () => {
    expect(new AbortWatch([p50({ abort: undefined })], PHASES).active).toBe(false);
    expect(new AbortWatch([p50()], PHASES).active).toBe(true);
  });

  it('sad: a window whose p50 breaks the limit trips, with the reason in words', () => {
    const w = new AbortWatch([p50()], PHASES);
    feed(w, 3, () => 20);
    expect(w.check(2999)).toBeUndefined(); // seconds 0-2: fast
    feed(w, 6, () => 300, 3);
    const d = w.check(5999);
    expect(d?.verdict.status).toBe('fail');
    expect(d?.verdict.reason).toMatch(/^aborted at 6\.0s: over the last 3s, p50 of total was 300ms > 100ms/);
  });

  it('happy: nothing trips before `after`, however bad', () => {
    const w = new AbortWatch([p50({ abort: { windowMs: 3000, afterMs: 10_000 } } as Partial<Budget>)], PHASES);
    feed(w, 6, () => 500);
    expect(w.check(5999)).toBeUndefined();
  });

  it('happy: a window too thin to judge is inconclusive and does not abort', () => {
    const w = new AbortWatch([p50({ key: 'p99' } as Partial<Budget>)], PHASES); // p99 needs 1,000 samples
    feed(w, 6, () => 500);
    expect(w.check(5999)).toBeUndefined();
  });

  it('happy: a slow start slides out of the window', () => {
    const w = new AbortWatch([p50()], PHASES);
    feed(w, 8, (s) => (s < 2 ? 500 : 20));
    expect(w.check(7999)).toBeUndefined();
  });

  it('sad: an error-rate budget trips on a window of errors', () => {
    const w = new AbortWatch([{ kind: 'errorRate', id: 'errorRate', max: 0.05, abort: { windowMs: 2000, afterMs: 0 } }], PHASES);
    for (let i = 0; i < 100; i++) (i % 5 === 0 ? w.failed(0, 1000 + i, 'primary') : w.completed(0, 1000 + i - 10, 1000 + i, ok));
    expect(w.check(1999)?.verdict.reason).toMatch(/error rate was 20%/);
  });
});
