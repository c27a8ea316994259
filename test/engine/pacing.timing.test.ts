/**
 * Traffic fidelity, judged by the server: a loopback server timestamps every arrival itself, and
 * the per-second counts it saw are compared with the schedule. Bounds: ±2% of each second's count
 * (at least ±2 requests, since an arrival within a millisecond of a second's edge can land on either
 * side of it on a shared machine). A stall of the shared machine's event loop can push a second's
 * tail into the next; a pacing bug fails every time, a stall does not repeat: hence `retry: 2`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Arrivals, Phase } from '../../src/core/profile-types.js';
import { Recorder } from '../../src/core/recorder.js';
import { arrivals, planSchedule, scheduledPerSecond } from '../../src/core/schedule.js';
import { compileTimings } from '../../src/core/timing.js';
import { drive } from '../../src/engine/driver.js';
import { listen, type TestServer } from '../e2e/servers.js';

const open = (name: string, durationMs: number, rate: number, to = rate): Phase => ({ name, durationMs, model: 'open', rate, to, concurrency: 0, concurrencyTo: 0, warmup: false });

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serverSeen(phases: Phase[], kind: Arrivals = 'uniform', burstiness = 1): Promise<{ perSecond: number[]; expected: number[]; gaps: number[] }> {
  server = await listen((_q, res) => res.end('ok'));
  const plan = planSchedule(phases);
  let t0 = 0;
  await drive({
    url: server.url,
    method: 'GET',
    headers: {},
    body: undefined,
    timeoutMs: 5000,
    maxInFlight: 200,
    plan,
    arrivals: arrivals(plan, kind, 7, burstiness),
    recorder: new Recorder(plan.phases),
    extractor: compileTimings({ serverTiming: false, headers: {} }, undefined),
    clock: () => {
      const t = performance.now();
      if (t0 === 0) t0 = t;
      return t;
    },
  });
  const expected = scheduledPerSecond(plan);
  const perSecond = expected.map(() => 0);
  // server and driver share this process's performance.now(): bin arrivals by the driver's own t = 0
  for (const a of server.arrivals) {
    const s = Math.floor((a - t0) / 1000);
    if (s < perSecond.length) perSecond[s] = (perSecond[s] ?? 0) + 1;
  }
  const gaps = server.arrivals.slice(1).map((a, i) => a - (server?.arrivals[i] ?? 0));
  return { perSecond, expected, gaps };
}

function expectWithinBound(perSecond: number[], expected: number[]): void {
  expect(perSecond.reduce((a, b) => a + b, 0)).toBe(expected.reduce((a, b) => a + b, 0));
  perSecond.forEach((n, s) => {
    const want = expected[s] ?? 0;
    expect(Math.abs(n - want), `second ${s}: server saw ${n}, schedule says ${want}`).toBeLessThanOrEqual(Math.max(2, want * 0.02));
  });
}

const cv = (xs: number[]): number => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return Math.sqrt(variance) / mean;
};

describe('per-second counts at the server match the schedule', { retry: 2 }, () => {
  it('happy: a 20→200 req/s ramp over 4 s', async () => {
    const { perSecond, expected } = await serverSeen([open('ramp', 4000, 20, 200)]);
    expect(expected).toEqual([43, 87, 133, 177]);
    expectWithinBound(perSecond, expected);
  });

  it('happy: a spike 50 → 400 → 50 req/s, sharp at both edges', async () => {
    const { perSecond, expected } = await serverSeen([open('base', 1000, 50), open('peak', 1000, 400), open('recover', 1000, 50)]);
    expect(expected).toEqual([50, 400, 50]);
    expectWithinBound(perSecond, expected);
  });
});

describe('arrival processes as the server sees them', { retry: 2 }, () => {
  it('happy: gamma with burstiness 0.5 has a higher coefficient of variation of gaps than poisson', async () => {
    const poisson = await serverSeen([open('p', 3000, 150)], 'poisson');
    await server?.close();
    const gamma = await serverSeen([open('p', 3000, 150)], 'gamma', 0.5);
    // poisson gaps: CV ≈ 1; gamma(shape 0.5): CV ≈ √2 ≈ 1.41
    expect(cv(gamma.gaps)).toBeGreaterThan(cv(poisson.gaps) * 1.15);
    expect(cv(poisson.gaps)).toBeGreaterThan(0.8);
  });
});
