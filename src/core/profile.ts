/**
 * Profile text / parsed value → validated `Profile`. Hand-written checks rather than a schema library:
 * the messages are the product here, and cross-field rules (budget phases, duplicate names) need the
 * whole document anyway. Every check runs even after earlier ones fail, so one run lists every problem.
 */
import { MIN_RATE } from './schedule.js';
import { parseDocument } from 'yaml';
import type { ProfileProblem } from './errors.js';
import {
  LATENCY_KEYS,
  type Arrivals,
  type Budget,
  type BudgetScope,
  type FallbackRule,
  type FallbackSignal,
  type LatencyKey,
  type PathName,
  type Phase,
  type Profile,
  type Prompts,
  type StageSource,
  type Target,
  type TimeUnit,
  type TimingRules,
} from './profile-types.js';
import { PRESET_NAMES, getPreset } from './presets.js';
import { checkMetricBudget, checkMetricSources, describeMetricBudget, type MetricSource } from './metrics-profile.js';
import { formatDuration, formatPercent, parseDuration, parsePercent } from './units.js';

export type EnvLookup = (name: string) => string | undefined;
export type ProfileResult = { ok: true; profile: Profile } | { ok: false; problems: ProfileProblem[] };

type Obj = Record<string, unknown>;

const TOP_KEYS = ['name', 'target', 'timings', 'fallback', 'goodput', 'arrivals', 'burstiness', 'seed', 'maxInFlight', 'maxRate', 'phases', 'budgets', 'metrics'];
const TARGET_KEYS = ['url', 'method', 'headers', 'body', 'timeout', 'stream', 'dataset', 'prompts'];
const TIMINGS_KEYS = ['serverTiming', 'preset', 'headers', 'body'];
const STAGE_SOURCE_KEYS = ['stage', 'unit'];
const FALLBACK_KEYS = ['header', 'equals', 'matches', 'greaterThan', 'modelDiffers'];
const FALLBACK_TESTS = ['equals', 'matches', 'greaterThan', 'modelDiffers'] as const;
const DATASET_KEYS = ['file', 'order'];
const PROMPTS_KEYS = ['tokens'];
const TOKENS_KEYS = ['mean', 'stddev', 'min', 'max'];
const PHASE_KEYS = ['name', 'duration', 'rate', 'concurrency', 'to', 'warmup'];
const SPIKE_KEYS = ['name', 'base', 'peak', 'at', 'hold', 'duration', 'warmup'];
const STEPS_KEYS = ['name', 'from', 'to', 'step', 'hold', 'warmup'];
const SUGAR_KINDS = ['spike', 'steps'] as const;
type SugarKind = (typeof SUGAR_KINDS)[number];
/** early abort: any budget may stop the run when it fails over a sliding window (core/abort.ts) */
const ABORT_KEYS = ['abortOnFail', 'window', 'after'];
const DEFAULT_ABORT_WINDOW_MS = 30_000;
const DEFAULT_ABORT_AFTER_MS = 60_000;
const LATENCY_BUDGET_KEYS = ['stage', 'path', 'phase', ...LATENCY_KEYS, ...ABORT_KEYS];
const ERROR_BUDGET_KEYS = ['errorRate', 'path', 'phase', ...ABORT_KEYS];
const FALLBACK_BUDGET_KEYS = ['fallbackRate', 'phase', ...ABORT_KEYS];
const GOODPUT_BUDGET_KEYS = ['goodput', 'path', 'phase', ...ABORT_KEYS];
const ANY_BUDGET_KEYS = [...new Set([...LATENCY_BUDGET_KEYS, ...ERROR_BUDGET_KEYS, ...FALLBACK_BUDGET_KEYS, ...GOODPUT_BUDGET_KEYS])];

/**
 * Stages the client measures (or, for unattributed = total − Σ server stages, derives) itself. A
 * server header or body field may not claim one: the two would be different clocks under one name.
 * ttft, tpot, itl and tokens_per_s exist only for streamed responses.
 */
export const CLIENT_STAGES: readonly string[] = ['total', 'ttft', 'tpot', 'itl', 'tokens_per_s', 'unattributed'];
export const STREAM_STAGES: readonly string[] = ['ttft', 'tpot', 'itl', 'tokens_per_s'];
// Synthetic prompt lengths: a prompt of more tokens than this is a typo, and would be megabytes.
const MAX_PROMPT_TOKENS = 1_000_000;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_SEED = 1;
const DEFAULT_MAX_IN_FLIGHT = 1000;
const MAX_IN_FLIGHT_LIMIT = 100_000;
// A rate above this is more often a typo (rate: 50000 for 500) than a plan; `maxRate` raises it.
const DEFAULT_MAX_RATE = 5_000;
// Seeds feed 32-bit PRNGs; a larger integer would be silently truncated there.
const MAX_SEED = 0xffff_ffff;
// Gamma shapes outside this range add nothing a load test needs (CV 10 … 0.1) and, at the small end,
// U^(1/shape) in the sampler underflows to 0 for most draws.
const MIN_BURSTINESS = 0.01;
const MAX_BURSTINESS = 100;
// A steps ladder is written by hand; thousands of rungs are a typo (step: 0.5 for 50), not a plan.
const MAX_STEPS = 1000;
// parseDuration("0.1s") is 100.00000000000001: sums of written durations are compared with this slack.
const DURATION_EPS_MS = 1e-6;
// Guards the env walk against cyclic YAML aliases and absurd nesting; real profiles are a few levels deep.
const MAX_DEPTH = 64;

const DURATION_EXAMPLE = 'a duration like "30s"';
const PERCENT_EXAMPLE = 'a percentage like "1%" (or a fraction from 0 to 1)';

function defaultTarget(): Target {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: { model: 'sim', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 64 },
    timeoutMs: DEFAULT_TIMEOUT_MS,
    stream: false,
  };
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only: `raw.constructor` must not find Object.prototype's. */
function own(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Optional sections may be written as a bare `key:` in YAML, which parses as null. */
function absent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

function child(path: string, key: string): string {
  const plain = /^[A-Za-z_$][\w$-]*$/.test(key);
  const part = plain ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return plain ? key : part;
  return plain ? `${path}.${part}` : `${path}${part}`;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function' || typeof v === 'symbol') return typeof v;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  if (text === undefined) return typeof v;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

class Problems {
  readonly list: ProfileProblem[] = [];
  /** Paths whose value had an unset variable: further complaints there would only be noise. */
  private readonly envPaths = new Set<string>();

  env(path: string, name: string): void {
    this.envPaths.add(path);
    this.list.push({ path, message: `environment variable ${name} is not set` });
  }

  add(path: string, message: string): void {
    if (this.envPaths.has(path)) return;
    this.list.push({ path, message });
  }

  expected(path: string, what: string, got: unknown): void {
    this.add(path, `expected ${what}, got ${show(got)}`);
  }

  unknownKeys(path: string, o: Obj, allowed: readonly string[]): void {
    for (const key of Object.keys(o)) {
      if (allowed.includes(key)) continue;
      const guess = closest(key, allowed);
      const hint = guess === undefined ? '' : ` — did you mean '${guess}'?`;
      // The problem's path is the mapping holding the key, so the message reads "phases[1]: unknown key 'rat'".
      this.add(path, `unknown key '${key}'${hint}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// ${VAR} substitution

// `$${` is the escape for a literal `${` (as in docker compose), so a body can still contain one.
const VAR_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function substitute(v: unknown, path: string, env: EnvLookup, problems: Problems, depth: number): unknown {
  if (typeof v === 'string') {
    if (!v.includes('${')) return v;
    return v.replace(VAR_REF, (whole, name: string | undefined) => {
      if (name === undefined) return '${';
      const value = env(name);
      if (value === undefined) {
        problems.env(path, name);
        return whole;
      }
      return value;
    });
  }
  if (depth >= MAX_DEPTH) {
    if (Array.isArray(v) || isObj(v)) problems.add(path, `nested more than ${MAX_DEPTH} levels deep`);
    return v;
  }
  if (Array.isArray(v)) return v.map((item, i) => substitute(item, `${path}[${i}]`, env, problems, depth + 1));
  if (isObj(v)) {
    // fromEntries defines own properties, so a "__proto__" key stays data instead of a prototype.
    return Object.fromEntries(
      Object.entries(v).map(([k, item]) => [k, substitute(item, child(path, k), env, problems, depth + 1)]),
    );
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Sections

function checkName(v: unknown, p: Problems): string {
  if (typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v)) return v;
  p.expected('name', "a name of letters, digits, '.', '_' or '-' (it becomes part of file names)", v);
  return '';
}

function checkStringMap(v: unknown, path: string, p: Problems): Record<string, string> {
  if (absent(v)) return {};
  if (!isObj(v)) {
    p.expected(path, 'a mapping of names to strings', v);
    return {};
  }
  const out: [string, string][] = [];
  for (const [k, item] of Object.entries(v)) {
    // YAML turns `x-retries: 3` into a number; a header value is text either way.
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
      out.push([k, String(item)]);
    } else {
      p.expected(child(path, k), 'a string', item);
    }
  }
  return Object.fromEntries(out);
}

function checkTarget(v: unknown, p: Problems): Target {
  if (absent(v)) return defaultTarget();
  if (!isObj(v)) {
    p.expected('target', 'a mapping with url, method, headers, body, timeout', v);
    return defaultTarget();
  }
  p.unknownKeys('target', v, TARGET_KEYS);
  const target: Target = { method: 'GET', headers: {}, timeoutMs: DEFAULT_TIMEOUT_MS, stream: false };

  const url = own(v, 'url');
  if (!absent(url)) {
    if (typeof url === 'string' && isHttpUrl(url)) target.url = url;
    else p.expected('target.url', 'an http:// or https:// URL', url);
  }

  const body = own(v, 'body');
  if (!absent(body)) target.body = body;

  const method = own(v, 'method');
  if (absent(method)) target.method = target.body === undefined ? 'GET' : 'POST';
  else if (typeof method === 'string' && /^[A-Za-z]+$/.test(method)) target.method = method.toUpperCase();
  else p.expected('target.method', 'an HTTP method like "POST"', method);

  target.headers = checkStringMap(own(v, 'headers'), 'target.headers', p);

  const timeout = own(v, 'timeout');
  if (!absent(timeout)) {
    const ms = parseDuration(timeout);
    if (ms !== undefined && ms > 0) target.timeoutMs = ms;
    else p.expected('target.timeout', DURATION_EXAMPLE, timeout);
  }

  checkStream(v, target, p);
  const prompts = checkPrompts(v, target, p);
  if (prompts !== undefined) target.prompts = prompts;
  return target;
}

/**
 * `target.stream: true` or `target.body.stream: true` both mean a streamed request. With a mapping
 * body, `stream: true` is also put into the body, so the profile cannot say "stream" while the server
 * is asked for a plain response; a body that says the opposite of `target.stream` is a problem.
 */
function checkStream(v: Obj, target: Target, p: Problems): void {
  const raw = own(v, 'stream');
  const body = target.body;
  const bodyStream = isObj(body) ? own(body, 'stream') : undefined;
  let stream = false;
  if (!absent(raw)) {
    if (typeof raw === 'boolean') stream = raw;
    else p.expected('target.stream', 'true or false', raw);
  }
  if (typeof raw === 'boolean' && typeof bodyStream === 'boolean' && raw !== bodyStream) {
    p.add('target.stream', `target.stream is ${raw} but target.body.stream is ${bodyStream}`);
    return;
  }
  if (bodyStream === true) stream = true;
  // Without a body there is no request that could ask for a stream (and the method would be GET).
  if (stream && body === undefined) p.add('target.stream', 'a streamed request needs a target.body (an OpenAI chat or completions request with stream: true)');
  if (stream && isObj(body) && bodyStream !== true) target.body = { ...body, stream: true };
  target.stream = stream;
}

/** `dataset: FILE` / `dataset: { file, order }` → file prompts; `prompts: { tokens: {...} }` → synthetic. */
function checkPrompts(v: Obj, target: Target, p: Problems): Prompts | undefined {
  const dataset = own(v, 'dataset');
  const prompts = own(v, 'prompts');
  if (absent(dataset) && absent(prompts)) return undefined;
  if (!absent(dataset) && !absent(prompts)) {
    p.add('target', "expected 'dataset' (prompts from a file) or 'prompts' (generated), not both");
    return undefined;
  }
  // Prompts go into the body's messages or prompt, so there must be a JSON mapping to put them in.
  if (!isObj(target.body)) {
    p.add(absent(dataset) ? 'target.prompts' : 'target.dataset', 'prompts need a target.body mapping (an OpenAI chat or completions request) to go into');
  }
  if (!absent(dataset)) return checkDataset(dataset, p);
  return checkSynthetic(prompts, p);
}

function checkDataset(v: unknown, p: Problems): Prompts | undefined {
  const path = 'target.dataset';
  let file: unknown = v;
  let order: unknown;
  if (isObj(v)) {
    p.unknownKeys(path, v, DATASET_KEYS);
    file = own(v, 'file');
    order = own(v, 'order');
  }
  const filePath = isObj(v) ? `${path}.file` : path;
  let okFile: string | undefined;
  if (typeof file === 'string' && file.trim() !== '') okFile = file;
  else p.expected(filePath, 'a JSONL file path like "data/prompts.jsonl" (relative to the profile)', file);
  let okOrder: 'round-robin' | 'random' = 'round-robin';
  if (!absent(order)) {
    if (order === 'round-robin' || order === 'random') okOrder = order;
    else {
      p.expected(`${path}.order`, 'round-robin or random', order);
      return undefined;
    }
  }
  return okFile === undefined ? undefined : { kind: 'file', file: okFile, order: okOrder };
}

/**
 * Token lengths of generated prompts: `mean` required; `stddev` default 0; `min` default 1; `max`
 * default ⌈mean + 4·stddev⌉. Whole numbers of tokens except mean and stddev; min ≤ mean ≤ max.
 */
function checkSynthetic(v: unknown, p: Problems): Prompts | undefined {
  const path = 'target.prompts';
  if (!isObj(v)) {
    p.expected(path, 'a mapping like { tokens: { mean: 512, stddev: 128, min: 16, max: 2048 } }', v);
    return undefined;
  }
  p.unknownKeys(path, v, PROMPTS_KEYS);
  const t = own(v, 'tokens');
  const tp = `${path}.tokens`;
  if (!isObj(t)) {
    p.expected(tp, 'a mapping like { mean: 512, stddev: 128, min: 16, max: 2048 }', t);
    return undefined;
  }
  p.unknownKeys(tp, t, TOKENS_KEYS);
  const num = (key: string, whole: boolean, min: number, dflt: number | undefined): number | undefined => {
    const x = own(t, key);
    if (absent(x) && dflt !== undefined) return dflt;
    if (typeof x === 'number' && Number.isFinite(x) && x >= min && x <= MAX_PROMPT_TOKENS && (!whole || Number.isInteger(x))) return x;
    p.expected(`${tp}.${key}`, `${whole ? 'a whole number' : 'a number'} of tokens from ${min} to ${MAX_PROMPT_TOKENS}`, x);
    return undefined;
  };
  const mean = num('mean', false, 1, undefined);
  const stddev = num('stddev', false, 0, 0);
  const min = num('min', true, 1, 1);
  const max = num('max', true, 1, mean === undefined || stddev === undefined ? 1 : Math.ceil(mean + 4 * stddev));
  if (mean === undefined || stddev === undefined || min === undefined || max === undefined) return undefined;
  if (!(min <= mean && mean <= max)) {
    p.add(tp, `expected min ≤ mean ≤ max, got min ${min}, mean ${mean}, max ${max}`);
    return undefined;
  }
  return { kind: 'synthetic', tokens: { mean, stddev, min, max } };
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function isStageName(v: unknown): v is string {
  return typeof v === 'string' && /^\S+$/.test(v);
}

const UNITS: Record<string, TimeUnit> = { us: 'us', µs: 'us', ms: 'ms', s: 's' };

/**
 * One mapping entry, header or body: `stage` (a value in ms) or `{ stage, unit }` with unit us, ms or
 * s. `what` names the source in messages.
 */
function checkStageSource(v: unknown, path: string, p: Problems): StageSource | undefined {
  let stage: unknown = v;
  let unit: TimeUnit = 'ms';
  if (isObj(v)) {
    p.unknownKeys(path, v, STAGE_SOURCE_KEYS);
    stage = own(v, 'stage');
    const u = own(v, 'unit');
    if (!absent(u)) {
      const known = typeof u === 'string' ? UNITS[u] : undefined;
      if (known === undefined) {
        p.expected(`${path}.unit`, 'us, ms or s', u);
        return undefined;
      }
      unit = known;
    }
  }
  const stagePath = isObj(v) ? `${path}.stage` : path;
  if (!isStageName(stage)) {
    p.expected(stagePath, 'a stage name without spaces, or { stage: NAME, unit: ms }', stage);
    return undefined;
  }
  if (CLIENT_STAGES.includes(stage)) {
    // the client's own clock measures these; a server value under the same name would mix two clocks
    const what = stage === 'total' ? 'end-to-end time' : stage === 'unattributed' ? 'time no server stage accounts for' : 'stream timing';
    p.add(stagePath, `stage '${stage}' is reserved for the client-measured ${what}`);
    return undefined;
  }
  return { stage, unit };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Dotted path: segments of anything but ".", none empty (see timing.ts).
const BODY_PATH = /^[^.]+(?:\.[^.]+)*$/;

function checkSourceMap(v: unknown, section: 'headers' | 'body', p: Problems): Record<string, StageSource> {
  const base = `timings.${section}`;
  if (absent(v)) return {};
  if (!isObj(v)) {
    const example = section === 'headers' ? '{ x-queue-time: queue }' : '{ metrics.queue_time_ms: queue }';
    p.expected(base, `a mapping like ${example}`, v);
    return {};
  }
  const out: [string, StageSource][] = [];
  const seen = new Map<string, string>();
  for (const [name, raw] of Object.entries(v)) {
    const path = child(base, name);
    if (section === 'headers') {
      if (!HEADER_NAME.test(name)) {
        p.add(path, `'${name}' is not a header name`);
        continue;
      }
      const lower = name.toLowerCase();
      const first = seen.get(lower);
      if (first !== undefined) {
        p.add(path, `header '${name}' is already mapped as '${first}' (header names ignore case)`);
        continue;
      }
      seen.set(lower, name);
    } else if (!BODY_PATH.test(name)) {
      p.add(path, `'${name}' is not a dotted path like metrics.queue_time_ms`);
      continue;
    }
    const src = checkStageSource(raw, path, p);
    if (src !== undefined) out.push([section === 'headers' ? name.toLowerCase() : name, src]);
  }
  return Object.fromEntries(out);
}

interface TimingsResult {
  timings: TimingRules;
  /** the preset's fallback signals, used when the profile has no `fallback` */
  presetFallback: FallbackSignal[];
}

function checkTimings(v: unknown, p: Problems): TimingsResult {
  const timings: TimingRules = { serverTiming: true, headers: {}, body: {} };
  const result: TimingsResult = { timings, presetFallback: [] };
  if (absent(v)) return result;
  if (!isObj(v)) {
    p.expected('timings', 'a mapping with serverTiming, preset, headers, body', v);
    return result;
  }
  p.unknownKeys('timings', v, TIMINGS_KEYS);
  const st = own(v, 'serverTiming');
  if (!absent(st)) {
    if (typeof st === 'boolean') timings.serverTiming = st;
    else p.expected('timings.serverTiming', 'true or false', st);
  }
  const presetRaw = own(v, 'preset');
  if (!absent(presetRaw)) {
    const preset = typeof presetRaw === 'string' ? getPreset(presetRaw) : undefined;
    if (preset === undefined) {
      const guess = typeof presetRaw === 'string' ? closest(presetRaw, PRESET_NAMES) : undefined;
      const hint = guess === undefined ? '' : ` — did you mean '${guess}'?`;
      p.add('timings.preset', `expected one of ${PRESET_NAMES.join(', ')}, got ${show(presetRaw)}${hint}`);
    } else {
      timings.preset = preset.name;
      timings.headers = { ...preset.headers };
      timings.body = { ...preset.body };
      result.presetFallback = preset.fallback.map((f) => ({ ...f }));
    }
  }
  // The profile's own mappings go over the preset's: same header or path, the profile's stage wins.
  Object.assign(timings.headers, checkSourceMap(own(v, 'headers'), 'headers', p));
  Object.assign(timings.body, checkSourceMap(own(v, 'body'), 'body', p));
  return result;
}

/** "x-route=fallback", "x-route~^fall", "x-litellm-attempted-fallbacks>0", "model differs". */
export function fallbackId(s: FallbackSignal): string {
  switch (s.kind) {
    case 'equals':
      return `${s.header}=${s.value}`;
    case 'matches':
      return `${s.header}~${s.pattern}`;
    case 'greaterThan':
      return `${s.header}>${s.than}`;
    case 'modelDiffers':
      return 'model differs';
  }
}

const FALLBACK_EXAMPLE = '{ header: x-route, equals: fallback }, { header: H, matches: REGEX }, { header: H, greaterThan: 0 } or { modelDiffers: true }';

/**
 * `fallback` is one signal or a list of them:
 *
 *   signal = { header: H, equals: TEXT } | { header: H, matches: REGEX }
 *          | { header: H, greaterThan: NUMBER } | { modelDiffers: true }
 *
 * Each gets an id from what it tests (`fallbackId`); two signals with the same id test the same
 * thing, which is refused. Absent: undefined (a preset's signals may apply); `[]`: no signals.
 */
function checkFallback(v: unknown, p: Problems): FallbackRule[] | undefined {
  if (absent(v)) return undefined;
  const list = Array.isArray(v) ? v : [v];
  const rules: FallbackRule[] = [];
  const firstAt = new Map<string, string>();
  list.forEach((raw: unknown, i) => {
    const path = Array.isArray(v) ? `fallback[${i}]` : 'fallback';
    const signal = checkSignal(raw, path, p);
    if (signal === undefined) return;
    const id = fallbackId(signal);
    const first = firstAt.get(id);
    if (first !== undefined) {
      p.add(path, `the same signal as ${first} ('${id}')`);
      return;
    }
    firstAt.set(id, path);
    rules.push({ ...signal, id });
  });
  return rules;
}

function checkSignal(v: unknown, path: string, p: Problems): FallbackSignal | undefined {
  if (!isObj(v)) {
    p.expected(path, `a mapping like ${FALLBACK_EXAMPLE}`, v);
    return undefined;
  }
  p.unknownKeys(path, v, FALLBACK_KEYS);
  const tests = FALLBACK_TESTS.filter((k) => own(v, k) !== undefined);
  const headerRaw = own(v, 'header');
  if (tests.length !== 1) {
    const got = tests.length === 0 ? 'neither' : tests.join(' and ');
    p.add(path, `expected exactly one of ${FALLBACK_TESTS.map((k) => `'${k}'`).join(', ')}, got ${got}`);
    return undefined;
  }
  const test = tests[0]!;
  if (test === 'modelDiffers') {
    const md = own(v, 'modelDiffers');
    let ok = true;
    if (md !== true) {
      p.expected(`${path}.modelDiffers`, 'true (the response body names a model other than the request asked for)', md);
      ok = false;
    }
    if (headerRaw !== undefined) {
      p.add(`${path}.header`, "modelDiffers compares the response body's model with the request's; it reads no header");
      ok = false;
    }
    return ok ? { kind: 'modelDiffers' } : undefined;
  }

  let header: string | undefined;
  // Header lookup is case-insensitive; storing lower case lets the engine compare directly.
  if (typeof headerRaw === 'string' && HEADER_NAME.test(headerRaw)) header = headerRaw.toLowerCase();
  else p.expected(`${path}.header`, 'a header name like "x-route"', headerRaw);

  const value = own(v, test);
  const vp = `${path}.${test}`;
  if (test === 'equals') {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return header === undefined ? undefined : { kind: 'equals', header, value: String(value) };
    }
    p.expected(vp, 'a string', value);
    return undefined;
  }
  if (test === 'matches') {
    if (typeof value !== 'string') {
      p.expected(vp, 'a regular expression', value);
      return undefined;
    }
    const err = regexError(value);
    if (err !== undefined) {
      p.add(vp, `expected a regular expression, got ${show(value)} (${err})`);
      return undefined;
    }
    return header === undefined ? undefined : { kind: 'matches', header, pattern: value };
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    p.expected(vp, 'a number, like 0', value);
    return undefined;
  }
  return header === undefined ? undefined : { kind: 'greaterThan', header, than: value };
}

/**
 * `goodput: { ttft: 500ms, tpot: 50ms, total: 5s }`: per-request limits, stage → duration. A request
 * is good when it succeeded and met every one. tokens_per_s is a rate, not a duration, so it has no
 * place here.
 */
function checkGoodput(v: unknown, stream: boolean, p: Problems): Record<string, number> {
  if (absent(v)) return {};
  if (!isObj(v)) {
    p.expected('goodput', 'a mapping of stages to limits like { ttft: 500ms, tpot: 50ms, total: 5s }', v);
    return {};
  }
  const out: [string, number][] = [];
  for (const [stage, limit] of Object.entries(v)) {
    const path = child('goodput', stage);
    if (!isStageName(stage) || stage === 'tokens_per_s') {
      p.add(path, `'${stage}' is not a stage with a duration`);
      continue;
    }
    if (!stream && STREAM_STAGES.includes(stage)) {
      p.add(path, streamOnly(stage));
      continue;
    }
    const ms = parseDuration(limit);
    if (ms !== undefined && ms > 0) out.push([stage, ms]);
    else p.expected(path, DURATION_EXAMPLE, limit);
  }
  if (Object.keys(v).length === 0) p.add('goodput', 'expected at least one stage limit like { ttft: 500ms }, got none');
  return Object.fromEntries(out);
}

function streamOnly(stage: string): string {
  return `${stage} is measured only on streamed responses: set target.stream: true`;
}

function regexError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function checkArrivals(v: unknown, p: Problems): Arrivals {
  if (absent(v)) return 'uniform';
  if (v === 'uniform' || v === 'poisson' || v === 'gamma') return v;
  const guess = typeof v === 'string' ? closest(v, ['uniform', 'poisson', 'gamma']) : undefined;
  const hint = guess === undefined ? '' : ` — did you mean '${guess}'?`;
  p.add('arrivals', `expected uniform, poisson or gamma, got ${show(v)}${hint}`);
  return 'uniform';
}

/**
 * The gamma shape. Accepted (and ignored) with uniform or poisson arrivals too: switching `arrivals`
 * back and forth while tuning should not make the profile invalid.
 */
function checkBurstiness(v: unknown, p: Problems): number {
  if (absent(v)) return 1;
  if (typeof v === 'number' && v >= MIN_BURSTINESS && v <= MAX_BURSTINESS) return v;
  p.expected('burstiness', `a number from ${MIN_BURSTINESS} to ${MAX_BURSTINESS} (1 is poisson, below 1 burstier)`, v);
  return 1;
}

/** `fallback` when absent; undefined (with a problem) when present but invalid. */
function checkInt(v: unknown, path: string, min: number, max: number, fallback: number, p: Problems): number | undefined {
  if (absent(v)) return fallback;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  p.expected(path, `an integer from ${min} to ${max}`, v);
  return undefined;
}

/** Default when absent; undefined (with a problem) when present but not a rate ≥ MIN_RATE. */
function checkMaxRate(v: unknown, p: Problems): number | undefined {
  if (absent(v)) return DEFAULT_MAX_RATE;
  if (typeof v === 'number' && Number.isFinite(v) && v >= MIN_RATE) return v;
  p.expected('maxRate', `a number of requests per second, ${MIN_RATE} or more`, v);
  return undefined;
}

interface PhaseContext {
  /** undefined when maxInFlight itself was invalid: concurrencies cannot be judged against it then */
  maxInFlight: number | undefined;
  /** undefined when maxRate itself was invalid */
  maxRate: number | undefined;
}

/** What one entry of `phases` yields; `ok` false when some phase of it has no usable name. */
interface Expanded {
  phases: Phase[];
  /** where a duplicate of these names is reported: phases[i].name, or the sugar's name/mapping */
  namePath: string;
  ok: boolean;
}

/**
 * Entries are phases or sugar (`{ spike: {...} }`, `{ steps: {...} }`) that expands to open phases
 * here, so everything downstream (the plan, budgets' `phase:`, reports) sees only plain phases.
 */
function checkPhases(v: unknown, ctx: PhaseContext, p: Problems): { phases: Phase[]; known: boolean } {
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
    const entry = sugar === undefined ? checkPlainPhase(raw, path, ctx, p) : checkSugar(raw, sugar, path, p);
    if (!entry.ok) known = false;
    const fastest = Math.max(0, ...entry.phases.map((ph) => Math.max(ph.rate, ph.to)));
    if (ctx.maxRate !== undefined && fastest > ctx.maxRate) {
      p.add(path, `goes up to ${fastest} requests/s, above maxRate ${ctx.maxRate}: raise maxRate if that is intended`);
    }
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

function checkWarmup(v: unknown, path: string, p: Problems): boolean {
  if (absent(v)) return false;
  if (typeof v === 'boolean') return v;
  p.expected(path, 'true or false', v);
  return false;
}

/** A written duration in ms: > 0, or ≥ 0 when `zeroOk`. */
function checkDuration(v: unknown, path: string, p: Problems, zeroOk = false): number | undefined {
  const ms = parseDuration(v);
  if (ms !== undefined && (ms > 0 || (zeroOk && ms === 0))) return ms;
  p.expected(path, DURATION_EXAMPLE, v);
  return undefined;
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
  const base = { name: okName, durationMs, warmup };
  const expanded = (phase: Phase): Expanded => ({ phases: [phase], namePath: `${path}.name`, ok: okName !== '' });

  if (!absent(usersRaw) && absent(rateRaw)) {
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
  return expanded({ ...base, model: 'open', rate: rate ?? 0, to: to ?? rate ?? 0, concurrency: 0, concurrencyTo: 0 });
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

function checkSugar(raw: Obj, kind: SugarKind, path: string, p: Problems): Expanded {
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
  return rates.map((r) => openPhase(`${name}-${r}`, hold, r, warmup));
}

function checkRate(v: unknown, path: string, p: Problems, optional: boolean): number | undefined {
  if (optional && absent(v)) return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && (v === 0 || v >= MIN_RATE)) return v;
  p.expected(path, `a number of requests per second: 0, or ${MIN_RATE} or more`, v);
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Budgets

interface BudgetContext {
  phases: Phase[];
  /** false when `phases` itself was invalid: phase references cannot be judged then */
  phasesKnown: boolean;
  hasFallbackRule: boolean;
  /** the profile has a non-empty `goodput` section (or a broken one, reported there already) */
  hasGoodput: boolean;
  stream: boolean;
  metricSources: readonly MetricSource[];
}

function checkScope(raw: Obj, path: string, ctx: BudgetContext, p: Problems, allowPath: boolean): BudgetScope | undefined {
  const scope: BudgetScope = {};
  let ok = true;
  if (allowPath) {
    const pathRaw = own(raw, 'path');
    if (pathRaw === 'primary' || pathRaw === 'fallback') {
      scope.path = pathRaw satisfies PathName;
      // Without a rule nothing is ever classed as fallback, so the budget could never see a sample.
      if (pathRaw === 'fallback' && !ctx.hasFallbackRule) {
        p.add(`${path}.path`, "no request can take the fallback path: the profile has no 'fallback' rule");
        ok = false;
      }
    } else if (!absent(pathRaw)) {
      p.expected(`${path}.path`, 'primary or fallback', pathRaw);
      ok = false;
    }
  }
  const phaseRaw = own(raw, 'phase');
  if (!absent(phaseRaw)) {
    if (typeof phaseRaw !== 'string') {
      p.expected(`${path}.phase`, 'a phase name', phaseRaw);
      ok = false;
    } else if (ctx.phasesKnown) {
      const phase = ctx.phases.find((ph) => ph.name === phaseRaw);
      if (phase === undefined) {
        const names = [...new Set(ctx.phases.map((ph) => ph.name))];
        const guess = closest(phaseRaw, names);
        const hint = guess === undefined ? '' : ` — did you mean '${guess}'?`;
        p.add(`${path}.phase`, `no phase named '${phaseRaw}' (phases: ${names.join(', ')})${hint}`);
        ok = false;
      } else if (phase.warmup) {
        p.add(`${path}.phase`, `phase '${phaseRaw}' is a warmup phase, and warmup phases are not budgeted`);
        ok = false;
      } else {
        scope.phase = phaseRaw;
      }
    } else {
      scope.phase = phaseRaw;
    }
  }
  const abortRaw = own(raw, 'abortOnFail');
  const windowRaw = own(raw, 'window');
  const afterRaw = own(raw, 'after');
  if (abortRaw === true) {
    const windowMs = absent(windowRaw) ? DEFAULT_ABORT_WINDOW_MS : parseDuration(windowRaw);
    const afterMs = absent(afterRaw) ? DEFAULT_ABORT_AFTER_MS : parseDuration(afterRaw);
    if (windowMs === undefined || windowMs < 1000) {
      p.expected(`${path}.window`, 'a duration of at least 1s like "30s"', windowRaw);
      ok = false;
    }
    if (afterMs === undefined || afterMs < 0) {
      p.expected(`${path}.after`, 'a duration like "60s"', afterRaw);
      ok = false;
    }
    if (windowMs !== undefined && afterMs !== undefined) scope.abort = { windowMs, afterMs };
  } else if (!absent(abortRaw) && abortRaw !== false) {
    p.expected(`${path}.abortOnFail`, 'true or false', abortRaw);
    ok = false;
  } else if (!absent(windowRaw) || !absent(afterRaw)) {
    p.add(`${path}.${absent(windowRaw) ? 'after' : 'window'}`, 'only means something with abortOnFail: true');
    ok = false;
  }
  return ok ? scope : undefined;
}

function checkRateLimit(raw: Obj, key: 'errorRate' | 'fallbackRate', path: string, p: Problems): number | undefined {
  const v = own(raw, key);
  const max = parsePercent(v);
  if (max === undefined) p.expected(`${path}.${key}`, PERCENT_EXAMPLE, v);
  return max;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type UnnamedBudget = DistributiveOmit<Budget, 'id'>;

/** `">= 95%"`, `"≥ 95%"`, `"95%"` or `0.95` → 0.95: goodput is a floor, so only ≥ may be written. */
export function parseGoodputLimit(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const m = /^\s*(?:>=|≥)?\s*(.*)$/s.exec(v);
    return parsePercent(m?.[1] ?? v);
  }
  return parsePercent(v);
}

function checkBudgetEntry(raw: unknown, path: string, ctx: BudgetContext, p: Problems): UnnamedBudget[] {
  const shape = '{ stage: total, p99: 800ms }, { errorRate: 1% }, { fallbackRate: 5% } or { goodput: ">= 95%" }';
  if (!isObj(raw)) {
    p.expected(path, `a budget like ${shape}`, raw);
    return [];
  }
  if (own(raw, 'metric') !== undefined) return checkMetricBudget(raw, path, ctx.metricSources, p, () => checkScope(raw, path, ctx, p, false));
  const has = (k: string): boolean => own(raw, k) !== undefined;
  const kinds = (['stage', 'errorRate', 'fallbackRate', 'goodput'] as const).filter(has);
  if (kinds.length !== 1) {
    p.unknownKeys(path, raw, ANY_BUDGET_KEYS);
    const got = kinds.length === 0 ? 'none of stage, errorRate, fallbackRate, goodput' : kinds.join(' and ');
    p.add(path, `expected exactly one budget like ${shape}, got ${got}`);
    return [];
  }

  const kind = kinds[0];
  if (kind === 'goodput') {
    p.unknownKeys(path, raw, GOODPUT_BUDGET_KEYS);
    const v = own(raw, 'goodput');
    const min = parseGoodputLimit(v);
    if (min === undefined) p.expected(`${path}.goodput`, 'a floor like ">= 95%" (or 95%, or a fraction from 0 to 1)', v);
    else if (!ctx.hasGoodput) {
      p.add(`${path}.goodput`, "no request can be judged good: the profile has no 'goodput' section (like goodput: { ttft: 500ms })");
    }
    const scope = checkScope(raw, path, ctx, p, true);
    if (min === undefined || scope === undefined || !ctx.hasGoodput) return [];
    return [{ kind, min, ...scope }];
  }
  if (kind === 'errorRate' || kind === 'fallbackRate') {
    p.unknownKeys(path, raw, kind === 'errorRate' ? ERROR_BUDGET_KEYS : FALLBACK_BUDGET_KEYS);
    if (kind === 'fallbackRate' && !ctx.hasFallbackRule) {
      p.add(`${path}.fallbackRate`, "no request can take the fallback path: the profile has no 'fallback' rule");
    }
    const max = checkRateLimit(raw, kind, path, p);
    const scope = checkScope(raw, path, ctx, p, kind === 'errorRate');
    if (max === undefined || scope === undefined) return [];
    return [{ kind, max, ...scope }];
  }

  p.unknownKeys(path, raw, LATENCY_BUDGET_KEYS);
  const stage = own(raw, 'stage');
  let stageOk = isStageName(stage);
  if (!stageOk) p.expected(`${path}.stage`, 'a stage name like "total"', stage);
  else if (!ctx.stream && STREAM_STAGES.includes(stage as string)) {
    p.add(`${path}.stage`, streamOnly(stage as string));
    stageOk = false;
  }
  const scope = checkScope(raw, path, ctx, p, true);
  const limits: [LatencyKey, number][] = [];
  let limitsOk = true;
  for (const key of LATENCY_KEYS) {
    const v = own(raw, key);
    if (v === undefined) continue;
    const ms = parseDuration(v);
    if (ms !== undefined && ms > 0) limits.push([key, ms]);
    else {
      p.expected(`${path}.${key}`, DURATION_EXAMPLE, v);
      limitsOk = false;
    }
  }
  if (limits.length === 0 && limitsOk) {
    p.add(path, `expected at least one of ${LATENCY_KEYS.join(', ')} with a duration, got none`);
  }
  if (!stageOk || scope === undefined || !limitsOk) return [];
  return limits.map(([key, limitMs]) => ({ kind: 'latency', stage: stage as string, key, limitMs, ...scope }));
}

function scopeLabel(s: BudgetScope): string {
  const parts: string[] = [];
  if (s.path !== undefined) parts.push(`path=${s.path}`);
  if (s.phase !== undefined) parts.push(`phase=${s.phase}`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function baseId(b: UnnamedBudget): string {
  const scope = scopeLabel(b);
  if (b.kind === 'metric') return `${b.metric}${scope} ${b.stat}`;
  return b.kind === 'latency' ? `${b.stage}${scope} ${b.key}` : `${b.kind}${scope}`;
}

function checkBudgets(v: unknown, ctx: BudgetContext, p: Problems): Budget[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) {
    p.expected('budgets', 'a list of budgets', v);
    return [];
  }
  const unnamed = v.flatMap((raw: unknown, i) => checkBudgetEntry(raw, `budgets[${i}]`, ctx, p));
  const used = new Set<string>();
  return unnamed.map((b) => {
    const base = baseId(b);
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}#${n}`;
    used.add(id);
    return { ...b, id } as Budget;
  });
}

// ---------------------------------------------------------------------------------------------------
// Entry points

/** unknown (already parsed YAML/JSON) → Profile, or EVERY problem with its field path. */
export function parseProfile(raw: unknown, env: EnvLookup): ProfileResult {
  const p = new Problems();
  const doc = substitute(raw, '', env, p, 0);
  if (!isObj(doc)) {
    p.expected('', 'a mapping at the top level (name, phases, budgets, ...)', doc);
    return { ok: false, problems: p.list };
  }
  p.unknownKeys('', doc, TOP_KEYS);

  const name = checkName(own(doc, 'name'), p);
  const target = checkTarget(own(doc, 'target'), p);
  const { timings, presetFallback } = checkTimings(own(doc, 'timings'), p);
  const fallbackRaw = own(doc, 'fallback');
  // The profile's own fallback (even `[]`) replaces a preset's signals rather than adding to them.
  const fallback = checkFallback(fallbackRaw, p) ?? presetFallback.map((f) => ({ ...f, id: fallbackId(f) }));
  const goodputRaw = own(doc, 'goodput');
  const goodput = checkGoodput(goodputRaw, target.stream, p);
  const arrivals = checkArrivals(own(doc, 'arrivals'), p);
  const burstiness = checkBurstiness(own(doc, 'burstiness'), p);
  const seed = checkInt(own(doc, 'seed'), 'seed', 0, MAX_SEED, DEFAULT_SEED, p) ?? DEFAULT_SEED;
  const maxInFlightOrNot = checkInt(own(doc, 'maxInFlight'), 'maxInFlight', 1, MAX_IN_FLIGHT_LIMIT, DEFAULT_MAX_IN_FLIGHT, p);
  const maxInFlight = maxInFlightOrNot ?? DEFAULT_MAX_IN_FLIGHT;
  const maxRateOrNot = checkMaxRate(own(doc, 'maxRate'), p);
  const maxRate = maxRateOrNot ?? DEFAULT_MAX_RATE;

  // Budget phase references can only be judged against a list whose every name was readable.
  const { phases, known: phasesKnown } = checkPhases(own(doc, 'phases'), { maxInFlight: maxInFlightOrNot, maxRate: maxRateOrNot }, p);
  // A broken fallback rule is reported once, not again by every budget that mentions the fallback path.
  const hasFallbackRule = absent(fallbackRaw) ? fallback.length > 0 : !(Array.isArray(fallbackRaw) && fallbackRaw.length === 0);
  const hasGoodput = !absent(goodputRaw);
  const metrics = checkMetricSources(own(doc, 'metrics'), p);
  const budgets = checkBudgets(own(doc, 'budgets'), { phases, phasesKnown, hasFallbackRule, hasGoodput, stream: target.stream, metricSources: metrics }, p);

  if (phasesKnown && budgets.length > 0 && phases.every((ph) => ph.warmup)) {
    p.add('phases', 'every phase is a warmup phase, so no request would be budgeted');
  }

  if (p.list.length > 0) return { ok: false, problems: p.list };
  const profile: Profile = { name, target, timings, fallback, goodput, arrivals, burstiness, seed, maxInFlight, maxRate, phases, budgets, metrics };
  return { ok: true, profile };
}

/** 1-based, as editors count. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, col: offset - lastNewline };
}

/** Text (YAML, which includes JSON) → same; a YAML syntax error is a problem with line:col in its message. */
export function parseProfileText(text: string, env: EnvLookup): ProfileResult {
  const doc = parseDocument(text, { logLevel: 'error', prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lineCol(text, e.pos[0]);
      const where = ` at line ${line}, column ${col}`;
      return { path: '', message: `YAML syntax error${where}: ${e.message}` };
    });
    return { ok: false, problems };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Alias expansion limits are enforced only while converting, not while parsing.
    return { ok: false, problems: [{ path: '', message: `YAML error: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  return parseProfile(raw, env);
}

/** Human words for a budget: "p99 of total (fallback path, phase spike) ≤ 2s", "error rate ≤ 1%". */
export function describeBudget(b: Budget): string {
  const scope: string[] = [];
  if (b.path !== undefined) scope.push(`${b.path} path`);
  if (b.phase !== undefined) scope.push(`phase ${b.phase}`);
  const suffix = scope.length === 0 ? '' : ` (${scope.join(', ')})`;
  const abort = b.abort ? `; aborts the run when broken over ${formatDuration(b.abort.windowMs)}, from ${formatDuration(b.abort.afterMs)} on` : '';
  switch (b.kind) {
    case 'latency':
      return `${b.key} of ${b.stage}${suffix} ≤ ${formatDuration(b.limitMs)}${abort}`;
    case 'errorRate':
      return `error rate${suffix} ≤ ${formatPercent(b.max)}${abort}`;
    case 'fallbackRate':
      return `fallback rate${suffix} ≤ ${formatPercent(b.max)}${abort}`;
    case 'goodput':
      return `goodput${suffix} ≥ ${formatPercent(b.min)}${abort}`;
    case 'metric':
      return `${describeMetricBudget(b, suffix)}${abort}`;
  }
}

/** The goodput rule in words: "ttft ≤ 500ms, tpot ≤ 50ms, total ≤ 5s"; '' when there is none. */
export function describeGoodput(goodput: Record<string, number>): string {
  return Object.entries(goodput)
    .map(([stage, ms]) => `${stage} ≤ ${formatDuration(ms)}`)
    .join(', ');
}

/**
 * The request in words, for `validate`: "POST http://…/v1/chat/completions, streamed, prompts from
 * data/prompts.jsonl (round-robin), timings preset tgi". `url` absent: "the embedded simulator".
 */
export function describeTarget(t: Target, timings?: TimingRules): string {
  const parts = [`${t.method} ${t.url ?? 'the embedded simulator'}`];
  if (t.stream) parts.push('streamed (ttft, tpot, itl, tokens_per_s measured)');
  if (t.prompts?.kind === 'file') parts.push(`prompts from ${t.prompts.file} (${t.prompts.order})`);
  if (t.prompts?.kind === 'synthetic') {
    const k = t.prompts.tokens;
    parts.push(`generated prompts of ~${k.mean} ± ${k.stddev} tokens (${k.min}..${k.max})`);
  }
  if (timings?.preset !== undefined) parts.push(`timings preset ${timings.preset}`);
  return parts.join(', ');
}
