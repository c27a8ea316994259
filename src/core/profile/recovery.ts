/**
 * `{ recovery: { stage?, p50…max?, errorRate?, within, after, window?, hold?, path? } }`: a
 * recovery budget (core/recovery.ts). stage default total, window default 1s, hold default 3s; at
 * least one latency limit or errorRate; window and hold are whole multiples of RECOVERY_BIN_MS.
 */
import { LATENCY_KEYS, type Budget, type LatencyKey } from '../profile-types.js';
import { RECOVERY_BIN_MS } from '../recovery.js';
import { TOTAL_STAGE } from '../stages.js';
import { parseDuration, parsePercent } from '../units.js';
import { checkPathRef, type BudgetContext } from './budget-scope.js';
import { DURATION_EXAMPLE, PERCENT_EXAMPLE } from './fields.js';
import { RECOVERY_KEYS } from './keys.js';
import { didYouMean, type Problems } from './problems.js';
import { absent, isObj, isStageName, own, type Obj } from './values.js';

type Unnamed = Omit<Extract<Budget, { kind: 'recovery' }>, 'id'>;

const DEFAULT_WINDOW_MS = 1000;
const DEFAULT_HOLD_MS = 3000;
const SHAPE = '{ recovery: { p99: 800ms, errorRate: 1%, within: 5s, after: outage } }';

export function checkRecoveryBudget(outer: Obj, path: string, ctx: BudgetContext, p: Problems): Unnamed[] {
  p.unknownKeys(path, outer, ['recovery']);
  const raw = own(outer, 'recovery');
  const at = `${path}.recovery`;
  if (!isObj(raw)) {
    p.expected(at, `a mapping like ${SHAPE}`, raw);
    return [];
  }
  p.unknownKeys(at, raw, RECOVERY_KEYS);
  let ok = true;
  const bad = (key: string, what: string): void => {
    p.expected(`${at}.${key}`, what, own(raw, key));
    ok = false;
  };
  const stageRaw = own(raw, 'stage');
  const stage = absent(stageRaw) ? TOTAL_STAGE : isStageName(stageRaw) ? stageRaw : (bad('stage', 'a stage name like "total"'), '');
  const limits: { key: LatencyKey; limitMs: number }[] = [];
  for (const key of LATENCY_KEYS) {
    const v = own(raw, key);
    if (absent(v)) continue;
    const ms = parseDuration(v);
    if (ms !== undefined && ms > 0) limits.push({ key, limitMs: ms });
    else bad(key, DURATION_EXAMPLE);
  }
  const errRaw = own(raw, 'errorRate');
  const maxErrorRate = absent(errRaw) ? undefined : parsePercent(errRaw);
  if (!absent(errRaw) && maxErrorRate === undefined) bad('errorRate', PERCENT_EXAMPLE);
  if (ok && limits.length === 0 && maxErrorRate === undefined) {
    p.add(at, `expected at least one limit: one of ${LATENCY_KEYS.join(', ')} or errorRate`);
    ok = false;
  }
  const withinMs = parseDuration(own(raw, 'within'));
  if (withinMs === undefined || withinMs < 0) bad('within', 'a duration like "5s": the longest time-to-recover that passes');
  const windowMs = binned(own(raw, 'window'), DEFAULT_WINDOW_MS);
  if (windowMs === undefined) bad('window', `a duration that is a whole multiple of ${RECOVERY_BIN_MS}ms, like "1s"`);
  const holdMs = binned(own(raw, 'hold'), DEFAULT_HOLD_MS);
  if (holdMs === undefined) bad('hold', `a duration that is a whole multiple of ${RECOVERY_BIN_MS}ms, like "3s"`);
  const pathRaw = own(raw, 'path');
  // the same path rule as every scoped budget: primary, or a route the profile names (paths:, fallback:)
  const pathName = absent(pathRaw) ? undefined : checkPathRef(pathRaw, `${at}.path`, ctx, p);
  if (!absent(pathRaw) && pathName === undefined) ok = false;
  const after = own(raw, 'after');
  if (typeof after !== 'string' || after === '') bad('after', 'the name of the phase whose start injects the fault');
  else if (ctx.phasesKnown && !ctx.phases.some((ph) => ph.name === after)) {
    const names = [...new Set(ctx.phases.map((ph) => ph.name))];
    p.add(`${at}.after`, `no phase named '${after}' (phases: ${names.join(', ')})${didYouMean(after, names)}`);
    ok = false;
  }
  if (!ok || withinMs === undefined || windowMs === undefined || holdMs === undefined || typeof after !== 'string') return [];
  return [{
    kind: 'recovery', stage, limits, withinMs, after, windowMs, holdMs,
    ...(maxErrorRate !== undefined ? { maxErrorRate } : {}),
    ...(pathName !== undefined ? { path: pathName } : {}),
  }];
}

function binned(v: unknown, fallback: number): number | undefined {
  if (absent(v)) return fallback;
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) return undefined;
  const n = ms / RECOVERY_BIN_MS;
  return Math.abs(n - Math.round(n)) < 1e-9 ? ms : undefined;
}
