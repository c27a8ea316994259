/**
 * A capacity step's RunResult → the step the capacity report keeps, and the questions the search
 * asks of it. Pure; the loop that runs the steps is the API's (src/api.ts `capacity`).
 */
import { LOAD_DELIVERED_ID } from './budgets.js';
import { brokenBy } from './capacity.js';
import { countOf, quantileMs } from './histograms.js';
import type { Budget, Profile } from './profile-types.js';
import type { CapacityReport, CapacityStep, RunResult } from './report.js';
import { mergeStages } from './series.js';
import { decideReport } from './verdict.js';

/** Every budget held but the implicit load-delivered one: the client may have lagged, not the server. */
export function onlyLoadUndelivered(r: RunResult): boolean {
  const broken = r.budgets.filter((v) => v.status !== 'pass');
  return broken.length === 1 && broken[0]?.id === LOAD_DELIVERED_ID;
}

/** The default first rate: the highest rate the profile's own open phases schedule, else 10 req/s. */
export function defaultFrom(profile: Pick<Profile, 'phases'>): number {
  const rates = profile.phases.filter((p) => p.model === 'open' && !p.warmup).flatMap((p) => [p.rate, p.to]);
  const top = Math.max(0, ...rates);
  return top > 0 ? top : 10;
}

/** p99 of each stage in the step, over both paths (ms) */
export function stageP99(r: RunResult, phase: string): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const { stage, hist } of mergeStages(r.series, (s) => s.phase === phase)) out[stage] = countOf(hist) > 0 ? quantileMs(hist, 0.99) : null;
  return out;
}

/** The step's record; it held when the one verdict policy passes it (core/verdict.ts). */
export function toStep(r: RunResult, rate: number, durationMs: number, confirmation: boolean, allowInconclusive: boolean): CapacityStep {
  const phase = r.phases.find((p) => !p.warmup);
  const name = phase?.name ?? '';
  const finished = (phase?.completed ?? 0) + (phase?.errors ?? 0);
  return {
    rate,
    // sent over the scheduled length: how much of the offered load actually left
    achieved: phase !== undefined ? phase.sent / (durationMs / 1000) : 0,
    durationMs,
    held: decideReport(r, { allowInconclusive }).verdict === 'pass',
    ...(confirmation ? { confirmation: true } : {}),
    verdicts: r.budgets,
    p99: stageP99(r, name),
    ...(phase?.good !== undefined ? { goodput: finished > 0 ? phase.good / finished : null } : {}),
  };
}

/** the budget that broke at the lowest broken rate (the latest such step: a failed confirmation counts) */
export function firstBroken(steps: readonly CapacityStep[], hi: number | null, budgets: readonly Budget[], allowInconclusive: boolean): CapacityReport['firstBroken'] {
  if (hi === null) return null;
  const at = [...steps].reverse().find((s) => s.rate === hi && !s.held);
  const v = at === undefined ? undefined : brokenBy(at.verdicts, budgets, allowInconclusive);
  if (v === undefined) return null;
  return { id: v.id, description: v.description, observed: v.observed, limit: v.limit, unit: v.unit, rate: hi };
}
