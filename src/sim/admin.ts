/**
 * `POST /admin/fault`: faults triggered over HTTP while the endpoint runs, so a profile's phase hook
 * (`onStart: { http: { path: /admin/fault, body: {...} } }`) can inject one into the embedded sim.
 *
 *   { "kind": "stall", "ms": 3000 }   primary workers start nothing for 3 s (in-flight requests finish;
 *                                     the queue builds, and the router sends the overflow to the fallback)
 *   { "kind": "outage", "ms": 3000 }  the primary fails every request for 3 s: served by the fallback
 *                                     when fallbackOnError, else answered 503
 *   { "kind": "clear" }               ends every fault now
 *
 * Without `ms` a stall or outage lasts until cleared. The answer is the fault's window in the sim's
 * own clock: `{ "kind": "stall", "fromMs": …, "untilMs": … }` (null untilMs: until cleared).
 */
export type FaultCommand = { kind: 'stall' | 'outage'; ms: number | null } | { kind: 'clear' };

/** the longest fault one call may ask for: an hour (a typo must not hang a shared sim for ever) */
export const MAX_FAULT_MS = 3_600_000;

/** The body of a POST /admin/fault, or the reason it is refused (answered 400). */
export function parseFaultCommand(raw: string): FaultCommand | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { error: 'body is not JSON: expected {"kind": "stall"|"outage"|"clear", "ms": 3000}' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'expected a JSON object like {"kind": "stall", "ms": 3000}' };
  const { kind, ms } = v as { kind?: unknown; ms?: unknown };
  if (kind === 'clear') return { kind };
  if (kind !== 'stall' && kind !== 'outage') return { error: `kind: expected "stall", "outage" or "clear", got ${JSON.stringify(kind)}` };
  if (ms === undefined || ms === null) return { kind, ms: null };
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > MAX_FAULT_MS) return { error: `ms: expected a number of milliseconds from 1 to ${MAX_FAULT_MS}, got ${JSON.stringify(ms)}` };
  return { kind, ms };
}
