/**
 * Recovery budgets: how long after a fault the service is back within its limits.
 *
 * Data. Requests are binned by their *intended* send time (latency is measured from it too) into
 * bins of b = RECOVERY_BIN_MS: bin i holds the requests intended in [i·b, (i + 1)·b), as one HDR
 * histogram of the budget's stage over the completed ones, plus counts of errors and of responses
 * that lacked the stage (recovery-track.ts records them; a report keeps them encoded, so `check`
 * re-evaluates offline and shards merge bin by bin exactly: intended times are schedule times, the
 * same on every shard).
 *
 * Math. Let f = ⌈F / b⌉ for the fault instant F (the start of phase `after`, where its hook injects
 * the fault), w = window / b, H = max(hold, window) / b, and E = ⌊end / b⌋ for the schedule's end.
 * The window starting at bin s covers bins [s, s + w); it is *good* when
 *   - it holds at least minSamples(key) completed samples for every latency key (budgets.ts: p99 →
 *     1,000), else it is too thin to tell and counts as not recovered (fail-safe);
 *   - every latency key's value over it is ≤ its limit;
 *   - its error rate errors / (errors + completed) is ≤ the limit (a window with no finished request
 *     is not good);
 *   - at most MISSING_STAGE_LIMIT of its responses lacked the stage.
 * The recovery bin is the least s ≥ f such that every window starting in [s, s + H − w] is good and
 * lies inside the run (s + H ≤ E): from s on, every `window`-wide slice of the next `hold` met every
 * limit. Time-to-recover T = s·b − F; the budget passes iff T ≤ within. No such s: "not recovered by
 * the end of the run". Requests affected = finished requests intended in [f·b, s·b) (to the end of
 * the run when never recovered). The worst window is the one in [f, s) whose largest
 * observed ÷ limit ratio is highest.
 */
import { createHistogram, decodeHistogram, encodeHistogram, mergeHistograms, quantileMs, maxMs, meanMs, type Histogram } from './histograms.js';
import { MISSING_STAGE_LIMIT, minSamples, type Measurements } from './budgets.js';
import { describeBudget, type Budget, type LatencyKey, type PathName } from './profile-types.js';
import type { Verdict } from './report.js';
import { formatDuration } from './units.js';

/** the resolution of recovery: windows, holds and the time-to-recover are multiples of it */
export const RECOVERY_BIN_MS = 100;

/** One stage × path's bins as a report keeps them: bin at[i] covers [at[i]·binMs, (at[i] + 1)·binMs) of intended time. */
export interface RecoveryTrackReport {
  stage: string;
  path: PathName;
  binMs: number;
  at: number[];
  /** hdr-histogram compressed base64 of the completed requests' stage values ('' for none) */
  hdr: string[];
  errors: number[];
  unmeasured: number[];
}

export interface Bin {
  hist: Histogram | undefined;
  errors: number;
  unmeasured: number;
}

export interface RecoveryLimits {
  limits: readonly { key: LatencyKey; limitMs: number }[];
  maxErrorRate?: number | undefined;
  windowMs: number;
  holdMs: number;
}

export interface WindowFigures {
  /** the window's start, ms of intended time */
  startMs: number;
  completed: number;
  errors: number;
  /** each latency key's value over the window, ms (null without samples) */
  values: Partial<Record<LatencyKey, number | null>>;
  errorRate: number | null;
  /** fewer samples than some key needs */
  thin: boolean;
}

export interface RecoveryOutcome {
  faultMs: number;
  /** the recovery instant (ms of run time) and T = recoveredMs − faultMs; null: not recovered */
  recoveredMs: number | null;
  timeToRecoverMs: number | null;
  /** finished requests intended in [fault, recovery) */
  affected: number;
  worst: WindowFigures | null;
  windowMs: number;
  holdMs: number;
}

const LATENCY_Q: Partial<Record<LatencyKey, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 };

function valueOf(h: Histogram, key: LatencyKey): number {
  if (key === 'max') return maxMs(h);
  if (key === 'mean') return meanMs(h);
  return quantileMs(h, LATENCY_Q[key] as number);
}

/** A window's contents: its bins' histograms added, the counts summed, the exact max of its bins. */
export interface WindowData {
  hist: Histogram;
  errors: number;
  unmeasured: number;
  maxMs: number;
}

/** One window's figures and whether it meets every limit, with its worst observed ÷ limit ratio. */
export function judgeWindow(d: WindowData, startMs: number, l: RecoveryLimits): { figures: WindowFigures; good: boolean; severity: number } {
  const { hist, errors, unmeasured } = d;
  const completed = hist.totalCount;
  const finished = completed + unmeasured + errors;
  const values: WindowFigures['values'] = {};
  let good = finished > 0;
  let thin = false;
  let severity = finished > 0 ? 0 : -1;
  for (const { key, limitMs } of l.limits) {
    const v = completed === 0 ? null : key === 'max' ? d.maxMs : Math.min(valueOf(hist, key), d.maxMs);
    values[key] = v;
    if (completed < minSamples(key)) thin = true;
    if (v === null || v > limitMs) good = false;
    if (v !== null) severity = Math.max(severity, v / limitMs);
  }
  const errorRate = finished > 0 ? errors / finished : null;
  if (l.maxErrorRate !== undefined && errorRate !== null) {
    if (errorRate > l.maxErrorRate) good = false;
    severity = Math.max(severity, l.maxErrorRate > 0 ? errorRate / l.maxErrorRate : errorRate > 0 ? Number.POSITIVE_INFINITY : 0);
  }
  if (finished > 0 && unmeasured / finished > MISSING_STAGE_LIMIT) good = false;
  if (thin) good = false;
  return { figures: { startMs, completed, errors, values, errorRate, thin }, good, severity };
}

/**
 * The scan of the module comment over bins by index; `endMs` is the schedule's end. The window
 * slides one bin at a time: the bin leaving is subtracted and the one entering added (HDR counts
 * add and subtract exactly), so a scan costs two histogram operations per bin, whatever the width.
 */
export function scanRecovery(bins: ReadonlyMap<number, Bin>, binMs: number, faultMs: number, endMs: number, l: RecoveryLimits): RecoveryOutcome {
  const f = Math.ceil(faultMs / binMs - 1e-9);
  const w = Math.max(1, Math.round(l.windowMs / binMs));
  const H = Math.max(w, Math.round(l.holdMs / binMs));
  const E = Math.floor(endMs / binMs + 1e-9);
  let worst: { figures: WindowFigures; severity: number } | undefined;
  let streak: number | undefined;
  let recovered: number | undefined;
  const d: WindowData = { hist: createHistogram(), errors: 0, unmeasured: 0, maxMs: 0 };
  const move = (i: number, sign: 1 | -1): void => {
    const b = bins.get(i);
    if (b === undefined) return;
    if (b.hist) {
      if (sign > 0) d.hist.add(b.hist);
      else d.hist.subtract(b.hist);
    }
    d.errors += sign * b.errors;
    d.unmeasured += sign * b.unmeasured;
  };
  for (let k = f; k < f + w - 1; k++) move(k, 1);
  for (let s = f; s + w <= E; s++) {
    move(s + w - 1, 1);
    d.maxMs = 0;
    for (let k = s; k < s + w; k++) d.maxMs = Math.max(d.maxMs, maxOfBin(bins.get(k)));
    const j = judgeWindow(d, s * binMs, l);
    move(s, -1);
    if (j.good) {
      streak ??= s;
      if (s - streak >= H - w) {
        recovered = streak;
        break;
      }
    } else streak = undefined;
    if (worst === undefined || j.severity > worst.severity) worst = { figures: j.figures, severity: j.severity };
  }
  // worst: the windows before the recovery bin only (a good window inside the final streak is not "before")
  const upto = recovered ?? E;
  let affected = 0;
  for (const [i, b] of bins) if (i >= f && i < upto) affected += (b.hist?.totalCount ?? 0) + b.errors + b.unmeasured;
  const before = worst !== undefined && (recovered === undefined || worst.figures.startMs < recovered * binMs) ? worst.figures : null;
  return {
    faultMs,
    recoveredMs: recovered === undefined ? null : recovered * binMs,
    timeToRecoverMs: recovered === undefined ? null : recovered * binMs - faultMs,
    affected,
    worst: before,
    windowMs: w * binMs,
    holdMs: H * binMs,
  };
}

const maxOfBin = (b: Bin | undefined): number => (b?.hist && b.hist.totalCount > 0 ? maxMs(b.hist) : 0);

/** The tracks of one stage (all paths, or one) merged bin by bin; undefined when none has that stage. */
export function binsOf(tracks: readonly RecoveryTrackReport[], stage: string, path: PathName | undefined): { binMs: number; bins: Map<number, Bin> } | undefined {
  const picked = tracks.filter((t) => t.stage === stage && (path === undefined || t.path === path));
  const first = picked[0];
  if (first === undefined || picked.some((t) => t.binMs !== first.binMs)) return undefined;
  const bins = new Map<number, Bin>();
  for (const t of picked) {
    t.at.forEach((at, i) => {
      const b = bins.get(at) ?? { hist: undefined, errors: 0, unmeasured: 0 };
      const hdr = t.hdr[i] ?? '';
      if (hdr !== '') {
        const h = decodeHistogram(hdr);
        b.hist = b.hist === undefined ? h : mergeHistograms([b.hist, h]);
      }
      b.errors += t.errors[i] ?? 0;
      b.unmeasured += t.unmeasured[i] ?? 0;
      bins.set(at, b);
    });
  }
  return { binMs: first.binMs, bins };
}

/** Several reports' tracks (shards, workers) as one: by stage × path, bins added by index (HDR addition is exact). */
export function mergeRecoveryTracks(lists: readonly (readonly RecoveryTrackReport[] | undefined)[]): RecoveryTrackReport[] | undefined {
  const all = lists.flatMap((l) => l ?? []);
  if (all.length === 0) return undefined;
  const keys = [...new Set(all.map((t) => `${t.stage}|${t.path}`))];
  return keys.map((k) => {
    const [stage, path] = k.split('|') as [string, PathName];
    const merged = binsOf(all, stage, path);
    const binMs = merged?.binMs ?? RECOVERY_BIN_MS;
    const entries = [...(merged?.bins ?? new Map<number, Bin>()).entries()].sort((a, b) => a[0] - b[0]);
    return {
      stage, path, binMs,
      at: entries.map(([at]) => at),
      hdr: entries.map(([, b]) => (b.hist && b.hist.totalCount > 0 ? encodeHistogram(b.hist) : '')),
      errors: entries.map(([, b]) => b.errors),
      unmeasured: entries.map(([, b]) => b.unmeasured),
    };
  });
}

type RecoveryBudget = Extract<Budget, { kind: 'recovery' }>;

const pct = (x: number): string => `${Number((x * 100).toFixed(3))}%`;

/** A window's figures in words: "p95 2.1s, error rate 12% over 140 requests from 10.2s". */
export function describeWindow(w: WindowFigures): string {
  const values = Object.entries(w.values).map(([k, v]) => `${k} ${v === null ? 'n/a' : formatDuration(v)}`);
  const parts = [...values, ...(w.errorRate !== null ? [`error rate ${pct(w.errorRate)}`] : [])];
  return `${parts.join(', ')} over ${w.completed + w.errors} requests from ${formatDuration(w.startMs)}${w.thin ? ' (too few samples to tell)' : ''}`;
}

/** A recovery budget → its verdict: observed = time-to-recover (ms), limit = within. Fail-safe throughout. */
export function evaluateRecoveryBudget(b: RecoveryBudget, m: Measurements): Verdict {
  const base = { id: b.id, description: describeBudget(b), limit: b.withinMs, unit: 'ms' as const, interval: null, borderline: false };
  const fault = m.recovery?.phases.find((p) => p.name === b.after);
  const data = m.recovery ? binsOf(m.recovery.tracks(), b.stage, b.path) : undefined;
  if (fault === undefined || data === undefined) {
    return { ...base, status: 'fail', observed: null, samples: 0, reason: `no ${b.stage} data by intended send time after phase ${b.after} was recorded: cannot tell it recovered` };
  }
  const endMs = Math.max(...m.recovery!.phases.map((p) => p.endMs));
  const o = scanRecovery(data.bins, data.binMs, fault.startMs, endMs, b);
  const worst = o.worst ? `; worst window before it: ${describeWindow(o.worst)}` : '';
  const recovery = { faultMs: o.faultMs, recoveredMs: o.recoveredMs, timeToRecoverMs: o.timeToRecoverMs, affected: o.affected, worst: o.worst, windowMs: o.windowMs, holdMs: o.holdMs };
  if (o.timeToRecoverMs === null) {
    return { ...base, status: 'fail', observed: null, samples: o.affected, reason: `not recovered by the end of the run: no ${formatDuration(o.holdMs)} after the fault at ${formatDuration(o.faultMs)} met every limit; ${o.affected} requests affected${worst}`, recovery };
  }
  const ok = o.timeToRecoverMs <= b.withinMs;
  return {
    ...base,
    status: ok ? 'pass' : 'fail',
    observed: o.timeToRecoverMs,
    samples: o.affected,
    reason: `recovered ${formatDuration(o.timeToRecoverMs)} after the fault at ${formatDuration(o.faultMs)} (at ${formatDuration(o.recoveredMs as number)}) ${ok ? '≤' : '>'} ${formatDuration(b.withinMs)}; ${o.affected} requests affected${worst}`,
    recovery,
  };
}
