/**
 * Aggregates per-request events into histograms and counters as they happen. The hot path only looks
 * up a histogram and records an integer; percentiles and reports are computed afterwards. Time comes
 * in as arguments (ms since the run's start), so this is pure and replayable in tests.
 */
import { createHistogram, encodeHistogram, maxMs, mergeHistograms, quantileMs, recordMs, summarize, type Histogram } from './histograms.js';
import type { PathName } from './profile-types.js';
import type { Counts, LatenessReport, PhaseReport, RunResult, SeriesReport, TimelinePoint } from './report.js';
import type { Measurements, PhaseData, SeriesData } from './budgets.js';
import { TOTAL_STAGE, UNATTRIBUTED_STAGE } from './stages.js';
import { fitWindows, WindowClock, WindowSet, type WindowsReport } from './windows.js';
import { RecoveryTracker } from './recovery-track.js';
import type { RecoveryTrackReport } from './recovery.js';
import { countTokens, tokenFigures, zeroTally, type RequestTokens, type TokenFigures, type TokenTally } from './tokens.js';
import { PER_TURN_STAGES, SessionStats } from './session-stats.js';
import { copyPathTallies, countPromptCache, zeroPathTally, type PathTally } from './paths.js';


export interface RecorderPhase {
  name: string;
  warmup: boolean;
  model: 'open' | 'closed';
  startMs: number;
  endMs: number;
  rate: number;
  to: number;
  concurrency: number;
  concurrencyTo: number;
  /** requests the schedule sends in this phase; 0 for closed phases, counted as they are issued */
  requests: number;
}

/** What the live progress line shows, computed once a second. */
export interface Progress {
  /** the last whole second: scheduled and sent */
  scheduled: number;
  sent: number;
  completed: number;
  errors: number;
  fallback: number;
  /** p99 of total over every budgeted-or-not completion so far, ms (NaN when none) */
  p99: number;
}

interface Second extends Counts {
  /** completions per path other than primary */
  paths?: Record<PathName, number>;
  inFlight: number;
  p50: number | null;
  p99: number | null;
}

/** What the engine learnt from one response: server-reported stages, client-measured ones, the path. */
export interface ObservedTimings {
  /** stages the server reported (headers, trailers, body), ms */
  stages: ReadonlyMap<string, number>;
  unmeasured: readonly string[];
  path: PathName;
  /** ids of the fallback signals that fired (see FallbackRule) */
  signals?: readonly string[];
  /** stages the client measured once per request (ttft, tpot, tokens_per_s) */
  client?: ReadonlyMap<string, number>;
  /** stages with many values per request (itl: every gap between streamed tokens) */
  samples?: ReadonlyMap<string, readonly number[]>;
  /** the response's tokens (its usage, else its counted content events); absent: neither */
  tokens?: RequestTokens;
  /** a session's turn number (1-based): ttft and total are kept per turn too (session-stats.ts) */
  turn?: number;
  /** the prompt tokens sent, as the run's tokenizer counts them (compared with usage.prompt_tokens) */
  sentPromptTokens?: number;
}

export interface RecorderOptions {
  /**
   * Per-request goodput limits, stage → ms. A request is good when it succeeded and every named
   * stage was measured and within its limit; a stage it lacks makes it not good (fail-safe).
   */
  goodput?: Readonly<Record<string, number>>;
  /** the run's tokenizer name, for the prompt-token check (default chars4) */
  tokenizer?: string;
  /** stages that recovery budgets name: binned by intended send time as well (recovery-track.ts) */
  recoveryStages?: readonly string[];
}

interface PhaseState extends PhaseData {
  tokens: TokenTally;
  errorKinds: Record<string, number>;
  fallbackSignals: Record<string, number>;
  good: number;
  goodFallback: number;
  paths: Record<PathName, PathTally>;
}

/** the run's counts and its token figures */
export type Totals = Counts & Partial<TokenFigures>;

const zeroCounts = (): Counts => ({ scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0 });
/**
 * A second's counts, written out rather than spread from zeroCounts(): V8 gave the objects a spread
 * made (one a second) maps that kept changing, and every function that counts into the open second
 * (sent, issued, completed and the driver's send path they are inlined into) was deoptimized
 * ("wrong map") and compiled again three times in a 10 s closed run (node --trace-deopt).
 */
const zeroSecond = (): Second => ({ scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, inFlight: 0, p50: null, p99: null });

/** A live series: its whole-run histogram plus its per-window ones (windows.ts). */
interface LiveSeries extends SeriesData {
  set: WindowSet;
}

/** The hot path: one integer into the series' open window (by completion time); `hist` merges on reading. */
function record(s: LiveSeries, tMs: number, ms: number): void {
  s.set.record(tMs, ms);
}

export class Recorder {
  private readonly series = new Map<string, LiveSeries>();
  private readonly clock = new WindowClock();
  private readonly phaseStates: PhaseState[];
  private readonly seconds: Second[] = [];
  private readonly lateness: Histogram = createHistogram();
  /** total of the completions in second `openSecond`; completion times only grow, so one suffices */
  private readonly secondTotal: Histogram = createHistogram();
  private openSecond = -1;

  private readonly goodput: readonly (readonly [string, number])[];
  /** per-turn series, per-session figures, prompt tokens sent vs the server's (session-stats.ts) */
  readonly sessions: SessionStats;
  private readonly recovery: RecoveryTracker;

  constructor(
    private readonly phases: readonly RecorderPhase[],
    options: RecorderOptions = {},
  ) {
    this.goodput = Object.entries(options.goodput ?? {});
    this.sessions = new SessionStats((i) => this.phaseState(i).name, options.tokenizer ?? 'chars4');
    this.recovery = new RecoveryTracker(options.recoveryStages ?? []);
    // written out, not spread from zeroCounts(), as zeroSecond is (its comment)
    this.phaseStates = phases.map((p) => ({ name: p.name, warmup: p.warmup, scheduled: p.requests, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, fallbackErrors: 0, good: 0, goodFallback: 0, tokens: zeroTally(), errorKinds: {}, fallbackSignals: {}, paths: {} }));
  }

  /** Goodput is computed only when the profile names per-request limits. */
  get tracksGoodput(): boolean {
    return this.goodput.length > 0;
  }

  private second(tMs: number): Second {
    const s = tMs <= 0 ? 0 : Math.floor(tMs / 1000);
    while (this.seconds.length <= s) this.seconds.push(zeroSecond());
    return this.seconds[s] as Second;
  }

  /** Writes the per-second percentiles of the open second and starts second `s`. */
  private rollSecond(s: number): void {
    if (s === this.openSecond) return;
    if (this.openSecond >= 0 && this.secondTotal.totalCount > 0) {
      const sec = this.second(this.openSecond * 1000);
      sec.p50 = quantileMs(this.secondTotal, 0.5);
      sec.p99 = quantileMs(this.secondTotal, 0.99);
    }
    this.secondTotal.reset();
    this.openSecond = s;
  }

  private pathTally(p: PhaseState, path: PathName): PathTally {
    return (p.paths[path] ??= zeroPathTally(this.goodput.length > 0));
  }

  private phaseState(phase: number): PhaseState {
    const p = this.phaseStates[phase];
    if (!p) throw new RangeError(`no phase ${phase}`);
    return p;
  }

  /**
   * The hot path's index of `series`: stage → [pathId · phases + phase], with pathId the order in
   * which paths (primary, fallback, any `paths:` name) first appear, so no key string is built per value.
   */
  private readonly byStage = new Map<string, (LiveSeries | undefined)[]>();
  private readonly pathIds = new Map<PathName, number>();
  /** the path last looked up and its id: a response records every stage under one path */
  private lastPath: PathName | undefined;
  private lastPathId = 0;

  private hist(stage: string, path: PathName, phase: number): LiveSeries {
    let row = this.byStage.get(stage);
    if (row === undefined) this.byStage.set(stage, (row = []));
    let id = this.lastPathId;
    if (path !== this.lastPath) {
      const known = this.pathIds.get(path);
      if (known === undefined) this.pathIds.set(path, (id = this.pathIds.size));
      else id = known;
      this.lastPath = path;
      this.lastPathId = id;
    }
    const i = id * this.phases.length + phase;
    return (row[i] ??= this.newSeries(stage, path, phase));
  }

  private newSeries(stage: string, path: PathName, phase: number): LiveSeries {
    const key = `${stage}|${path}|${phase}`;
    let s = this.series.get(key);
    if (!s) {
      const set = new WindowSet(this.clock);
      s = {
        stage, path, phase: this.phaseState(phase).name, unmeasured: 0, set, windows: () => set.report(),
        get hist(): Histogram {
          return set.whole();
        },
      };
      this.series.set(key, s);
    }
    return s;
  }

  /**
   * Settles one series' closed window (windows.ts): the engine calls it between socket reads so the
   * windows closed at a second's first samples are encoded one at a time, not all at once. Whether
   * any is left. Reading never needs it: every read settles what it reads.
   */
  settleWindows(): boolean {
    return this.clock.settleOne();
  }

  /** A request's intended time has come (it is due, sent or not). */
  due(intendedMs: number): void {
    this.second(intendedMs).scheduled++;
  }

  /** A closed-model virtual user issued a request: scheduled and due at once (no schedule ahead). */
  issued(phase: number, tMs: number): void {
    this.phaseState(phase).scheduled++;
    this.second(tMs).scheduled++;
  }

  /** Requests in flight at time t (the driver samples it once a second). */
  inFlight(tMs: number, n: number): void {
    this.second(tMs).inFlight = n;
  }

  sent(phase: number, intendedMs: number, sentMs: number, late: boolean): void {
    const p = this.phaseState(phase);
    p.sent++;
    this.second(sentMs).sent++;
    recordMs(this.lateness, Math.max(0, sentMs - intendedMs));
    if (late) {
      p.late++;
      this.second(intendedMs).late++;
    }
  }

  /** A successful (2xx) response; total is measured from the intended send time. */
  completed(phase: number, intendedMs: number, doneMs: number, t: ObservedTimings): void {
    const p = this.phaseState(phase);
    p.completed++;
    const sec = this.second(doneMs);
    sec.completed++;
    if (t.path === 'fallback') {
      p.fallback++;
      sec.fallback++;
    }
    if (t.path !== 'primary') (sec.paths ??= {})[t.path] = (sec.paths[t.path] ?? 0) + 1;
    const tally = this.pathTally(p, t.path);
    tally.completed++;
    countPromptCache(tally.promptCache!, t.tokens);
    const total = doneMs - intendedMs;
    record(this.hist(TOTAL_STAGE, t.path, phase), doneMs, total);
    this.rollSecond(doneMs <= 0 ? 0 : Math.floor(doneMs / 1000));
    recordMs(this.secondTotal, total);
    let reported = 0;
    for (const [stage, ms] of t.stages) {
      record(this.hist(stage, t.path, phase), doneMs, ms);
      reported += ms;
    }
    // where the time went that the server did not account for: network, gateways, the client
    if (t.stages.size > 0) record(this.hist(UNATTRIBUTED_STAGE, t.path, phase), doneMs, Math.max(0, total - reported));
    if (t.client) for (const [stage, v] of t.client) record(this.hist(stage, t.path, phase), doneMs, v);
    if (t.samples) {
      for (const [stage, vs] of t.samples) this.hist(stage, t.path, phase).set.recordMany(doneMs, vs);
    }
    for (const stage of t.unmeasured) this.hist(stage, t.path, phase).unmeasured++;
    countTokens(p.tokens, t.tokens);
    if (t.sentPromptTokens !== undefined && t.tokens?.input !== undefined && t.tokens.source === 'usage') this.sessions.promptTokens(phase, t.sentPromptTokens, t.tokens.input);
    if (t.turn !== undefined) {
      this.sessions.turnValue(TOTAL_STAGE, t.path, phase, t.turn, total);
      const ttft = t.client?.get(PER_TURN_STAGES[0] as string);
      if (ttft !== undefined) this.sessions.turnValue(PER_TURN_STAGES[0] as string, t.path, phase, t.turn, ttft);
    }
    if (t.signals) for (const id of t.signals) p.fallbackSignals[id] = (p.fallbackSignals[id] ?? 0) + 1;
    if (this.recovery.active) this.recovery.completed(t.path, intendedMs, (stage) => (stage === TOTAL_STAGE ? total : (t.client?.get(stage) ?? t.stages.get(stage))));
    if (this.goodput.length > 0 && this.isGood(total, t)) {
      p.good++;
      tally.good = (tally.good ?? 0) + 1;
      if (t.path === 'fallback') p.goodFallback++;
    }
  }

  private isGood(total: number, t: ObservedTimings): boolean {
    for (const [stage, limit] of this.goodput) {
      const v = stage === TOTAL_STAGE ? total : (t.client?.get(stage) ?? t.stages.get(stage));
      if (v === undefined || v > limit) return false;
    }
    return true;
  }

  /**
   * A request that ended in an error: a non-2xx status ("http 503"), "timeout", or a socket error
   * code. `intendedMs` bins it for recovery budgets (absent: not binned).
   */
  failed(phase: number, doneMs: number, kind: string, path: PathName, intendedMs?: number): void {
    const p = this.phaseState(phase);
    if (intendedMs !== undefined && this.recovery.active) this.recovery.failed(path, intendedMs);
    p.errors++;
    if (path === 'fallback') p.fallbackErrors++;
    this.pathTally(p, path).errors++;
    p.errorKinds[kind] = (p.errorKinds[kind] ?? 0) + 1;
    this.second(doneMs).errors++;
  }

  totals(): Counts {
    const t = zeroCounts();
    for (const p of this.phaseStates) {
      t.scheduled += p.scheduled;
      t.sent += p.sent;
      t.completed += p.completed;
      t.errors += p.errors;
      t.fallback += p.fallback;
      t.late += p.late;
    }
    return t;
  }

  /** Tokens of every completed request so far. */
  tokenTotals(): TokenTally {
    const t = zeroTally();
    for (const p of this.phaseStates) {
      t.inputTokens += p.tokens.inputTokens;
      t.outputTokens += p.tokens.outputTokens;
      t.tokenSources.usage += p.tokens.tokenSources.usage;
      t.tokenSources.events += p.tokens.tokenSources.events;
      t.tokenSources.none += p.tokens.tokenSources.none;
    }
    return t;
  }

  /** The live view budgets are evaluated on (shares histograms: do not mutate). */
  measurements(): Measurements {
    return {
      series: [...this.series.values()],
      phases: this.phaseStates,
      turns: this.sessions.turnData(),
      ...(this.recovery.active ? { recovery: { tracks: () => this.recovery.report(), phases: this.phases } } : {}),
    };
  }

  timeline(): TimelinePoint[] {
    this.rollSecond(-1);
    return this.seconds.map((c, i) => ({ t: i * 1000, ...c }));
  }

  /**
   * The timeline so far without closing the open second: its p50/p99 are read from the live
   * histogram (they cover its completions so far) but the histogram is left as it is, so a later
   * completion in the same second still counts towards it. timeline() is for the final report.
   */
  timelineSnapshot(): TimelinePoint[] {
    const open = this.openSecond >= 0 && this.secondTotal.totalCount > 0 ? { p50: quantileMs(this.secondTotal, 0.5), p99: quantileMs(this.secondTotal, 0.99) } : undefined;
    return this.seconds.map((c, i) => ({ t: i * 1000, ...c, ...(open && i === this.openSecond ? open : {}) }));
  }

  /** report() mid-run, for checkpoints: the same parts, built without disturbing live state. */
  snapshot(): ReturnType<Recorder['report']> {
    const { series, phases, totals, lateness, ...sessions } = this.parts();
    return { series, phases, timeline: this.timelineSnapshot(), totals, lateness, ...sessions, ...this.recoveryPart() };
  }

  /** the recovery bins, when a recovery budget asked for them */
  private recoveryPart(): { recovery?: RecoveryTrackReport[] } {
    return this.recovery.active ? { recovery: this.recovery.report() } : {};
  }

  /** The progress line's counts: cheap (a sum over phases), unlike its p99. */
  progressCounts(tMs: number): Omit<Progress, 'p99'> {
    const s = Math.floor(tMs / 1000) - 1;
    const last = s >= 0 && s < this.seconds.length ? (this.seconds[s] as Second) : zeroSecond();
    const totals = this.totals();
    return { scheduled: last.scheduled, sent: last.sent, completed: totals.completed, errors: totals.errors, fallback: totals.fallback };
  }

  /** p99 of total over every completion so far (ms, NaN when none): a walk of the whole-run histogram. */
  totalP99(): number {
    const totalHists: Histogram[] = [];
    for (const x of this.series.values()) if (x.stage === TOTAL_STAGE) totalHists.push(x.hist);
    if (totalHists.length === 1) return quantileMs(totalHists[0] as Histogram, 0.99);
    if (totalHists.length > 1) return quantileMs(mergeHistograms(totalHists), 0.99);
    return Number.NaN;
  }

  latenessMs(q: number): number {
    return quantileMs(this.lateness, q);
  }

  /**
   * @param durationMs the run's duration (drain included), over which the totals' throughputs are
   * taken; without it they are taken over the schedule's duration.
   */
  report(durationMs?: number): { series: SeriesReport[]; phases: PhaseReport[]; timeline: TimelinePoint[]; totals: Totals; lateness: LatenessReport; recovery?: RecoveryTrackReport[] } & SessionParts {
    // key order as reports have always had it: series, phases, timeline, totals, lateness
    const { series, phases, totals, lateness, ...sessions } = this.parts(durationMs);
    return { series, phases, timeline: this.timeline(), totals, lateness, ...sessions, ...this.recoveryPart() };
  }

  private parts(durationMs?: number): { series: SeriesReport[]; phases: PhaseReport[]; totals: Totals; lateness: LatenessReport } & SessionParts {
    const scheduleMs = this.phases.reduce((a, p) => Math.max(a, p.endMs), 0);
    const prompts = this.sessions.promptChecks();
    return {
      series: seriesReports(this.series.values()),
      phases: this.phaseStates.map((s, i) => {
        const plan = this.phases[i] as RecorderPhase;
        const { name, warmup, scheduled, sent, completed, errors, fallback, late, fallbackErrors, errorKinds, fallbackSignals, good, goodFallback, tokens, paths } = s;
        return {
          name, warmup, model: plan.model, startMs: plan.startMs, endMs: plan.endMs, rate: plan.rate, to: plan.to, concurrency: plan.concurrency, concurrencyTo: plan.concurrencyTo,
          scheduled, sent, completed, errors, fallback, late, fallbackErrors, errorKinds, fallbackSignals,
          ...(this.goodput.length > 0 ? { good, goodFallback } : {}),
          ...tokenFigures(tokens, completed, plan.endMs - plan.startMs),
          ...(prompts.has(i) ? { promptTokens: prompts.get(i) } : {}),
          paths: copyPathTallies(paths),
        };
      }),
      totals: (() => {
        const t = this.totals();
        return { ...t, ...tokenFigures(this.tokenTotals(), t.completed, durationMs ?? scheduleMs) };
      })(),
      lateness: latenessReport(this.lateness),
      ...this.sessionParts(),
    };
  }

  /** turns and sessions, present only when the run had session phases */
  private sessionParts(): SessionParts {
    const turns = this.sessions.turnReports();
    const sessions = this.sessions.sessionReports();
    return { ...(turns.length > 0 ? { turns } : {}), ...(sessions.length > 0 ? { sessions } : {}) };
  }
}

type SessionParts = Pick<RunResult, 'turns' | 'sessions'>;

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function latenessReport(h: Histogram): LatenessReport {
  return { p50: orNull(quantileMs(h, 0.5)), p99: orNull(quantileMs(h, 0.99)), max: orNull(maxMs(h)), hdr: encodeHistogram(h) };
}

/**
 * Sorted by stage (total first), path, then phase order of first appearance. Series that keep
 * windows get them at one common width (windows.ts fitWindows), at most MAX_WINDOWS each.
 */
export function seriesReports(series: Iterable<SeriesData>): SeriesReport[] {
  const out: SeriesReport[] = [];
  const all = [...series];
  const raw = all.map((s) => s.windows?.());
  const fitted = fitWindows(raw.filter((w): w is WindowsReport => w !== undefined));
  let k = 0;
  for (const [i, s] of all.entries()) {
    const windows = raw[i] !== undefined ? fitted[k++] : undefined;
    const hist = s.hist;
    const sum = summarize(hist);
    out.push({
      stage: s.stage,
      path: s.path,
      phase: s.phase,
      count: sum.count,
      unmeasured: s.unmeasured,
      mean: orNull(sum.mean),
      p50: orNull(sum.p50),
      p90: orNull(sum.p90),
      p95: orNull(sum.p95),
      p99: orNull(sum.p99),
      p999: orNull(sum.p999),
      max: orNull(sum.max),
      hdr: encodeHistogram(hist),
      ...(windows !== undefined ? { windows } : {}),
    });
  }
  const rank = (st: string): string => (st === TOTAL_STAGE ? '' : st);
  return out.sort((a, b) => rank(a.stage).localeCompare(rank(b.stage)) || a.path.localeCompare(b.path));
}
