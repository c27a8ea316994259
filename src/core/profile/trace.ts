/**
 * Trace phases: `{ name: replay, trace: { file: traces/day.jsonl, format: mooncake, speed: 2 } }`.
 * The file is read later, in a shell (src/trace-file.ts), which attaches the replay and the phase's
 * duration; here only the keys are checked. `speed` and `rate` are two ways to set the time scale:
 * one of them at most.
 */
import type { Phase, TraceFormat, TraceSpec } from '../profile-types.js';
import { MAX_TRACE_RECORDS, TRACE_FORMATS } from '../trace/formats.js';
import { checkDuration, checkRate, checkWarmup } from './fields.js';
import { TRACE_KEYS, TRACE_PHASE_KEYS, TRACE_WINDOW_KEYS } from './keys.js';
import type { Expanded } from './phase-sugar.js';
import type { Problems } from './problems.js';
import { absent, isObj, own, type Obj } from './values.js';

/** speed is a scale factor: below a thousandth or above a million is a typo, not a replay. */
const MIN_SPEED = 0.001;
const MAX_SPEED = 1_000_000;

export function checkTracePhase(raw: Obj, path: string, p: Problems): Expanded {
  // a plain phase's load keys: the trace decides the times (its own speed, rate and window do the scaling)
  const load = ['duration', 'rate', 'to', 'concurrency'].filter((k) => Object.hasOwn(raw, k));
  for (const k of load) p.add(path, `a trace phase takes its times from the trace: '${k}' is not for it (use trace.speed, trace.rate or trace.window)`);
  p.unknownKeys(path, Object.fromEntries(Object.entries(raw).filter(([k]) => !load.includes(k))), TRACE_PHASE_KEYS);
  const name = own(raw, 'name');
  let okName = '';
  if (typeof name === 'string' && name.trim() !== '') okName = name;
  else p.expected(`${path}.name`, 'a non-empty string', name);
  const warmup = checkWarmup(own(raw, 'warmup'), `${path}.warmup`, p);
  const trace = checkTrace(own(raw, 'trace'), `${path}.trace`, p);
  const phases: Phase[] = trace ? [{ name: okName, durationMs: 0, model: 'open', rate: 0, to: 0, concurrency: 0, concurrencyTo: 0, warmup, trace }] : [];
  return { phases, namePath: `${path}.name`, ok: okName !== '' };
}

function checkTrace(v: unknown, path: string, p: Problems): TraceSpec | undefined {
  if (!isObj(v)) {
    p.expected(path, 'a mapping like { file: traces/day.jsonl, format: mooncake }', v);
    return undefined;
  }
  p.unknownKeys(path, v, TRACE_KEYS);
  let ok = true;
  const file = own(v, 'file');
  if (!(typeof file === 'string' && file.trim() !== '')) {
    p.expected(`${path}.file`, 'a trace file path like "traces/day.jsonl" (relative to the profile)', file);
    ok = false;
  }
  const format = own(v, 'format');
  if (!TRACE_FORMATS.includes(format as TraceFormat)) {
    p.expected(`${path}.format`, `one of ${TRACE_FORMATS.join(', ')}`, format);
    ok = false;
  }
  const speedRaw = own(v, 'speed');
  let speed = 1;
  if (!absent(speedRaw)) {
    if (typeof speedRaw === 'number' && Number.isFinite(speedRaw) && speedRaw >= MIN_SPEED && speedRaw <= MAX_SPEED) speed = speedRaw;
    else {
      p.expected(`${path}.speed`, `a time scale from ${MIN_SPEED} to ${MAX_SPEED} (2: twice as fast)`, speedRaw);
      ok = false;
    }
  }
  const rateRaw = own(v, 'rate');
  let rate: number | undefined;
  if (!absent(rateRaw)) {
    rate = checkRate(rateRaw, `${path}.rate`, p, true);
    if (rate === undefined || rate === 0) {
      if (rate === 0) p.expected(`${path}.rate`, 'a mean rate above 0 requests per second', rateRaw);
      ok = false;
    }
    if (!absent(speedRaw)) {
      p.add(path, "expected 'speed' (a time scale) or 'rate' (a mean rate to rescale to), not both");
      ok = false;
    }
  }
  const limitRaw = own(v, 'limit');
  let limit: number | undefined;
  if (!absent(limitRaw)) {
    if (typeof limitRaw === 'number' && Number.isInteger(limitRaw) && limitRaw >= 1 && limitRaw <= MAX_TRACE_RECORDS) limit = limitRaw;
    else {
      p.expected(`${path}.limit`, `a whole number of records from 1 to ${MAX_TRACE_RECORDS}`, limitRaw);
      ok = false;
    }
  }
  const exactRaw = own(v, 'exactOutput');
  if (!absent(exactRaw) && typeof exactRaw !== 'boolean') {
    p.expected(`${path}.exactOutput`, 'true or false', exactRaw);
    ok = false;
  }
  const window = checkWindow(own(v, 'window'), `${path}.window`, p);
  if (window === false) ok = false;
  if (!ok || window === false) return undefined;
  return {
    file: file as string,
    format: format as TraceFormat,
    speed,
    ...(rate !== undefined ? { rate } : {}),
    ...window,
    ...(limit !== undefined ? { limit } : {}),
    exactOutput: exactRaw === true,
  };
}

/** `window: { from: 10m, to: 20m }` in trace time; either end may be left out. false: invalid. */
function checkWindow(v: unknown, path: string, p: Problems): { fromMs?: number; toMs?: number } | false {
  if (absent(v)) return {};
  if (!isObj(v)) {
    p.expected(path, 'a mapping like { from: 10m, to: 20m } (trace time)', v);
    return false;
  }
  p.unknownKeys(path, v, TRACE_WINDOW_KEYS);
  const fromRaw = own(v, 'from');
  const toRaw = own(v, 'to');
  const fromMs = absent(fromRaw) ? undefined : checkDuration(fromRaw, `${path}.from`, p, true);
  const toMs = absent(toRaw) ? undefined : checkDuration(toRaw, `${path}.to`, p);
  if ((!absent(fromRaw) && fromMs === undefined) || (!absent(toRaw) && toMs === undefined)) return false;
  if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) {
    p.add(path, 'expected from < to');
    return false;
  }
  return { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) };
}
