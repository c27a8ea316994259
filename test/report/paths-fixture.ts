/** A report recorded with cache, primary and fallback paths and cached_tokens (report tests share it). */
import { evaluateBudgets } from '../../src/core/budgets.js';
import { parseProfile } from '../../src/core/profile/index.js';
import { Recorder } from '../../src/core/recorder.js';
import { REPORT_SCHEMA, type RunResult } from '../../src/core/report.js';

export function pathsReport(): RunResult {
  const phases = ['warm', 'steady', 'spike'].map((name, i) => ({ name, warmup: i === 0, model: 'open' as const, startMs: i * 2000, endMs: (i + 1) * 2000, rate: 10, to: 10, concurrency: 0, concurrencyTo: 0, requests: 20 }));
  const r = new Recorder(phases);
  // per phase: 8 cache hits (all 100 prompt tokens cached), 10 primary (25 cached), 2 fallback (no details)
  phases.forEach((ph, i) => {
    for (let k = 0; k < 20; k++) {
      const t = ph.startMs + k * 100;
      const path = k < 8 ? 'cache' : k < 18 ? 'primary' : 'fallback';
      const cached = path === 'cache' ? 100 : path === 'primary' ? 25 : undefined;
      r.sent(i, t, t, false);
      r.completed(i, t, t + (path === 'cache' ? 5 : 40), { stages: new Map(), unmeasured: [], path, tokens: { input: 100, output: 8, source: 'usage', ...(cached !== undefined ? { cached } : {}) } });
    }
  });
  const parsed = parseProfile({ name: 'paths', paths: [{ name: 'cache', when: { header: 'x-sim-cache', equals: 'HIT' } }], fallback: { header: 'x-route', equals: 'fallback' }, phases: [{ name: 'warm', duration: '2s', rate: 10, warmup: true }, { name: 'steady', duration: '2s', rate: 10 }, { name: 'spike', duration: '2s', rate: 10 }], budgets: [{ pathShare: 'cache', min: '30%' }, { promptCacheShare: '>= 50%' }, { stage: 'total', path: 'cache', max: '50ms' }] }, () => undefined);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const rep = r.report(6000);
  return { schema: REPORT_SCHEMA, tool: { name: 'budgetgate', version: 'test' }, profile: 'paths', target: 'http://127.0.0.1:1/', arrivals: 'uniform', startedAt: '2026-12-01T00:00:00.000Z', durationMs: 6000, verdict: 'pass', interrupted: false, budgets: evaluateBudgets(parsed.profile.budgets, r.measurements()), ...rep };
}
