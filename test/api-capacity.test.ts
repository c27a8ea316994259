/**
 * capacity() from the API, without the CLI: the search runs against a loopback server, reports its
 * progress as events and returns the capacity with the confirmation step's report.
 */
import { describe, expect, it } from 'vitest';
import { capacity, type CapacityEvent } from '../src/api.js';
import { BudgetgateError } from '../src/core/errors.js';
import { recordingServer } from './e2e/servers.js';

const profile = (url: string, budgets: object[] = [{ errorRate: '1%' }]): object => ({
  name: 'api-capacity',
  target: { url, method: 'GET' },
  phases: [{ name: 'p', duration: '1s', rate: 10 }],
  budgets,
});

describe('capacity()', () => {
  // retry: 1 s open steps at 20 and 40 req/s break on 2–3 late sends; the search re-runs a step once, not twice
  it('happy: a server that holds every rate up to `to` is a ceiling, confirmed, with every step as an event', { retry: 2, timeout: 60_000 }, async () => {
    const s = await recordingServer();
    const events: CapacityEvent[] = [];
    const out = await capacity(profile(s.url), { from: 20, to: 40, precision: 0.5, minStepMs: 1000, cooldownMs: 0, warmupMs: 0, onEvent: (e) => events.push(e) });
    expect(out.interrupted).toBe(false);
    expect(out.capacity).toMatchObject({ rps: 40, outcome: 'ceiling', confirmed: true, from: 20, to: 40 });
    expect(out.capacity.steps.map((x) => [x.rate, x.held, x.confirmation === true])).toEqual([[20, true, false], [40, true, false], [40, true, true]]);
    expect(events.filter((e) => e.kind === 'step').map((e) => (e.kind === 'step' ? e.rate : 0))).toEqual([20, 40, 40]);
    expect(events.filter((e) => e.kind === 'result')).toHaveLength(3);
    expect(out.report?.capacity).toBe(out.capacity);
    expect(out.report?.phases.map((p) => p.rate)).toEqual([40]);
  });

  it('sad: `to` above the profile\'s maxRate and a profile without budgets are refused before any load', async () => {
    const s = await recordingServer();
    const high = await capacity(profile(s.url), { to: 6000 }).catch((e: unknown) => e);
    expect((high as BudgetgateError).kind).toBe('usage');
    expect((high as Error).message).toMatch(/--to 6000 is above the profile's maxRate \(5000 req\/s\)/);
    const none = await capacity(profile(s.url, []), { source: 'p.yaml' }).catch((e: unknown) => e);
    expect((none as Error).message).toBe('p.yaml: capacity needs at least one budget to search against');
    expect(s.bodies).toHaveLength(0);
  });
});
