/**
 * The trace formats, read exactly as their sources define them. Text in, records and every bad line
 * (as `FILE:LINE` problems, at most MAX_LINE_PROBLEMS listed) out; never throws, no I/O.
 *
 * | format   | file  | time field                       | lengths (tokens)                      | prefix blocks              |
 * |----------|-------|----------------------------------|---------------------------------------|----------------------------|
 * | mooncake | JSONL | `timestamp`: ms from trace start | `input_length`, `output_length`        | `hash_ids`, 512 tokens each |
 * | bailian  | JSONL | `timestamp`: seconds             | `input_length`, `output_length`        | `hash_ids`, 16 tokens each  |
 * | azure    | CSV   | `TIMESTAMP`: "2023-11-16 18:15:46.6805900" (UTC) | `ContextTokens`, `GeneratedTokens` | none |
 * | burstgpt | CSV   | `Timestamp`: seconds             | `Request tokens`, `Response tokens`    | none                        |
 *
 * Sources: Mooncake's FAST'25 trace README (kvcache-ai/Mooncake, FAST25-release/traces) and AIPerf's
 * trace-replay docs (mooncake: optional `session_id`, and `delay` in ms after the session's previous
 * request in place of a timestamp); Alibaba's bailian traces (alibaba/ServeGen / AIPerf's bailian
 * loader: `chat_id`, `parent_chat_id` −1 for a root, `type`, `turn`); the Azure LLM inference dataset
 * 2023 (Azure/AzurePublicDataset, AzureLLMInferenceTrace_{code,conv}.csv); BurstGPT (HPMLL/BurstGPT,
 * where `Response tokens` 0 marks a failed request). Other keys and columns are ignored.
 *
 * A record's trace time is in ms: mooncake's timestamp as it is, bailian's and BurstGPT's × 1000,
 * Azure's since the earliest TIMESTAMP of the file (its datetimes have no origin of their own).
 * Records are returned sorted by trace time, ties in file order (a stable sort), so the replay's
 * request i is the i-th record in time.
 */
import type { ProfileProblem } from '../errors.js';
import type { TraceFormat } from '../profile-types.js';
import { parseCsv } from './csv.js';

export interface TraceRecord {
  /** 1-based line in the file */
  line: number;
  /** trace time, ms (see the module comment) */
  timeMs: number;
  input: number;
  output: number;
  hashIds: number[];
}

/** Tokens per `hash_ids` block, by format (0: the format has no blocks). */
export const BLOCK_TOKENS: Record<TraceFormat, number> = { mooncake: 512, bailian: 16, azure: 0, burstgpt: 0 };

export const TRACE_FORMATS: readonly TraceFormat[] = ['mooncake', 'bailian', 'azure', 'burstgpt'];

/** A trace of more records than this is a mistake (a whole month of a fleet): replay a window of it. */
export const MAX_TRACE_RECORDS = 10_000_000;

/** Problems past this many are summed up in one line, as for prompt datasets (core/prompts.ts). */
const MAX_LINE_PROBLEMS = 20;

/** Records longer than this many tokens are a typo or a unit mix-up (and would be megabytes of prompt). */
export const MAX_TRACE_TOKENS = 10_000_000;

export interface TraceParse {
  records: TraceRecord[];
  problems: ProfileProblem[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
type Checked<T> = T | { why: string };
const bad = (why: string): { why: string } => ({ why });
const failed = (x: unknown): x is { why: string } => isObj(x) && typeof x.why === 'string';

function tokens(v: unknown, key: string): Checked<number> {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TRACE_TOKENS) return v;
  return bad(`expected "${key}" to be a whole number of tokens from 0 to ${MAX_TRACE_TOKENS}, got ${JSON.stringify(v) ?? String(v)}`);
}

function hashIds(v: unknown, input: number, blockTokens: number): Checked<number[]> {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((h) => typeof h === 'number' && Number.isSafeInteger(h) && h >= 0)) return bad('expected "hash_ids" to be a list of whole numbers ≥ 0');
  const room = Math.ceil(input / blockTokens);
  if (v.length > room) return bad(`"hash_ids" has ${v.length} blocks of ${blockTokens} tokens, more than input_length ${input} holds (${room})`);
  return v as number[];
}

function seconds(v: unknown, key: string): Checked<number> {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v * 1000;
  return bad(`expected "${key}" to be a number of seconds ≥ 0, got ${JSON.stringify(v) ?? String(v)}`);
}

/** Gathers a file's bad lines, bounded. */
class LineProblems {
  readonly list: ProfileProblem[] = [];
  private count = 0;
  constructor(private readonly source: string) {}
  add(line: number, message: string): void {
    this.count++;
    if (this.count <= MAX_LINE_PROBLEMS) this.list.push({ path: `${this.source}:${line}`, message });
  }
  finish(records: TraceRecord[]): TraceParse {
    if (this.count > MAX_LINE_PROBLEMS) this.list.push({ path: this.source, message: `${this.count - MAX_LINE_PROBLEMS} more bad lines not listed` });
    if (records.length === 0 && this.count === 0) this.list.push({ path: this.source, message: 'no records: the trace has no data lines' });
    const sorted = records.map((r, i) => ({ r, i })).sort((a, b) => a.r.timeMs - b.r.timeMs || a.i - b.i);
    return { records: sorted.map((x) => x.r), problems: this.list };
  }
}

/** JSON Lines: one object per non-blank line; `read` checks one object. */
function parseJsonl(text: string, source: string, read: (o: Obj, line: number) => Checked<TraceRecord>): TraceParse {
  const out = new LineProblems(source);
  const records: TraceRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      out.add(i + 1, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    const r = isObj(v) ? read(v, i + 1) : bad('expected a JSON object (one record per line)');
    if (failed(r)) out.add(i + 1, r.why);
    else records.push(r);
  }
  return out.finish(records);
}

/** mooncake: a record has a `timestamp`, or a `delay` after its `session_id`'s previous record. */
function mooncake(text: string, source: string): TraceParse {
  const lastOfSession = new Map<string, number>();
  return parseJsonl(text, source, (o, line) => {
    const input = tokens(o.input_length, 'input_length');
    if (failed(input)) return input;
    const output = tokens(o.output_length, 'output_length');
    if (failed(output)) return output;
    const ids = hashIds(o.hash_ids, input, BLOCK_TOKENS.mooncake);
    if (failed(ids)) return ids;
    const session = o.session_id;
    if (session !== undefined && typeof session !== 'string' && typeof session !== 'number') return bad('expected "session_id" to be a string or a number');
    const key = session === undefined ? undefined : String(session);
    let timeMs: number;
    if (o.timestamp !== undefined) {
      if (!(typeof o.timestamp === 'number' && Number.isFinite(o.timestamp) && o.timestamp >= 0)) return bad(`expected "timestamp" to be ms from the trace start (a number ≥ 0), got ${JSON.stringify(o.timestamp)}`);
      timeMs = o.timestamp;
    } else if (o.delay !== undefined && key !== undefined) {
      const prev = lastOfSession.get(key);
      if (!(typeof o.delay === 'number' && Number.isFinite(o.delay) && o.delay >= 0)) return bad(`expected "delay" to be ms (a number ≥ 0), got ${JSON.stringify(o.delay)}`);
      if (prev === undefined) return bad(`"delay" without a "timestamp": session ${JSON.stringify(key)} has no earlier record to count from`);
      timeMs = prev + o.delay;
    } else {
      return bad('expected "timestamp" (ms from the trace start), or "delay" with a "session_id"');
    }
    if (key !== undefined) lastOfSession.set(key, timeMs);
    return { line, timeMs, input, output, hashIds: ids };
  });
}

function bailian(text: string, source: string): TraceParse {
  return parseJsonl(text, source, (o, line) => {
    const timeMs = seconds(o.timestamp, 'timestamp');
    if (failed(timeMs)) return timeMs;
    const input = tokens(o.input_length, 'input_length');
    if (failed(input)) return input;
    const output = tokens(o.output_length, 'output_length');
    if (failed(output)) return output;
    const ids = hashIds(o.hash_ids, input, BLOCK_TOKENS.bailian);
    if (failed(ids)) return ids;
    const whole = (key: string, min: number): string | undefined => {
      const v = o[key];
      return v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v >= min) ? undefined : `expected "${key}" to be a whole number ≥ ${min}, got ${JSON.stringify(v)}`;
    };
    const why = whole('chat_id', 0) ?? whole('parent_chat_id', -1) ?? whole('turn', 1);
    if (why !== undefined) return bad(why);
    if (o.type !== undefined && typeof o.type !== 'string') return bad('expected "type" to be a string (text, image, …)');
    return { line, timeMs, input, output, hashIds: ids };
  });
}

/** A CSV with a header row: `read` gets each data row as column → text. */
function parseCsvTrace(text: string, source: string, columns: readonly string[], read: (row: (c: string) => string) => Checked<Omit<TraceRecord, 'line' | 'hashIds'>>): TraceParse {
  const out = new LineProblems(source);
  const csv = parseCsv(text);
  const [header, ...rows] = csv.rows;
  if (!header) {
    for (const p of csv.problems) out.add(p.line, p.message);
    return out.finish([]);
  }
  const names = header.fields.map((f) => f.trim());
  const missing = columns.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    out.add(header.line, `the header has no column ${missing.map((m) => JSON.stringify(m)).join(', ')} (it has ${names.map((m) => JSON.stringify(m)).join(', ')})`);
    return out.finish([]);
  }
  const at = new Map(columns.map((c) => [c, names.indexOf(c)]));
  const records: TraceRecord[] = [];
  // the reader's problems and the rows' in line order
  const bad: { line: number; message: string }[] = [...csv.problems];
  for (const row of rows) {
    if (row.fields.length !== names.length) {
      bad.push({ line: row.line, message: `expected ${names.length} fields as in the header, got ${row.fields.length}` });
      continue;
    }
    const r = read((c) => (row.fields[at.get(c) ?? -1] ?? '').trim());
    if (failed(r)) bad.push({ line: row.line, message: r.why });
    else records.push({ line: row.line, ...r, hashIds: [] });
  }
  for (const b of bad.sort((x, y) => x.line - y.line)) out.add(b.line, b.message);
  return out.finish(records);
}

function csvTokens(text: string, key: string): Checked<number> {
  return /^\d+$/.test(text) ? tokens(Number(text), key) : bad(`expected "${key}" to be a whole number of tokens, got ${JSON.stringify(text)}`);
}

const AZURE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;

/**
 * "2023-11-16 18:15:46.6805900" → ms since the epoch, read as UTC (the dataset gives no zone), the
 * fraction kept to the last digit (the dataset has 100 ns ticks); undefined when it is no such time.
 */
export function azureTimeMs(text: string): number | undefined {
  const m = AZURE_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const whole = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(whole).getUTCDate() !== d) return undefined; // 2023-02-30
  return whole + (m[7] ? Number(`0${m[7]}`) * 1000 : 0);
}

function azure(text: string, source: string): TraceParse {
  const r = parseCsvTrace(text, source, ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'], (col) => {
    const t = azureTimeMs(col('TIMESTAMP'));
    if (t === undefined) return bad(`expected "TIMESTAMP" to be a time like "2023-11-16 18:15:46.6805900", got ${JSON.stringify(col('TIMESTAMP'))}`);
    const input = csvTokens(col('ContextTokens'), 'ContextTokens');
    if (failed(input)) return input;
    const output = csvTokens(col('GeneratedTokens'), 'GeneratedTokens');
    if (failed(output)) return output;
    return { timeMs: t, input, output };
  });
  // trace time counts from the earliest record (sorted first)
  const origin = r.records[0]?.timeMs ?? 0;
  return { ...r, records: r.records.map((x) => ({ ...x, timeMs: x.timeMs - origin })) };
}

function burstgpt(text: string, source: string): TraceParse {
  return parseCsvTrace(text, source, ['Timestamp', 'Model', 'Request tokens', 'Response tokens'], (col) => {
    const ts = col('Timestamp');
    const timeMs = /^\d+(\.\d+)?$/.test(ts) ? seconds(Number(ts), 'Timestamp') : bad(`expected "Timestamp" to be a number of seconds, got ${JSON.stringify(ts)}`);
    if (failed(timeMs)) return timeMs;
    if (col('Model') === '') return bad('expected "Model" to name the model (ChatGPT, GPT-4, …)');
    const input = csvTokens(col('Request tokens'), 'Request tokens');
    if (failed(input)) return input;
    const output = csvTokens(col('Response tokens'), 'Response tokens');
    if (failed(output)) return output;
    return { timeMs, input, output };
  });
}

const PARSERS: Record<TraceFormat, (text: string, source: string) => TraceParse> = { mooncake, bailian, azure, burstgpt };

/** A trace file's text → its records in time order, and every bad line at `SOURCE:LINE`. */
export function parseTrace(text: string, format: TraceFormat, source: string): TraceParse {
  return PARSERS[format](text.replace(/^\uFEFF/, ''), source);
}
