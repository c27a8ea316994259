import { defineConfig } from 'vitest/config';

// Three groups, one after the other:
// - unit: pure code (core, renderers, manifests, scripts), two files at a time: nothing in them reads a clock.
// - network: files that start loopback servers and drive load at them (e2e, engine, sim, the API),
//   one at a time: their verdicts include the implicit load-delivered one (sends ≤ 10 ms late) and
//   counts over wall-clock seconds, which another such file on the same two cores skews (CI: a run
//   exiting 1 on load delivered, 377 of > 400 closed-loop requests in 4 s, 44 of 45 errors in time).
// - timing: files named *.timing.test.ts measure send times and token pacing to the millisecond, beside
//   a bare sender or reader in the same minute; with test/real/ (a CPU-bound llama-server), one at a time.
const timing = 'test/**/*.timing.test.ts';
const real = 'test/real/**/*.test.ts';
const unit = ['test/core/**/*.test.ts', 'test/report/**/*.test.ts', 'test/deploy/**/*.test.ts', 'test/scripts/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/summary-reporter.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/summary-reporter.ts'],
    // FC_SEED replays a failed fast-check property from the seed it printed
    setupFiles: ['./test/fast-check-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: unit, exclude: [timing, real], maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'network', include: ['test/**/*.test.ts'], exclude: [...unit, timing, real], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'timing', include: [timing, real], fileParallelism: false, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
