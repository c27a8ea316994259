/** Field checks several sections share: durations, rates, integers, booleans. */
import { MIN_RATE } from '../schedule.js';
import { parseDuration } from '../units.js';
import type { Problems } from './problems.js';
import { absent } from './values.js';

export const DURATION_EXAMPLE = 'a duration like "30s"';
export const PERCENT_EXAMPLE = 'a percentage like "1%" (or a fraction from 0 to 1)';

/** A written duration in ms: > 0, or ≥ 0 when `zeroOk`. */
export function checkDuration(v: unknown, path: string, p: Problems, zeroOk = false): number | undefined {
  const ms = parseDuration(v);
  if (ms !== undefined && (ms > 0 || (zeroOk && ms === 0))) return ms;
  p.expected(path, DURATION_EXAMPLE, v);
  return undefined;
}

/** Requests per second: 0, or at least MIN_RATE (the schedule cannot pace slower). */
export function checkRate(v: unknown, path: string, p: Problems, optional: boolean): number | undefined {
  if (optional && absent(v)) return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && (v === 0 || v >= MIN_RATE)) return v;
  p.expected(path, `a number of requests per second: 0, or ${MIN_RATE} or more`, v);
  return undefined;
}

/** `fallback` when absent; undefined (with a problem) when present but invalid. */
export function checkInt(v: unknown, path: string, min: number, max: number, fallback: number, p: Problems): number | undefined {
  if (absent(v)) return fallback;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  p.expected(path, `an integer from ${min} to ${max}`, v);
  return undefined;
}

/** A phase's `warmup` flag: false when absent or invalid. */
export function checkWarmup(v: unknown, path: string, p: Problems): boolean {
  if (absent(v)) return false;
  if (typeof v === 'boolean') return v;
  p.expected(path, 'true or false', v);
  return false;
}

export function streamOnly(stage: string): string {
  return `${stage} is measured only on streamed responses: set target.stream: true`;
}
