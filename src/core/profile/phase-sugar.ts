/**
 * Phase sugar: `{ spike: {...} }` and `{ steps: {...} }` entries of `phases`, each expanded to plain
 * open phases named `<name>-<part>`.
 */
import type { Phase } from '../profile-types.js';
import { MIN_RATE } from '../schedule.js';
import { formatDuration } from '../units.js';
import { checkDuration, checkRate, checkWarmup } from './fields.js';
import { SPIKE_KEYS, STEPS_KEYS, type SugarKind } from './keys.js';
import type { Problems } from './problems.js';
import { absent, isObj, own, type Obj } from './values.js';

// A steps ladder is written by hand; thousands of rungs are a typo (step: 0.5 for 50), not a plan.
const MAX_STEPS = 1000;
// parseDuration("0.1s") is 100.00000000000001: sums of written durations are compared with this slack.
const DURATION_EPS_MS = 1e-6;

/** What one entry of `phases` yields; `ok` false when some phase of it has no usable name. */
export interface Expanded {
  phases: Phase[];
  /** where a duplicate of these names is reported: phases[i].name, or the sugar's name/mapping */
  namePath: string;
  ok: boolean;
}

export function checkSugar(raw: Obj, kind: SugarKind, path: string, p: Problems): Expanded {
  p.unknownKeys(path, raw, [kind]);
  const sp = `${path}.${kind}`;
  const body = own(raw, kind);
  if (!isObj(body)) {
    const example = kind === 'spike' ? '{ base: 100, peak: 1000, at: 30s, hold: 5s, duration: 60s }' : '{ from: 50, to: 400, step: 50, hold: 20s }';
    p.expected(sp, `a mapping like ${example}`, body);
    return { phases: [], namePath: sp, ok: false };
  }
  const prefix = checkPrefix(body, sp, kind === 'spike' ? 'spike' : 'step', p);
  const warmup = checkWarmup(own(body, 'warmup'), `${sp}.warmup`, p);
  const phases = kind === 'spike' ? expandSpike(body, sp, prefix, warmup, p) : expandSteps(body, sp, prefix, warmup, p);
  const namePath = own(body, 'name') === undefined ? sp : `${sp}.name`;
  return { phases: prefix === '' || phases === undefined ? [] : phases, namePath, ok: prefix !== '' && phases !== undefined };
}

/** The sugar's optional name prefix; '' (with a problem) when unusable. */
function checkPrefix(o: Obj, path: string, fallback: string, p: Problems): string {
  const v = own(o, 'name');
  if (absent(v)) return fallback;
  if (typeof v === 'string' && v.trim() !== '') return v;
  p.expected(`${path}.name`, 'a non-empty string', v);
  return '';
}

function openPhase(name: string, durationMs: number, rate: number, warmup: boolean): Phase {
  return { name, durationMs, model: 'open', rate, to: rate, concurrency: 0, concurrencyTo: 0, warmup };
}

/**
 * base for `at`, peak for `hold`, base again until `duration`:
 *
 *   <name>-base [0, at)   <name>-peak [at, at + hold)   <name>-recover [at + hold, duration)
 *
 * A part of zero length is left out (at: 0s starts on the peak).
 */
function expandSpike(o: Obj, path: string, name: string, warmup: boolean, p: Problems): Phase[] | undefined {
  p.unknownKeys(path, o, SPIKE_KEYS);
  const base = checkRate(own(o, 'base'), `${path}.base`, p, false);
  const peak = checkRate(own(o, 'peak'), `${path}.peak`, p, false);
  const at = checkDuration(own(o, 'at'), `${path}.at`, p, true);
  const hold = checkDuration(own(o, 'hold'), `${path}.hold`, p);
  const duration = checkDuration(own(o, 'duration'), `${path}.duration`, p);
  if (at === undefined || hold === undefined || duration === undefined) return undefined;
  const recover = duration - at - hold;
  if (recover < -DURATION_EPS_MS) {
    p.add(`${path}.hold`, `at (${formatDuration(at)}) + hold (${formatDuration(hold)}) is longer than duration (${formatDuration(duration)})`);
    return undefined;
  }
  if (base === undefined || peak === undefined) return undefined;
  const parts = [
    openPhase(`${name}-base`, at, base, warmup),
    openPhase(`${name}-peak`, hold, peak, warmup),
    openPhase(`${name}-recover`, recover, base, warmup),
  ];
  return parts.filter((ph) => ph.durationMs > DURATION_EPS_MS);
}

/** Rates without float noise: 0.1 + 0.2 is a rung called step-0.3, not step-0.30000000000000004. */
function tidy(x: number): number {
  return Number(x.toFixed(9));
}

/**
 * Rungs from, from + step, from + 2·step, … while below `to`, then `to` itself (so the top rung is
 * `to` even when to − from is not a multiple of step), each `hold` long. Rung i is from + i·step,
 * not a running sum, so no error accumulates up the ladder.
 */
function expandSteps(o: Obj, path: string, name: string, warmup: boolean, p: Problems): Phase[] | undefined {
  p.unknownKeys(path, o, STEPS_KEYS);
  const from = checkRate(own(o, 'from'), `${path}.from`, p, false);
  const to = checkRate(own(o, 'to'), `${path}.to`, p, false);
  const stepRaw = own(o, 'step');
  let step: number | undefined;
  if (typeof stepRaw === 'number' && Number.isFinite(stepRaw) && stepRaw > 0) step = stepRaw;
  else p.expected(`${path}.step`, 'a number of requests per second greater than 0', stepRaw);
  const hold = checkDuration(own(o, 'hold'), `${path}.hold`, p);
  if (from === undefined || to === undefined || step === undefined || hold === undefined) return undefined;
  if (to < from) {
    p.add(`${path}.to`, `expected at least from (${from}), got ${to}: steps go up`);
    return undefined;
  }
  const rates = ladder(from, to, step, path, p);
  return rates?.map((r) => openPhase(`${name}-${r}`, hold, r, warmup));
}

/** The rungs' rates; undefined (with a problem) when there are too many or one is below MIN_RATE. */
function ladder(from: number, to: number, step: number, path: string, p: Problems): number[] | undefined {
  // 1e-9 of a step absorbs float noise, so 0.1 → 0.3 by 0.1 has three rungs, not four
  const whole = Math.floor((to - from) / step + 1e-9);
  const rates = Array.from({ length: whole + 1 }, (_, i) => tidy(from + i * step));
  // the top rung is `to` itself: replacing a rung that landed within noise of it, else added above
  if (to - (rates.at(-1) ?? from) <= step * 1e-9) rates[rates.length - 1] = to;
  else rates.push(to);
  if (rates.length > MAX_STEPS) {
    p.add(`${path}.step`, `${from} to ${to} by ${step} makes ${rates.length} steps; at most ${MAX_STEPS}`);
    return undefined;
  }
  // checkRate refuses rates in (0, MIN_RATE); a rung can only land there if from is 0 and step tiny
  const tooLow = rates.find((r) => r > 0 && r < MIN_RATE);
  if (tooLow !== undefined) {
    p.add(`${path}.step`, `step ${step} makes a rate of ${tooLow}: rates are 0, or ${MIN_RATE} or more`);
    return undefined;
  }
  return rates;
}
