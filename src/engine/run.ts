/**
 * A whole run: plan the schedule, probe the target, drive the load, evaluate the budgets. Returns the
 * RunResult whatever happened once load started (an interrupted run's result is partial and failed);
 * throws a typed error only before anything was sent.
 */
import { AbortWatch } from '../core/abort.js';
import { evaluateBudgets } from '../core/budgets.js';
import { decide } from '../core/verdict.js';
import { CLIENT_STAGES } from '../core/stages.js';
import { applyPrompt, promptPicker, syntheticPrompt, type PromptItem } from '../core/prompts.js';
import { createRng, deriveSeed } from '../core/random.js';
import { Recorder } from '../core/recorder.js';
import { REPORT_SCHEMA, type RunResult } from '../core/report.js';
import { arrivals, planSchedule } from '../core/schedule.js';
import { traceBodies, type TraceBodies } from '../core/trace/bodies.js';
import { compileTimings } from '../core/timing.js';
import { BudgetgateError } from '../core/errors.js';
import { scheduleId, shardArrivals, shardPlan, type Shard } from '../core/shard.js';
import type { Profile } from '../core/profile-types.js';
import { drive, type DriverOptions, type Tick } from './driver.js';
import { createScraper } from './scraper.js';
import { ServerMetricsRecorder } from '../core/server-metrics.js';
import { METRIC_PRESETS } from '../core/metric-presets.js';
import { tokenChecks } from '../core/tokens.js';
import { probe, type ProbeTls } from './probe.js';
import { runWorkers } from './workers.js';
import { SessionRunner } from './sessions.js';
import { loadTokenizer } from './tokenizers.js';
import { sessionScript, type SessionScript } from '../core/sessions.js';
import type { Conversation } from '../core/conversations.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { Arrival } from '../core/schedule.js';
import { HookRunner } from './hooks.js';
import { hookPlan } from '../core/hooks.js';
import { lowerHelperThreads } from './thread-priority.js';

export interface EngineRunOptions {
  /** the resolved target URL (profile, --target or the embedded endpoint) */
  url: string;
  version: string;
  allowInconclusive?: boolean;
  /** a borderline pass (its 95% interval contains the limit) fails the run */
  strict?: boolean;
  clock?: () => number;
  wallClock?: () => Date;
  signal?: AbortSignal;
  hardSignal?: AbortSignal;
  /** hides secrets in anything this writes (the target URL may carry a token) */
  redact?: (s: string) => string;
  skipProbe?: boolean;
  /** https: how the probe verifies the target's certificate (autocannon itself never verifies) */
  tls?: ProbeTls;
  onTick?: (tick: Tick) => void;
  /** the dataset's prompts (`target.dataset`), loaded by the caller from the profile's file */
  promptItems?: readonly PromptItem[];
  /** phase index → the conversations of its `sessions: { file }`, loaded by the caller (dataset.ts) */
  conversations?: ReadonlyMap<number, readonly Conversation[]>;
  /** the profile's tokenizer, loaded; default: loaded here from `profile.tokenizer` (relative to baseDir) */
  tokenizer?: Tokenizer;
  /** where a relative tokenizer file is read from; default the working directory */
  baseDir?: string;
  /** send only this shard's requests (schedule index ≡ index mod count); see core/shard.ts */
  shard?: Shard;
  /** wall-clock time (ms since the epoch) to begin at, so shards started apart share t = 0 */
  startAt?: number;
  /** ms since the epoch, for startAt and the report's startEpochMs; default Date.now */
  epochClock?: () => number;
  /** a snapshot of the run so far (checkpoint: true, interrupted: true), every checkpointMs */
  onCheckpoint?: (partial: RunResult) => void;
  /** period of onCheckpoint in ms; default 60 s; 0 disables */
  checkpointMs?: number;
  /**
   * Sender threads (workers.ts): N > 1 runs the schedule on N worker threads, worker w sending the
   * requests of index ≡ w (mod N), merged exactly here. 1 (the default) drives on this thread. A
   * session runs whole on the worker that owns its first turn's index (it holds the conversation).
   */
  workers?: number;
  /**
   * Run the phases' fault hooks (core/hooks.ts) on this thread; the caller has checked
   * --allow-hooks. Off in worker threads: with --workers N the main thread runs them once.
   */
  runHooks?: boolean;
  /** false: record the early-abort window but leave judging it to the caller (a worker thread's main) */
  checkAbort?: boolean;
  /** handed the live recorder and abort window once, before load starts (a worker thread reads them each second) */
  live?: (recorder: Recorder, watch: AbortWatch) => void;
}

/**
 * Resolves at wall-clock time `at` (ms since the epoch), checking the clock again after each timer:
 * timers are bounded (2³¹ ms) and drift from the wall clock. Rejects with an 'interrupted' error
 * when a signal aborts first: nothing has been sent yet, so there is no partial report to keep.
 */
export function waitUntil(at: number, epochClock: () => number, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    const done = (err?: Error): void => {
      if (timer) clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => done(new BudgetgateError('interrupted', 'interrupted while waiting for the start time (nothing was sent)'));
    if (live.some((s) => s.aborted)) return onAbort();
    for (const s of live) s.addEventListener('abort', onAbort, { once: true });
    const check = (): void => {
      const left = at - epochClock();
      if (left <= 0) return done();
      timer = setTimeout(check, Math.min(left, 60_000));
    };
    check();
  });
}

/** OpenAI's legacy `/v1/completions` streams `choices[].text`; everything else is read as chat. */
export function streamKind(url: string): 'chat' | 'completions' {
  const path = new URL(url).pathname;
  return /\/completions\/?$/.test(path) && !/\/chat\/completions\/?$/.test(path) ? 'completions' : 'chat';
}

/** The `model` a JSON request body asks for, if any. */
export function requestedModel(body: unknown): string | undefined {
  const b = typeof body === 'string' ? safeJson(body) : body;
  if (b && typeof b === 'object' && typeof (b as { model?: unknown }).model === 'string') return (b as { model: string }).model;
  return undefined;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

export function requestBody(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/**
 * Server stages the budgets and goodput limits name are expected on every response; the stages the
 * client measures itself (CLIENT_STAGES, core/stages.ts) are not the server's to report.
 */
export function budgetStages(profile: Profile): string[] {
  const out = new Set<string>();
  for (const b of profile.budgets) if (b.kind === 'latency') out.add(b.stage);
  for (const stage of Object.keys(profile.goodput)) out.add(stage);
  return [...out].filter((s) => !CLIENT_STAGES.includes(s));
}

/**
 * A body for each request when the profile gives prompts: from a dataset (items loaded by the
 * caller) round-robin or seeded-random, or synthetic prompts of a token-length distribution.
 * @throws BudgetgateError (usage) when the profile names a dataset and no items came with it: never
 * the profile's fixed body in its place, since that run would measure other prompts.
 */
export function bodySource(profile: Profile, items: readonly PromptItem[] | undefined, tokenizer?: Tokenizer): ((a: Arrival) => { body: string; promptTokens?: number }) | undefined {
  const p = profile.target.prompts;
  if (!p) return undefined;
  const counted = (item: PromptItem): { body: string; promptTokens?: number } => ({ body: applyPrompt(profile.target.body, item), ...(tokenizer ? { promptTokens: item.tokens ?? tokenizer.count(promptText(item)) } : {}) });
  if (p.kind === 'file') {
    if (!items || items.length === 0) throw new BudgetgateError('usage', `target.dataset: ${p.file} was not loaded (pass its prompts to the run)`);
    const pick = promptPicker(items, p.order, profile.seed);
    return () => counted(pick());
  }
  const rng = createRng(deriveSeed(profile.seed, 0x70726f6d));
  return () => counted(syntheticPrompt(rng, p.tokens, tokenizer));
}

/**
 * Trace phases take record i's body for the send with global schedule index i (the whole plan's, so
 * shards and workers agree); every other send keeps the profile's prompts (or the fixed body).
 */
export function withTraceBodies(
  traces: TraceBodies | undefined,
  next: ((a: Arrival) => { body: string; promptTokens?: number }) | undefined,
): Pick<DriverOptions, 'nextBody' | 'prepareBodies'> {
  if (!traces) return next ? { nextBody: next } : {};
  return {
    nextBody: (a) => {
      const body = traces.at(a.index);
      return body !== undefined ? { body } : next?.(a);
    },
    prepareBodies: (i) => traces.prepare(i),
  };
}

/** the text of a prompt's messages, as a tokenizer counts it (the chat template's tokens are the server's) */
function promptText(item: PromptItem): string {
  return 'prompt' in item ? item.prompt : item.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('');
}

/** phase index → session i's script, for the profile's session phases; refuses a file phase whose conversations were not loaded */
export function sessionScripts(profile: Profile, conversations: ReadonlyMap<number, readonly Conversation[]> | undefined, tokenizer: Tokenizer): Map<number, (i: number) => SessionScript> {
  const out = new Map<number, (i: number) => SessionScript>();
  profile.phases.forEach((ph, i) => {
    const s = ph.sessions;
    if (!s) return;
    const list = conversations?.get(i);
    if (s.kind === 'file' && (!list || list.length === 0)) throw new BudgetgateError('usage', `phases[${i}].sessions: ${s.file} was not loaded (pass its conversations to the run)`);
    out.set(i, (index) => sessionScript(s, index, profile.seed, list, tokenizer));
  });
  return out;
}

export async function runEngine(profile: Profile, o: EngineRunOptions): Promise<RunResult> {
  // before any sender thread starts: V8's compiler threads yield to the sender (thread-priority.ts)
  lowerHelperThreads();
  const redact = o.redact ?? ((s: string) => s);
  const tokenizer = o.tokenizer ?? (await loadTokenizer(profile.tokenizer, o.baseDir ?? '.'));
  const nextBody = bodySource(profile, o.promptItems, tokenizer); // before the probe: a missing dataset sends nothing
  const scripts = sessionScripts(profile, o.conversations, tokenizer);
  const body = requestBody(profile.target.body);
  const request = { url: o.url, method: profile.target.method, headers: profile.target.headers, body, timeoutMs: profile.target.timeoutMs };
  // each worker would scrape the server on its own, and their samples cannot be merged: refused before anything is sent
  if (o.workers !== undefined && o.workers > 1 && profile.metrics.length > 0) throw new BudgetgateError('usage', `--workers ${o.workers}: a profile with a metrics: section runs on one sender thread (--workers 1), which scrapes the server once`);
  // the probe is where an https target's certificate is verified (see probe.ts); with server metrics
  // scraped it reads its response to the end, so the server has counted its work before the baseline
  if (!o.skipProbe) await probe({ ...request, drain: profile.metrics.length > 0, ...(o.tls !== undefined ? { tls: o.tls } : {}) }, redact);
  const plannedHooks = o.runHooks === true ? hookPlan(profile.phases) : [];
  const hooks = plannedHooks.length > 0 ? new HookRunner(plannedHooks, { targetUrl: o.url, redact }) : undefined;
  if (o.workers !== undefined && o.workers > 1) {
    return runWorkers(profile, { ...o, workers: o.workers, redact, ...(hooks ? { hooks } : {}) });
  }

  // a shard computes the whole schedule and keeps its own requests of it (see core/shard.ts)
  const whole = planSchedule(profile.phases);
  const plan = o.shard ? shardPlan(whole, o.shard) : whole;
  const wholeStream = arrivals(whole, profile.arrivals, profile.seed, profile.burstiness);
  const schedule = {
    ...(o.shard ? { shard: o.shard } : {}),
    scheduleId: scheduleId(profile),
  };
  const recorder = new Recorder(plan.phases, { goodput: profile.goodput, tokenizer: tokenizer.name, recoveryStages: recoveryStages(profile) });
  const server = serverRecorder(profile, plan.phases);
  const watch = new AbortWatch(profile.budgets, plan.phases, server ? (from, to) => server.window(from, to) : undefined);
  const extractor = compileTimings(profile.timings, profile.paths, budgetStages(profile));
  o.live?.(recorder, watch);
  const startedAt = (o.wallClock ?? (() => new Date()))();
  const epochClock = o.epochClock ?? Date.now;
  const clock = o.clock ?? (() => performance.now());
  let driveStart: number | undefined;
  // scrape times are run times; the baseline, taken before t = 0, is filed just before it
  const scraper = server ? createScraper(profile.metrics, profile.budgets, server, () => (driveStart === undefined ? -0.001 : clock() - driveStart)) : undefined;
  // the counters' baseline: one scrape of each source before anything is sent (bounded by its timeout)
  await scraper?.baseline();
  if (o.startAt !== undefined) await waitUntil(o.startAt, epochClock, [o.signal, o.hardSignal]);
  const startEpochMs = epochClock();
  driveStart = clock();
  const t0 = driveStart;
  scraper?.begin();
  // Checkpoints: the report so far, from the recorder's non-mutating snapshot (the live per-second
  // percentiles keep accumulating). Budgets are evaluated on the data so far, labelled by
  // interrupted + checkpoint; the final report replaces it.
  const header = {
    schema: REPORT_SCHEMA,
    tool: { name: 'budgetgate', version: o.version },
    profile: profile.name,
    target: redact(o.url),
    arrivals: profile.arrivals,
    startedAt: startedAt.toISOString(),
  } as const;
  const snapshot = (): RunResult => ({
    ...header,
    durationMs: clock() - t0,
    verdict: 'fail',
    interrupted: true,
    reason: 'checkpoint: the run was still under way when this was written',
    ...schedule,
    startEpochMs,
    checkpoint: true,
    budgets: evaluateBudgets(profile.budgets, { ...recorder.measurements(), ...(server ? { server: server.data() } : {}) }),
    ...recorder.snapshot(),
    ...(server ? serverParts(server, profile, recorder) : {}),
  });
  const checkpointMs = o.checkpointMs ?? 60_000;
  const checkpointTimer =
    o.onCheckpoint && checkpointMs > 0
      ? setInterval(() => {
          try {
            o.onCheckpoint?.(snapshot());
          } catch {
            // best effort: a checkpoint that cannot be taken must not stop the load (the caller reports its own write errors)
          }
        }, checkpointMs)
      : undefined;
  const outcome = await drive({
    ...request,
    maxInFlight: profile.maxInFlight,
    plan,
    arrivals: o.shard ? shardArrivals(wholeStream, o.shard) : wholeStream,
    recorder,
    extractor,
    clock,
    signal: o.signal,
    hardSignal: o.hardSignal,
    onTick: o.onTick,
    stream: profile.target.stream ? { kind: streamKind(o.url) } : undefined,
    readBody: Object.keys(profile.timings.body).length > 0 || profile.paths.some((r) => r.signals.some((f) => f.kind === 'modelDiffers' || f.field !== undefined)),
    requestedModel: requestedModel(profile.target.body),
    // trace phases: body by global schedule index (the whole plan's), so shards and workers agree
    ...withTraceBodies(traceBodies(whole, profile.target.body, profile.seed, tokenizer, o.shard), nextBody),
    ...(scripts.size > 0 ? { sessions: (launch: (a: Arrival) => void, now: () => number) => new SessionRunner({ scripts, body: profile.target.body, recorder, tokenizer, launch, now }) } : {}),
    watch: watch.active ? watch : undefined,
    ...(o.checkAbort === false ? { checkAbort: false } : {}),
    ...(hooks ? { onStart: (now: () => number) => hooks.start(now) } : {}),
  })
    .catch(async (e: unknown) => {
      // the run failed to drive: hooks already running are awaited and `always` cleanups still run
      await hooks?.finish(true);
      throw e;
    })
    .finally(() => {
      clearInterval(checkpointTimer);
      scraper?.stop();
    });
  await scraper?.finish();
  const hookReports = hooks ? await hooks.finish(outcome.interrupted || outcome.aborted !== undefined) : undefined;

  const parts = recorder.report(outcome.durationMs);
  const measured = { ...recorder.measurements(), ...(server ? { server: server.data() } : {}) };
  const d = decide(evaluateBudgets(profile.budgets, measured), { interrupted: outcome.interrupted, aborted: outcome.aborted?.verdict, totals: parts.totals, hooks: hookReports }, { allowInconclusive: o.allowInconclusive === true, strict: o.strict === true });
  return {
    ...header,
    durationMs: outcome.durationMs,
    verdict: d.verdict,
    interrupted: outcome.interrupted,
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
    ...(outcome.aborted ? { aborted: outcome.aborted.verdict } : {}),
    budgets: d.verdicts,
    ...schedule,
    startEpochMs,
    ...parts,
    ...(server ? serverParts(server, profile, recorder) : {}),
    ...(hookReports ? { hooks: hookReports } : {}),
  };
}

/** the stages recovery budgets name: the recorder bins them by intended send time too */
export function recoveryStages(profile: Profile): string[] {
  return [...new Set(profile.budgets.flatMap((b) => (b.kind === 'recovery' ? [b.stage] : [])))];
}

/** The recorder of scraped metrics, when the profile scrapes any; it keeps as much history as early abort needs. */
function serverRecorder(profile: Profile, phases: readonly { name: string; startMs: number; endMs: number }[]): ServerMetricsRecorder | undefined {
  if (profile.metrics.length === 0) return undefined;
  const windowMs = Math.max(0, ...profile.budgets.map((b) => (b.kind === 'metric' && b.abort ? b.abort.windowMs : 0)));
  const sources = profile.metrics.map((s) => ({ name: s.name, url: s.url, units: new Map((s.preset ? METRIC_PRESETS[s.preset].metrics : []).map((m) => [m.name, m.unit])) }));
  return new ServerMetricsRecorder(sources, phases, windowMs);
}

function serverParts(server: ServerMetricsRecorder, profile: Profile, recorder: Recorder): Pick<RunResult, 'serverMetrics' | 'scrapes' | 'serverSeries' | 'tokenChecks'> {
  const data = server.data();
  return { serverMetrics: [...data.metrics], scrapes: [...data.scrapes], serverSeries: server.timeSeries(), tokenChecks: tokenChecks(profile.metrics, data.metrics, recorder.tokenTotals()) };
}
