/**
 * replayOf (window, limit, speed, rate → offsets and duration), trace phases in the schedule (every
 * arrival kind sends record i at its offset, bursts together, phases after it start after it), the
 * trace phase keys of a profile, and the bodies by schedule index (prepared ahead or not, any shard).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Arrivals, Phase, TraceSpec } from '../../../src/core/profile-types.js';
import { parseProfile } from '../../../src/core/profile/index.js';
import { arrivals, planSchedule, scheduledPerSecond, type Arrival } from '../../../src/core/schedule.js';
import type { TraceRecord } from '../../../src/core/trace/formats.js';
import { replayOf, type ReplayPlan } from '../../../src/core/trace/replay.js';
import { traceBodies } from '../../../src/core/trace/bodies.js';
import { chars4 } from '../../../src/core/tokenizer.js';

const rec = (timeMs: number, input = 10, output = 5): TraceRecord => ({ line: 1, timeMs, input, output, hashIds: [] });
const spec = (o: Partial<TraceSpec> = {}): TraceSpec => ({ file: 't', format: 'mooncake', speed: 1, exactOutput: false, ...o });
const plan = (records: TraceRecord[], o: Partial<TraceSpec> = {}): ReplayPlan => {
  const r = replayOf(records, spec(o), 512, 'phases[0].trace');
  if ('problems' in r) throw new Error(JSON.stringify(r.problems));
  return r;
};
const times = [0, 0, 0, 100, 250, 250, 1000];

describe('replayOf', () => {
  it.each([
    ['happy', 'as recorded: offsets are the timestamps, the span the last', {}, [0, 0, 0, 100, 250, 250, 1000], 1000],
    ['happy', 'speed 2 halves every gap', { speed: 2 }, [0, 0, 0, 50, 125, 125, 500], 500],
    ['happy', 'speed 0.5 doubles them', { speed: 0.5 }, [0, 0, 0, 200, 500, 500, 2000], 2000],
    ['happy', 'window [100, 300): its own clock from `from`, its span to `to`', { fromMs: 100, toMs: 300 }, [0, 150, 150], 200],
    ['happy', 'window from 50 only: offsets from 50', { fromMs: 50 }, [50, 200, 200, 950], 950],
    ['happy', 'limit 4: the first four, span to the fourth', { limit: 4 }, [0, 0, 0, 100], 100],
    ['happy', 'limit cutting a window: span to the last kept record', { toMs: 2000, limit: 5 }, [0, 0, 0, 100, 250], 250],
    ['happy', 'rate 14/s: 7 records over 500 ms', { rate: 14 }, [0, 0, 0, 50, 125, 125, 500], 500],
  ] as const)('%s: %s', (_l, _what, o, offsets, duration) => {
    const r = plan(times.map((t) => rec(t)), o);
    expect(r.replay.offsetsMs).toEqual(offsets);
    expect(r.durationMs).toBe(duration);
  });

  it('happy: a single instant (one burst) lasts 1 ms and keeps every record', () => {
    const r = plan([rec(5), rec(5), rec(5)]);
    expect(r.replay.offsetsMs).toEqual([0, 0, 0]);
    expect(r.durationMs).toBe(1);
  });

  it.each([
    ['sad', 'an empty window', { fromMs: 2000 }, 'no records in the window [2s, ∞)'],
    ['sad', 'a rate for one instant', { rate: 5, limit: 3 }, 'share one instant'],
  ] as const)('%s: %s', (_l, _what, o, message) => {
    const r = replayOf(times.map((t) => rec(t)), spec(o), 512, 'p');
    expect('problems' in r && r.problems[0]?.message).toContain(message);
  });

  it('property: the requests keep the records\' lengths in time order, offsets within [0, D]', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 50 }), fc.double({ min: 0.01, max: 100, noNaN: true }), (ts, speed) => {
        const sorted = [...ts].sort((a, b) => a - b);
        const r = plan(sorted.map((t, i) => rec(t, i, i + 1)), { speed });
        expect(r.replay.requests.map((q) => q.input)).toEqual(sorted.map((_t, i) => i));
        for (const d of r.replay.offsetsMs) expect(d >= 0 && d <= r.durationMs).toBe(true);
        const span = (sorted[sorted.length - 1]! - sorted[0]!) / speed;
        expect(r.durationMs).toBeCloseTo(Math.max(1, span), 6);
      }),
    );
  });
});

const tracePhase = (records: TraceRecord[], o: Partial<TraceSpec> = {}): Phase => {
  const r = plan(records, o);
  return { name: 'replay', durationMs: r.durationMs, model: 'open', rate: 0, to: 0, concurrency: 0, concurrencyTo: 0, warmup: false, trace: { ...spec(o), replay: r.replay } };
};
const open = (name: string, durationMs: number, rate: number): Phase => ({ name, durationMs, model: 'open', rate, to: rate, concurrency: 0, concurrencyTo: 0, warmup: false });
const all = (kind: Arrivals, phases: Phase[]): Arrival[] => {
  const s = arrivals(planSchedule(phases), kind, 1);
  const out: Arrival[] = [];
  for (let a = s.next(); a; a = s.next()) out.push(a);
  return out;
};

describe('trace phases in the schedule', () => {
  it.each(['uniform', 'poisson', 'gamma'] as const)('happy: %s arrivals send record i at its offset, between ordinary phases', (kind) => {
    const phases = [open('before', 1000, 4), tracePhase(times.map((t) => rec(t)), { speed: 2 }), open('after', 1000, 3)];
    const p = planSchedule(phases);
    expect(p.phases.map((x) => [x.startMs, x.endMs, x.requests])).toEqual([[0, 1000, 4], [1000, 1500, 7], [1500, 2500, 3]]);
    expect(p.phases[1]!.rate).toBe(14); // mean: 7 over 0.5 s
    const got = all(kind, phases);
    expect(got.filter((a) => a.phase === 1).map((a) => a.t)).toEqual([1000, 1000, 1000, 1050, 1125, 1125, 1500]);
    expect(got.map((a) => a.index)).toEqual([...Array(14).keys()]);
    for (let i = 1; i < got.length; i++) expect(got[i]!.t).toBeGreaterThanOrEqual(got[i - 1]!.t);
  });

  it('happy: the per-second counts are the trace\'s own', () => {
    const phases = [tracePhase([0, 0, 0, 999, 1000, 2500].map((t) => rec(t)))];
    expect(scheduledPerSecond(planSchedule(phases))).toEqual([4, 1, 1]);
  });

  it('sad: a trace phase whose file was never read is a bug, not a silent empty phase', () => {
    const phase: Phase = { ...open('replay', 0, 0), trace: spec() };
    expect(() => planSchedule([phase])).toThrow(/was not loaded/);
  });
});

describe('trace phase keys in a profile', () => {
  const doc = (trace: unknown, extra: Record<string, unknown> = {}): unknown => ({ name: 'p', target: { body: { messages: [] } }, phases: [{ name: 'r', trace, ...extra }] });
  it('happy: every key, durations in trace time', () => {
    const r = parseProfile(doc({ file: 't.jsonl', format: 'bailian', rate: 5, window: { from: '1m', to: '2m' }, limit: 100, exactOutput: true }, { warmup: true }), () => undefined);
    expect(r.ok && r.profile.phases[0]).toEqual({ name: 'r', durationMs: 0, model: 'open', rate: 0, to: 0, concurrency: 0, concurrencyTo: 0, warmup: true, trace: { file: 't.jsonl', format: 'bailian', speed: 1, rate: 5, fromMs: 60_000, toMs: 120_000, limit: 100, exactOutput: true } });
  });

  it.each([
    ['sad', { file: 't', format: 'sharegpt' }, 'phases[0].trace.format', 'expected one of mooncake, bailian, azure, burstgpt'],
    ['sad', { format: 'mooncake' }, 'phases[0].trace.file', 'expected a trace file path'],
    ['sad', { file: 't', format: 'mooncake', speed: 0 }, 'phases[0].trace.speed', 'expected a time scale'],
    ['sad', { file: 't', format: 'mooncake', speed: 2, rate: 3 }, 'phases[0].trace', "expected 'speed' (a time scale) or 'rate'"],
    ['sad', { file: 't', format: 'mooncake', rate: 0 }, 'phases[0].trace.rate', 'expected a mean rate above 0'],
    ['sad', { file: 't', format: 'mooncake', limit: 0 }, 'phases[0].trace.limit', 'expected a whole number of records'],
    ['sad', { file: 't', format: 'mooncake', window: { from: '2m', to: '1m' } }, 'phases[0].trace.window', 'expected from < to'],
    ['sad', { file: 't', format: 'mooncake', window: { form: '1m' } }, 'phases[0].trace.window', "unknown key 'form' — did you mean 'from'?"],
    ['sad', { file: 't', format: 'mooncake', exactOutput: 'yes' }, 'phases[0].trace.exactOutput', 'expected true or false'],
    ['sad', 'day.jsonl', 'phases[0].trace', 'expected a mapping like { file: traces/day.jsonl, format: mooncake }'],
  ] as const)('%s: %j → %s', (_l, trace, path, message) => {
    const r = parseProfile(doc(trace), () => undefined);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.some((p) => p.path === path && p.message.startsWith(message)), JSON.stringify(r.problems)).toBe(true);
  });

  it('sad: a trace phase with a duration or rate of its own is refused (its times are the trace\'s)', () => {
    const r = parseProfile(doc({ file: 't', format: 'mooncake' }, { duration: '10s', rate: 5 }), () => undefined);
    expect(!r.ok && r.problems.map((p) => p.message)).toEqual(['duration', 'rate'].map((k) => `a trace phase takes its times from the trace: '${k}' is not for it (use trace.speed, trace.rate or trace.window)`));
  });
});

describe('traceBodies: bodies by global schedule index', () => {
  const body = { model: 'm', messages: [{ role: 'user', content: '' }] };
  const phases = [open('before', 1000, 3), tracePhase([0, 10, 20, 30, 40].map((t, i) => rec(t, 8 + i, 100 + i))), open('between', 1000, 2), tracePhase([0, 5].map((t, i) => rec(t, 20 + i, 200 + i)))];
  const maxTokens = (b: string | undefined): number | undefined => (b === undefined ? undefined : (JSON.parse(b) as { max_tokens: number }).max_tokens);

  it('happy: index i of the whole schedule carries its trace record; other phases\' indices have none', () => {
    const bodies = traceBodies(planSchedule(phases), body, 1, chars4)!;
    expect([...Array(13).keys()].map((i) => maxTokens(bodies.at(i)))).toEqual([undefined, undefined, undefined, 100, 101, 102, 103, 104, undefined, undefined, 200, 201, undefined]);
  });

  it('sad: bursts take their bodies before their prepares run (at 0..5, then prepare 0..5): every later body is still built ahead', () => {
    // 40 bursts of 6 at one timestamp each, as the driver sends them: six at(), then six prepare()
    const burst = tracePhase([...Array(240).keys()].map((k) => rec(Math.floor(k / 6) * 60, 20, 5)));
    const bodies = traceBodies(planSchedule([burst]), body, 1, chars4)!;
    const plain = traceBodies(planSchedule([burst]), body, 1, chars4)!;
    bodies.prepare(-1);
    for (let b = 0; b < 40; b++) {
      const idx = [0, 1, 2, 3, 4, 5].map((j) => b * 6 + j);
      for (const i of idx) expect(bodies.at(i)).toBe(plain.at(i));
      for (const i of idx) bodies.prepare(i);
    }
    // the lookahead (16) covers a burst of 6: the send path built none
    expect(bodies.counts).toEqual({ ahead: 240, onSend: 0 });
  });

  it('property: prepared ahead or not, on any shard, at(i) is the same body', () => {
    const plan = planSchedule(phases);
    const plain = traceBodies(plan, body, 1, chars4)!;
    const want = [...Array(12).keys()].map((i) => plain.at(i));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.nat(3), (count, idx) => {
        const index = idx % count;
        const bodies = traceBodies(plan, body, 1, chars4, { index, count })!;
        for (let i = index; i < 12; i += count) {
          if (i % 2 === 0) bodies.prepare(i - count);
          expect(bodies.at(i)).toBe(want[i]);
        }
      }),
    );
  });
});
