/** Number formatting shared by the renderers. */
import type { VerdictUnit } from '../core/report.js';

export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}s`;
  if (x >= 1000) return `${(x / 1000).toFixed(2)}s`;
  if (x >= 100) return `${x.toFixed(0)}ms`;
  if (x >= 10) return `${x.toFixed(1)}ms`;
  return `${x.toFixed(2)}ms`;
}

export function percent(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${Number((x * 100).toFixed(2))}%`;
}

/** a plain number in a server metric's own unit, to six significant digits: "57", "0.912", "1.2e+06" */
export function plain(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return String(Number(x.toPrecision(6)));
}

function inUnit(x: number | null, unit: VerdictUnit): string {
  return unit === 'ms' ? ms(x) : unit === 'number' ? plain(x) : percent(x);
}

export function observedText(v: { observed: number | null; unit: VerdictUnit }): string {
  return inUnit(v.observed, v.unit);
}

export function limitText(v: { limit: number; unit: VerdictUnit }): string {
  return inUnit(v.limit, v.unit);
}

/** a percentile verdict's 95% interval, "412ms–430ms"; a dash when it has none (rates, mean, max, old reports) */
export function intervalText(v: { interval?: readonly [number, number] | null }): string {
  const i = v.interval;
  return i === null || i === undefined ? '—' : `${ms(i[0])}–${ms(i[1])}`;
}

/**
 * A series value in its stage's unit: `*_per_s` stages (tokens_per_s) hold a rate, recorded in the
 * histograms' ms slot as a plain number; every other stage is a duration in ms.
 */
export function stageValue(stage: string, x: number | null | undefined): string {
  if (!stage.endsWith('_per_s')) return ms(x);
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${x >= 100 ? x.toFixed(0) : x.toFixed(1)}/s`;
}
