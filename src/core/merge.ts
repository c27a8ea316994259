/**
 * Shards' reports → the report of the whole run, as if one machine had sent the whole schedule.
 * Pure: reports and budgets in, a RunResult (or a typed refusal) out.
 *
 * What merges exactly:
 *  - histograms (series and lateness): HDR addition is exact, bucket by bucket, so a percentile of
 *    the merged series is the percentile of one histogram holding every shard's values. Series are
 *    matched by stage × path × phase. Each input is decoded with the exact max kept beside it and
 *    the merged max is max(maxᵢ), so quantiles stay capped at the true maximum as they are live;
 *  - counts (phases, totals, per-second timeline counts, error kinds, fallback signals, goodput,
 *    per-path tallies of any path name, prompt-cache tokens): sums. Closed phases' virtual users are summed too (shards split them, see shard.ts);
 *  - sessions (each runs whole on the sender that owns its first turn's index, see shard.ts): the
 *    per-turn series (`turns[]`, matched by stage × path × phase × turn) and the completed sessions'
 *    durations (`sessions[].duration`) are histograms, added as above; sessions started, completed,
 *    abandoned, cut and turns answered are sums; the prompt-token check adds its counts and sums and
 *    takes the extremes of the extremes (session-stats.ts mergePromptChecks).
 *
 * What cannot: the timeline's per-second p50/p99 are stored as numbers, not histograms, and the
 * p50 of a union is not a function of the parts' p50s (it lies between their min and max, no
 * closer). A merged second keeps them only when exactly one report completed requests in it, and
 * is null otherwise; the run-wide series percentiles remain exact.
 *
 * Alignment: every shard's timeline starts at its own t = 0, its `startEpochMs`. Shard i's second s
 * lands in merged second s + oᵢ with
 *
 *   oᵢ = round((startᵢ − min_j startⱼ) / 1000)
 *
 * so shards started together (`--start-at`) align exactly, and shards started apart are placed to
 * the nearest second (their per-second counts are then only as aligned as their starts were).
 */
import { reevaluate, type PolicyOptions } from './verdict.js';
import { BudgetgateError } from './errors.js';
import { createHistogram, decodeHistogram, encodeHistogram, mergeHistograms, type Histogram } from './histograms.js';
import { latenessReport, seriesReports } from './recorder.js';
import type { Budget } from './profile-types.js';
import type { Counts, PhaseReport, RunResult, SeriesReport, TimelinePoint } from './report.js';
import type { SeriesData } from './budgets.js';
import { unionWindows, type WindowsReport } from './windows.js';
import { compareTurns, mergePromptChecks, sessionReport, turnSeriesReport, type SessionReport, type TurnSeriesReport } from './session-stats.js';
import { mergeTokenFigures } from './tokens.js';
import { addPathTallies, copyPathTallies, pathTallies } from './paths.js';
import { mergeRecoveryTracks } from './recovery.js';

export interface MergeInput {
  /** where the report came from (a path), for messages */
  source: string;
  report: RunResult;
}

export interface MergeOptions extends PolicyOptions {
  /** the profile's budgets, evaluated on the merged data */
  budgets: readonly Budget[];
  /** a missing shard is an error, not a warning */
  requireAll?: boolean;
}

export interface MergeOutcome {
  report: RunResult;
  /** shard indices of the schedule that no input covered */
  missing: number[];
  /** things the user should know that do not stop the merge */
  warnings: string[];
}

const refuse = (message: string): never => {
  throw new BudgetgateError('report', message);
};

const addCounts = (a: Counts, b: Counts): Counts => ({
  scheduled: a.scheduled + b.scheduled,
  sent: a.sent + b.sent,
  completed: a.completed + b.completed,
  errors: a.errors + b.errors,
  fallback: a.fallback + b.fallback,
  late: a.late + b.late,
});
const zero = (): Counts => ({ scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0 });

function addRecord(into: Record<string, number>, from: Readonly<Record<string, number>> | undefined): void {
  for (const [k, n] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + n;
}

/** a plain Error from the hdr decoder becomes a report error naming the file */
function decode(source: string, what: string, hdr: string, max: number | null): Histogram {
  try {
    return decodeHistogram(hdr, max);
  } catch (e) {
    return refuse(`${source}: ${what}: cannot decode a histogram (${(e as Error).message})`);
  }
}

const maxOf = (xs: readonly (number | null)[]): number | null => xs.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.max(m, x)), null);

/**
 * Checks that the inputs are shards of one schedule, none twice. Returns the shard count and the
 * indices no input covers. A report without `shard` is the whole schedule: shard 0 of 1.
 */
export function checkShards(inputs: readonly MergeInput[]): { count: number; missing: number[] } {
  const first = inputs[0];
  if (!first) return refuse('merge: no reports given');
  for (const { source, report } of inputs) {
    if (report.profile !== first.report.profile) refuse(`${source}: profile ${JSON.stringify(report.profile)} differs from ${first.source}'s ${JSON.stringify(first.report.profile)}: merge only shards of one run`);
    if (report.scheduleId === undefined) refuse(`${source}: the report has no scheduleId (written by an older budgetgate): cannot tell it is a shard of the same schedule`);
    if (report.scheduleId !== first.report.scheduleId) refuse(`${source}: schedule ${report.scheduleId} differs from ${first.source}'s ${String(first.report.scheduleId)} (phases, arrivals, seed or burstiness changed): merge only shards of one run`);
  }
  const shardOf = (r: RunResult): { index: number; count: number } => r.shard ?? { index: 0, count: 1 };
  const count = shardOf(first.report).count;
  const seen = new Map<number, string>();
  for (const { source, report } of inputs) {
    const s = shardOf(report);
    if (s.count !== count) refuse(`${source}: shard ${s.index}/${s.count} is of a ${s.count}-way split, ${first.source} of a ${count}-way one`);
    const other = seen.get(s.index);
    if (other !== undefined) refuse(`${source}: shard ${s.index}/${count} overlaps ${other} (the same shard twice would count its requests twice)`);
    seen.set(s.index, source);
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!seen.has(i)) missing.push(i);
  return { count, missing };
}

/** Sums the histograms of the series with the same stage × path × phase (order: first appearance). */
function mergeSeries(inputs: readonly MergeInput[]): SeriesReport[] {
  const groups = new Map<string, { stage: string; path: SeriesReport['path']; phase: string; hists: Histogram[]; maxes: (number | null)[]; unmeasured: number; windows: (WindowsReport | undefined)[] }>();
  for (const { source, report } of inputs) {
    for (const s of report.series) {
      const key = `${s.stage}|${s.path}|${s.phase}`;
      let g = groups.get(key);
      if (!g) {
        g = { stage: s.stage, path: s.path, phase: s.phase, hists: [], maxes: [], unmeasured: 0, windows: [] };
        groups.set(key, g);
      }
      g.hists.push(decode(source, `series ${key}`, s.hdr, s.max));
      g.maxes.push(s.max);
      g.unmeasured += s.unmeasured;
      g.windows.push(s.windows);
    }
  }
  const data: SeriesData[] = [...groups.values()].map((g) => ({
    stage: g.stage,
    path: g.path,
    phase: g.phase,
    hist: settled(g.hists, g.maxes),
    unmeasured: g.unmeasured,
    // shards start together (--start-at), so their windows align by index; a shard without them drops them
    windows: () => {
      try {
        return unionWindows(g.windows);
      } catch (e) {
        return refuse(`series ${g.stage}|${g.path}|${g.phase}: cannot decode a window histogram (${(e as Error).message})`);
      }
    },
  }));
  return seriesReports(data);
}

/** a merged histogram re-read through its encoding with the exact max, so its summary equals what `check` sees later */
function settled(hists: readonly Histogram[], maxes: readonly (number | null)[]): Histogram {
  return decodeHistogram(encodeHistogram(mergeHistograms(hists)), maxOf(maxes));
}

/** rank of a phase name in the merged phases (an unknown name last) */
function phaseRanker(phaseOrder: readonly string[]): (name: string) => number {
  const rank = new Map(phaseOrder.map((name, i) => [name, i]));
  return (name) => rank.get(name) ?? phaseOrder.length;
}

/** The per-turn series with the same stage × path × phase × turn, added; undefined when no input has any. */
function mergeTurns(inputs: readonly MergeInput[], phaseOrder: readonly string[]): TurnSeriesReport[] | undefined {
  const groups = new Map<string, { stage: string; path: TurnSeriesReport['path']; phase: string; turn: number; hists: Histogram[]; maxes: (number | null)[]; unmeasured: number }>();
  for (const { source, report } of inputs) {
    for (const t of report.turns ?? []) {
      const key = `${t.stage}|${t.path}|${t.phase}|${t.turn}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { stage: t.stage, path: t.path, phase: t.phase, turn: t.turn, hists: [], maxes: [], unmeasured: 0 }));
      g.hists.push(decode(source, `turns ${key}`, t.hdr, t.max));
      g.maxes.push(t.max);
      g.unmeasured += t.unmeasured;
    }
  }
  if (groups.size === 0) return undefined;
  const rank = phaseRanker(phaseOrder);
  return [...groups.values()]
    .sort((a, b) => compareTurns(a, b, (g) => rank(g.phase)))
    .map((g) => turnSeriesReport({ stage: g.stage, path: g.path, phase: g.phase, turn: g.turn, hist: settled(g.hists, g.maxes), unmeasured: g.unmeasured }));
}

/** Each phase's session figures added: counts summed, completed sessions' durations merged; undefined when no input has any. */
function mergeSessions(inputs: readonly MergeInput[], phaseOrder: readonly string[]): SessionReport[] | undefined {
  const groups = new Map<string, { started: number; completed: number; abandoned: number; cut: number; turns: number; hists: Histogram[]; maxes: (number | null)[] }>();
  for (const { source, report } of inputs) {
    for (const s of report.sessions ?? []) {
      let g = groups.get(s.phase);
      if (!g) groups.set(s.phase, (g = { started: 0, completed: 0, abandoned: 0, cut: 0, turns: 0, hists: [], maxes: [] }));
      g.started += s.started;
      g.completed += s.completed;
      g.abandoned += s.abandoned;
      g.cut += s.cut;
      g.turns += s.turns;
      g.hists.push(decode(source, `sessions ${s.phase} duration`, s.duration.hdr, s.duration.max));
      g.maxes.push(s.duration.max);
    }
  }
  if (groups.size === 0) return undefined;
  const rank = phaseRanker(phaseOrder);
  return [...groups]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([phase, g]) => sessionReport(phase, { started: g.started, completed: g.completed, abandoned: g.abandoned, cut: g.cut, turns: g.turns, duration: settled(g.hists, g.maxes) }));
}

function mergePhases(inputs: readonly MergeInput[]): PhaseReport[] {
  const out = new Map<string, PhaseReport>();
  const tokens = new Map<string, PhaseReport[]>();
  for (const { report } of inputs) {
    for (const p of report.phases) {
      tokens.set(p.name, [...(tokens.get(p.name) ?? []), p]);
      const m = out.get(p.name);
      if (!m) {
        out.set(p.name, { ...p, errorKinds: { ...p.errorKinds }, fallbackSignals: { ...(p.fallbackSignals ?? {}) }, ...(p.paths ? { paths: copyPathTallies(p.paths) } : {}) });
        continue;
      }
      // per path: a report older than named paths reads as its primary and fallback counts
      if (m.paths !== undefined || p.paths !== undefined) {
        const paths = copyPathTallies(pathTallies(m));
        addPathTallies(paths, pathTallies(p));
        m.paths = paths;
      }
      Object.assign(m, addCounts(m, p));
      m.fallbackErrors += p.fallbackErrors;
      m.concurrency += p.concurrency;
      m.concurrencyTo += p.concurrencyTo;
      addRecord(m.errorKinds, p.errorKinds);
      addRecord(m.fallbackSignals, p.fallbackSignals);
      if (p.good !== undefined || m.good !== undefined) {
        m.good = (m.good ?? 0) + (p.good ?? 0);
        m.goodFallback = (m.goodFallback ?? 0) + (p.goodFallback ?? 0);
      }
    }
  }
  for (const m of out.values()) {
    const t = mergeTokenFigures(tokens.get(m.name) ?? [], m.completed, m.endMs - m.startMs);
    if (t) Object.assign(m, t);
    const prompts = mergePromptChecks((tokens.get(m.name) ?? []).map((p) => p.promptTokens));
    if (prompts) m.promptTokens = prompts;
  }
  return [...out.values()];
}

/** Per-second sums at each report's offset (see the module comment); p50/p99 only from a sole contributor. */
export function mergeTimelines(timelines: readonly { offsetS: number; points: readonly TimelinePoint[] }[]): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  const contributors: number[] = [];
  for (const { offsetS, points } of timelines) {
    points.forEach((p, s) => {
      const i = s + offsetS;
      while (out.length <= i) {
        out.push({ t: out.length * 1000, ...zero(), inFlight: 0, p50: null, p99: null });
        contributors.push(0);
      }
      const m = out[i] as TimelinePoint;
      Object.assign(m, addCounts(m, p));
      m.inFlight += p.inFlight;
      if (p.paths) for (const [k, n] of Object.entries(p.paths)) (m.paths ??= {})[k] = (m.paths[k] ?? 0) + n;
      if (p.completed > 0) {
        contributors[i] = (contributors[i] ?? 0) + 1;
        // a second's p50/p99 survive only from a sole contributor; a second one makes them unknowable
        if (contributors[i] === 1) {
          m.p50 = p.p50;
          m.p99 = p.p99;
        } else {
          m.p50 = null;
          m.p99 = null;
        }
      }
    });
  }
  return out;
}

/**
 * Merges shard reports and evaluates `budgets` on the result. Refuses (BudgetgateError 'report',
 * exit 2) reports of different profiles or schedules, mixed shard counts and overlapping shards;
 * missing shards are a warning, or a refusal under `requireAll`.
 */
export function mergeReports(inputs: readonly MergeInput[], o: MergeOptions): MergeOutcome {
  const { count, missing } = checkShards(inputs);
  const first = (inputs[0] as MergeInput).report;
  const warnings: string[] = [];
  if (missing.length > 0) {
    const msg = `missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')}: the merged report covers ${count - missing.length} of ${count} shards`;
    if (o.requireAll === true) refuse(`${msg} (--require-all)`);
    warnings.push(msg);
  }

  const starts = inputs.map((x) => x.report.startEpochMs);
  const known = starts.filter((s): s is number => typeof s === 'number' && Number.isFinite(s));
  if (known.length < starts.length) warnings.push('some reports have no startEpochMs: their timelines are aligned at their own start');
  const startMin = known.length > 0 ? Math.min(...known) : undefined;
  const offsetMs = (s: number | undefined): number => (s === undefined || startMin === undefined ? 0 : s - startMin);
  const offsetsS = starts.map((s) => Math.round(offsetMs(s) / 1000));
  if (inputs.length > 1 && Math.max(...offsetsS) > 0) warnings.push(`shards started up to ${Math.max(...offsetsS)} s apart (use --start-at): their timelines are aligned to the nearest second`);

  const lateness = mergeHistograms(inputs.map(({ source, report }) => decode(source, 'lateness', report.lateness.hdr, report.lateness.max)));
  const latenessMax = maxOf(inputs.map((x) => x.report.lateness.max));
  const totals = inputs.reduce((t, x) => addCounts(t, x.report.totals), zero());
  const interrupted = inputs.some((x) => x.report.interrupted);
  const aborted = inputs.find((x) => x.report.aborted)?.report.aborted;
  const targets = [...new Set(inputs.map((x) => x.report.target))];
  const startedAt = inputs.map((x) => x.report.startedAt).sort()[0] ?? first.startedAt;

  const phases = mergePhases(inputs);
  const turns = mergeTurns(inputs, phases.map((p) => p.name));
  const sessions = mergeSessions(inputs, phases.map((p) => p.name));
  const base: RunResult = {
    schema: first.schema,
    tool: first.tool,
    profile: first.profile,
    target: targets.join(', '),
    arrivals: first.arrivals,
    startedAt,
    durationMs: Math.max(...inputs.map((x) => offsetMs(x.report.startEpochMs) + x.report.durationMs)),
    verdict: 'fail',
    interrupted,
    ...(aborted ? { aborted } : {}),
    ...(first.scheduleId !== undefined ? { scheduleId: first.scheduleId } : {}),
    ...(startMin !== undefined ? { startEpochMs: startMin } : {}),
    ...(inputs.some((x) => x.report.checkpoint === true) ? { checkpoint: true } : {}),
    budgets: [],
    series: mergeSeries(inputs),
    phases,
    timeline: mergeTimelines(inputs.map((x, i) => ({ offsetS: offsetsS[i] ?? 0, points: x.report.timeline }))),
    totals: (() => {
      const t = mergeTokenFigures(inputs.map((x) => x.report.totals), totals.completed, Math.max(...inputs.map((x) => offsetMs(x.report.startEpochMs) + x.report.durationMs)));
      return t ? { ...totals, ...t } : totals;
    })(),
    lateness: latenessReport(lateness.totalCount > 0 ? decodeHistogram(encodeHistogram(lateness), latenessMax) : createHistogram()),
    ...(turns ? { turns } : {}),
    ...(sessions ? { sessions } : {}),
    // recovery bins are by intended (schedule) time, the same on every shard: added by index, no offset
    ...(() => {
      const recovery = mergeRecoveryTracks(inputs.map((x) => x.report.recovery));
      return recovery ? { recovery } : {};
    })(),
    ...(inputs.some((x) => x.report.hooks !== undefined) ? { hooks: inputs.flatMap((x) => x.report.hooks ?? []) } : {}),
  };
  const judged = reevaluate(base, o.budgets, { allowInconclusive: o.allowInconclusive, strict: o.strict === true });
  // the same reasons as a single run's, naming the shard(s) that stopped
  const stopped = inputs.find((x) => x.report.interrupted || x.report.aborted);
  const reason = aborted
    ? `${stopped?.source ?? 'a shard'}: ${aborted.reason}`
    : interrupted
      ? `interrupted: ${inputs.filter((x) => x.report.interrupted).map((x) => x.source).join(', ')} stopped before the schedule ended`
      : judged.reason;
  const { budgets, verdict } = judged;
  return { report: { ...base, ...(reason !== undefined ? { reason } : {}), budgets, verdict }, missing, warnings };
}
