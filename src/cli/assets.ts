/** Reads the charting library the HTML report inlines (the renderer itself does no I/O). */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { BudgetgateError } from '../core/errors.js';
import type { ChartLib } from '../report/html.js';

let cached: Promise<ChartLib> | undefined;

export function loadChartLib(): Promise<ChartLib> {
  cached ??= (async () => {
    const require = createRequire(import.meta.url);
    try {
      const [js, css] = await Promise.all([
        readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
        readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
      ]);
      return { js, css };
    } catch (e) {
      cached = undefined;
      throw new BudgetgateError('io', `cannot read the uPlot charting library for the HTML report (is the uplot package installed?): ${(e as Error).message}`);
    }
  })();
  return cached;
}
