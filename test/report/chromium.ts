/**
 * Where the browser test finds Chromium, and what it does without one. On a developer's machine
 * (no CI) a missing Chromium skips the browser test with the reason printed, so README's
 * `npm ci && npm test` passes on a fresh machine; in CI (`CI` set, as every CI service does) it is a
 * failure, since .ci/run installs Chromium and a CI run without it has not tested the HTML report.
 */
import { existsSync } from 'node:fs';

export const DEFAULT_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export type ChromiumLookup =
  | { kind: 'found'; path: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'fail'; reason: string };

const inCi = (v: string | undefined): boolean => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

export function findChromium(env: NodeJS.ProcessEnv, exists: (p: string) => boolean = existsSync): ChromiumLookup {
  if (env.BUDGETGATE_SKIP_BROWSER === '1') return { kind: 'skip', reason: 'BUDGETGATE_SKIP_BROWSER=1' };
  const candidates = env.BUDGETGATE_CHROMIUM !== undefined && env.BUDGETGATE_CHROMIUM !== '' ? [env.BUDGETGATE_CHROMIUM] : DEFAULT_CHROMIUM;
  const path = candidates.find((p) => exists(p));
  if (path !== undefined) return { kind: 'found', path };
  const where = candidates.join(' or ');
  const fix = 'install it (Debian: apt-get install -y chromium; .ci/run does this) or point BUDGETGATE_CHROMIUM at one';
  return inCi(env.CI)
    ? { kind: 'fail', reason: `Chromium not found at ${where} and CI is set: ${fix} (BUDGETGATE_SKIP_BROWSER=1 skips on purpose)` }
    : { kind: 'skip', reason: `Chromium not found at ${where}: ${fix}; CI=true makes this a failure` };
}
