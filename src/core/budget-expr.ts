/**
 * Budget expressions: one line per budget, for `run --budget "…"`, parsed into the same raw budget
 * entry a profile file would hold (`{ stage: total, p99: 800ms }`), so the profile validator still
 * decides what is valid. This grammar decides only what is well formed.
 *
 *   budget   ::= latency | ratio | goodput | cache
 *   latency  ::= stage scopes? key lt duration scopes?        "ttft p99 < 500ms", "total[phase=spike] p99 < 3s"
 *   ratio    ::= ("errorRate" | "fallbackRate") scopes? lt percent scopes?    "errorRate < 1%"
 *   goodput  ::= "goodput" scopes? ge percent scopes?          "goodput >= 95%"
 *   cache    ::= "promptCacheShare" scopes? ge percent scopes? "promptCacheShare >= 50%"
 *   scopes   ::= ( "[" scope ( "," scope )* "]" )+
 *   scope    ::= "path" "=" ( "primary" | "fallback" ) | "phase" "=" name
 *   key      ::= "p50" | "p90" | "p95" | "p99" | "p999" | "p99.9" | "max" | "mean"
 *   lt       ::= "<" | "<=" | "≤"
 *   ge       ::= ">=" | "≥" | ">"
 *   duration ::= a duration as profiles write it: "500us", "250ms", "1.5s", "1m30s"
 *   percent  ::= number "%" | a fraction from 0 to 1
 *   stage    ::= a stage name: letters, digits, "_", "-", "."
 *   name     ::= a phase name: anything but "]", ",", "=" and spaces
 *
 * Whitespace may appear between any two tokens. A budget holds when the observed value is at most
 * its limit (at least, for goodput); `<` and `≤` both write that one comparison, as people write it.
 */
import { LATENCY_KEYS, type LatencyKey } from './profile-types.js';
import { formatPercent, parseDuration, parsePercent } from './units.js';

/** A raw budget entry as a profile holds it: durations and percentages still as text. */
export type RawBudget = Record<string, string>;

export type BudgetExprResult = { ok: true; budget: RawBudget } | { ok: false; error: string };

const RATIOS = ['errorRate', 'fallbackRate'] as const;
/** budgets that are floors (≥), written as `">= 95%"` in profiles */
const FLOORS = ['goodput', 'promptCacheShare'] as const;
const KEY_ALIASES: Record<string, LatencyKey> = { 'p99.9': 'p999' };
const TOKEN = /\s*(<=|>=|≤|≥|<|>|\[|\]|,|=|[^\s<>≤≥[\],=]+)/y;

interface Token {
  text: string;
  /** 1-based column of the token's first character */
  col: number;
}

function tokenize(s: string): Token[] | string {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < s.length) {
    if (/^\s*$/.test(s.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(s);
    if (!m || m.index !== at) return `unexpected character at column ${at + 1}`;
    const text = m[1] as string;
    out.push({ text, col: m.index + m[0].length - text.length + 1 });
  }
  return out;
}

class Cursor {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  /** where the next token is, for messages: "at column 7" or "at the end" */
  where(): string {
    const t = this.peek();
    return t === undefined ? `at the end (column ${this.length + 1})` : `at column ${t.col}`;
  }
}

type Step<T> = { ok: true; value: T } | { ok: false; error: string };

/** scopes ::= ( "[" scope ( "," scope )* "]" )* — into `into`, refusing a key given twice */
function scopes(c: Cursor, into: RawBudget): string | undefined {
  while (c.peek()?.text === '[') {
    c.next();
    for (;;) {
      const key = c.next();
      if (key?.text !== 'path' && key?.text !== 'phase') return `expected path= or phase= inside [ ], ${key === undefined ? 'got the end' : `got '${key.text}' at column ${key.col}`}`;
      if (c.next()?.text !== '=') return `expected '=' after ${key.text}`;
      const value = c.next();
      if (value === undefined || ['[', ']', ',', '='].includes(value.text)) return `expected a value after ${key.text}= ${c.where()}`;
      if (key.text === 'path' && value.text !== 'primary' && value.text !== 'fallback') return `path must be primary or fallback, got '${value.text}' at column ${value.col}`;
      if (into[key.text] !== undefined) return `${key.text} is given twice (column ${key.col})`;
      into[key.text] = value.text;
      const sep = c.next();
      if (sep?.text === ']') break;
      if (sep?.text !== ',') return `expected ',' or ']' ${sep === undefined ? 'at the end' : `at column ${sep.col}`}`;
    }
  }
  return undefined;
}

function operator(c: Cursor, allowed: readonly string[], what: string): string | undefined {
  const op = c.next();
  if (op !== undefined && allowed.includes(op.text)) return undefined;
  const got = op === undefined ? 'the end' : `'${op.text}' at column ${op.col}`;
  return `expected ${what}, got ${got}`;
}

function percentValue(c: Cursor): Step<string> {
  const t = c.next();
  if (t === undefined) return { ok: false, error: 'expected a percentage like 1% at the end' };
  const f = parsePercent(/%$/.test(t.text) ? t.text : Number(t.text));
  if (f === undefined) return { ok: false, error: `expected a percentage like 1% (or a fraction from 0 to 1), got '${t.text}' at column ${t.col}` };
  return { ok: true, value: /%$/.test(t.text) ? t.text : formatPercent(f) };
}

function latencyRest(c: Cursor, into: RawBudget): string | undefined {
  const keyTok = c.next();
  const key = keyTok === undefined ? undefined : (KEY_ALIASES[keyTok.text] ?? (LATENCY_KEYS as readonly string[]).find((k) => k === keyTok.text));
  if (key === undefined) return `expected one of ${LATENCY_KEYS.join(', ')} after the stage, got ${keyTok === undefined ? 'the end' : `'${keyTok.text}' at column ${keyTok.col}`}`;
  const opErr = operator(c, ['<', '<=', '≤'], "'<' (a latency budget is a ceiling)");
  if (opErr !== undefined) return opErr;
  const d = c.next();
  if (d === undefined || parseDuration(d.text) === undefined) return `expected a duration like 500ms, got ${d === undefined ? 'the end' : `'${d.text}' at column ${d.col}`}`;
  into[key] = d.text;
  return undefined;
}

/** One expression → a raw budget entry, or a message saying where it went wrong. */
export function parseBudgetExpr(text: string): BudgetExprResult {
  const tokens = tokenize(text);
  if (typeof tokens === 'string') return { ok: false, error: tokens };
  const c = new Cursor(tokens, text.length);
  const subject = c.next();
  if (subject === undefined) return { ok: false, error: 'empty: expected a budget like "total p99 < 800ms", "errorRate < 1%" or "goodput >= 95%"' };
  if (!/^[A-Za-z0-9_.-]+$/.test(subject.text)) return { ok: false, error: `expected a stage, errorRate, fallbackRate, goodput or promptCacheShare, got '${subject.text}' at column ${subject.col}` };
  const out: RawBudget = {};
  const fail = (error: string): BudgetExprResult => ({ ok: false, error });
  const scoped = scopes(c, out);
  if (scoped !== undefined) return fail(scoped);
  if ((RATIOS as readonly string[]).includes(subject.text) || (FLOORS as readonly string[]).includes(subject.text)) {
    const goodput = (FLOORS as readonly string[]).includes(subject.text);
    const opErr = goodput ? operator(c, ['>=', '≥', '>'], `'>=' (${subject.text} is a floor)`) : operator(c, ['<', '<=', '≤'], `'<' (${subject.text} is a ceiling)`);
    if (opErr !== undefined) return fail(opErr);
    const v = percentValue(c);
    if (!v.ok) return fail(v.error);
    out[subject.text] = goodput ? `>= ${v.value}` : v.value;
  } else {
    const err = latencyRest(c, out);
    if (err !== undefined) return fail(err);
    out.stage = subject.text;
  }
  const tail = scopes(c, out);
  if (tail !== undefined) return fail(tail);
  const extra = c.peek();
  if (extra !== undefined) return fail(`unexpected '${extra.text}' at column ${extra.col}`);
  return { ok: true, budget: order(out) };
}

/** the kind key first, as profiles are written: { stage, p99, phase } */
function order(b: RawBudget): RawBudget {
  const first = ['stage', ...LATENCY_KEYS, ...RATIOS, ...FLOORS];
  const keys = Object.keys(b).sort((x, y) => rank(x, first) - rank(y, first));
  return Object.fromEntries(keys.map((k) => [k, b[k] as string]));
}

function rank(k: string, first: readonly string[]): number {
  const i = first.indexOf(k);
  return i < 0 ? first.length + (k === 'path' ? 0 : 1) : i;
}

/** A raw budget entry back to an expression (the inverse of parseBudgetExpr on what it returns). */
export function formatBudgetExpr(b: RawBudget): string {
  const scope = [b.path !== undefined ? `path=${b.path}` : '', b.phase !== undefined ? `phase=${b.phase}` : ''].filter((s) => s !== '').join(',');
  const tail = scope === '' ? '' : ` [${scope}]`;
  if (b.stage !== undefined) {
    const key = LATENCY_KEYS.find((k) => b[k] !== undefined) ?? 'p99';
    return `${b.stage} ${key} < ${b[key] ?? ''}${tail}`;
  }
  for (const k of RATIOS) if (b[k] !== undefined) return `${k} < ${b[k]}${tail}`;
  const floor = FLOORS.find((k) => b[k] !== undefined) ?? 'goodput';
  return `${floor} >= ${(b[floor] ?? '').replace(/^>=\s*/, '')}${tail}`;
}
