/**
 * Paced open-model driver vs its schedule: drive() at a constant uniform rate against a sim in
 * another process, with a Recorder that also keeps every send's intended and actual time.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Recorder, TOTAL_STAGE, type RecorderPhase } from '../src/core/recorder.js';
import { arrivals, planSchedule } from '../src/core/schedule.js';
import { compileTimings } from '../src/core/timing.js';
import { drive } from '../src/engine/driver.js';
import type { Row } from './table.js';

/** Records what Recorder does, plus (phase, intended, sent) of every send, for exact statistics. */
class TimedRecorder extends Recorder {
  readonly phaseOf: Uint8Array;
  readonly intended: Float64Array;
  readonly sentAt: Float64Array;
  n = 0;
  constructor(phases: readonly RecorderPhase[], capacity: number) {
    super(phases);
    this.phaseOf = new Uint8Array(capacity);
    this.intended = new Float64Array(capacity);
    this.sentAt = new Float64Array(capacity);
  }
  override sent(phase: number, intendedMs: number, sentMs: number, late: boolean): void {
    super.sent(phase, intendedMs, sentMs, late);
    const i = this.n++;
    this.phaseOf[i] = phase;
    this.intended[i] = intendedMs;
    this.sentAt[i] = sentMs;
  }
}

/** Nearest-rank quantile of an ascending array. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export interface PacedOptions {
  url: string;
  rate: number;
  durationMs: number;
  /** a warmup phase at the same rate before the measured one (opens connections); not measured */
  warmupMs: number;
  body: string;
  maxInFlight: number;
  timeoutMs: number;
}

export async function measurePaced(o: PacedOptions): Promise<Row> {
  const plan = planSchedule([
    { name: 'warmup', durationMs: o.warmupMs, model: 'open', rate: o.rate, to: o.rate, concurrency: 0, concurrencyTo: 0, warmup: true },
    { name: 'measure', durationMs: o.durationMs, model: 'open', rate: o.rate, to: o.rate, concurrency: 0, concurrencyTo: 0, warmup: false },
  ]);
  const recorder = new TimedRecorder(
    plan.phases,
    plan.requests,
  );
  // what a real run parses: Server-Timing stages on every response
  const extractor = compileTimings({ serverTiming: true, headers: {} }, undefined, []);
  // attribution: was the driver's own event loop blocked (GC, descheduled), and how busy was it?
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const outcome = await drive({
    url: `${o.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: o.body,
    timeoutMs: o.timeoutMs,
    maxInFlight: o.maxInFlight,
    plan,
    arrivals: arrivals(plan, 'uniform', 1),
    recorder,
    extractor,
    clock: () => performance.now(),
  });

  const cpuMs = (() => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  })();
  const wallMs = performance.now() - wall0;
  loop.disable();

  const M = 1; // the measured phase
  const phase = plan.phases[M]!;
  const S = phase.startMs;
  const E = phase.endMs;

  // lateness and send times of the measured phase's requests
  const late: number[] = [];
  const sends: number[] = [];
  let inWindow = 0;
  for (let i = 0; i < recorder.n; i++) {
    if (recorder.phaseOf[i] !== M) continue;
    const s = recorder.sentAt[i]!;
    late.push(Math.max(0, s - recorder.intended[i]!));
    sends.push(s);
    if (s >= S && s < E) inWindow++;
  }
  const lateSorted = Float64Array.from(late).sort();
  const sendSorted = Float64Array.from(sends).sort();

  // largest count of sends in any 100 ms window [t, t+100)
  let burst = 0;
  for (let i = 0, j = 0; i < sendSorted.length; i++) {
    while (j < sendSorted.length && sendSorted[j]! < sendSorted[i]! + 100) j++;
    burst = Math.max(burst, j - i);
  }

  // whole seconds inside the measured phase: sent (by actual time) vs scheduled (by intended time)
  let worstSecond = 0;
  for (const p of recorder.timeline()) {
    if (p.t < S || p.t + 1000 > E || p.scheduled === 0) continue;
    worstSecond = Math.max(worstSecond, Math.abs(p.sent - p.scheduled) / p.scheduled);
  }

  const rep = recorder.report();
  const ph = rep.phases[M]!;
  const totals = rep.series.filter((s) => s.stage === TOTAL_STAGE && s.phase === phase.name);
  const total = totals.reduce((a, s) => (s.count > a.count ? s : a), totals[0] ?? { count: 0, p50: null, p99: null, max: null });
  const completedIn = totals.reduce((n, s) => n + s.count, 0);

  return {
    rate: o.rate,
    durationMs: o.durationMs,
    scheduled: phase.requests,
    sent: ph.sent,
    sentInWindow: inWindow,
    achieved: inWindow / (o.durationMs / 1000),
    achievedRatio: inWindow / (o.durationMs / 1000) / o.rate,
    latenessP50: quantile(lateSorted, 0.5),
    latenessP99: quantile(lateSorted, 0.99),
    latenessMax: quantile(lateSorted, 1),
    latenessP99Hdr: recorder.latenessMs(0.99), // whole run incl. warmup, HDR (µs resolution): a cross-check
    worstSecond,
    burst100ms: burst,
    burstRatio: burst / (o.rate * 0.1),
    late: ph.late,
    errors: ph.errors,
    errorKinds: JSON.stringify(ph.errorKinds),
    completed: completedIn,
    totalP50: total.p50,
    totalP99: total.p99,
    totalMax: total.max,
    driveMs: outcome.durationMs,
    // whole drive (warmup + phase): driver process CPU as a share of one core, and event-loop delay
    driverCpu: cpuMs / wallMs,
    loopDelayP99: loop.percentile(99) / 1e6,
    loopDelayMax: loop.max / 1e6,
  };
}
