/**
 * Early abort: budgets marked `abortOnFail` are evaluated during the run over a sliding window of
 * recent completions, so a test that is already failing stops loading a production endpoint.
 *
 * The window is a ring of one-second slices. Each slice holds, for the stages the abort budgets
 * name, one histogram per path × phase, plus per-phase counts for the rate budgets; evaluating
 * merges the last ⌈window / 1 s⌉ slices into Measurements and runs the ordinary `evaluateBudgets`,
 * so a window verdict means exactly what the final verdict means (including the minimum-sample
 * rule: a window too thin to judge is inconclusive, and inconclusive never aborts).
 * Memory: slices × stages × paths × phases histograms, independent of the run's length.
 */
import { evaluateBudgets, type Measurements, type PhaseData, type SeriesData } from './budgets.js';
import { createHistogram, decodeHistogram, encodeHistogram, maxMs, mergeHistograms, recordMs, type Histogram } from './histograms.js';
import type { Budget, PathName } from './profile-types.js';
import type { ObservedTimings } from './recorder.js';
import { TOTAL_STAGE } from './stages.js';
import type { Verdict } from './report.js';
import type { ServerMetricsData } from './server-metrics.js';
import { addPathTallies, copyPathTallies } from './paths.js';

interface Slice {
  second: number;
  series: Map<string, SeriesData>;
  phases: PhaseData[];
}

/**
 * One slice as plain data, its histograms encoded: what a worker thread sends so that the main
 * thread judges the window over every worker's requests (AbortWatch.adopt).
 */
export interface EncodedSlice {
  second: number;
  series: { key: string; stage: string; path: PathName; phase: string; hdr: string; max: number }[];
  phases: PhaseData[];
}

/** The counts a window judges (completions, errors, fallbacks) of `x` added into `into`. */
function addWindowCounts(into: PhaseData | undefined, x: PhaseData | undefined): void {
  if (!into || !x) return;
  into.completed += x.completed;
  into.errors += x.errors;
  into.fallback += x.fallback;
  into.fallbackErrors += x.fallbackErrors;
  if (x.paths) addPathTallies((into.paths ??= {}), x.paths);
}

/** a phase's path tally in a slice, created on first use */
function tallyOf(p: PhaseData, path: PathName): { completed: number; errors: number } {
  return ((p.paths ??= {})[path] ??= { completed: 0, errors: 0 });
}

export interface AbortPhase {
  name: string;
  warmup: boolean;
}

export interface AbortDecision {
  verdict: Verdict;
  /** run time of the decision, ms */
  atMs: number;
}

export class AbortWatch {
  private readonly budgets: Budget[];
  private readonly stages: Set<string>;
  private readonly slices: Slice[] = [];
  private readonly windowSeconds: number;

  constructor(
    budgets: readonly Budget[],
    private readonly phases: readonly AbortPhase[],
    /** server metrics scraped in (fromMs, toMs], for metric budgets (ServerMetricsRecorder.window) */
    private readonly server?: (fromMs: number, toMs: number) => ServerMetricsData,
  ) {
    this.budgets = budgets.filter((b) => b.abort !== undefined);
    this.stages = new Set(this.budgets.flatMap((b) => (b.kind === 'latency' ? [b.stage] : [])));
    this.windowSeconds = Math.max(1, ...this.budgets.map((b) => Math.ceil((b.abort?.windowMs ?? 0) / 1000)));
  }

  get active(): boolean {
    return this.budgets.length > 0;
  }

  private slice(tMs: number): Slice {
    const second = Math.max(0, Math.floor(tMs / 1000));
    let last = this.slices[this.slices.length - 1];
    if (!last || last.second !== second) {
      last = {
        second,
        series: new Map(),
        phases: this.phases.map((p) => ({ name: p.name, warmup: p.warmup, scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, fallbackErrors: 0 })),
      };
      this.slices.push(last);
      while (this.slices.length > this.windowSeconds + 1) this.slices.shift();
    }
    return last;
  }

  private hist(sl: Slice, stage: string, path: PathName, phase: number): Histogram {
    const key = `${stage}|${path}|${phase}`;
    let s = sl.series.get(key);
    if (!s) {
      s = { stage, path, phase: this.phases[phase]?.name ?? '', hist: createHistogram(), unmeasured: 0 };
      sl.series.set(key, s);
    }
    return s.hist;
  }

  completed(phase: number, intendedMs: number, doneMs: number, t: ObservedTimings): void {
    if (!this.active) return;
    const sl = this.slice(doneMs);
    const p = sl.phases[phase];
    if (p) {
      p.completed++;
      if (t.path === 'fallback') p.fallback++;
      tallyOf(p, t.path).completed++;
    }
    if (this.stages.has(TOTAL_STAGE)) recordMs(this.hist(sl, TOTAL_STAGE, t.path, phase), doneMs - intendedMs);
    for (const stage of this.stages) {
      const v = t.client?.get(stage) ?? t.stages.get(stage);
      if (v !== undefined && stage !== TOTAL_STAGE) recordMs(this.hist(sl, stage, t.path, phase), v);
    }
  }

  failed(phase: number, doneMs: number, path: PathName): void {
    if (!this.active) return;
    const p = this.slice(doneMs).phases[phase];
    if (!p) return;
    p.errors++;
    if (path === 'fallback') p.fallbackErrors++;
    tallyOf(p, path).errors++;
  }

  /** The first abort budget that fails over its window at run time tMs, if any. */
  check(tMs: number): AbortDecision | undefined {
    for (const b of this.budgets) {
      const abort = b.abort;
      if (!abort || tMs < abort.afterMs) continue;
      const [verdict] = evaluateBudgets([b], this.window(tMs, abort.windowMs));
      if (verdict?.status === 'fail') {
        return { verdict: { ...verdict, reason: `aborted at ${(tMs / 1000).toFixed(1)}s: over the last ${abort.windowMs / 1000}s, ${verdict.reason}` }, atMs: tMs };
      }
    }
    return undefined;
  }

  /** The slices of the window so far, encoded (see EncodedSlice). */
  exportSlices(): EncodedSlice[] {
    return this.slices.map((sl) => ({
      second: sl.second,
      series: [...sl.series].map(([key, s]) => ({ key, stage: s.stage, path: s.path, phase: s.phase, hdr: encodeHistogram(s.hist), max: maxMs(s.hist) })),
      phases: sl.phases.map((p) => ({ ...p, ...(p.paths ? { paths: copyPathTallies(p.paths) } : {}) })),
    }));
  }

  /**
   * Replaces this watch's slices by the union of other watches' exports, second by second:
   * histograms added (exact), counts summed. Afterwards check() judges every part's requests together.
   */
  adopt(parts: readonly (readonly EncodedSlice[])[]): void {
    const bySecond = new Map<number, Slice>();
    for (const part of parts) {
      for (const e of part) {
        let sl = bySecond.get(e.second);
        if (!sl) {
          sl = { second: e.second, series: new Map(), phases: this.phases.map((p) => ({ name: p.name, warmup: p.warmup, scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, fallbackErrors: 0 })) };
          bySecond.set(e.second, sl);
        }
        for (const s of e.series) {
          const into = sl.series.get(s.key) ?? { stage: s.stage, path: s.path, phase: s.phase, hist: createHistogram(), unmeasured: 0 };
          into.hist.add(decodeHistogram(s.hdr, s.max));
          sl.series.set(s.key, into);
        }
        e.phases.forEach((p, i) => addWindowCounts(sl.phases[i], p));
      }
    }
    this.slices.splice(0, this.slices.length, ...[...bySecond.values()].sort((a, b) => a.second - b.second));
  }

  /** Measurements over the whole seconds in (t − window, t]. */
  private window(tMs: number, windowMs: number): Measurements {
    const from = Math.floor((tMs - windowMs) / 1000);
    const to = Math.floor(tMs / 1000);
    const picked = this.slices.filter((s) => s.second >= from && s.second <= to);
    const series = new Map<string, { s: SeriesData; hs: Histogram[] }>();
    for (const sl of picked) {
      for (const [k, s] of sl.series) {
        const e = series.get(k) ?? { s, hs: [] };
        e.hs.push(s.hist);
        series.set(k, e);
      }
    }
    const phases = this.phases.map((p, i) => {
      const sum: PhaseData = { name: p.name, warmup: p.warmup, scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, fallbackErrors: 0 };
      for (const sl of picked) addWindowCounts(sum, sl.phases[i]);
      return sum;
    });
    return {
      series: [...series.values()].map(({ s, hs }) => ({ ...s, hist: mergeHistograms(hs) })),
      phases,
      ...(this.server ? { server: this.server(tMs - windowMs, tMs) } : {}),
    };
  }
}
