/**
 * The view every renderer lays out: built once from a RunResult, it holds what the renderers would
 * otherwise each derive — the decision and its headline (core/verdict.ts, the one policy), each
 * phase's label and load text, the budgeted stages' merged histograms. Renderers format it; they do
 * not judge or aggregate.
 */
import { headline, type Headline } from '../core/headline.js';
import { countOf, type Histogram } from '../core/histograms.js';
import type { PhaseReport, RunResult } from '../core/report.js';
import { mergeStages } from '../core/series.js';
import { pathFigures, type PathFigure } from '../core/paths.js';
import { decideReport, policyOf, type Decision, type PolicyOptions } from '../core/verdict.js';

export interface PhaseView extends PhaseReport {
  /** "ramp", or "warm (warmup)" */
  label: string;
  /** "20→200/s", "8 users" */
  load: string;
  /** "http 503×2, timeout×1" */
  errorKindsText: string;
}

export interface ReportView {
  readonly report: RunResult;
  readonly policy: PolicyOptions;
  readonly decision: Decision;
  readonly phases: readonly PhaseView[];
  /** budgets whose 95% interval contains the limit */
  readonly borderline: number;
  /** fallback ÷ completed over the run, null with nothing completed */
  readonly fallbackShare: number | null;
  /** per phase × path (then `all` over the budgeted phases): share and prompt cache; empty with only a plain primary path */
  readonly paths: readonly PathFigure[];
  /** "shard 2/4" when the report is one shard's */
  readonly shard: string | undefined;
  /** requests/s achieved, ok/s and output tokens/s over the budgeted phases (core/headline.ts) */
  readonly throughput: Headline;
  /**
   * Each stage merged over every path and non-warmup phase (over all phases when only warmup phases
   * have data), stages with no samples left out. Decoded on first use: the terminal never needs it.
   */
  stages(): readonly { name: string; hist: Histogram; count: number }[];
}

/** open phases by rate, closed phases by virtual users */
export function loadText(p: { model?: 'open' | 'closed'; rate: number; to: number; concurrency?: number; concurrencyTo?: number }): string {
  if (p.model === 'closed') {
    const c0 = p.concurrency ?? 0;
    const c1 = p.concurrencyTo ?? c0;
    return c0 === c1 ? `${c0} users` : `${c0}→${c1} users`;
  }
  return p.rate === p.to ? `${p.rate}/s` : `${p.rate}→${p.to}/s`;
}

/**
 * `policy`: the options the report is judged under; what the caller leaves out is read from the
 * report itself (the options that reproduce its recorded verdict, core/verdict.ts policyOf).
 */
export function buildView(r: RunResult, policy: Partial<PolicyOptions> = {}): ReportView {
  const p = policyOf(r, policy);
  let stages: { name: string; hist: Histogram; count: number }[] | undefined;
  return {
    report: r,
    policy: p,
    decision: decideReport(r, p),
    phases: r.phases.map((ph) => ({
      ...ph,
      label: ph.warmup ? `${ph.name} (warmup)` : ph.name,
      load: loadText(ph),
      errorKindsText: Object.entries(ph.errorKinds).map(([k, n]) => `${k}×${n}`).join(', '),
    })),
    borderline: r.budgets.filter((v) => v.borderline === true).length,
    fallbackShare: r.totals.completed > 0 ? r.totals.fallback / r.totals.completed : null,
    paths: pathFigures(r.phases),
    shard: r.shard ? `shard ${r.shard.index}/${r.shard.count}` : undefined,
    throughput: headline(r),
    stages() {
      if (stages === undefined) {
        const warm = new Set(r.phases.filter((ph) => ph.warmup).map((ph) => ph.name));
        const hasBudgeted = r.series.some((s) => !warm.has(s.phase) && s.count > 0);
        stages = mergeStages(r.series, (s) => !(hasBudgeted && warm.has(s.phase)))
          .map(({ stage, hist }) => ({ name: stage, hist, count: countOf(hist) }))
          .filter((s) => s.count > 0);
      }
      return stages;
    },
  };
}

/** Renderers take a report or a view already built from one (emitting several formats builds one). */
export function asView(x: RunResult | ReportView, policy?: Partial<PolicyOptions>): ReportView {
  return 'decision' in x && 'report' in x ? x : buildView(x, policy);
}
