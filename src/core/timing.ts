/**
 * Turns one response's headers, trailers and JSON body into per-stage timings, the path
 * (primary/fallback) that served it, and which fallback signals fired.
 *
 * Header-stage value grammar (`timings.headers`, e.g. TGI's `x-queue-time`, Envoy's
 * `x-envoy-upstream-service-time`), in the mapping's unit (us, ms or s; converted to ms):
 *
 *   header-value = OWS number OWS
 *   number       = ( 1*DIGIT [ "." *DIGIT ] / "." 1*DIGIT ) [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
 *
 * No sign and no unit: `-3`, `12ms`, `NaN`, `Infinity` and `` are garbled, and a garbled stage is
 * unmeasured rather than 0 ms, so a broken server cannot make a budget pass.
 *
 * Body stages (`timings.body`) read a dotted path in the JSON body (or the stream's last JSON event):
 *
 *   path    = segment *( "." segment )      ; an own property, or an array index for arrays
 *   segment = 1*( any char except "." )
 *
 * The value must be a finite number ≥ 0 (JSON numbers; a numeric string in the header-value grammar
 * is accepted too, as some servers quote them); anything else there is garbled, absence is absent.
 *
 * Trailers (HTTP/1.1 chunked responses sent with `Trailer: Server-Timing`) are read exactly like
 * headers, after them: a stage in both is a repeat (see below), Server-Timing metrics add up.
 *
 * Path signals (a response takes the FIRST path, in profile order, any of whose signals fires;
 * none: `primary`; `signals` lists the ids that fired for the path it took):
 *
 *   equals      { header|field, value }   ; trimmed value == value, case-sensitive
 *   matches     { header|field, pattern } ; RegExp(pattern).test(trimmed value)
 *   greaterThan { header|field, than }    ; Number(trimmed value) > than, the value a signed decimal
 *   modelDiffers                          ; body.json.model ≠ body.requestedModel (see `sameModel`)
 *
 * Header names match case-insensitively. A header that arrives several times fires if ANY occurrence
 * matches: gateways append rather than replace, and one fallback hop is enough. A body field (dotted
 * path, as body stages read it) is read from the JSON body or the stream's last JSON event; a JSON
 * string, number or boolean is compared as its text (`true`, `42`), anything else never fires.
 */
import { PRIMARY_PATH, type FallbackRule, type PathName, type PathRule, type StageSource, type TimeUnit, type TimingRules } from './profile-types.js';
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

/** What the body says, for body stages and the modelDiffers signal. */
export interface ResponseBody {
  /** the parsed JSON body, or a stream's last JSON event */
  json?: unknown;
  /** the `model` the request asked for */
  requestedModel?: string;
}

export interface ResponseTimings {
  /** stage → milliseconds (finite, ≥ 0) */
  stages: Map<string, number>;
  /** stages expected but missing or garbled in this response */
  unmeasured: string[];
  path: PathName;
  /** ids of the signals of the path taken that fired, in rule order */
  signals: string[];
}

/** The compiled form of timings + fallback rules, built once per run (regexes compiled once). */
export interface TimingExtractor {
  /** stage names this extractor expects on EVERY response (named header and body stages + `extraExpected`) */
  expected: readonly string[];
  extract(raw: RawHeaders, trailers?: RawHeaders, body?: ResponseBody): ResponseTimings;
  /**
   * Whether `extract` reads a header of this name (any case): Server-Timing when it is on, the
   * named-header rules' and the header signals' names. A response need keep no other header.
   */
  reads(name: string): boolean;
}

/** ms per unit */
export const UNIT_FACTOR: Record<TimeUnit, number> = { us: 0.001, ms: 1, s: 1000 };

const UNSIGNED = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SIGNED = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** NaN when garbled; see `header-value` above. */
export function parseHeaderNumber(value: string): number {
  const text = value.trim();
  if (!UNSIGNED.test(text)) return Number.NaN;
  const n = Number(text);
  return Number.isFinite(n) ? n : Number.NaN; // `1e400` passes the pattern
}

/** The value at a dotted path; undefined when any step is missing. Own properties only. */
export function readPath(json: unknown, segments: readonly string[]): unknown {
  let cur: unknown = json;
  for (const seg of segments) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (typeof cur === 'object' && cur !== null) {
      if (!Object.hasOwn(cur, seg)) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    } else {
      return undefined;
    }
  }
  return cur;
}

/** ms, NaN when garbled, undefined when absent. */
function bodyValueMs(v: unknown, factor: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  let n = Number.NaN;
  if (typeof v === 'number') n = Number.isFinite(v) && v >= 0 ? v : Number.NaN;
  else if (typeof v === 'string') n = parseHeaderNumber(v);
  return Number.isNaN(n) ? n : n * factor;
}

// A dated snapshot is the model that was asked for: OpenAI answers "gpt-4o" with "gpt-4o-2024-08-06",
// Anthropic-style names end in -20241022, older OpenAI ones in -0613. Anything else (gpt-4o-mini for
// gpt-4o) is a different model.
const SNAPSHOT_SUFFIX = /^-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$/;

/**
 * Whether a response's `model` names the requested model: equal ignoring case, or the requested name
 * followed by a snapshot date (`-2024-08-06`, `-20241022`, `-0613`).
 */
export function sameModel(requested: string, served: string): boolean {
  const r = requested.toLowerCase();
  const s = served.toLowerCase();
  if (r === s) return true;
  return s.startsWith(r) && SNAPSHOT_SUFFIX.test(s.slice(r.length));
}

type HeaderTest = (value: string) => boolean;

function compileSignal(rule: FallbackRule): HeaderTest | undefined {
  switch (rule.kind) {
    case 'equals': {
      const want = rule.value;
      return (value) => value.trim() === want;
    }
    case 'matches': {
      let re: RegExp;
      try {
        re = new RegExp(rule.pattern);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new Error(`fallback signal '${rule.id}': not a valid regular expression: ${why}`, { cause: err });
      }
      return (value) => re.test(value.trim());
    }
    case 'greaterThan': {
      const than = rule.than;
      return (value) => {
        const text = value.trim();
        return SIGNED.test(text) && Number(text) > than;
      };
    }
    case 'modelDiffers':
      return undefined;
  }
}

interface Rule {
  header: string;
  stage: string;
  factor: number;
}

/**
 * Server-Timing (when `rules.serverTiming`): each metric with a valid `dur` is a stage. A metric name
 * that occurs more than once (in headers and trailers together) is the SUM of its durations:
 * Server-Timing lists what happened, and a stage that happened twice (a retried upstream call, two
 * queue waits) took both. If any occurrence's `dur` is garbled the stage is unmeasured for this
 * response, since a partial sum would under-report.
 *
 * Named stages are authoritative over Server-Timing, the profile author (or preset) having named
 * their source explicitly. A stage takes its value from the first source that is PRESENT, in this
 * order: named headers (in rule order), body fields (in rule order), Server-Timing. A present but
 * garbled source (or a header repeated, which RFC 9110 combining turns into `12, 13`) makes the stage
 * unmeasured even if a later source had it.
 *
 * @throws Error when a `matches` signal is not a valid regular expression (the profile validator
 * should have caught it first).
 */
export function compileTimings(
  rules: Omit<TimingRules, 'body'> & { body?: TimingRules['body'] },
  /** the named paths in match order; a bare signal list is the fallback path's */
  routes: readonly PathRule[] | readonly FallbackRule[] | undefined = [],
  extraExpected: readonly string[] = [],
): TimingExtractor {
  const useServerTiming = rules.serverTiming;
  const headerRules: Rule[] = [];
  const headerIndex = new Map<string, number>();
  for (const [header, source] of Object.entries(rules.headers)) {
    const key = header.toLowerCase();
    if (headerIndex.has(key)) continue;
    headerIndex.set(key, headerRules.length);
    headerRules.push({ header: key, ...stageOf(source) });
  }
  const bodyRules: { segments: string[]; stage: string; factor: number }[] = [];
  for (const [path, source] of Object.entries(rules.body ?? {})) {
    bodyRules.push({ segments: path.split('.'), ...stageOf(source) });
  }
  const expected = [...new Set([...headerRules.map((r) => r.stage), ...bodyRules.map((r) => r.stage), ...extraExpected])];

  const paths = asPaths(routes ?? []);
  // every path's signals in one list; pathOf[i] is the index of the path signal i belongs to
  const signals = paths.flatMap((p) => p.signals);
  const pathOf = paths.flatMap((p, pi) => p.signals.map(() => pi));
  const signalTests = signals.map(compileSignal);
  // header → indices of the signals that read it
  const signalHeaders = new Map<string, number[]>();
  const fieldSignals: { i: number; segments: string[] }[] = [];
  signals.forEach((s, i) => {
    if (s.kind === 'modelDiffers') return;
    if (s.field !== undefined) {
      fieldSignals.push({ i, segments: s.field.split('.') });
      return;
    }
    const key = s.header.toLowerCase();
    signalHeaders.set(key, [...(signalHeaders.get(key) ?? []), i]);
  });
  const modelSignals = signals.flatMap((s, i) => (s.kind === 'modelDiffers' ? [i] : []));
  const headerCount = headerRules.length;
  const readsHeaders = headerCount > 0 || signalHeaders.size > 0;
  // the lengths of the names read: a name of another length is not read, and not lower-cased
  const readLengths = new Set([...(useServerTiming ? ['server-timing'] : []), ...headerIndex.keys(), ...signalHeaders.keys()].map((h) => h.length));

  function reads(name: string): boolean {
    if (!readLengths.has(name.length)) return false;
    const key = name.toLowerCase();
    return (useServerTiming && key === 'server-timing') || headerIndex.has(key) || signalHeaders.has(key);
  }

  function extract(raw: RawHeaders, trailers?: RawHeaders, body?: ResponseBody): ResponseTimings {
    const st = new Map<string, number>();
    let garbled: Set<string> | undefined;
    // per header rule: undefined = absent, string = its one value, null = repeated
    let headerValues: (string | null | undefined)[] | undefined;
    let fired: boolean[] | undefined;

    // headers, then trailers; a plain loop (no closure per response: this runs for every response)
    for (let pass = 0; pass < 2; pass++) {
      const list = pass === 0 ? raw : trailers;
      if (list === undefined) continue;
      for (let k = 0; k + 1 < list.length; k += 2) {
        const name = list[k];
        const value = list[k + 1];
        if (typeof name !== 'string' || typeof value !== 'string') continue;

        if (useServerTiming && name.length === 13 && (name === 'server-timing' || name.toLowerCase() === 'server-timing')) {
          // Line by line rather than joined: an unterminated quote then cannot swallow the next line.
          for (const m of parseServerTimingDetailed(value)) {
            if (!m.hasDur) continue;
            if (m.durValid) st.set(m.name, (st.get(m.name) ?? 0) + m.dur);
            else (garbled ??= new Set()).add(m.name);
          }
        }

        // no named header and no header signal: no other header is read, and none is lower-cased
        if (!readsHeaders) continue;
        const key = name.toLowerCase();
        const hi = headerIndex.get(key);
        if (hi !== undefined) {
          headerValues ??= new Array<string | null | undefined>(headerCount);
          headerValues[hi] = headerValues[hi] === undefined ? value : null;
        }

        const sis = signalHeaders.get(key);
        if (sis !== undefined) {
          for (const si of sis) {
            if (fired?.[si] === true) continue;
            if (signalTests[si]?.(value) === true) (fired ??= new Array<boolean>(signals.length).fill(false))[si] = true;
          }
        }
      }
    }

    if (garbled !== undefined) for (const stage of garbled) st.delete(stage);

    // Server-Timing values are already in; the first PRESENT named source overrides them (or, when
    // garbled, removes them), and later named sources for the same stage are ignored.
    const stages = st;
    const json = body?.json;
    const bodyNamed = json !== undefined && bodyRules.length > 0;
    if (headerValues !== undefined || bodyNamed) {
      const decided = new Set<string>();
      if (headerValues !== undefined) {
        for (let hi = 0; hi < headerCount; hi++) {
          const value = headerValues[hi];
          if (value === undefined) continue;
          const r = headerRules[hi]!;
          decide(stages, decided, r.stage, value === null ? Number.NaN : parseHeaderNumber(value) * r.factor);
        }
      }
      if (bodyNamed) {
        for (const r of bodyRules) {
          const ms = bodyValueMs(readPath(json, r.segments), r.factor);
          if (ms !== undefined) decide(stages, decided, r.stage, ms);
        }
      }
    }

    if (modelSignals.length > 0 && body !== undefined) {
      const served = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>).model : undefined;
      const requested = body.requestedModel;
      if (typeof served === 'string' && served !== '' && typeof requested === 'string' && requested !== '' && !sameModel(requested, served)) {
        for (const si of modelSignals) (fired ??= new Array<boolean>(signals.length).fill(false))[si] = true;
      }
    }

    if (fieldSignals.length > 0 && json !== undefined) {
      for (const { i, segments } of fieldSignals) {
        const v = readPath(json, segments);
        if ((typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && signalTests[i]?.(String(v)) === true) {
          (fired ??= new Array<boolean>(signals.length).fill(false))[i] = true;
        }
      }
    }

    const unmeasured: string[] = [];
    for (const stage of expected) if (!stages.has(stage)) unmeasured.push(stage);
    const ids: string[] = [];
    let taken = -1;
    if (fired !== undefined) {
      for (let i = 0; i < signals.length; i++) {
        if (fired[i] !== true) continue;
        // signals are in path order, so the first that fired names the path taken
        if (taken === -1) taken = pathOf[i]!;
        if (pathOf[i] === taken) ids.push(signals[i]!.id);
      }
    }
    return { stages, unmeasured, path: taken === -1 ? PRIMARY_PATH : paths[taken]!.name, signals: ids };
  }

  return { expected, extract, reads };
}

/** A bare signal list (the older `fallback` argument) is one path named fallback. */
function asPaths(routes: readonly PathRule[] | readonly FallbackRule[]): readonly PathRule[] {
  if (routes.length === 0) return [];
  const first = routes[0]!;
  return 'signals' in first ? (routes as readonly PathRule[]) : [{ name: 'fallback', signals: routes as FallbackRule[] }];
}

/** The first PRESENT named source of a stage decides it: its value, or (garbled: NaN) no value. */
function decide(stages: Map<string, number>, decided: Set<string>, stage: string, ms: number): void {
  if (decided.has(stage)) return;
  decided.add(stage);
  if (Number.isNaN(ms)) stages.delete(stage);
  else stages.set(stage, ms);
}

function stageOf(source: StageSource | string): { stage: string; factor: number } {
  // a bare string is ms: tolerated for callers built against the older `header → stage` shape
  if (typeof source === 'string') return { stage: source, factor: 1 };
  return { stage: source.stage, factor: UNIT_FACTOR[source.unit] ?? 1 };
}
