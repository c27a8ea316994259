/**
 * A whole run: plan the schedule, probe the target, drive the load, evaluate the budgets. Returns the
 * RunResult whatever happened once load started (an interrupted run's result is partial and failed);
 * throws a typed error only before anything was sent.
 */
import { evaluateBudgets, loadDeliveredVerdict, overallVerdict } from '../core/budgets.js';
import { TOTAL_STAGE, Recorder } from '../core/recorder.js';
import { REPORT_SCHEMA, type RunResult } from '../core/report.js';
import { arrivals, planSchedule } from '../core/schedule.js';
import { compileTimings } from '../core/timing.js';
import type { Profile } from '../core/profile-types.js';
import { drive, type Tick } from './driver.js';
import { probe } from './probe.js';

export interface EngineRunOptions {
  /** the resolved target URL (profile, --target or the embedded endpoint) */
  url: string;
  version: string;
  allowInconclusive?: boolean;
  clock?: () => number;
  wallClock?: () => Date;
  signal?: AbortSignal;
  hardSignal?: AbortSignal;
  /** hides secrets in anything this writes (the target URL may carry a token) */
  redact?: (s: string) => string;
  skipProbe?: boolean;
  onTick?: (tick: Tick) => void;
}

export function requestBody(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Stages the budgets name (other than the client-measured total) are expected on every response. */
export function budgetStages(profile: Profile): string[] {
  const out = new Set<string>();
  for (const b of profile.budgets) if (b.kind === 'latency' && b.stage !== TOTAL_STAGE) out.add(b.stage);
  return [...out];
}

export async function runEngine(profile: Profile, o: EngineRunOptions): Promise<RunResult> {
  const redact = o.redact ?? ((s: string) => s);
  const body = requestBody(profile.target.body);
  const request = { url: o.url, method: profile.target.method, headers: profile.target.headers, body, timeoutMs: profile.target.timeoutMs };
  if (!o.skipProbe) await probe(request, redact);

  const plan = planSchedule(profile.phases);
  const recorder = new Recorder(plan.phases);
  const extractor = compileTimings(profile.timings, profile.fallback, budgetStages(profile));
  const startedAt = (o.wallClock ?? (() => new Date()))();
  const outcome = await drive({
    ...request,
    maxInFlight: profile.maxInFlight,
    plan,
    arrivals: arrivals(plan, profile.arrivals, profile.seed, profile.burstiness),
    recorder,
    extractor,
    clock: o.clock ?? (() => performance.now()),
    signal: o.signal,
    hardSignal: o.hardSignal,
    onTick: o.onTick,
  });

  const parts = recorder.report();
  const verdicts = [...evaluateBudgets(profile.budgets, recorder.measurements())];
  if (!outcome.interrupted) verdicts.push(loadDeliveredVerdict(parts.totals));
  const verdict = overallVerdict(verdicts, { allowInconclusive: o.allowInconclusive === true, interrupted: outcome.interrupted });
  const delivered = verdicts.find((v) => v.id === 'load delivered');
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'budgetgate', version: o.version },
    profile: profile.name,
    target: redact(o.url),
    arrivals: profile.arrivals,
    startedAt: startedAt.toISOString(),
    durationMs: outcome.durationMs,
    verdict,
    interrupted: outcome.interrupted,
    ...(outcome.interrupted
      ? { reason: 'interrupted: the run was stopped before its schedule ended' }
      : delivered?.status === 'fail'
        ? { reason: delivered.reason }
        : {}),
    budgets: verdicts,
    ...parts,
  };
}
