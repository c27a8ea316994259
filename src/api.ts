/**
 * The orchestrator the CLI and users call: `import { run, capacity } from 'budgetgate'`. A profile
 * (YAML/JSON text, a parsed document, or a Profile) and options in, a RunResult (or a capacity
 * outcome) out; no files written, nothing printed, no exit codes — the CLI maps flags to these
 * options and the results to its outputs.
 */
import { brokenBy, stepDuration, STEP_FLOOR_MS, capacityBudgets, cooldownMs, createSearch, FLOOR_RPS, stepPhase, type SearchOutcome } from './core/capacity.js';
import { defaultFrom, firstBroken, onlyLoadUndelivered, toStep } from './core/capacity-steps.js';
import { BudgetgateError, ProfileError } from './core/errors.js';
import type { Profile } from './core/profile-types.js';
import type { PromptItem } from './core/prompts.js';
import { parseProfile, parseProfileText, type EnvLookup } from './core/profile/index.js';
import type { CapacityReport, CapacityStep, RunResult, Verdict } from './core/report.js';
import { loadConversations, loadDataset } from './dataset.js';
import type { Conversation } from './core/conversations.js';
import { loadTraces } from './trace-file.js';
import { hooksNeedingPermission } from './core/hooks.js';
import type { Tick } from './core/tick.js';
import type { ProbeTls } from './engine/probe.js';
import { runEngine, type EngineRunOptions } from './engine/run.js';
import { workerCount } from './engine/workers.js';
import { startSim, type SimOptions } from './sim/index.js';
import { VERSION } from './version.js';

export type { ProbeTls as TlsOptions } from './engine/probe.js';

/** Where the load goes and how the first request checks it; shared by run and capacity. */
export interface TargetOptions {
  /** overrides the profile's target.url; without either, the embedded simulated endpoint is used */
  target?: string;
  /** options for the embedded simulated endpoint, when it is used */
  sim?: SimOptions;
  /** told the embedded endpoint's URL when it is started (the CLI prints it) */
  onSim?: (url: string) => void;
  /** https: the certificates to trust (PEM) instead of the system CAs, or no verification at all */
  tls?: ProbeTls;
  /** send no probe request before the load */
  skipProbe?: boolean;
  allowInconclusive?: boolean;
  /** aborting stops sending; requests in flight get up to the target timeout */
  signal?: AbortSignal;
  /** aborting also abandons the requests in flight */
  hardSignal?: AbortSignal;
}

export interface RunOptions extends TargetOptions, Pick<EngineRunOptions, 'strict' | 'redact' | 'wallClock' | 'shard' | 'startAt' | 'onCheckpoint' | 'checkpointMs'> {
  /** `${VAR}` lookups; default: none are set */
  env?: EnvLookup;
  /** the prompts of the profile's `target.dataset`, given directly instead of read from its file */
  prompts?: readonly PromptItem[];
  /** phase index → the conversations of its `sessions: { file }`, given directly instead of read from the files */
  conversations?: ReadonlyMap<number, readonly Conversation[]>;
  /** where a relative `target.dataset`, trace or conversation file is read from; default: the working directory */
  baseDir?: string;
  /** once a second while the load runs */
  onTick?: (tick: Tick) => void;
  /**
   * sender threads (engine/workers.ts): each drives the schedule indices ≡ w (mod N) on its own
   * autocannon instance; 'auto' = the cores available, minus one when the embedded endpoint runs
   * in this process. Default 1: this thread, as always.
   */
  workers?: number | 'auto';
  /**
   * permit fault hooks that run a program (`exec`) or call another address (`http.url`); without
   * it a profile with such hooks is refused before anything is sent (core/hooks.ts)
   */
  allowHooks?: boolean;
}

function parsed(profile: string | object | Profile, env: EnvLookup | undefined): Profile {
  if (isProfile(profile)) return profile;
  const lookup = env ?? (() => undefined);
  const r = typeof profile === 'string' ? parseProfileText(profile, lookup) : parseProfile(profile, lookup);
  if (!r.ok) throw new ProfileError('profile', r.problems);
  return r.profile;
}

/** A Profile already parsed (by parseProfile) rather than a document still to parse. */
function isProfile(x: unknown): x is Profile {
  const p = x as Partial<Profile> | null;
  return typeof p === 'object' && p !== null && Array.isArray(p.phases) && p.phases.every((ph) => typeof (ph as { durationMs?: unknown }).durationMs === 'number') && typeof p.maxRate === 'number';
}

/** Runs f against the target: the option, the profile's url, or an embedded endpoint started for it. */
async function withTarget<T>(profile: Profile, o: TargetOptions, f: (url: string, embedded: boolean) => Promise<T>): Promise<T> {
  const url = o.target ?? profile.target.url;
  if (url !== undefined) return f(url, false);
  const sim = await startSim(o.sim);
  try {
    const simUrl = `${sim.url}/v1/chat/completions`;
    o.onSim?.(simUrl);
    return await f(simUrl, true);
  } finally {
    await sim.close();
  }
}

/** The engine options every run of a profile shares. */
function engineOptions(o: TargetOptions): Omit<EngineRunOptions, 'url'> {
  return {
    version: VERSION,
    allowInconclusive: o.allowInconclusive === true,
    signal: o.signal,
    hardSignal: o.hardSignal,
    skipProbe: o.skipProbe === true,
    ...(o.tls !== undefined ? { tls: o.tls } : {}),
  };
}

/** One run of the profile's phases; a RunResult whatever happened once load started. */
export async function run(profile: string | object | Profile, options: RunOptions = {}): Promise<RunResult> {
  const baseDir = options.baseDir ?? '.';
  const p = await loadTraces(parsed(profile, options.env), baseDir, 'profile');
  refuseUnpermittedHooks(p, options.allowHooks === true);
  const promptItems = options.prompts ?? (await loadDataset(p, baseDir, 'profile'));
  const conversations = options.conversations ?? (await loadConversations(p, baseDir, 'profile'));
  const { env: _env, prompts: _prompts, conversations: _conversations, baseDir: _baseDir, target: _target, sim: _sim, onSim: _onSim, tls: _tls, workers, allowHooks: _allowHooks, ...engine } = options;
  return withTarget(p, options, (url, embedded) => runEngine(p, { ...engineOptions(options), ...engine, url, promptItems, baseDir, ...(conversations ? { conversations } : {}), workers: workerCount(workers, embedded), runHooks: true }));
}

/** exit 2 before anything is sent: hooks beyond the target need --allow-hooks (core/hooks.ts) */
function refuseUnpermittedHooks(p: Profile, allowed: boolean): void {
  if (allowed) return;
  const need = hooksNeedingPermission(p.phases);
  if (need.length > 0) throw new BudgetgateError('usage', `${need.join('; ')}: such hooks run only with --allow-hooks (nothing was sent)`);
}

export interface CapacityOptions extends TargetOptions {
  env?: EnvLookup;
  /** how errors name the profile (its path); default "profile" */
  source?: string;
  /** first rate tried, req/s; default: the profile's highest open-phase rate, else 10 */
  from?: number;
  /** highest rate tried, req/s; default and ceiling: the profile's maxRate */
  to?: number;
  /** stop when the bracket [held, broke] is this narrow, hi/lo − 1; default 0.05 */
  precision?: number;
  /** shortest step, ms (default 5 s) */
  minStepMs?: number;
  /** shortest pause between steps, ms (default 2 s) */
  cooldownMs?: number;
  /** warm-up length, ms (default 5 s; 0 for none) */
  warmupMs?: number;
  /** --require: kept in the report beside the answer (the gate itself is the caller's) */
  require?: number;
  /** progress: each warm-up, step, re-run and step result as it happens */
  onEvent?: (e: CapacityEvent) => void;
}

export type CapacityEvent =
  /** budgets whose `phase:` scope is dropped: capacity runs its own steps, not the profile's phases */
  | { kind: 'unscoped'; ids: string[] }
  | { kind: 'warmup'; rate: number; durationMs: number }
  | { kind: 'step'; index: number; rate: number; durationMs: number; confirmation: boolean }
  /** only "load delivered" broke: the step runs once more (the client may have lagged) */
  | { kind: 'retry'; rate: number }
  /** `brokenBy`: the budget that broke it, when it did not hold */
  | { kind: 'result'; step: CapacityStep; brokenBy: Verdict | undefined };

export interface CapacityOutcome {
  capacity: CapacityReport;
  /** the confirmation step's report (else the last step's) with the capacity attached; undefined when no step finished */
  report: RunResult | undefined;
  interrupted: boolean;
}

const DEFAULT_COOLDOWN_MS = 2000;
const DEFAULT_WARMUP_MS = 5000;

/** resolves after ms, or at once when the signal fires */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** from/to/budgets checked before any load is sent; a usage error names the option */
function capacityPlan(p: Profile, o: CapacityOptions): { from: number; to: number; budgets: Profile['budgets']; stripped: string[] } {
  const maxRate = p.maxRate; // the parser fills in DEFAULT_MAX_RATE (profile/settings.ts)
  const to = o.to ?? maxRate;
  if (to > maxRate) throw new BudgetgateError('usage', `--to ${to} is above the profile's maxRate (${maxRate} req/s): raise maxRate in the profile to search higher`);
  const from = Math.min(o.from ?? defaultFrom(p), to);
  if (!(from > 0)) throw new BudgetgateError('usage', `--from: expected a rate above 0, got ${from}`);
  const { budgets, stripped } = capacityBudgets(p.budgets);
  if (budgets.length === 0) throw new BudgetgateError('usage', `${o.source ?? 'profile'}: capacity needs at least one budget to search against`);
  return { from, to, budgets, stripped };
}

/**
 * The highest steady open-model rate at which every budget holds: a warm-up, then steps whose rates
 * core/capacity.ts's search chooses (double until a budget breaks, then bisect geometrically), each
 * a single non-warmup phase long enough for its percentile budgets to be conclusive, a cool-down
 * between steps, and a confirmation step at the answer. The profile's phases are ignored.
 */
export async function capacity(profile: string | object | Profile, o: CapacityOptions = {}): Promise<CapacityOutcome> {
  const p = parsed(profile, o.env);
  const plan = capacityPlan(p, o);
  const { from, to, budgets } = plan;
  const precision = o.precision ?? 0.05;
  const search = createSearch({ from, to, precision, floor: Math.min(FLOOR_RPS, from) });
  const allowInconclusive = o.allowInconclusive === true;
  const coolFloorMs = o.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  const warmupMs = o.warmupMs ?? DEFAULT_WARMUP_MS;
  const emit = o.onEvent ?? (() => {});
  if (plan.stripped.length > 0) emit({ kind: 'unscoped', ids: plan.stripped });
  const startedAt = new Date();
  return withTarget(p, o, async (url) => {
    const steps: CapacityStep[] = [];
    let last: RunResult | undefined;
    let confirmation: RunResult | undefined;
    let confirmed = false;
    let interrupted = false;
    /** how the search itself ended, before the confirmation (whose failure only lowers the answer) */
    let searched: SearchOutcome = 'searching';
    const engine = (q: Profile, probe: boolean): Promise<RunResult> =>
      runEngine(q, { ...engineOptions(o), url, skipProbe: !probe || o.skipProbe === true, wallClock: () => new Date() });
    const step = async (rate: number, isConfirmation: boolean): Promise<CapacityStep | undefined> => {
      const durationMs = stepDuration(budgets, rate, { floorMs: o.minStepMs ?? STEP_FLOOR_MS });
      emit({ kind: 'step', index: steps.length + 1, rate, durationMs, confirmation: isConfirmation });
      let r = await engine({ ...p, budgets, phases: [stepPhase(rate, durationMs)] }, steps.length === 0 && warmupMs === 0);
      if (!r.interrupted && onlyLoadUndelivered(r)) {
        // Late sends alone may be the load generator's own lag (a busy client), not the server's limit:
        // run the step once more; a second miss counts (at maxInFlight the server is the cause).
        emit({ kind: 'retry', rate });
        await pause(coolFloorMs, o.signal);
        r = await engine({ ...p, budgets, phases: [stepPhase(rate, durationMs)] }, false);
      }
      if (r.interrupted) {
        interrupted = true;
        return undefined;
      }
      const s = toStep(r, rate, durationMs, isConfirmation, allowInconclusive);
      steps.push(s);
      last = r;
      if (isConfirmation) confirmation = r;
      emit({ kind: 'result', step: s, brokenBy: s.held ? undefined : brokenBy(s.verdicts, budgets, allowInconclusive) });
      await pause(cooldownMs(s.p99.total ?? null, coolFloorMs), o.signal);
      return s;
    };

    if (warmupMs > 0) {
      // half the first rate: warms connections and the server's caches without itself building a queue
      const rate = from / 2;
      emit({ kind: 'warmup', rate, durationMs: warmupMs });
      const w = await engine({ ...p, budgets: [], phases: [{ ...stepPhase(rate, warmupMs), name: 'warmup', warmup: true }] }, true);
      if (w.interrupted) interrupted = true;
      else await pause(coolFloorMs, o.signal);
    }
    for (let rate = search.next(); rate !== undefined && !interrupted; rate = search.next()) {
      const s = await step(rate, false);
      if (s !== undefined) search.report(rate, s.held);
    }
    const found = search.result();
    searched = found.outcome;
    if (!interrupted && found.rps > 0) {
      const s = await step(found.rps, true);
      if (s !== undefined) {
        confirmed = s.held;
        // a failed confirmation is one more observation: the answer drops to the held rate below it
        if (!s.held) search.report(found.rps, false);
      }
    }
    const result = search.result();
    const cap: CapacityReport = {
      rps: result.rps,
      firstBroken: firstBroken(steps, result.hi, budgets, allowInconclusive),
      steps,
      confirmed,
      outcome: interrupted || searched === 'searching' ? 'interrupted' : searched,
      precision,
      from,
      to,
      ...(o.require !== undefined ? { require: o.require } : {}),
    };
    const base = confirmation ?? last;
    const report = base === undefined ? undefined : { ...base, startedAt: startedAt.toISOString(), capacity: cap };
    return { capacity: cap, report, interrupted };
  });
}
