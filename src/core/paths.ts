/**
 * Per-path counts of one phase: how many requests each named path (primary, fallback, cache, …)
 * completed or failed, how many of them were good, and the prompt-cache tokens its responses
 * reported. Reports written before named paths hold only `fallback`/`fallbackErrors`/`goodFallback`;
 * `pathTallies` reads those as the primary and fallback tallies, so old reports still judge.
 *
 *   share(path)            = completed(path) ÷ Σ completed
 *   promptCacheShare(path) = Σ cached_tokens ÷ Σ prompt_tokens, over the responses that reported
 *                            usage.prompt_tokens_details.cached_tokens (others tell nothing)
 */
import { FALLBACK_PATH, PRIMARY_PATH, type PathName } from './profile-types.js';
import type { RequestTokens } from './tokens.js';

/** Prompt-cache tokens of the responses that reported `cached_tokens`. */
export interface PromptCacheTally {
  /** responses that reported usage.prompt_tokens_details.cached_tokens (with prompt_tokens) */
  responses: number;
  promptTokens: number;
  cachedTokens: number;
}

export interface PathTally {
  completed: number;
  errors: number;
  /** requests that met every goodput limit (present only when the profile names goodput limits) */
  good?: number;
  /** absent in reports older than prompt-cache accounting */
  promptCache?: PromptCacheTally;
}

/** What a phase holds that the per-path view is read from. */
export interface PathCounted {
  completed: number;
  errors: number;
  fallback: number;
  fallbackErrors: number;
  good?: number;
  goodFallback?: number;
  paths?: Readonly<Record<PathName, PathTally>>;
}

export const zeroPromptCache = (): PromptCacheTally => ({ responses: 0, promptTokens: 0, cachedTokens: 0 });
export const zeroPathTally = (goodput: boolean): PathTally => ({ completed: 0, errors: 0, ...(goodput ? { good: 0 } : {}), promptCache: zeroPromptCache() });

/** A response's cached prompt tokens into the tally (nothing when it did not report them). */
export function countPromptCache(t: PromptCacheTally, r: RequestTokens | undefined): void {
  if (r?.cached === undefined || r.input === undefined) return;
  t.responses++;
  t.promptTokens += r.input;
  t.cachedTokens += r.cached;
}

/** The phase's per-path tallies; for an old report, primary and fallback from its legacy counts. */
export function pathTallies(p: PathCounted): Readonly<Record<PathName, PathTally>> {
  if (p.paths !== undefined) return p.paths;
  const tracked = p.good !== undefined;
  const gf = p.goodFallback ?? 0;
  const out: Record<PathName, PathTally> = {
    [PRIMARY_PATH]: { completed: p.completed - p.fallback, errors: p.errors - p.fallbackErrors, ...(tracked ? { good: (p.good ?? 0) - gf } : {}) },
  };
  if (p.fallback > 0 || p.fallbackErrors > 0) out[FALLBACK_PATH] = { completed: p.fallback, errors: p.fallbackErrors, ...(tracked ? { good: gf } : {}) };
  return out;
}

/** `b` added into `a` (sums; promptCache only where a side has it). */
export function addPathTallies(a: Record<PathName, PathTally>, b: Readonly<Record<PathName, PathTally>>): void {
  for (const [name, t] of Object.entries(b)) {
    const m = (a[name] ??= { completed: 0, errors: 0 });
    m.completed += t.completed;
    m.errors += t.errors;
    if (t.good !== undefined || m.good !== undefined) m.good = (m.good ?? 0) + (t.good ?? 0);
    if (t.promptCache) {
      const c = (m.promptCache ??= zeroPromptCache());
      c.responses += t.promptCache.responses;
      c.promptTokens += t.promptCache.promptTokens;
      c.cachedTokens += t.promptCache.cachedTokens;
    }
  }
}

/** Deep copy, so merging into it leaves the source alone. */
export function copyPathTallies(x: Readonly<Record<PathName, PathTally>>): Record<PathName, PathTally> {
  const out: Record<PathName, PathTally> = {};
  addPathTallies(out, x);
  return out;
}

/** Path names in display order: primary first, then the others by name. */
export function orderPaths(names: Iterable<PathName>): PathName[] {
  return [...new Set(names)].sort((a, b) => (a === PRIMARY_PATH ? -1 : b === PRIMARY_PATH ? 1 : a.localeCompare(b)));
}

/** Each path's tally summed over the phases given (old reports: from their legacy counts). */
export function sumPathTallies(phases: readonly PathCounted[]): Record<PathName, PathTally> {
  const out: Record<PathName, PathTally> = {};
  for (const p of phases) addPathTallies(out, pathTallies(p));
  return out;
}

/** cached ÷ prompt tokens; null when no response reported them (or their prompts had no tokens). */
export function promptCacheShare(t: PromptCacheTally | undefined): number | null {
  return t !== undefined && t.responses > 0 && t.promptTokens > 0 ? t.cachedTokens / t.promptTokens : null;
}

/** One path in one phase (or over the budgeted phases: phase `all`), as the reports show it. */
export interface PathFigure {
  phase: string;
  path: PathName;
  completed: number;
  errors: number;
  /** completed on this path ÷ completed in the phase; null when none completed */
  share: number | null;
  promptCache: PromptCacheTally;
  /** promptCacheShare of the tally; null when no response reported cached_tokens */
  cacheShare: number | null;
}

export const ALL_PHASES = 'all';

function figures(phase: string, tallies: Readonly<Record<PathName, PathTally>>): PathFigure[] {
  const completed = Object.values(tallies).reduce((n, t) => n + t.completed, 0);
  return orderPaths(Object.keys(tallies)).map((path) => {
    const t = tallies[path]!;
    const promptCache = t.promptCache ?? zeroPromptCache();
    return { phase, path, completed: t.completed, errors: t.errors, share: completed > 0 ? t.completed / completed : null, promptCache, cacheShare: promptCacheShare(promptCache) };
  });
}

/**
 * Per phase × path figures, then each path over the non-warmup phases (phase `all`, only when there
 * are several of them). Empty when there is nothing to show beyond one primary path without
 * prompt-cache data: reports then stay as they were.
 */
export function pathFigures(phases: readonly (PathCounted & { name: string; warmup: boolean })[]): PathFigure[] {
  const per = phases.flatMap((p) => figures(p.name, pathTallies(p)));
  const interesting = per.some((f) => f.path !== PRIMARY_PATH || f.promptCache.responses > 0);
  if (!interesting) return [];
  const budgeted = phases.filter((p) => !p.warmup);
  return budgeted.length > 1 ? [...per, ...figures(ALL_PHASES, sumPathTallies(budgeted))] : per;
}
