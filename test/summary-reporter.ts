/**
 * Prints one plain closing line after vitest's own summary, so CI logs can be read by tools that look
 * for it:
 *
 *   Tests: N passed, N failed, N skipped
 *   Tests: N passed, N failed, N skipped (failed: 1 hook, 1 file, 1 unhandled error)
 *
 * "failed" counts every failure that makes vitest exit 1, not only failed tests: a suite whose
 * beforeAll/afterAll threw (its tests are then reported as skipped), a file that failed outside any
 * suite (an import error, a top-level hook), and errors thrown outside any test. A line saying
 * "0 failed" under a red run would be read as green.
 */
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

export interface Tally {
  passed: number;
  failedTests: number;
  skipped: number;
  failedHooks: number;
  failedFiles: number;
  unhandled: number;
}

export function tally(modules: readonly TestModule[], unhandledErrors: readonly SerializedError[] = []): Tally {
  const t: Tally = { passed: 0, failedTests: 0, skipped: 0, failedHooks: 0, failedFiles: 0, unhandled: unhandledErrors.length };
  for (const m of modules) {
    for (const test of m.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') t.passed++;
      else if (state === 'failed') t.failedTests++;
      else t.skipped++;
    }
    // a suite's own errors are its hooks' (beforeAll/afterAll); its tests' failures are theirs
    for (const s of m.children.allSuites()) if (s.errors().length > 0) t.failedHooks++;
    // the module's own errors: collection (import, syntax) or a top-level hook
    if (m.errors().length > 0 || (m.state() === 'failed' && [...m.children.allTests()].length === 0)) t.failedFiles++;
  }
  return t;
}

export function summaryLine(t: Tally): string {
  const failed = t.failedTests + t.failedHooks + t.failedFiles + t.unhandled;
  const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
  const extra = [
    t.failedHooks > 0 ? plural(t.failedHooks, 'hook') : '',
    t.failedFiles > 0 ? plural(t.failedFiles, 'file') : '',
    t.unhandled > 0 ? plural(t.unhandled, 'unhandled error') : '',
  ].filter(Boolean);
  return `Tests: ${t.passed} passed, ${failed} failed, ${t.skipped} skipped${extra.length > 0 ? ` (failed: ${extra.join(', ')})` : ''}`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[], unhandledErrors: readonly SerializedError[]): void {
    process.stdout.write(`\n${summaryLine(tally(modules, unhandledErrors))}\n`);
  }
}
