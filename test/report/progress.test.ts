import { describe, expect, it } from 'vitest';
import { planSchedule } from '../../src/core/schedule.js';
import type { Tick } from '../../src/core/tick.js';
import { renderProgress } from '../../src/report/progress.js';

const plan = planSchedule([
  { name: 'ramp', durationMs: 10_000, model: 'open', rate: 20, to: 200, concurrency: 0, concurrencyTo: 0, warmup: false },
  { name: 'users', durationMs: 5000, model: 'closed', rate: 0, to: 0, concurrency: 8, concurrencyTo: 32, warmup: true },
]);
const progress = { scheduled: 120, sent: 118, completed: 900, errors: 3, fallback: 7, p99: 412.5 };

describe('renderProgress', () => {
  it.each<[string, Tick, RegExp]>([
    ['happy: an open phase shows target vs achieved rate', { tMs: 6000, phase: plan.phases[0], inFlight: 14, progress }, /^\s+6s {2}ramp\s+target 120\/s, achieved 118\/s {2}in flight 14 {2}p99 413ms {2}errors 3 {2}fallback 7$/],
    ['happy: a closed warmup phase shows its users', { tMs: 12_000, phase: plan.phases[1], inFlight: 20, progress }, /users \(warmup\)\s+users 8→32, achieved 118\/s/],
    ['sad: after the last phase it is draining, and no p99 yet reads as a dash', { tMs: 16_000, phase: undefined, inFlight: 2, progress: { ...progress, p99: Number.NaN } }, /draining .* p99 — /],
  ])('%s', (_name, tick, re) => {
    expect(renderProgress(tick)).toMatch(re);
  });
});
