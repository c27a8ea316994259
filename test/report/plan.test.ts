import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeBudget, parseProfileText } from '../../src/core/profile/index.js';
import type { Profile } from '../../src/core/profile-types.js';
import { planSchedule } from '../../src/core/schedule.js';
import { renderPlan } from '../../src/report/plan.js';

const PROFILE = fileURLToPath(new URL('../fixtures/profiles/valid-full.yaml', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../fixtures/golden/plan.txt', import.meta.url));

function profile(): Profile {
  const res = parseProfileText(readFileSync(PROFILE, 'utf8'), (name) => (name === 'TOKEN' ? 'sekret' : undefined));
  if (!res.ok) throw new Error(`fixture invalid: ${JSON.stringify(res.problems)}`);
  return res.profile;
}

const render = (p: Profile = profile(), target = 'http://127.0.0.1:8080/v1/chat/completions'): string => renderPlan(p, planSchedule(p.phases), target);

describe('renderPlan', () => {
  it('happy: matches the golden file (UPDATE_GOLDEN=1 rewrites it)', () => {
    const out = render();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, out);
    expect(out).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it.each([
    // name, phase, start, end, rate, requests
    ['happy: warmup 20/s for 10s', 'warmup', '0ms', '10s', '20/s', '200'],
    ['happy: ramp 20→200/s over 60s sends 6600', 'ramp', '10s', '1m10s', '20→200/s (linear ramp)', '6600'],
    ['happy: spike 800/s for 5s', 'spike', '1m10s', '1m15s', '800/s', '4000'],
    ['happy: recover 100/s for 30s', 'recover', '1m15s', '1m45s', '100/s', '3000'],
  ])('%s', (_name, phase, start, end, rate, requests) => {
    const row = render()
      .split('\n')
      .find((l) => l.startsWith(`  ${phase} `));
    expect(row).toBeDefined();
    const cells = (row ?? '').trim().split(/ {2,}/);
    expect(cells.slice(0, 5)).toEqual([phase, start, end, rate, requests]);
  });

  it('happy: the warmup phase is marked as not budgeted, and only it', () => {
    const rows = render().split('\n').filter((l) => l.includes('warmup: not budgeted'));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.trimStart().startsWith('warmup')).toBe(true);
  });

  it('happy: the total line adds up the phases', () => {
    expect(render()).toContain('  total 13800 requests over 1m45s\n');
  });

  it('happy: header names profile, target, timeout, in-flight cap and seeded arrivals', () => {
    const lines = render().split('\n');
    expect(lines[0]).toBe('profile demo: valid');
    expect(lines[1]).toBe('target  POST http://127.0.0.1:8080/v1/chat/completions (timeout 30s, at most 500 in flight)');
    expect(lines[2]).toBe('arrivals poisson (seed 7)');
  });

  it('happy: every budget is listed in words, then the implicit load budget', () => {
    const p = profile();
    const out = render(p);
    expect(p.budgets).toHaveLength(7);
    for (const b of p.budgets) expect(out).toContain(` ${describeBudget(b)}\n`);
    for (const words of [
      'p50 of total ≤ 250ms',
      'p99 of total ≤ 800ms',
      'p99 of queue ≤ 150ms',
      'p99 of total (fallback path) ≤ 2s',
      'p99 of total (phase spike) ≤ 3s',
      'error rate ≤ 1%',
      'fallback rate ≤ 5%',
    ])
      expect(out).toContain(words);
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/^ {2}load delivered +at least 95% of scheduled requests sent on time \(always\)$/);
  });

  it.each([
    ['sad: no budgets says the run passes on load alone', { budgets: [] }, '(none: the run passes when the load is delivered)'],
    ['happy: uniform arrivals print no seed', { arrivals: 'uniform' as const }, 'arrivals uniform\n'],
  ])('%s', (_name, over, text) => {
    const out = render({ ...profile(), ...over });
    expect(out).toContain(text);
    if ('arrivals' in over) expect(out).not.toContain('seed');
  });
});
