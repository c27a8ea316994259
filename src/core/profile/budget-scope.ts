/**
 * What every budget entry may add to its limit: which requests it looks at (`path`, `phase`) and
 * whether it stops the run early (`abortOnFail`, `window`, `after`; core/abort.ts).
 */
import type { BudgetScope, PathName, Phase } from '../profile-types.js';
import { parseDuration } from '../units.js';
import { didYouMean, type Problems } from './problems.js';
import { absent, own, type Obj } from './values.js';
import type { MetricSource } from './metrics.js';

const DEFAULT_ABORT_WINDOW_MS = 30_000;
const DEFAULT_ABORT_AFTER_MS = 60_000;

export interface BudgetContext {
  phases: Phase[];
  /** false when `phases` itself was invalid: phase references cannot be judged then */
  phasesKnown: boolean;
  hasFallbackRule: boolean;
  /** the named paths (paths.ts) a budget may scope to, besides primary */
  pathNames: readonly string[];
  /** false when a path's name could not be read: path references cannot be judged then */
  pathsKnown: boolean;
  /** the profile has a non-empty `goodput` section (or a broken one, reported there already) */
  hasGoodput: boolean;
  stream: boolean;
  /** the `metrics:` sources a metric budget may name */
  metricSources: readonly MetricSource[];
}

/** undefined (with problems) when any scope field is unusable; `allowPath`: the kind takes `path`. */
export function checkScope(raw: Obj, path: string, ctx: BudgetContext, p: Problems, allowPath: boolean): BudgetScope | undefined {
  const scope: BudgetScope = {};
  const pathOk = !allowPath || checkPathScope(raw, path, ctx, scope, p);
  const phaseOk = checkPhaseScope(raw, path, ctx, scope, p);
  const abortOk = checkAbort(raw, path, scope, p);
  return pathOk && phaseOk && abortOk ? scope : undefined;
}

function checkPathScope(raw: Obj, path: string, ctx: BudgetContext, scope: BudgetScope, p: Problems): boolean {
  const pathRaw = own(raw, 'path');
  if (absent(pathRaw)) return true;
  const name = checkPathRef(pathRaw, `${path}.path`, ctx, p);
  if (name === undefined) return false;
  scope.path = name;
  return true;
}

/**
 * A path a budget names: primary, or a path the profile defines. Without its rule no request is
 * ever classed on that path, so the budget could never see a sample.
 */
export function checkPathRef(v: unknown, at: string, ctx: BudgetContext, p: Problems): PathName | undefined {
  const known = ['primary', ...ctx.pathNames];
  if (typeof v !== 'string' || v === '') {
    p.expected(at, known.join(' or '), v);
    return undefined;
  }
  if (v === 'primary' || ctx.pathNames.includes(v) || (!ctx.pathsKnown && v !== 'fallback')) return v;
  if (v === 'fallback' && !ctx.hasFallbackRule) {
    p.add(at, "no request can take the fallback path: the profile has no 'fallback' rule");
    return undefined;
  }
  if (v === 'fallback') return v;
  p.add(at, `no request can take the '${v}' path: the profile's paths are ${known.join(', ')}${didYouMean(v, known)}`);
  return undefined;
}

function checkPhaseScope(raw: Obj, path: string, ctx: BudgetContext, scope: BudgetScope, p: Problems): boolean {
  const phaseRaw = own(raw, 'phase');
  if (absent(phaseRaw)) return true;
  if (typeof phaseRaw !== 'string') {
    p.expected(`${path}.phase`, 'a phase name', phaseRaw);
    return false;
  }
  if (!ctx.phasesKnown) {
    scope.phase = phaseRaw;
    return true;
  }
  const phase = ctx.phases.find((ph) => ph.name === phaseRaw);
  if (phase === undefined) {
    const names = [...new Set(ctx.phases.map((ph) => ph.name))];
    p.add(`${path}.phase`, `no phase named '${phaseRaw}' (phases: ${names.join(', ')})${didYouMean(phaseRaw, names)}`);
    return false;
  }
  if (phase.warmup) {
    p.add(`${path}.phase`, `phase '${phaseRaw}' is a warmup phase, and warmup phases are not budgeted`);
    return false;
  }
  scope.phase = phaseRaw;
  return true;
}

/** Stages kept per turn of a session (recorder.ts): a turn-scoped budget must name one. */
export const TURN_STAGES: readonly string[] = ['ttft', 'total'];

/**
 * `turn: 2` (that turn), `turn: "2-4"` (a range), `turn: "3+"` (from turn 3 on), on latency budgets of
 * ttft or total. undefined: absent; null: present and refused (with a problem).
 */
export function checkTurnScope(v: unknown, path: string, stage: string | undefined, ctx: BudgetContext, raw: Obj, p: Problems): { from: number; to?: number } | undefined | null {
  if (absent(v)) return undefined;
  let t: { from: number; to?: number } | undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1) t = { from: v, to: v };
  else if (typeof v === 'string') {
    const m = /^\s*(\d+)\s*(?:(\+)|-\s*(\d+))?\s*$/.exec(v);
    if (m) {
      const from = Number(m[1]);
      const to = m[2] === '+' ? undefined : m[3] === undefined ? from : Number(m[3]);
      if (from >= 1 && (to === undefined || to >= from)) t = to === undefined ? { from } : { from, to };
    }
  }
  if (t === undefined) {
    p.expected(path, 'a turn number like 1, a range like "2-4", or "3+"', v);
    return null;
  }
  if (stage !== undefined && !TURN_STAGES.includes(stage)) {
    p.add(path, `per-turn histograms are kept for ${TURN_STAGES.join(' and ')} only, not ${stage}`);
    return null;
  }
  if (ctx.phasesKnown && !ctx.phases.some((ph) => ph.sessions !== undefined)) {
    p.add(path, 'no phase has sessions: turns exist only in phases with sessions:');
    return null;
  }
  if (own(raw, 'abortOnFail') === true) {
    p.add(path, 'a turn-scoped budget is judged on the whole run only: drop abortOnFail');
    return null;
  }
  return t;
}

function checkAbort(raw: Obj, path: string, scope: BudgetScope, p: Problems): boolean {
  const abortRaw = own(raw, 'abortOnFail');
  const windowRaw = own(raw, 'window');
  const afterRaw = own(raw, 'after');
  if (abortRaw === true) {
    let ok = true;
    const windowMs = absent(windowRaw) ? DEFAULT_ABORT_WINDOW_MS : parseDuration(windowRaw);
    const afterMs = absent(afterRaw) ? DEFAULT_ABORT_AFTER_MS : parseDuration(afterRaw);
    if (windowMs === undefined || windowMs < 1000) {
      p.expected(`${path}.window`, 'a duration of at least 1s like "30s"', windowRaw);
      ok = false;
    }
    if (afterMs === undefined || afterMs < 0) {
      p.expected(`${path}.after`, 'a duration like "60s"', afterRaw);
      ok = false;
    }
    if (windowMs !== undefined && afterMs !== undefined) scope.abort = { windowMs, afterMs };
    return ok;
  }
  if (!absent(abortRaw) && abortRaw !== false) {
    p.expected(`${path}.abortOnFail`, 'true or false', abortRaw);
    return false;
  }
  if (!absent(windowRaw) || !absent(afterRaw)) {
    p.add(`${path}.${absent(windowRaw) ? 'after' : 'window'}`, 'only means something with abortOnFail: true');
    return false;
  }
  return true;
}
