/**
 * The recorder's session side (core/session-stats.ts): per-turn series beside, not inside, the
 * phase's series; session figures; the prompt-token check; and turn-scoped budgets, live and from a
 * saved report (measurementsFromReport), reading only their turns' histograms.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateBudgets, measurementsFromReport } from '../../src/core/budgets.js';
import type { Budget } from '../../src/core/profile-types.js';
import { Recorder, type ObservedTimings, type RecorderPhase } from '../../src/core/recorder.js';
import { mergePromptChecks } from '../../src/core/session-stats.js';

const PHASES: RecorderPhase[] = [{ name: 'chat', warmup: false, model: 'open', startMs: 0, endMs: 10_000, rate: 1, to: 1, concurrency: 0, concurrencyTo: 0, requests: 4 }];
const turnOf = (turn: number, ttft: number, extra: Partial<ObservedTimings> = {}): ObservedTimings => ({ stages: new Map(), unmeasured: [], path: 'primary', client: new Map([['ttft', ttft]]), turn, ...extra });

describe('SessionStats through the recorder', () => {
  it('happy: per-turn ttft and total, in turn order, while the phase series count every turn once', () => {
    const r = new Recorder(PHASES);
    // two sessions of two turns: turn 1 ttft 10/20 ms, turn 2 ttft 100/200 ms
    r.completed(0, 0, 30, turnOf(1, 10));
    r.completed(0, 0, 40, turnOf(1, 20));
    r.completed(0, 500, 700, turnOf(2, 100));
    r.completed(0, 600, 900, turnOf(2, 200));
    const rep = r.report();
    expect(rep.series.find((s) => s.stage === 'ttft')?.count).toBe(4);
    expect(rep.turns?.map((t) => [t.turn, t.stage, t.count, t.max])).toEqual([
      [1, 'ttft', 2, 20],
      [1, 'total', 2, 40],
      [2, 'ttft', 2, 200],
      [2, 'total', 2, 300],
    ]);
    const budgets: Budget[] = [
      { kind: 'latency', id: 'a', stage: 'ttft', key: 'max', limitMs: 50, turns: { from: 1, to: 1 } },
      { kind: 'latency', id: 'b', stage: 'ttft', key: 'max', limitMs: 50, turns: { from: 2 } },
      { kind: 'latency', id: 'c', stage: 'ttft', key: 'max', limitMs: 50 },
    ];
    const live = evaluateBudgets(budgets, r.measurements());
    const saved = evaluateBudgets(budgets, measurementsFromReport(JSON.parse(JSON.stringify(rep)) as typeof rep));
    for (const v of [live, saved]) {
      expect(v.map((x) => [x.id, x.status, x.samples])).toEqual([['a', 'pass', 2], ['b', 'fail', 2], ['c', 'fail', 4]]);
      expect(v[1]?.reason).toMatch(/turns 2\+/);
    }
  });

  it('happy: a run without sessions has no turns, sessions or promptTokens fields', () => {
    const r = new Recorder(PHASES);
    r.completed(0, 0, 30, { stages: new Map(), unmeasured: [], path: 'primary' });
    const rep = r.report();
    expect('turns' in rep).toBe(false);
    expect('sessions' in rep).toBe(false);
    expect(rep.phases[0]?.promptTokens).toBeUndefined();
  });

  it('happy: session figures: completed durations, abandoned and cut counted apart', () => {
    const r = new Recorder(PHASES);
    for (let i = 0; i < 4; i++) r.sessions.sessionStarted(0);
    r.sessions.sessionEnded(0, 'completed', 3, 1200);
    r.sessions.sessionEnded(0, 'completed', 3, 800);
    r.sessions.sessionEnded(0, 'abandoned', 1, 300);
    r.sessions.sessionEnded(0, 'cut', 2, 0);
    expect(r.report().sessions).toEqual([expect.objectContaining({ phase: 'chat', started: 4, completed: 2, abandoned: 1, cut: 1, turns: 9, duration: expect.objectContaining({ count: 2, max: 1200 }) })]);
  });

  it('happy: the prompt-token check is Σ and extremes of server − sent, from usage only (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: -5, max: 20 })), { minLength: 1, maxLength: 40 }), (xs) => {
        const r = new Recorder(PHASES, { tokenizer: 'cl100k_base' });
        for (const [sent, d] of xs) r.completed(0, 0, 10, { stages: new Map(), unmeasured: [], path: 'primary', sentPromptTokens: sent, tokens: { input: sent + d, output: 1, source: 'usage' } });
        // a stream counted from its events has no server prompt count: not compared
        r.completed(0, 0, 10, { stages: new Map(), unmeasured: [], path: 'primary', sentPromptTokens: 7, tokens: { output: 3, source: 'events' } });
        const c = r.report().phases[0]?.promptTokens;
        const ds = xs.map(([, d]) => d);
        expect(c).toEqual({
          requests: xs.length,
          sent: xs.reduce((a, [s]) => a + s, 0),
          server: xs.reduce((a, [s, d]) => a + s + d, 0),
          meanDifference: ds.reduce((a, d) => a + d, 0) / xs.length,
          minDifference: Math.min(...ds),
          maxDifference: Math.max(...ds),
          tokenizer: 'cl100k_base',
        });
      }),
    );
  });
});

describe('mergePromptChecks (shards and worker threads)', () => {
  it('happy: two shards’ checks are the check of all their requests', () => {
    const a = { requests: 2, sent: 100, server: 106, meanDifference: 3, minDifference: 2, maxDifference: 4, tokenizer: 'o200k_base' };
    const b = { requests: 1, sent: 10, server: 19, meanDifference: 9, minDifference: 9, maxDifference: 9, tokenizer: 'o200k_base' };
    expect(mergePromptChecks([a, undefined, b])).toEqual({ requests: 3, sent: 110, server: 125, meanDifference: 5, minDifference: 2, maxDifference: 9, tokenizer: 'o200k_base' });
  });
  it('sad: no shard has a check: none', () => {
    expect(mergePromptChecks([undefined, undefined])).toBeUndefined();
  });
});
