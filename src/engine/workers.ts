/**
 * Sender threads: `run --workers N`. One event loop that sends, parses and records tops out around
 * one core; N worker threads (worker-main.ts) each drive their own autocannon instance on their own
 * loop. Worker w sends the requests whose schedule index ≡ w (mod N), the shard rule of
 * core/shard.ts, so the workers together send exactly the single-thread schedule; closed-model users
 * and maxInFlight are split as shards split users. A session phase's arrival k starts session k on
 * the worker that owns k, and its later turns stay there (that worker holds the conversation and
 * the live replies it carries). Under `--shard I/M` worker w of shard I takes
 *
 *   k ≡ I + M·w (mod M·N)
 *
 * since k = I + M·j with j ≡ w (mod N); those classes partition shard I's requests.
 *
 * This thread keeps what needs the whole picture: the live progress (summed counts, p99 from the
 * workers' encoded total histograms), early abort (the workers' abort windows adopted into one watch
 * and judged here once a second; a failure stops every worker), Ctrl-C (stop / hard stop passed on),
 * checkpoints (the workers' snapshots merged), and the final report, merged exactly by core/merge.ts
 * (HDR addition: a merged percentile is the percentile of one histogram of every value; per-turn
 * series, session figures and prompt-token checks included).
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AbortWatch, type AbortDecision } from '../core/abort.js';
import { BudgetgateError } from '../core/errors.js';
import { decodeHistogram, mergeHistograms, quantileMs } from '../core/histograms.js';
import { mergeReports } from '../core/merge.js';
import type { Profile } from '../core/profile-types.js';
import type { RunResult, SeriesReport, TimelinePoint } from '../core/report.js';
import { TOTAL_STAGE } from '../core/stages.js';
import { BASE_WINDOW_MS, decodeWindows, mergeWindowSets } from '../core/windows.js';
import { phaseOfSecondBefore, planSchedule } from '../core/schedule.js';
import { shardUsers, type Shard } from '../core/shard.js';
import type { Tick } from '../core/tick.js';
import { reevaluate } from '../core/verdict.js';
import { waitUntil, type EngineRunOptions } from './run.js';
import type { HookRunner } from './hooks.js';
import type { HookReport } from '../core/hooks.js';
import { sharedClock, type FromWorker, type ToWorker, type WorkerInput } from './worker-protocol.js';

/** The largest --workers accepted: far above the cores of any machine this runs on. */
export const MAX_WORKERS = 256;

/** How long after each whole second the main thread reads the workers' ticks of that second. */
const TICK_LAG_MS = 150;

/**
 * `auto`: the cores available to this process, minus one when the embedded simulated endpoint runs
 * in this process (its event loop needs a core too); at least 1.
 */
export function workerCount(spec: number | 'auto' | undefined, embeddedSim: boolean): number {
  if (spec === undefined) return 1;
  if (spec === 'auto') return Math.max(1, availableParallelism() - (embeddedSim ? 1 : 0));
  if (!Number.isSafeInteger(spec) || spec < 1 || spec > MAX_WORKERS) throw new BudgetgateError('usage', `--workers: expected auto or an integer from 1 to ${MAX_WORKERS}, got ${spec}`);
  return spec;
}

/** Worker w of n inside `outer` (the whole schedule when undefined): see the module comment. */
export function workerShard(outer: Shard | undefined, w: number, n: number): Shard {
  const o = outer ?? { index: 0, count: 1 };
  return { index: o.index + o.count * w, count: o.count * n };
}

/**
 * A worker's young generation, MB: 3 × a 64 MB semi-space (V8's young generation is two semi-spaces
 * plus as much for large objects; its default semi-space is 16 MB). Every request allocates
 * short-lived objects; with the default nursery, scavenges of 10–20 ms overlapped 77–87% of the
 * worst 1% of sends at 3,000/s, with a 64 MB one 0–9% (README, "How exact the traffic is"). The main
 * thread gets the same through bin/budgetgate.js's `--max-semi-space-size=64`.
 */
export const WORKER_YOUNG_MB = 192;

/** Under tsx (tests, `npm start`) the entry is TypeScript: the worker registers tsx before importing it. */
function spawn(input: WorkerInput): Worker {
  const here = import.meta.url;
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_MB };
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker-main.js', here), { workerData: input, resourceLimits });
  const entry = new URL('./worker-main.ts', here).href;
  // the ESM build of tsx's API (require.resolve names the CommonJS one, beside it as .mjs)
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(tsx)}).then((a) => { a.register(); return import(${JSON.stringify(entry)}); }).catch((e) => { throw new Error(String(e && e.stack || e)); })`;
  return new Worker(code, { eval: true, workerData: input, resourceLimits });
}

interface Member {
  worker: Worker;
  ready: boolean;
  last?: Extract<FromWorker, { kind: 'tick' }>;
  checkpoint?: RunResult;
  report?: RunResult;
  error?: string;
  ended: boolean;
}

type WorkerRunOptions = EngineRunOptions & { workers: number; redact: (s: string) => string; hooks?: HookRunner };

export async function runWorkers(profile: Profile, o: WorkerRunOptions): Promise<RunResult> {
  const fleet = new Fleet(profile, o);
  try {
    return await fleet.run();
  } finally {
    fleet.close();
  }
}

class Fleet {
  private readonly n: number;
  private readonly members: Member[];
  private readonly plan;
  private readonly watch: AbortWatch;
  private aborted: AbortDecision | undefined;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private startAt = 0;
  private readonly startedAt: Date;
  private onEvent: () => void = () => {};

  constructor(
    private readonly profile: Profile,
    private readonly o: WorkerRunOptions,
  ) {
    this.n = o.workers;
    this.plan = planSchedule(profile.phases);
    this.watch = new AbortWatch(profile.budgets, this.plan.phases);
    this.startedAt = (o.wallClock ?? (() => new Date()))();
    const checkpointMs = o.onCheckpoint ? (o.checkpointMs ?? 60_000) : 0;
    this.members = Array.from({ length: this.n }, (_, w) => {
      const share = { index: w, count: this.n };
      const input: WorkerInput = {
        profile: { ...profile, maxInFlight: Math.max(1, shardUsers(profile.maxInFlight, share)) },
        url: o.url,
        version: o.version,
        shard: workerShard(o.shard, w, this.n),
        allowInconclusive: o.allowInconclusive === true,
        strict: o.strict === true,
        ...(o.promptItems ? { promptItems: o.promptItems } : {}),
        ...(o.conversations ? { conversations: [...o.conversations] } : {}),
        ...(o.baseDir !== undefined ? { baseDir: o.baseDir } : {}),
        checkpointMs,
      };
      const m: Member = { worker: spawn(input), ready: false, ended: false };
      m.worker.on('message', (msg: FromWorker) => this.message(m, msg));
      m.worker.on('error', (e: unknown) => this.end(m, `worker ${w} failed: ${e instanceof Error ? e.message : JSON.stringify(e)}`));
      m.worker.on('exit', (code) => this.end(m, `worker ${w} exited (code ${code}) before its report`));
      return m;
    });
  }

  private message(m: Member, msg: FromWorker): void {
    if (msg.kind === 'ready') m.ready = true;
    else if (msg.kind === 'tick') m.last = msg;
    else if (msg.kind === 'checkpoint') m.checkpoint = msg.report;
    else if (msg.kind === 'done') {
      m.report = msg.report;
      this.end(m);
    } else this.end(m, msg.message, msg.errorKind);
    this.onEvent();
  }

  private errorKind: BudgetgateError['kind'] | undefined;
  private hooks: HookReport[] | undefined;

  /** A member ended: with its report, or with an error (the others are stopped: the run is partial). */
  private end(m: Member, error?: string, kind?: BudgetgateError['kind']): void {
    if (m.ended) return;
    m.ended = true;
    if (error !== undefined && m.report === undefined) {
      m.error = error;
      this.errorKind ??= kind;
      this.stopAll('stop');
    }
    void m.worker.terminate();
    this.onEvent();
  }

  private until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.onEvent = () => {
        if (done()) resolve();
      };
      this.onEvent();
    });
  }

  private post(msg: ToWorker): void {
    for (const m of this.members) if (!m.ended) m.worker.postMessage(msg);
  }

  private stopAll(kind: 'stop' | 'hard'): void {
    if (kind === 'stop' && this.stopped) return;
    this.stopped = true;
    this.post({ kind });
  }

  async run(): Promise<RunResult> {
    await this.until(() => this.members.every((m) => m.ready || m.ended));
    this.failIfNoneReported();
    const { signal, hardSignal } = this.o;
    if (this.o.startAt !== undefined) await waitUntil(this.o.startAt, this.o.epochClock ?? Date.now, [signal, hardSignal]);
    this.startAt = sharedClock() + 20;
    this.post({ kind: 'go', startAt: this.startAt, startEpochMs: (this.o.epochClock ?? Date.now)() + 20 });
    // fault hooks run here, once, on the workers' shared clock (t = 0 at startAt)
    this.o.hooks?.start(() => sharedClock() - this.startAt);
    signal?.addEventListener('abort', () => this.stopAll('stop'), { once: true });
    hardSignal?.addEventListener('abort', () => this.stopAll('hard'), { once: true });
    if (signal?.aborted === true) this.stopAll('stop');
    if (hardSignal?.aborted === true) this.stopAll('hard');
    this.scheduleTick(1);
    this.scheduleCheckpoints();
    await this.until(() => this.members.every((m) => m.ended));
    this.clearTimers();
    this.failIfNoneReported();
    const stoppedEarly = this.aborted !== undefined || this.o.signal?.aborted === true || this.o.hardSignal?.aborted === true || this.members.some((m) => m.error !== undefined);
    this.hooks = this.o.hooks ? await this.o.hooks.finish(stoppedEarly) : undefined;
    return this.combine(this.members.flatMap((m) => (m.report ? [m.report] : [])), {});
  }

  /** Every worker failed before reporting: nothing was measured, so the first error is the outcome. */
  private failIfNoneReported(): void {
    const failed = this.members.filter((m) => m.error !== undefined);
    if (failed.length === 0 || this.members.some((m) => m.report !== undefined || !m.ended)) return;
    const message = (failed[0] as Member).error as string;
    throw this.errorKind ? new BudgetgateError(this.errorKind, message) : new Error(message);
  }

  private scheduleTick(k: number): void {
    const at = this.startAt + k * 1000 + TICK_LAG_MS;
    this.timers.push(setTimeout(() => this.tick(k), Math.max(0, at - sharedClock())));
  }

  /** Once a second: the merged progress line, and the early-abort check over every worker's window. */
  private tick(k: number): void {
    const tMs = k * 1000;
    const lasts = this.members.flatMap((m) => (m.last ? [m.last] : []));
    if (this.watch.active && !this.aborted && !this.stopped) {
      this.watch.adopt(lasts.map((l) => l.slices));
      this.aborted = this.watch.check(tMs);
      if (this.aborted) this.stopAll('stop');
    }
    this.o.onTick?.(mergedTick(tMs, this.plan, lasts));
    if (!this.members.every((m) => m.ended)) this.scheduleTick(k + 1);
  }

  private scheduleCheckpoints(): void {
    const every = this.o.checkpointMs ?? 60_000;
    if (!this.o.onCheckpoint || every <= 0) return;
    const emit = (): void => {
      const parts = this.members.map((m) => m.report ?? m.checkpoint);
      if (parts.some((p) => p === undefined)) return; // a worker has not written its first yet
      try {
        this.o.onCheckpoint?.(this.combine(parts as RunResult[], { checkpoint: true }));
      } catch {
        // best effort, as a single thread's checkpoints are
      }
    };
    // a little after the workers' own snapshots of the same moment
    const first = setTimeout(() => {
      emit();
      this.timers.push(setInterval(emit, every));
    }, every + 300);
    this.timers.push(first);
  }

  /** The workers' reports as one run's: merged exactly, then judged as a single run is. */
  private combine(reports: readonly RunResult[], o: { checkpoint?: boolean }): RunResult {
    const merged = mergeReports(
      reports.map((report, i) => ({ source: `worker ${i}`, report })),
      { budgets: this.profile.budgets, allowInconclusive: this.o.allowInconclusive === true, strict: this.o.strict === true },
    ).report;
    const { shard: _shard, reason: _reason, aborted: _aborted, checkpoint: _checkpoint, verdict: _verdict, budgets: _budgets, ...data } = merged;
    const failed = this.members.filter((m) => m.error !== undefined).map((m) => m.error as string);
    const interrupted = o.checkpoint === true || this.o.signal?.aborted === true || this.o.hardSignal?.aborted === true || failed.length > 0;
    const reason = o.checkpoint === true ? 'checkpoint: the run was still under way when this was written' : failed.length > 0 ? `interrupted: ${failed.join('; ')}` : undefined;
    const base: RunResult = {
      ...data,
      timeline: secondPercentiles(data.timeline, data.series),
      target: this.o.redact(this.o.url),
      startedAt: this.startedAt.toISOString(),
      verdict: 'fail',
      interrupted,
      ...(reason !== undefined ? { reason } : {}),
      ...(this.aborted ? { aborted: this.aborted.verdict } : {}),
      ...(this.o.shard ? { shard: this.o.shard } : {}),
      ...(o.checkpoint === true ? { checkpoint: true } : {}),
      workers: this.n,
      budgets: [],
      ...(this.hooks && o.checkpoint !== true ? { hooks: this.hooks } : {}),
    };
    const judged = reevaluate(base, this.profile.budgets, { allowInconclusive: this.o.allowInconclusive === true, strict: this.o.strict === true });
    return { ...base, verdict: judged.verdict, budgets: judged.budgets, ...(judged.reason !== undefined ? { reason: judged.reason } : {}) };
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  close(): void {
    this.clearTimers();
    for (const m of this.members) void m.worker.terminate();
  }
}

/**
 * The merged timeline's per-second p50/p99 (merge.ts drops a second's percentiles when several
 * reports completed requests in it) read from the total series' 1 s windows merged across paths and
 * phases: the same completions, binned by the same ⌊t / 1 s⌋. Runs longer than MAX_WINDOWS seconds
 * have wider windows; their merged seconds keep null percentiles, as merged shards do.
 */
function secondPercentiles(timeline: readonly TimelinePoint[], series: readonly SeriesReport[]): TimelinePoint[] {
  const totals = series.filter((s) => s.stage === TOTAL_STAGE);
  const sets = totals.map((s) => decodeWindows(s.windows));
  if (sets.some((w) => w === undefined || w.widthMs !== BASE_WINDOW_MS)) return [...timeline];
  const bySecond = new Map((mergeWindowSets(sets) ?? []).map((w) => [w.at, w.hist]));
  return timeline.map((p, i) => {
    const h = bySecond.get(i);
    return h && p.completed > 0 ? { ...p, p50: quantileMs(h, 0.5), p99: quantileMs(h, 0.99) } : p;
  });
}

/** The workers' latest ticks as one: counts and in-flight summed, p99 from their merged total histograms. */
function mergedTick(tMs: number, plan: ReturnType<typeof planSchedule>, lasts: readonly Extract<FromWorker, { kind: 'tick' }>[]): Tick {
  const sum = (f: (t: Omit<Tick, 'phase'>) => number): number => lasts.reduce((s, l) => s + f(l.tick), 0);
  const totals = lasts.flatMap((l) => (l.total ? [decodeHistogram(l.total.hdr, l.total.max)] : []));
  return {
    tMs,
    phase: phaseOfSecondBefore(plan, tMs),
    inFlight: sum((t) => t.inFlight),
    progress: {
      scheduled: sum((t) => t.progress.scheduled),
      sent: sum((t) => t.progress.sent),
      completed: sum((t) => t.progress.completed),
      errors: sum((t) => t.progress.errors),
      fallback: sum((t) => t.progress.fallback),
      p99: totals.length > 0 ? quantileMs(mergeHistograms(totals), 0.99) : Number.NaN,
    },
  };
}
