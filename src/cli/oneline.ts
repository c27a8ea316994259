/**
 * `budgetgate run --url URL --rate 50 --duration 30s --budget "total p99 < 800ms"`: flags → the raw
 * profile object a file would hold. It then goes through the same validator as a file (parseProfile),
 * so the errors, the report and the exit codes are the same; a problem is named by the flag that made
 * the field (`--rate: expected a number …`), not by a profile path the user never wrote.
 */
import { stringify } from 'yaml';
import { parseBudgetExpr } from '../core/budget-expr.js';
import { BudgetgateError, ProfileError, type ProfileProblem } from '../core/errors.js';
import { parseProfile, type EnvLookup } from '../core/profile/index.js';
import type { Profile } from '../core/profile-types.js';

export interface OneLineFlags {
  url?: string;
  name?: string;
  rate?: string;
  to?: string;
  duration?: string;
  concurrency?: string;
  budget?: readonly string[];
  stream?: boolean;
  preset?: string;
  body?: string;
  prompt?: string;
  model?: string;
  maxTokens?: string;
  header?: readonly string[];
  method?: string;
  timeout?: string;
  arrivals?: string;
  fallback?: string;
  goodput?: string;
  warmup?: string;
}

/** The flags that make a profile; any of them on `run` means "no profile file". */
export const ONE_LINE_FLAGS: readonly (keyof OneLineFlags)[] = ['url', 'name', 'rate', 'to', 'duration', 'concurrency', 'budget', 'stream', 'preset', 'body', 'prompt', 'model', 'maxTokens', 'header', 'method', 'timeout', 'arrivals', 'fallback', 'goodput', 'warmup'];

/** What the flags made: the raw profile, and which flag made each part of it. */
export interface OneLine {
  raw: Record<string, unknown>;
  /** profile path prefix → the flag it came from, longest prefix first */
  origins: [string, string][];
}

/** How errors name a one-line profile (in place of a file name). */
export const ONE_LINE_SOURCE = 'command line';

export function usesOneLine(flags: Record<string, unknown>): boolean {
  return ONE_LINE_FLAGS.some((k) => flags[k] !== undefined);
}

const kebab = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** "50" → 50; anything else stays text, for the validator to refuse in its own words. */
function num(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : v;
}

function headers(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    const name = i < 0 ? '' : h.slice(0, i).trim();
    if (name === '') throw new BudgetgateError('usage', `--header ${JSON.stringify(h)}: expected "name: value"`);
    out[name] = h.slice(i + 1).trim();
  }
  return out;
}

/** "x-route=fallback" | "x-upstream~REGEX" | "x-attempts>0" | "model-differs": the ids fallback signals have. */
export function parseFallbackFlag(v: string): Record<string, unknown> {
  if (v.trim() === 'model-differs') return { modelDiffers: true };
  const m = /^([^=~>\s]+)\s*([=~>])\s*(.*)$/s.exec(v.trim());
  if (!m) throw new BudgetgateError('usage', `--fallback ${JSON.stringify(v)}: expected HEADER=VALUE, HEADER~REGEX, HEADER>NUMBER or model-differs`);
  const [, header, op, value] = m as unknown as [string, string, string, string];
  if (op === '=') return { header, equals: value };
  if (op === '~') return { header, matches: value };
  return { header, greaterThan: num(value) };
}

/** "ttft:500ms,tpot:50ms" → { ttft: "500ms", tpot: "50ms" } (vLLM's --goodput, with units). */
function goodputFlag(v: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    const m = /^\s*([^:\s]+)\s*:\s*(\S+)\s*$/.exec(part);
    if (!m) throw new BudgetgateError('usage', `--goodput ${JSON.stringify(v)}: expected STAGE:DURATION[,STAGE:DURATION…] like ttft:500ms,tpot:50ms`);
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** --body (JSON), or a chat request built from --prompt/--model/--max-tokens; undefined: no body. */
function body(f: OneLineFlags): unknown {
  if (f.body !== undefined) {
    if (f.prompt !== undefined) throw new BudgetgateError('usage', '--body and --prompt: give one, not both');
    try {
      return JSON.parse(f.body) as unknown;
    } catch (e) {
      throw new BudgetgateError('usage', `--body: expected JSON, ${(e as Error).message}`);
    }
  }
  // with no url the embedded endpoint answers chat requests; a bare --url is sent as GET (like hey)
  if (f.prompt === undefined && f.stream !== true && f.model === undefined && f.maxTokens === undefined && f.url !== undefined) return undefined;
  return {
    ...(f.model !== undefined ? { model: f.model } : f.url === undefined ? { model: 'sim' } : {}),
    messages: [{ role: 'user', content: f.prompt ?? 'Hello' }],
    ...(f.maxTokens !== undefined ? { max_tokens: num(f.maxTokens) } : f.url === undefined ? { max_tokens: 64 } : {}),
  };
}

function target(f: OneLineFlags): Record<string, unknown> | undefined {
  const b = body(f);
  const h = headers(f.header ?? []);
  if (b !== undefined && typeof b !== 'string' && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  const t: Record<string, unknown> = {
    ...(f.url !== undefined ? { url: f.url } : {}),
    ...(f.method !== undefined ? { method: f.method } : {}),
    ...(Object.keys(h).length > 0 ? { headers: h } : {}),
    ...(b !== undefined ? { body: b } : {}),
    ...(f.timeout !== undefined ? { timeout: f.timeout } : {}),
    ...(f.stream === true ? { stream: true } : {}),
  };
  return Object.keys(t).length > 0 ? t : undefined;
}

/**
 * One phase named `load`: `--rate R [--to R2]` is open (R → R2 req/s), `--concurrency N [--to M]`
 * alone is closed (N → M virtual users, as k6's --vus). With both, --concurrency caps the requests in
 * flight (maxInFlight, as vLLM's --max-concurrency) and the phase stays open.
 */
function phase(f: OneLineFlags): { phase: Record<string, unknown>; maxInFlight?: number | string } {
  // (a --warmup phase goes before it: same start rate or users, sent but not budgeted; see oneLineProfile)
  const base = { name: 'load', ...(f.duration !== undefined ? { duration: f.duration } : {}) };
  const to = f.to !== undefined ? { to: num(f.to) } : {};
  if (f.rate === undefined && f.concurrency !== undefined) return { phase: { ...base, concurrency: num(f.concurrency), ...to } };
  const cap = f.concurrency !== undefined ? { maxInFlight: num(f.concurrency) as number | string } : {};
  return { phase: { ...base, ...(f.rate !== undefined ? { rate: num(f.rate) } : {}), ...to }, ...cap };
}

/** `--warmup 5s`: the load's start rate (or users) for that long, sent but not budgeted */
function warmupOf(load: Record<string, unknown>, duration: string): Record<string, unknown> {
  const { to: _to, ...rest } = load;
  return { ...rest, name: 'warmup', duration, warmup: true };
}

/** Runs each flag's parser, gathering every malformed flag into one usage error (one line each). */
class FlagErrors {
  readonly lines: string[] = [];
  take<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof BudgetgateError)) throw e;
      this.lines.push(e.message);
      return undefined;
    }
  }
}

export function oneLineProfile(f: OneLineFlags): OneLine {
  const errors = new FlagErrors();
  const budgets = (f.budget ?? []).flatMap((text) => {
    const r = parseBudgetExpr(text);
    if (!r.ok) errors.lines.push(`--budget ${JSON.stringify(text)}: ${r.error}`);
    return r.ok ? [{ text, raw: r.budget }] : [];
  });
  const t = errors.take(() => target(f));
  const fallback = f.fallback !== undefined ? errors.take(() => parseFallbackFlag(f.fallback as string)) : undefined;
  const goodput = f.goodput !== undefined ? errors.take(() => goodputFlag(f.goodput as string)) : undefined;
  if (errors.lines.length > 0) throw new BudgetgateError('usage', errors.lines.join('\n'));
  const { phase: ph, maxInFlight } = phase(f);
  const raw: Record<string, unknown> = {
    name: f.name ?? 'adhoc',
    ...(t !== undefined ? { target: t } : {}),
    ...(f.preset !== undefined ? { timings: { preset: f.preset } } : {}),
    ...(fallback !== undefined ? { fallback } : {}),
    ...(goodput !== undefined ? { goodput } : {}),
    ...(f.arrivals !== undefined ? { arrivals: f.arrivals } : {}),
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
    phases: f.warmup !== undefined ? [warmupOf(ph, f.warmup), ph] : [ph],
    ...(budgets.length > 0 ? { budgets: budgets.map((b) => b.raw) } : {}),
  };
  const closed = f.rate === undefined && f.concurrency !== undefined;
  const load = f.warmup !== undefined ? 'phases[1]' : 'phases[0]';
  const origins: [string, string][] = [
    ['name', '--name'],
    ['target.url', '--url'],
    ['target.method', '--method'],
    ['target.headers', '--header'],
    ['target.body', f.body !== undefined ? '--body' : '--prompt'],
    ['target.timeout', '--timeout'],
    ['target.stream', '--stream'],
    ['target', '--url'],
    ['timings.preset', '--preset'],
    ['timings', '--preset'],
    ['fallback', '--fallback'],
    ['goodput', '--goodput'],
    ['arrivals', '--arrivals'],
    ['maxInFlight', '--concurrency'],
    ...(f.warmup !== undefined ? ([['phases[0].duration', '--warmup'], ['phases[0]', '--warmup']] as [string, string][]) : []),
    [`${load}.duration`, '--duration'],
    [`${load}.rate`, '--rate'],
    [`${load}.to`, '--to'],
    [`${load}.concurrency`, '--concurrency'],
    [load, closed ? '--concurrency' : '--rate (or --concurrency)'],
    ['phases', '--rate (or --concurrency)'],
    ...budgets.map((b, i): [string, string] => [`budgets[${i}]`, `--budget ${JSON.stringify(b.text)}`]),
    ['budgets', '--budget'],
  ];
  return { raw, origins };
}

/** A validator problem at a profile path → the same problem named by its flag. */
export function flagProblem(p: ProfileProblem, origins: readonly [string, string][]): ProfileProblem {
  const hit = origins.find(([prefix]) => p.path === prefix || p.path.startsWith(`${prefix}.`) || p.path.startsWith(`${prefix}[`));
  if (hit === undefined) return p;
  const rest = p.path.slice(hit[0].length).replace(/^\./, '');
  // a sub-field of a structured flag stays visible: --header: content-type: …, --goodput: ttft: …
  return { path: rest === '' || hit[1].startsWith('--budget') ? hit[1] : `${hit[1]} ${rest}`, message: p.message };
}

/** Validates the one-line profile exactly as a file's; problems are named by flag. */
export function loadOneLine(line: OneLine, env: EnvLookup): Profile {
  const r = parseProfile(line.raw, env);
  if (!r.ok) throw new ProfileError(ONE_LINE_SOURCE, r.problems.map((p) => flagProblem(p, line.origins)));
  return r.profile;
}

/** `--print-profile`: the profile the flags made, as a file the user can keep. */
export function printedProfile(line: OneLine): string {
  return `# yaml-language-server: $schema=./node_modules/budgetgate/schema/profile.schema.json\n# made by budgetgate run's one-line flags\n${stringify(line.raw)}`;
}

export { kebab as flagName };
