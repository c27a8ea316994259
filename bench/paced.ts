/**
 * Paced open-model driver vs its schedule: drive() against a sim in another process, with a
 * Recorder that also keeps every send's intended and actual time, for exact statistics.
 *
 * - measurePaced: a constant uniform rate (after a warmup at the same rate): achieved rate, lateness,
 *   worst whole second, largest 100 ms burst.
 * - measureShape: a ramp or a spike (several open phases): per-second achieved vs target around each
 *   phase edge, and the worst whole second away from the edges.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Phase } from '../src/core/profile-types.js';
import { Recorder, type RecorderPhase } from '../src/core/recorder.js';
import { TOTAL_STAGE } from '../src/core/stages.js';
import { arrivals, planSchedule, scheduledPerSecond, type Plan } from '../src/core/schedule.js';
import { compileTimings } from '../src/core/timing.js';
import { drive } from '../src/engine/driver.js';
import type { Row } from './table.js';

const LOOP_TICK_MS = 5;

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

/** All values of several arrays in one, ascending. */
export function pooled(parts: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all.sort();
}

/** Nearest-rank quantile of an ascending array. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/** The middle value (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export interface Target {
  url: string;
  body: string;
  maxInFlight: number;
  timeoutMs: number;
}

/** An open phase at `rate` → `to` req/s. */
export function open(name: string, durationMs: number, rate: number, to = rate, warmup = false): Phase {
  return { name, durationMs, model: 'open', rate, to, concurrency: 0, concurrencyTo: 0, warmup };
}

interface OpenRun {
  plan: Plan;
  recorder: TimedRecorder;
  driveMs: number;
  /** driver process CPU / wall time of the drive (1 = one core) */
  driverCpu: number;
  loopDelayP99: number;
  loopDelayMax: number;
}

/** drive() over `phases` with uniform arrivals, Server-Timing parsing on, as a real run does. */
async function runOpen(t: Target, phases: Phase[]): Promise<OpenRun> {
  const plan = planSchedule(phases);
  const recorder = new TimedRecorder(plan.phases, plan.requests);
  // what a real run parses: Server-Timing stages on every response
  const extractor = compileTimings({ serverTiming: true, headers: {} }, undefined, []);
  // attribution: was the driver's own event loop blocked (GC, descheduled), and how busy was it?
  const loop = monitorEventLoopDelay({ resolution: LOOP_TICK_MS });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const outcome = await drive({
    url: `${t.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: t.body,
    timeoutMs: t.timeoutMs,
    maxInFlight: t.maxInFlight,
    plan,
    arrivals: arrivals(plan, 'uniform', 1),
    recorder,
    extractor,
    clock: () => performance.now(),
  });
  const c = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  loop.disable();
  return {
    plan,
    recorder,
    driveMs: outcome.durationMs,
    driverCpu: (c.user + c.system) / 1000 / wallMs,
    // the histogram holds whole intervals between ticks: what is beyond the tick is the delay
    loopDelayP99: Math.max(0, loop.percentile(99) / 1e6 - LOOP_TICK_MS),
    loopDelayMax: Math.max(0, loop.max / 1e6 - LOOP_TICK_MS),
  };
}

/** Lateness (actual − intended send, ≥ 0) of the sends of the phases in `which`, ascending. */
function lateness(r: TimedRecorder, which: (phase: number) => boolean): Float64Array {
  const late: number[] = [];
  for (let i = 0; i < r.n; i++) if (which(r.phaseOf[i]!)) late.push(Math.max(0, r.sentAt[i]! - r.intended[i]!));
  return Float64Array.from(late).sort();
}

export interface PacedOptions extends Target {
  rate: number;
  durationMs: number;
  /** a warmup phase at the same rate before the measured one (opens connections); not measured */
  warmupMs: number;
}

/** One paced run: its figures, and the measured phase's lateness (ascending) for pooling across runs. */
export interface PacedRun {
  row: Row;
  late: Float64Array;
}

export async function measurePaced(o: PacedOptions): Promise<PacedRun> {
  const run = await runOpen(o, [open('warmup', o.warmupMs, o.rate, o.rate, true), open('measure', o.durationMs, o.rate)]);
  const { plan, recorder } = run;
  const M = 1; // the measured phase
  const phase = plan.phases[M]!;
  const S = phase.startMs;
  const E = phase.endMs;

  const sends: number[] = [];
  let inWindow = 0;
  for (let i = 0; i < recorder.n; i++) {
    if (recorder.phaseOf[i] !== M) continue;
    const s = recorder.sentAt[i]!;
    sends.push(s);
    if (s >= S && s < E) inWindow++;
  }
  const lateSorted = lateness(recorder, (p) => p === M);
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

  const row: Row = {
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
    driveMs: run.driveMs,
    driverCpu: run.driverCpu,
    loopDelayP99: run.loopDelayP99,
    loopDelayMax: run.loopDelayMax,
  };
  return { row, late: lateSorted };
}

export interface ShapeResult {
  summary: Row;
  /** per-second achieved vs target for the seconds just before, at and after each edge */
  edgeRows: Row[];
  /** every whole second of the measured phases */
  seconds: Row[];
}

/**
 * A multi-phase open shape (phase 0 a warmup at the first rate). Edges are the boundaries between
 * measured phases; edges and phase lengths are whole seconds, so the run's whole seconds
 * [s, s+1) line up with them. "Away from the edges" = seconds not overlapping (edge − 1 s, edge + 1 s),
 * i.e. neither the second before nor the second after any edge.
 */
export async function measureShape(t: Target, name: string, phases: Phase[]): Promise<ShapeResult> {
  const run = await runOpen(t, phases);
  const { plan, recorder } = run;
  const measured = plan.phases.filter((p) => !p.warmup);
  const S = measured[0]!.startMs;
  const E = plan.durationMs;
  const edges = measured.slice(1).map((p) => p.startMs);
  const target = scheduledPerSecond(plan);
  const timeline = recorder.timeline();

  const seconds: Row[] = [];
  let maxAway = 0;
  let maxAll = 0;
  for (let s = Math.ceil(S / 1000); (s + 1) * 1000 <= E; s++) {
    const want = target[s] ?? 0;
    const got = timeline[s]?.sent ?? 0;
    const dev = want > 0 ? (got - want) / want : 0;
    const nearEdge = edges.some((e) => s * 1000 < e + 1000 && (s + 1) * 1000 > e - 1000);
    maxAll = Math.max(maxAll, Math.abs(dev));
    if (!nearEdge) maxAway = Math.max(maxAway, Math.abs(dev));
    seconds.push({ shape: name, second: s, target: want, achieved: got, deviation: dev, nearEdge: nearEdge ? 'yes' : 'no' });
  }
  const edgeRows: Row[] = [];
  for (const e of edges) {
    const es = e / 1000;
    for (const s of [es - 1, es, es + 1]) {
      const r = seconds.find((x) => x.second === s);
      if (r) edgeRows.push({ ...r, edge: es, rel: s < es ? `[${s - es}s, 0)` : `[+${s - es}s, +${s - es + 1}s)` });
    }
  }
  const measuredIdx = new Set(measured.map((p) => p.index));
  const lateSorted = lateness(recorder, (p) => measuredIdx.has(p));
  const rep = recorder.report();
  const phs = rep.phases.filter((p) => !p.warmup);
  const awaySeconds = seconds.filter((r) => r.nearEdge === 'no').map((r) => r.second);
  return {
    summary: {
      shape: name,
      phases: measured.map((p) => `${p.rate === p.to ? p.rate : `${p.rate}→${p.to}`}/s ${(p.endMs - p.startMs) / 1000}s`).join(', '),
      edges: edges.map((e) => `${e / 1000}s`).join(', '),
      awaySeconds: awaySeconds.join(','),
      maxDevAway: maxAway,
      maxDevAll: maxAll,
      latenessP50: quantile(lateSorted, 0.5),
      latenessP99: quantile(lateSorted, 0.99),
      latenessMax: quantile(lateSorted, 1),
      scheduled: phs.reduce((n, p) => n + p.scheduled, 0),
      sent: phs.reduce((n, p) => n + p.sent, 0),
      late: phs.reduce((n, p) => n + p.late, 0),
      errors: phs.reduce((n, p) => n + p.errors, 0),
      driverCpu: run.driverCpu,
      loopDelayMax: run.loopDelayMax,
    },
    edgeRows,
    seconds,
  };
}
