import { defineConfig } from 'vitest/config';

// Two groups, one after the other. Most files run two at a time. Files named *.timing.test.ts measure
// wall-clock behaviour (send times, token pacing) to the millisecond, so they run afterwards, one at a
// time, when nothing else in the suite competes for the two cores.
const timing = 'test/**/*.timing.test.ts';
// test/real/ drives a real llama-server (CPU-bound): with the timing files, one at a time, after the rest
const real = 'test/real/**/*.test.ts';

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
        test: { name: 'parallel', include: ['test/**/*.test.ts'], exclude: [timing, real], maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'timing', include: [timing, real], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
