/**
 * A trace phase's requests on the phase's own clock: the window, the limit and the time scale
 * applied to the records (in trace-time order, formats.ts). Pure.
 *
 * With τᵢ the kept records' trace times (ms), ascending:
 *
 *   kept   = the first `limit` records with from ≤ τᵢ < to    (from = 0, to = ∞ by default)
 *   origin = from when the window gives one, else τ₀           (the replay starts with its first record)
 *   S      = (to − origin) when `to` is given and no record was cut by `limit`, else τ_last − origin
 *   f      = 1 / speed                                         (speed 2: every gap halves)
 *          = (1000 · N / rate) / S                             (rate, req/s: the mean rate N/D becomes `rate`)
 *   dᵢ     = (τᵢ − origin) · f                                 (request i's offset in the phase)
 *   D      = max(S · f, 1 ms)                                  (the phase's duration)
 *
 * Every dᵢ ≤ D, so the phase holds all its requests; records sharing a timestamp (a burst) share an
 * offset and leave together. A trace whose records all share one instant lasts 1 ms (a phase needs a
 * length), and cannot be rescaled to a rate.
 */
import type { ProfileProblem } from '../errors.js';
import type { TraceReplay, TraceSpec } from '../profile-types.js';
import { formatDuration } from '../units.js';
import type { TraceRecord } from './formats.js';

export interface ReplayPlan {
  replay: TraceReplay;
  durationMs: number;
}

/** The replay of `records` under `spec`, or the problems (at `path`, the phase's trace key) that prevent it. */
export function replayOf(records: readonly TraceRecord[], spec: Omit<TraceSpec, 'replay'>, blockTokens: number, path: string): ReplayPlan | { problems: ProfileProblem[] } {
  const from = spec.fromMs ?? 0;
  const to = spec.toMs ?? Infinity;
  const inWindow = records.filter((r) => r.timeMs >= from && r.timeMs < to);
  const kept = spec.limit !== undefined ? inWindow.slice(0, spec.limit) : inWindow;
  const first = kept[0];
  const last = kept[kept.length - 1];
  if (!first || !last) {
    const where = spec.fromMs !== undefined || spec.toMs !== undefined ? ` in the window [${formatDuration(from)}, ${to === Infinity ? '∞' : formatDuration(to)})` : '';
    return { problems: [{ path, message: `no records${where} (the trace's ${records.length} records span trace time ${span(records)})` }] };
  }
  const origin = spec.fromMs ?? first.timeMs;
  const cut = kept.length < inWindow.length;
  const S = spec.toMs !== undefined && !cut ? spec.toMs - origin : last.timeMs - origin;
  let f = 1 / spec.speed;
  if (spec.rate !== undefined) {
    if (!(S > 0)) return { problems: [{ path: `${path}.rate`, message: `the ${kept.length} records share one instant: there is no span to rescale to a rate` }] };
    f = (1000 * kept.length) / spec.rate / S;
  }
  const offsetsMs = kept.map((r) => (r.timeMs - origin) * f);
  const requests = kept.map((r) => ({ input: r.input, output: r.output, hashIds: r.hashIds }));
  return { replay: { offsetsMs, requests, blockTokens }, durationMs: Math.max(S * f, 1) };
}

function span(records: readonly TraceRecord[]): string {
  const a = records[0];
  const b = records[records.length - 1];
  return a && b ? `[${formatDuration(a.timeMs)}, ${formatDuration(b.timeMs)}]` : 'nothing';
}

/** What validate prints for a trace phase: records, span and mean rate. */
export function replaySummary(replay: TraceReplay, durationMs: number): { records: number; spanMs: number; meanRate: number } {
  const n = replay.offsetsMs.length;
  return { records: n, spanMs: durationMs, meanRate: durationMs > 0 ? n / (durationMs / 1000) : 0 };
}
