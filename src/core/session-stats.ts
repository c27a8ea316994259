/**
 * What sessions and token counting add to a run's records, kept beside the recorder's series so
 * nothing that reads `series` (budgets, merge, the stage tables) counts a request twice:
 *
 * - per-turn series: ttft and total of every session turn, one HDR histogram per stage × path ×
 *   phase × turn number (mergeable like any series; `turn` budgets read them);
 * - per-session figures per phase: sessions started, completed (every turn answered), abandoned
 *   (a turn failed, so the conversation could not go on), cut (the run stopped first), turns
 *   answered, and a histogram of the duration of completed sessions (first send's intended time
 *   to the last reply);
 * - prompt tokens sent (as the run's tokenizer counts them) beside the server's
 *   usage.prompt_tokens, per phase: difference = server − sent, of which the chat template is
 *   usually a few tokens per request. A figure, never a verdict.
 */
import { createHistogram, encodeHistogram, recordMs, summarize, type Histogram } from './histograms.js';
import type { PathName } from './profile-types.js';
import type { SeriesReport } from './report.js';
import type { SeriesData } from './budgets.js';
import { TOTAL_STAGE, TTFT_STAGE } from './stages.js';

/** the stages kept per turn (profile/budget-scope.ts TURN_STAGES says the same to the user) */
export const PER_TURN_STAGES: readonly string[] = [TTFT_STAGE, TOTAL_STAGE];

export interface TurnSeriesReport extends SeriesReport {
  /** 1-based turn number within its session */
  turn: number;
}

export interface TurnSeriesData extends SeriesData {
  turn: number;
}

export interface SessionReport {
  phase: string;
  started: number;
  completed: number;
  abandoned: number;
  cut: number;
  /** turns that got a reply, over every session of the phase */
  turns: number;
  /** duration of completed sessions, ms */
  duration: { count: number; mean: number | null; p50: number | null; p90: number | null; p99: number | null; max: number | null; hdr: string };
}

export interface PromptTokenCheck {
  /** requests whose response carried usage.prompt_tokens */
  requests: number;
  /** prompt tokens sent, as `tokenizer` counts the message text */
  sent: number;
  /** the server's usage.prompt_tokens over the same requests */
  server: number;
  /** (server − sent) ÷ requests; the extremes of server − sent over single requests */
  meanDifference: number | null;
  minDifference: number | null;
  maxDifference: number | null;
  tokenizer: string;
}

/** one phase's session figures as kept live (and, decoded, as merged) */
export interface SessionTally {
  started: number;
  completed: number;
  abandoned: number;
  cut: number;
  turns: number;
  duration: Histogram;
}

interface PromptTally {
  requests: number;
  sent: number;
  server: number;
  min: number;
  max: number;
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * The order reports keep per-turn series in: phase (as `phaseRank` places it), turn, ttft before
 * total, then path. The same for one sender's report and a merged one, so they compare line by line.
 */
export function compareTurns<T extends { turn: number; stage: string; path: string }>(a: T, b: T, phaseRank: (s: T) => number): number {
  return phaseRank(a) - phaseRank(b) || a.turn - b.turn || Number(a.stage === TOTAL_STAGE) - Number(b.stage === TOTAL_STAGE) || a.path.localeCompare(b.path);
}

/** A per-turn series as report.json keeps it: the summary and the encoded histogram it came from (mergeable). */
export function turnSeriesReport(d: TurnSeriesData): TurnSeriesReport {
  const x = summarize(d.hist);
  return { stage: d.stage, path: d.path, phase: d.phase, turn: d.turn, count: x.count, unmeasured: d.unmeasured, mean: orNull(x.mean), p50: orNull(x.p50), p90: orNull(x.p90), p95: orNull(x.p95), p99: orNull(x.p99), p999: orNull(x.p999), max: orNull(x.max), hdr: encodeHistogram(d.hist) };
}

/** A phase's session figures as report.json keeps them: counts, and the durations' summary beside their encoded histogram. */
export function sessionReport(phase: string, t: SessionTally): SessionReport {
  const s = summarize(t.duration);
  return {
    phase, started: t.started, completed: t.completed, abandoned: t.abandoned, cut: t.cut, turns: t.turns,
    duration: { count: s.count, mean: orNull(s.mean), p50: orNull(s.p50), p90: orNull(s.p90), p99: orNull(s.p99), max: orNull(s.max), hdr: encodeHistogram(t.duration) },
  };
}

export type SessionEnd = 'completed' | 'abandoned' | 'cut';

export class SessionStats {
  private readonly turnSeries = new Map<string, TurnSeriesData & { phaseIndex: number }>();
  private readonly sessions = new Map<number, SessionTally>();
  private readonly prompts = new Map<number, PromptTally>();

  constructor(
    private readonly phaseName: (phase: number) => string,
    private readonly tokenizer: string,
  ) {}

  /** one value of a per-turn stage (the hot path: a map lookup and an integer) */
  turnValue(stage: string, path: PathName, phase: number, turn: number, ms: number): void {
    const key = `${stage}|${path}|${phase}|${turn}`;
    let s = this.turnSeries.get(key);
    if (!s) {
      s = { stage, path, phase: this.phaseName(phase), phaseIndex: phase, turn, hist: createHistogram(), unmeasured: 0 };
      this.turnSeries.set(key, s);
    }
    recordMs(s.hist, ms);
  }

  private tally(phase: number): SessionTally {
    let t = this.sessions.get(phase);
    if (!t) {
      t = { started: 0, completed: 0, abandoned: 0, cut: 0, turns: 0, duration: createHistogram() };
      this.sessions.set(phase, t);
    }
    return t;
  }

  sessionStarted(phase: number): void {
    this.tally(phase).started++;
  }

  /** `turns`: replies it got; `durationMs` counts only for a completed session */
  sessionEnded(phase: number, end: SessionEnd, turns: number, durationMs: number): void {
    const t = this.tally(phase);
    t[end]++;
    t.turns += turns;
    if (end === 'completed') recordMs(t.duration, durationMs);
  }

  promptTokens(phase: number, sent: number, server: number): void {
    let t = this.prompts.get(phase);
    if (!t) {
      t = { requests: 0, sent: 0, server: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
      this.prompts.set(phase, t);
    }
    const d = server - sent;
    t.requests++;
    t.sent += sent;
    t.server += server;
    if (d < t.min) t.min = d;
    if (d > t.max) t.max = d;
  }

  /** the per-turn series, for budgets (shares histograms: do not mutate) */
  turnData(): TurnSeriesData[] {
    return [...this.turnSeries.values()];
  }

  /** by phase order, then turn, ttft before total */
  turnReports(): TurnSeriesReport[] {
    return [...this.turnSeries.values()].sort((a, b) => compareTurns(a, b, (s) => s.phaseIndex)).map(turnSeriesReport);
  }

  /** by phase order */
  sessionReports(): SessionReport[] {
    return [...this.sessions].sort(([a], [b]) => a - b).map(([phase, t]) => sessionReport(this.phaseName(phase), t));
  }

  /** phase index → its prompt-token check */
  promptChecks(): Map<number, PromptTokenCheck> {
    const out = new Map<number, PromptTokenCheck>();
    for (const [phase, t] of this.prompts) {
      out.set(phase, { requests: t.requests, sent: t.sent, server: t.server, meanDifference: t.requests > 0 ? (t.server - t.sent) / t.requests : null, minDifference: orNull(t.min), maxDifference: orNull(t.max), tokenizer: this.tokenizer });
    }
    return out;
  }
}

/** Shards' prompt-token checks as one: counts and sums add, the extremes are the extremes, the mean is taken again. */
export function mergePromptChecks(xs: readonly (PromptTokenCheck | undefined)[]): PromptTokenCheck | undefined {
  const cs = xs.filter((x): x is PromptTokenCheck => x !== undefined);
  const first = cs[0];
  if (!first) return undefined;
  const requests = cs.reduce((n, c) => n + c.requests, 0);
  const sent = cs.reduce((n, c) => n + c.sent, 0);
  const server = cs.reduce((n, c) => n + c.server, 0);
  const ext = (pick: (c: PromptTokenCheck) => number | null, f: (...v: number[]) => number): number | null => {
    const v = cs.map(pick).filter((x): x is number => x !== null);
    return v.length > 0 ? f(...v) : null;
  };
  return { requests, sent, server, meanDifference: requests > 0 ? (server - sent) / requests : null, minDifference: ext((c) => c.minDifference, Math.min), maxDifference: ext((c) => c.maxDifference, Math.max), tokenizer: first.tokenizer };
}
