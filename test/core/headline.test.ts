import { describe, expect, it } from 'vitest';
import { headline } from '../../src/core/headline.js';
import { mergeReports } from '../../src/core/merge.js';
import { Recorder } from '../../src/core/recorder.js';
import { REPORT_SCHEMA, type PhaseReport, type RunResult } from '../../src/core/report.js';

const phase = (o: Partial<PhaseReport>): PhaseReport => ({
  name: 'p', warmup: false, model: 'open', concurrency: 0, concurrencyTo: 0, startMs: 0, endMs: 1000, rate: 1, to: 1,
  scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, errorKinds: {}, fallbackErrors: 0, fallbackSignals: {}, ...o,
});

describe('headline figures', () => {
  it('happy: budgeted phases only: sent, ok and output tokens over their time', () => {
    const h = headline({
      durationMs: 12_000,
      phases: [
        phase({ name: 'warm', warmup: true, startMs: 0, endMs: 2000, sent: 40, completed: 40, outputTokens: 999 }),
        phase({ name: 'a', startMs: 2000, endMs: 6000, sent: 400, completed: 396, errors: 4, outputTokens: 20_000 }),
        phase({ name: 'b', startMs: 6000, endMs: 12_000, sent: 600, completed: 600, outputTokens: 40_000 }),
      ],
    });
    expect(h).toEqual({ windowMs: 10_000, sent: 1000, completed: 996, errors: 4, requestsPerSec: 100, okPerSec: 99.6, outputTokens: 60_000, outputTokensPerSec: 6000 });
  });

  it('sad: no token counts → null (not 0); an interrupted run is timed to where it stopped; all-warmup runs count every phase', () => {
    const cut = headline({ durationMs: 3000, phases: [phase({ startMs: 0, endMs: 10_000, sent: 30, completed: 30 })] });
    expect(cut).toMatchObject({ windowMs: 3000, requestsPerSec: 10, outputTokens: null, outputTokensPerSec: null });
    expect(headline({ durationMs: 1000, phases: [phase({ warmup: true, sent: 5, completed: 5 })] }).requestsPerSec).toBe(5);
    expect(headline({ durationMs: 0, phases: [] }).requestsPerSec).toBeNull();
  });

  it('happy: the recorder sums streamed output tokens per phase, and merge adds shards\' tokens', () => {
    const report = (tokens: number[]): RunResult => {
      const rec = new Recorder([{ name: 'p', warmup: false, model: 'open', startMs: 0, endMs: 1000, rate: tokens.length, to: tokens.length, concurrency: 0, concurrencyTo: 0, requests: tokens.length }]);
      tokens.forEach((n, i) => {
        rec.due(i);
        rec.sent(0, i, i, false);
        rec.completed(0, i, i + 50, { stages: new Map(), unmeasured: [], path: 'primary', tokens: { output: n, source: 'events' } });
      });
      return { schema: REPORT_SCHEMA, tool: { name: 'budgetgate', version: 't' }, profile: 'p', target: 'x', arrivals: 'uniform', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1000, verdict: 'pass', interrupted: false, budgets: [], scheduleId: 's', startEpochMs: 0, ...rec.report() };
    };
    const a = report([10, 20, 30]);
    expect(a.phases[0]?.outputTokens).toBe(60);
    expect(headline(a).outputTokensPerSec).toBe(60);
    const b = report([5]);
    const m = mergeReports([{ source: 'a', report: { ...a, shard: { index: 0, count: 2 } } }, { source: 'b', report: { ...b, shard: { index: 1, count: 2 } } }], { budgets: [], requireAll: false, allowInconclusive: false, strict: false });
    expect(m.report.phases[0]?.outputTokens).toBe(65);
    // a response with neither usage nor content events counts no tokens: output tokens/s is null, not 0
    const plain = new Recorder([{ name: 'p', warmup: false, model: 'open', startMs: 0, endMs: 1000, rate: 1, to: 1, concurrency: 0, concurrencyTo: 0, requests: 1 }]);
    plain.completed(0, 0, 10, { stages: new Map(), unmeasured: [], path: 'primary' });
    const p = plain.report().phases[0];
    expect(p?.tokenSources).toEqual({ usage: 0, events: 0, none: 1 });
    expect(headline({ durationMs: 1000, phases: p ? [p] : [] }).outputTokensPerSec).toBeNull();
  });
});
