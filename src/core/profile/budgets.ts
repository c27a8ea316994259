/**
 * The `budgets` section. Each entry is one kind, named by the key it has:
 *
 *   { stage: S, p50|p90|p95|p99|p999|max|mean: DURATION, ... }   latency, one budget per limit
 *   { errorRate: PERCENT }   { fallbackRate: PERCENT }   { goodput: ">= PERCENT" }
 *   { pathShare: PATH, min: PERCENT, max: PERCENT }   one budget per bound (paths.ts names PATH)
 *   { promptCacheShare: ">= PERCENT" }   cached ÷ prompt tokens
 *
 * plus the scope every kind shares (budget-scope.ts). Ids come from what a budget tests, numbered
 * `#2`, `#3` … when two test the same thing.
 */
import { LATENCY_KEYS, type Budget, type BudgetScope, type LatencyKey } from '../profile-types.js';
import { STREAM_STAGES } from '../stages.js';
import { parseDuration, parsePercent } from '../units.js';
import { checkPathRef, checkScope, checkTurnScope, type BudgetContext } from './budget-scope.js';
import { DURATION_EXAMPLE, PERCENT_EXAMPLE, streamOnly } from './fields.js';
import { ANY_BUDGET_KEYS, BUDGET_KINDS, ERROR_BUDGET_KEYS, FALLBACK_BUDGET_KEYS, GOODPUT_BUDGET_KEYS, LATENCY_BUDGET_KEYS, PATH_SHARE_BUDGET_KEYS, PROMPT_CACHE_BUDGET_KEYS } from './keys.js';
import { checkMetricBudget } from './metrics.js';
import { checkRecoveryBudget } from './recovery.js';
import type { Problems } from './problems.js';
import { absent, isObj, isStageName, own, type Obj } from './values.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type UnnamedBudget = DistributiveOmit<Budget, 'id'>;

const SHAPE = '{ stage: total, p99: 800ms }, { errorRate: 1% }, { fallbackRate: 5% }, { goodput: ">= 95%" }, { pathShare: cache, min: 30% } or { promptCacheShare: ">= 50%" }';

export function checkBudgets(v: unknown, ctx: BudgetContext, p: Problems): Budget[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) {
    p.expected('budgets', 'a list of budgets', v);
    return [];
  }
  const unnamed = v.flatMap((raw: unknown, i) => checkBudgetEntry(raw, `budgets[${i}]`, ctx, p));
  const used = new Set<string>();
  return unnamed.map((b) => {
    const base = baseId(b);
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}#${n}`;
    used.add(id);
    return { ...b, id } as Budget;
  });
}

function checkBudgetEntry(raw: unknown, path: string, ctx: BudgetContext, p: Problems): UnnamedBudget[] {
  if (!isObj(raw)) {
    p.expected(path, `a budget like ${SHAPE}`, raw);
    return [];
  }
  // a server-metric budget (metrics.ts): phase scope only, no path
  if (own(raw, 'metric') !== undefined) return checkMetricBudget(raw, path, ctx.metricSources, p, () => checkScope(raw, path, ctx, p, false));
  const kinds = BUDGET_KINDS.filter((k) => own(raw, k) !== undefined);
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined) {
    p.unknownKeys(path, raw, ANY_BUDGET_KEYS);
    const got = kinds.length === 0 ? `none of ${BUDGET_KINDS.join(', ')}` : kinds.join(' and ');
    p.add(path, `expected exactly one budget like ${SHAPE}, got ${got}`);
    return [];
  }
  if (kind === 'goodput') return checkGoodputBudget(raw, path, ctx, p);
  if (kind === 'pathShare') return checkPathShareBudget(raw, path, ctx, p);
  if (kind === 'promptCacheShare') return checkPromptCacheBudget(raw, path, ctx, p);
  if (kind === 'recovery') return checkRecoveryBudget(raw, path, ctx, p);
  if (kind === 'errorRate' || kind === 'fallbackRate') return checkRateBudget(raw, kind, path, ctx, p);
  return checkLatencyBudget(raw, path, ctx, p);
}

/** `">= 95%"`, `"≥ 95%"`, `"95%"` or `0.95` → 0.95: goodput is a floor, so only ≥ may be written. */
export function parseGoodputLimit(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const m = /^\s*(?:>=|≥)?\s*(.*)$/s.exec(v);
    return parsePercent(m?.[1] ?? v);
  }
  return parsePercent(v);
}

function checkGoodputBudget(raw: Obj, path: string, ctx: BudgetContext, p: Problems): UnnamedBudget[] {
  p.unknownKeys(path, raw, GOODPUT_BUDGET_KEYS);
  const v = own(raw, 'goodput');
  const min = parseGoodputLimit(v);
  if (min === undefined) p.expected(`${path}.goodput`, 'a floor like ">= 95%" (or 95%, or a fraction from 0 to 1)', v);
  else if (!ctx.hasGoodput) {
    p.add(`${path}.goodput`, "no request can be judged good: the profile has no 'goodput' section (like goodput: { ttft: 500ms })");
  }
  const scope = checkScope(raw, path, ctx, p, true);
  if (min === undefined || scope === undefined || !ctx.hasGoodput) return [];
  return [{ kind: 'goodput', min, ...scope }];
}

/** `{ pathShare: cache, min: 30% }`, `{ pathShare: fallback, max: 5% }` or both bounds: one budget each. */
function checkPathShareBudget(raw: Obj, path: string, ctx: BudgetContext, p: Problems): UnnamedBudget[] {
  p.unknownKeys(path, raw, PATH_SHARE_BUDGET_KEYS);
  const of = checkPathRef(own(raw, 'pathShare'), `${path}.pathShare`, ctx, p);
  const bounds: ['min' | 'max', number][] = [];
  let ok = true;
  for (const bound of ['min', 'max'] as const) {
    const v = own(raw, bound);
    if (absent(v)) continue;
    const limit = parsePercent(v);
    if (limit === undefined) {
      p.expected(`${path}.${bound}`, PERCENT_EXAMPLE, v);
      ok = false;
    } else bounds.push([bound, limit]);
  }
  if (ok && bounds.length === 0) p.add(path, 'expected min or max (a share like 30%), got neither');
  const [lo, hi] = [bounds.find(([b]) => b === 'min')?.[1], bounds.find(([b]) => b === 'max')?.[1]];
  if (lo !== undefined && hi !== undefined && lo > hi) {
    p.add(path, `min ${lo * 100}% is above max ${hi * 100}%: no share can meet both`);
    ok = false;
  }
  // a share counts one path among all, so it takes no `path`
  const scope = checkScope(raw, path, ctx, p, false);
  if (of === undefined || !ok || scope === undefined) return [];
  return bounds.map(([bound, limit]) => ({ kind: 'pathShare', of, bound, limit, ...scope }));
}

function checkPromptCacheBudget(raw: Obj, path: string, ctx: BudgetContext, p: Problems): UnnamedBudget[] {
  p.unknownKeys(path, raw, PROMPT_CACHE_BUDGET_KEYS);
  const v = own(raw, 'promptCacheShare');
  const min = parseGoodputLimit(v);
  if (min === undefined) p.expected(`${path}.promptCacheShare`, 'a floor like ">= 50%" (or 50%, or a fraction from 0 to 1)', v);
  const scope = checkScope(raw, path, ctx, p, true);
  if (min === undefined || scope === undefined) return [];
  return [{ kind: 'promptCacheShare', min, ...scope }];
}

function checkRateBudget(raw: Obj, kind: 'errorRate' | 'fallbackRate', path: string, ctx: BudgetContext, p: Problems): UnnamedBudget[] {
  p.unknownKeys(path, raw, kind === 'errorRate' ? ERROR_BUDGET_KEYS : FALLBACK_BUDGET_KEYS);
  if (kind === 'fallbackRate' && !ctx.hasFallbackRule) {
    p.add(`${path}.fallbackRate`, "no request can take the fallback path: the profile has no 'fallback' rule");
  }
  const v = own(raw, kind);
  const max = parsePercent(v);
  if (max === undefined) p.expected(`${path}.${kind}`, PERCENT_EXAMPLE, v);
  // a fallback-rate budget counts fallback responses among all, so it takes no `path`
  const scope = checkScope(raw, path, ctx, p, kind === 'errorRate');
  if (max === undefined || scope === undefined) return [];
  return [{ kind, max, ...scope }];
}

function checkLatencyBudget(raw: Obj, path: string, ctx: BudgetContext, p: Problems): UnnamedBudget[] {
  p.unknownKeys(path, raw, LATENCY_BUDGET_KEYS);
  const stage = own(raw, 'stage');
  let stageOk = isStageName(stage);
  if (!stageOk) p.expected(`${path}.stage`, 'a stage name like "total"', stage);
  else if (!ctx.stream && STREAM_STAGES.includes(stage as string)) {
    p.add(`${path}.stage`, streamOnly(stage as string));
    stageOk = false;
  }
  const scope = checkScope(raw, path, ctx, p, true);
  const turns = checkTurnScope(own(raw, 'turn'), `${path}.turn`, stageOk ? (stage as string) : undefined, ctx, raw, p);
  const limits = checkLatencyLimits(raw, path, p);
  if (!stageOk || scope === undefined || limits === undefined || turns === null) return [];
  return limits.map(([key, limitMs]) => ({ kind: 'latency', stage: stage as string, key, limitMs, ...scope, ...(turns ? { turns } : {}) }));
}

/** Every `p50`…`mean` written, in LATENCY_KEYS order; undefined when one is not a duration. */
function checkLatencyLimits(raw: Obj, path: string, p: Problems): [LatencyKey, number][] | undefined {
  const limits: [LatencyKey, number][] = [];
  let ok = true;
  for (const key of LATENCY_KEYS) {
    const v = own(raw, key);
    if (v === undefined) continue;
    const ms = parseDuration(v);
    if (ms !== undefined && ms > 0) limits.push([key, ms]);
    else {
      p.expected(`${path}.${key}`, DURATION_EXAMPLE, v);
      ok = false;
    }
  }
  if (limits.length === 0 && ok) {
    p.add(path, `expected at least one of ${LATENCY_KEYS.join(', ')} with a duration, got none`);
  }
  return ok ? limits : undefined;
}

function scopeLabel(s: BudgetScope): string {
  const parts: string[] = [];
  if (s.path !== undefined) parts.push(`path=${s.path}`);
  if (s.phase !== undefined) parts.push(`phase=${s.phase}`);
  if (s.turns !== undefined) parts.push(`turn=${s.turns.from}${s.turns.to === s.turns.from ? '' : s.turns.to === undefined ? '+' : `-${s.turns.to}`}`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function baseId(b: UnnamedBudget): string {
  const scope = scopeLabel(b);
  if (b.kind === 'metric') return `${b.metric}${scope} ${b.stat}`;
  if (b.kind === 'pathShare') return `pathShare{path=${b.of}${b.phase !== undefined ? `,phase=${b.phase}` : ''}} ${b.bound}`;
  if (b.kind === 'recovery') return `recovery{${[...(b.path !== undefined ? [`path=${b.path}`] : []), `after=${b.after}`].join(',')}} ${b.stage}`;
  return b.kind === 'latency' ? `${b.stage}${scope} ${b.key}` : `${b.kind}${scope}`;
}
