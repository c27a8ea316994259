import { describe, expect, it } from 'vitest';
import { findChromium } from './chromium.js';

const none = (): boolean => false;
const only = (p: string) => (q: string): boolean => q === p;

describe('findChromium', () => {
  it.each([
    ['happy: the default path', {}, only('/usr/bin/chromium'), 'found'],
    ['happy: BUDGETGATE_CHROMIUM', { BUDGETGATE_CHROMIUM: '/opt/c/chrome' }, only('/opt/c/chrome'), 'found'],
    ['sad: missing, not in CI → skipped with a reason', {}, none, 'skip'],
    ['sad: missing, CI=true → a failure', { CI: 'true' }, none, 'fail'],
    ['sad: missing, CI=1 → a failure', { CI: '1' }, none, 'fail'],
    ['sad: missing, CI=false → skipped', { CI: 'false' }, none, 'skip'],
    ['sad: BUDGETGATE_CHROMIUM pointing nowhere, in CI → a failure, not the default', { CI: 'true', BUDGETGATE_CHROMIUM: '/nonexistent/chromium' }, only('/usr/bin/chromium'), 'fail'],
    ['happy: BUDGETGATE_SKIP_BROWSER=1 skips even in CI', { CI: 'true', BUDGETGATE_SKIP_BROWSER: '1' }, none, 'skip'],
  ] as const)('%s', (_label, env, exists, kind) => {
    const r = findChromium(env, exists);
    expect(r.kind).toBe(kind);
    if (r.kind !== 'found') expect(r.reason.length).toBeGreaterThan(10);
  });
  it('sad: the skip reason names the path and the fix', () => {
    const r = findChromium({ BUDGETGATE_CHROMIUM: '/nonexistent/chromium' }, none);
    expect(r).toEqual({ kind: 'skip', reason: expect.stringMatching(/\/nonexistent\/chromium.*apt-get install -y chromium/) });
  });
});
