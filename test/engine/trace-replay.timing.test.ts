/**
 * A mooncake trace with bursts (up to 6 records at one timestamp), replayed at a loopback server
 * that logs arrival times: the requests arrive at the trace's timestamps (p99 of |arrival − intended|
 * within 5 ms, judged by the server), and `speed: 2` halves every gap. The shared machine can stall
 * an event loop for longer now and then; a pacing bug fails every time: hence `retry: 2`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/core/profile/index.js';
import { Recorder } from '../../src/core/recorder.js';
import { arrivals, planSchedule } from '../../src/core/schedule.js';
import { compileTimings } from '../../src/core/timing.js';
import { chars4 } from '../../src/core/tokenizer.js';
import { traceBodies } from '../../src/core/trace/bodies.js';
import { drive } from '../../src/engine/driver.js';
import { withTraceBodies } from '../../src/engine/run.js';
import { loadTraces } from '../../src/trace-file.js';
import { burstyMooncake, logServer } from '../trace-log-server.js';

const dir = mkdtempSync(join(tmpdir(), 'budgetgate-trace-timing-'));
const trace = burstyMooncake({ bursts: 40, size: 6, gapMs: 60, seed: 11 });
writeFileSync(join(dir, 'bursts.jsonl'), trace.text);

const WARMUP_MS = 500;

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
};

/** Replays the trace at `speed`; the server's arrival offsets (from the driver's t = 0), sorted. */
async function replay(speed: number): Promise<{ arrived: number[]; intended: number[] }> {
  const server = await logServer();
  const body = { model: 'm', messages: [{ role: 'user', content: '' }] };
  // a warm-up phase first, as a profile would have: connections open and code compiled before the trace
  const phases = [{ name: 'warmup', duration: `${WARMUP_MS}ms`, rate: 40, warmup: true }, { name: 'replay', trace: { file: 'bursts.jsonl', format: 'mooncake', speed } }];
  const r = parseProfile({ name: 't', target: { url: server.url, body }, phases }, () => undefined);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const profile = await loadTraces(r.profile, dir, 'test');
  const plan = planSchedule(profile.phases);
  const bodies = traceBodies(plan, body, profile.seed, chars4);
  let t0 = 0;
  await drive({
    url: server.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    timeoutMs: 5000,
    maxInFlight: 100,
    plan,
    arrivals: arrivals(plan, 'uniform', 1),
    recorder: new Recorder(plan.phases),
    extractor: compileTimings({ serverTiming: false, headers: {} }, undefined),
    clock: () => {
      const t = performance.now();
      if (t0 === 0) t0 = t;
      return t;
    },
    ...withTraceBodies(bodies, undefined),
  });
  // the trace's requests are the ones with max_tokens (the warm-up sends the profile's body as it is)
  const replayed = server.log.filter((l) => l.body.includes('"max_tokens"'));
  return { arrived: replayed.map((l) => l.t - t0).sort((a, b) => a - b), intended: trace.records.map((x) => WARMUP_MS + x.timestamp / speed) };
}

describe('trace replay timing at the server', { retry: 2 }, () => {
  it.each([1, 2])('happy: speed %i: every record arrives at its (scaled) timestamp, p99 within 5 ms', async (speed) => {
    const { arrived, intended } = await replay(speed);
    expect(arrived).toHaveLength(trace.records.length);
    const errors = arrived.map((t, i) => Math.abs(t - (intended[i] ?? NaN)));
    expect(quantile(errors, 0.99), `|arrival − intended| p50 ${quantile(errors, 0.5).toFixed(2)} ms`).toBeLessThanOrEqual(5);
    if (speed === 2) {
      // the gaps between bursts (60 ms in the trace) halve: each burst's first arrival ~30 ms after the last's
      const firsts = [...new Set(intended)].map((t) => arrived[intended.indexOf(t)]!);
      const gaps = firsts.slice(1).map((t, i) => t - firsts[i]!);
      expect(quantile(gaps.map((g) => Math.abs(g - 30)), 0.9)).toBeLessThanOrEqual(5);
    }
  });
});
