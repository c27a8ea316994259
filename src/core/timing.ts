/**
 * Turns one response's headers into per-stage timings and the path (primary/fallback) that served it.
 *
 * Header-stage value grammar (`timings.headers`, e.g. TGI's `x-queue-time`, Envoy's
 * `x-envoy-upstream-service-time`):
 *
 *   header-ms = OWS number OWS
 *   number    = ( 1*DIGIT [ "." *DIGIT ] / "." 1*DIGIT ) [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
 *
 * No sign and no unit: `-3`, `12ms`, `NaN`, `Infinity` and `` are garbled, and a garbled stage is
 * unmeasured rather than 0 ms, so a broken server cannot make a budget pass.
 *
 * Fallback rule:
 *
 *   fallback = { header: name, equals: text }   ; trimmed value == text, case-sensitive
 *            | { header: name, matches: regex } ; RegExp(regex).test(trimmed value)
 *
 * Header names match case-insensitively. A header that arrives several times is a fallback if ANY
 * occurrence matches: gateways append rather than replace, and one fallback hop is enough.
 */
import type { FallbackRule, PathName, TimingRules } from './profile-types.js';
import { parseServerTimingDetailed } from './server-timing.js';

export { parseServerTiming, parseServerTimingDetailed } from './server-timing.js';
export type { ParsedMetric, ServerTimingMetric } from './server-timing.js';

/** Response headers as autocannon/http-parser gives them: a flat [name, value, name, value, ...] array, names in the server's casing. */
export type RawHeaders = readonly string[];

/** lower-cased name → values joined with ", " in arrival order (RFC 9110 list combining). */
export function headerMap(raw: RawHeaders): Map<string, string> {
  const map = new Map<string, string>();
  for (let k = 0; k + 1 < raw.length; k += 2) {
    const name = raw[k];
    const value = raw[k + 1];
    if (typeof name !== 'string' || typeof value !== 'string') continue;
    const key = name.toLowerCase();
    const prev = map.get(key);
    map.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  return map;
}

export interface ResponseTimings {
  /** stage → milliseconds (finite, ≥ 0) */
  stages: Map<string, number>;
  /** stages expected but missing or garbled in this response */
  unmeasured: string[];
  path: PathName;
}

/** The compiled form of timings + fallback rules, built once per run (regex compiled once). */
export interface TimingExtractor {
  /** stage names this extractor expects on EVERY response (named header stages + `extraExpected`) */
  expected: readonly string[];
  extract(raw: RawHeaders): ResponseTimings;
}

const UNSIGNED_MS = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** NaN when garbled; see `header-ms` above. */
function parseHeaderMs(value: string): number {
  const text = value.trim();
  if (!UNSIGNED_MS.test(text)) return Number.NaN;
  const ms = Number(text);
  return Number.isFinite(ms) ? ms : Number.NaN; // `1e400` passes the pattern
}

/**
 * Server-Timing (when `rules.serverTiming`): each metric with a valid `dur` is a stage. A metric name
 * that occurs more than once is the SUM of its durations: Server-Timing lists what happened, and a
 * stage that happened twice (a retried upstream call, two queue waits) took both. If any occurrence's
 * `dur` is garbled the stage is unmeasured for this response, since a partial sum would under-report.
 *
 * Named header stages (`rules.headers`) are authoritative over a Server-Timing metric of the same
 * name when their header is present, the profile author having named that header explicitly; when it
 * is present but garbled (or repeated, which RFC 9110 combining turns into `12, 13`) the stage is
 * unmeasured even if Server-Timing had it.
 *
 * @throws Error when `fallback.matches` is not a valid regular expression (the profile validator
 * should have caught it first).
 */
export function compileTimings(
  rules: TimingRules,
  fallback: FallbackRule | undefined,
  extraExpected: readonly string[] = [],
): TimingExtractor {
  const useServerTiming = rules.serverTiming;
  const ruleHeaders: string[] = [];
  const ruleStages: string[] = [];
  const ruleIndex = new Map<string, number>();
  for (const [header, stage] of Object.entries(rules.headers)) {
    const key = header.toLowerCase();
    if (ruleIndex.has(key)) continue;
    ruleIndex.set(key, ruleHeaders.length);
    ruleHeaders.push(key);
    ruleStages.push(stage);
  }
  const expected = [...new Set([...ruleStages, ...extraExpected])];

  const fallbackHeader = fallback?.header.toLowerCase();
  let isFallbackValue: ((value: string) => boolean) | undefined;
  if (fallback !== undefined) {
    if ('equals' in fallback) {
      const want = fallback.equals;
      isFallbackValue = (value) => value.trim() === want;
    } else {
      let re: RegExp;
      try {
        re = new RegExp(fallback.matches);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new Error(`fallback.matches is not a valid regular expression: ${why}`, { cause: err });
      }
      isFallbackValue = (value) => re.test(value.trim());
    }
  }

  const ruleCount = ruleHeaders.length;

  function extract(raw: RawHeaders): ResponseTimings {
    const stages = new Map<string, number>();
    let garbled: Set<string> | undefined;
    // per rule: undefined = absent, string = its one value, null = repeated
    let ruleValues: (string | null | undefined)[] | undefined;
    let path: PathName = 'primary';

    for (let k = 0; k + 1 < raw.length; k += 2) {
      const name = raw[k];
      const value = raw[k + 1];
      if (typeof name !== 'string' || typeof value !== 'string') continue;
      const key = name.toLowerCase();

      if (useServerTiming && key === 'server-timing') {
        // Line by line rather than joined: an unterminated quote then cannot swallow the next line.
        for (const m of parseServerTimingDetailed(value)) {
          if (!m.hasDur) continue;
          if (m.durValid) stages.set(m.name, (stages.get(m.name) ?? 0) + m.dur);
          else (garbled ??= new Set()).add(m.name);
        }
      }

      const ri = ruleIndex.get(key);
      if (ri !== undefined) {
        ruleValues ??= new Array<string | null | undefined>(ruleCount);
        ruleValues[ri] = ruleValues[ri] === undefined ? value : null;
      }

      if (path === 'primary' && key === fallbackHeader && isFallbackValue?.(value)) path = 'fallback';
    }

    if (garbled !== undefined) for (const stage of garbled) stages.delete(stage);

    if (ruleValues !== undefined) {
      for (let ri = 0; ri < ruleCount; ri++) {
        const value = ruleValues[ri];
        if (value === undefined) continue;
        const stage = ruleStages[ri]!;
        const ms = value === null ? Number.NaN : parseHeaderMs(value);
        if (Number.isNaN(ms)) stages.delete(stage);
        else stages.set(stage, ms);
      }
    }

    const unmeasured: string[] = [];
    for (const stage of expected) if (!stages.has(stage)) unmeasured.push(stage);
    return { stages, unmeasured, path };
  }

  return { expected, extract };
}
