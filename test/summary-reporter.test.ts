/**
 * The closing "Tests: …" line (test/summary-reporter.ts) counts every failure that makes vitest exit
 * 1: run on fixtures holding a failing beforeAll and a file that fails to import, it must not say
 * "0 failed" (issue 12: a missing Chromium failed a hook, vitest exited 1, the line said 0 failed).
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const CONFIG = join(ROOT, 'test/fixtures/reporter/vitest.config.ts');

function runFixtures(pattern: string): { code: number | null; line: string | undefined } {
  const r = spawnSync(process.execPath, [VITEST, 'run', '--config', CONFIG], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, REPORTER_FIXTURES: pattern, CI: '' }, timeout: 60_000 });
  return { code: r.status, line: /^Tests: .*$/m.exec(r.stdout)?.[0] };
}

describe('summary reporter', () => {
  it.each([
    ['happy: passing and skipped tests only', 'ok.fixture.ts', 0, 'Tests: 1 passed, 0 failed, 1 skipped'],
    ['sad: a failing beforeAll counts as a failure (its tests are skipped)', 'hook.fixture.ts', 1, 'Tests: 0 passed, 1 failed, 2 skipped (failed: 1 hook)'],
    ['sad: a file that fails to import counts as a failure', 'import.fixture.ts', 1, 'Tests: 0 passed, 1 failed, 0 skipped (failed: 1 file)'],
    ['sad: all together', '*.fixture.ts', 1, 'Tests: 1 passed, 2 failed, 3 skipped (failed: 1 hook, 1 file)'],
  ])('%s', (_label, pattern, code, line) => {
    const r = runFixtures(pattern);
    expect(r.line).toBe(line);
    expect(r.code).toBe(code);
  });
});
