/**
 * The `phases` section. Entries are plain phases or sugar (`{ spike: {...} }`, `{ steps: {...} }`,
 * see phase-sugar.ts) that expands to open phases here, so everything downstream (the plan, budgets'
 * `phase:`, reports) sees only plain phases. An entry with a `trace` key is a trace phase (trace.ts).
 */
import type { Phase } from '../profile-types.js';
import { checkDuration, checkRate, checkWarmup } from './fields.js';
import { PHASE_KEYS, SUGAR_KINDS } from './keys.js';
import { checkSugar, type Expanded } from './phase-sugar.js';
import { checkHooks } from './hooks.js';
import type { Problems } from './problems.js';
import { checkTracePhase } from './trace.js';
import { checkSessions, type SessionContext } from './sessions.js';
import { absent, isObj, own, type Obj } from './values.js';

export interface PhaseContext {
  /** undefined when maxInFlight itself was invalid: concurrencies cannot be judged against it then */
  maxInFlight: number | undefined;
  /** undefined when maxRate itself was invalid */
  maxRate: number | undefined;
  /** what a phase's `sessions:` is judged against (sessions.ts); absent: no chat body, no prompt lengths */
  sessions?: Omit<SessionContext, 'open'>;
}

/** `known` is false when some entry has no usable name: budget phase references cannot be judged then. */
export function checkPhases(v: unknown, ctx: PhaseContext, p: Problems): { phases: Phase[]; known: boolean } {
  if (!Array.isArray(v) || v.length === 0) {
    p.expected('phases', 'a non-empty list of phases like { name: steady, duration: 30s, rate: 50 }', v);
    return { phases: [], known: false };
  }
  const phases: Phase[] = [];
  const firstAt = new Map<string, string>();
  let known = true;
  v.forEach((raw: unknown, i) => {
    const path = `phases[${i}]`;
    if (!isObj(raw)) {
      p.expected(path, 'a mapping like { name: steady, duration: 30s, rate: 50 }', raw);
      known = false;
      return;
    }
    const sugar = SUGAR_KINDS.find((kind) => own(raw, kind) !== undefined);
    const entry =
      sugar !== undefined ? checkSugar(raw, sugar, path, p) : own(raw, 'trace') !== undefined ? checkTracePhase(raw, path, p) : checkPlainPhase(raw, path, ctx, p);
    if (!entry.ok) known = false;
    checkMaxRate(entry, path, ctx, p);
    for (const ph of entry.phases) {
      if (ph.name === '') continue;
      const first = firstAt.get(ph.name);
      if (first !== undefined) p.add(entry.namePath, `duplicate phase name '${ph.name}' (also ${first})`);
      else firstAt.set(ph.name, path);
      phases.push(ph);
    }
  });
  return { phases, known };
}

/** The safety cap: a typo (`rate: 50000` for 5000) must not become a flood against a shared endpoint. */
function checkMaxRate(entry: Expanded, path: string, ctx: PhaseContext, p: Problems): void {
  const fastest = Math.max(0, ...entry.phases.map((ph) => Math.max(ph.rate, ph.to)));
  if (ctx.maxRate !== undefined && fastest > ctx.maxRate) {
    p.add(path, `goes up to ${fastest} requests/s, above maxRate ${ctx.maxRate}: raise maxRate if that is intended`);
  }
}

/**
 * `rate` → open model, `concurrency` → closed model; `to` is the ramp's end in the same unit. A
 * closed phase's users are connections, so they must fit under maxInFlight.
 */
function checkPlainPhase(raw: Obj, path: string, ctx: PhaseContext, p: Problems): Expanded {
  p.unknownKeys(path, raw, PHASE_KEYS);
  const name = own(raw, 'name');
  let okName = '';
  if (typeof name === 'string' && name.trim() !== '') okName = name;
  else p.expected(`${path}.name`, 'a non-empty string', name);

  const durationMs = checkDuration(own(raw, 'duration'), `${path}.duration`, p) ?? 0;
  const warmup = checkWarmup(own(raw, 'warmup'), `${path}.warmup`, p);
  const rateRaw = own(raw, 'rate');
  const usersRaw = own(raw, 'concurrency');
  const toRaw = own(raw, 'to');
  const onStart = checkHooks(own(raw, 'onStart'), `${path}.onStart`, p);
  const onEnd = checkHooks(own(raw, 'onEnd'), `${path}.onEnd`, p);
  const base = { name: okName, durationMs, warmup, ...(onStart && onStart.length > 0 ? { onStart } : {}), ...(onEnd && onEnd.length > 0 ? { onEnd } : {}) };
  const expanded = (phase: Phase): Expanded => ({ phases: [phase], namePath: `${path}.name`, ok: okName !== '' });

  if (!absent(usersRaw) && absent(rateRaw)) {
    checkSessions(own(raw, 'sessions'), `${path}.sessions`, { chatBody: true, promptTokens: undefined, open: false }, p);
    const users = checkConcurrency(usersRaw, `${path}.concurrency`, ctx, p) ?? 1;
    const usersTo = absent(toRaw) ? users : (checkConcurrency(toRaw, `${path}.to`, ctx, p) ?? users);
    return expanded({ ...base, model: 'closed', rate: 0, to: 0, concurrency: users, concurrencyTo: usersTo });
  }
  if (absent(rateRaw)) {
    p.add(path, 'expected either rate (open model) or concurrency (closed model)');
  } else if (!absent(usersRaw)) {
    p.add(path, 'expected either rate (open model) or concurrency (closed model), not both');
  }
  const rate = absent(rateRaw) ? undefined : checkRate(rateRaw, `${path}.rate`, p, false);
  const to = checkRate(toRaw, `${path}.to`, p, true);
  const sessions = checkSessions(own(raw, 'sessions'), `${path}.sessions`, { chatBody: false, promptTokens: undefined, ...ctx.sessions, open: true }, p);
  return expanded({ ...base, model: 'open', rate: rate ?? 0, to: to ?? rate ?? 0, concurrency: 0, concurrencyTo: 0, ...(sessions ? { sessions } : {}) });
}

function checkConcurrency(v: unknown, path: string, ctx: PhaseContext, p: Problems): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    p.expected(path, 'a whole number of virtual users, 1 or more', v);
    return undefined;
  }
  if (ctx.maxInFlight !== undefined && v > ctx.maxInFlight) {
    p.add(path, `concurrency ${v} is more than maxInFlight ${ctx.maxInFlight}: raise maxInFlight or lower the concurrency`);
    return undefined;
  }
  return v;
}
