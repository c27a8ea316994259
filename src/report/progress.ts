/**
 * The live progress line, one per second of run time: phase, target vs achieved rate over the last
 * second, requests in flight, total p99 so far, errors and fallbacks. Pure: Tick → string.
 */
import type { Tick } from '../core/tick.js';
import { ms } from './format.js';

export function renderProgress(t: Tick): string {
  const p = t.phase;
  const clock = `${String(Math.round(t.tMs / 1000)).padStart(4)}s`;
  const phase = p ? `${p.name}${p.warmup ? ' (warmup)' : ''}` : 'draining';
  const load =
    p?.model === 'closed'
      ? `users ${p.concurrency === p.concurrencyTo ? p.concurrency : `${p.concurrency}→${p.concurrencyTo}`}, achieved ${t.progress.sent}/s`
      : `target ${t.progress.scheduled}/s, achieved ${t.progress.sent}/s`;
  const g = t.progress;
  return `${clock}  ${phase.padEnd(16)} ${load}  in flight ${t.inFlight}  p99 ${ms(g.p99)}  errors ${g.errors}  fallback ${g.fallback}`;
}
