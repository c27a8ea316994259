/**
 * `--json`: the one JSON object a command prints on stdout, for scripts and CI steps. It carries the
 * verdict and budgets exactly as report.json has them (same objects), the headline figures, and the
 * paths of the files written, so a step can branch on it without opening the report. RunResult → string.
 *
 *   { schema, command, verdict, exitCode, profile, target, …, headline, budgets, files, capacity? }
 *   { schema, command: "compare", verdict, exitCode, regressions, baseline, current, changes }
 */
import type { Comparison } from '../core/compare.js';
import { headline } from '../core/headline.js';
import { decodeHistogram, mergeHistograms, quantileMs, type Histogram } from '../core/histograms.js';
import type { RunResult } from '../core/report.js';
import { promptCacheShare, sumPathTallies } from '../core/paths.js';

export const SUMMARY_SCHEMA = 'budgetgate/summary@1';

export type SummaryCommand = 'run' | 'check' | 'capacity' | 'merge';

/** format → path of the file written there ("json" is report.json) */
export type WrittenFiles = Record<string, string>;

const p = (x: number | null | undefined): number | null => (x === undefined || x === null || !Number.isFinite(x) ? null : x);

/** p50 and p99 of total over the budgeted phases, both paths, read from the merged histograms */
function totalOf(r: RunResult): { p50: number | null; p99: number | null } {
  const warm = new Set(r.phases.filter((ph) => ph.warmup).map((ph) => ph.name));
  const hs = r.series.filter((x) => x.stage === 'total' && !warm.has(x.phase) && x.count > 0).map((x) => decodeHistogram(x.hdr, x.max));
  if (hs.length === 0) return { p50: null, p99: null };
  const h = hs.length === 1 ? (hs[0] as Histogram) : mergeHistograms(hs);
  return { p50: p(quantileMs(h, 0.5)), p99: p(quantileMs(h, 0.99)) };
}

/** each path over the budgeted phases: completed, errors, share of completed, cached share of prompt tokens */
function pathsOf(r: RunResult): Record<string, { completed: number; errors: number; share: number | null; promptCacheShare: number | null }> {
  const budgeted = r.phases.filter((ph) => !ph.warmup);
  const tallies = sumPathTallies(budgeted.length > 0 ? budgeted : r.phases);
  const completed = Object.values(tallies).reduce((n, t) => n + t.completed, 0);
  return Object.fromEntries(Object.entries(tallies).map(([name, t]) => [name, { completed: t.completed, errors: t.errors, share: completed > 0 ? t.completed / completed : null, promptCacheShare: promptCacheShare(t.promptCache) }]));
}

export function runSummary(command: SummaryCommand, r: RunResult, exitCode: number, files: WrittenFiles): Record<string, unknown> {
  const h = headline(r);
  const t = r.totals;
  return {
    schema: SUMMARY_SCHEMA,
    command,
    verdict: r.verdict,
    exitCode,
    profile: r.profile,
    target: r.target,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    interrupted: r.interrupted,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.aborted !== undefined ? { aborted: r.aborted } : {}),
    ...(r.shard !== undefined ? { shard: r.shard } : {}),
    ...(r.workers !== undefined ? { workers: r.workers } : {}),
    headline: {
      scheduled: t.scheduled,
      sent: t.sent,
      completed: t.completed,
      errors: t.errors,
      fallback: t.fallback,
      late: t.late,
      errorRate: t.completed + t.errors > 0 ? t.errors / (t.completed + t.errors) : null,
      requestsPerSec: h.requestsPerSec,
      okPerSec: h.okPerSec,
      outputTokensPerSec: h.outputTokensPerSec,
      total: totalOf(r),
      paths: pathsOf(r),
    },
    budgets: r.budgets,
    files,
    ...(r.capacity !== undefined
      ? { capacity: { rps: r.capacity.rps, outcome: r.capacity.outcome, confirmed: r.capacity.confirmed, firstBroken: r.capacity.firstBroken, ...(r.capacity.require !== undefined ? { require: r.capacity.require } : {}), steps: r.capacity.steps.length } }
      : {}),
  };
}

export function compareSummary(c: Comparison, exitCode: number): Record<string, unknown> {
  return {
    schema: SUMMARY_SCHEMA,
    command: 'compare',
    verdict: c.outcome === 'regression' ? 'fail' : c.outcome,
    outcome: c.outcome,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    exitCode,
    regressions: c.regressions,
    baseline: c.baseline,
    baselines: c.baselines,
    current: c.current,
    options: c.options,
    changes: c.series.flatMap((s) => s.changes.filter((ch) => ch.status !== 'same').map((ch) => ({ stage: s.stage, path: s.path, phase: s.phase, ...ch, change: p(ch.change) }))),
    onlyInBaseline: c.onlyInBaseline,
    onlyInCurrent: c.onlyInCurrent,
  };
}

/** exactly one line: the object and a newline */
export function renderSummary(summary: Record<string, unknown>): string {
  return `${JSON.stringify(summary)}\n`;
}
