/**
 * Per-request prompts: read from a JSONL dataset, picked round-robin or by a seeded draw, or generated
 * with a token-length distribution, then put into the request body.
 *
 * Dataset grammar (JSON Lines, UTF-8; line numbers count from 1, every line):
 *
 *   file   = *( line ( LF / CR LF ) ) [ line ]
 *   line   = blank / item
 *   blank  = *WSP                                   ; skipped
 *   item   = JSON-string                            ; "Tell me about tides"
 *          / { "prompt": string [, "max_tokens": int ≥ 1 ] }
 *          / { "messages": [ message+ ] [, "max_tokens": int ≥ 1 ] }
 *   message = { "role": string, "content": string / array } (other keys kept as they are)
 *
 * Other keys on an item are ignored, so datasets exported with ids or metadata load as they are.
 * `max_tokens` on an item replaces the body's, so a dataset can carry realistic output lengths too.
 */
import type { ProfileProblem } from './errors.js';
import { parseJsonl } from './jsonl.js';
import { createRng } from './random.js';
import { wordsText, type Tokenizer } from './tokenizer.js';

export interface ChatMessage {
  role: string;
  content: unknown;
  [key: string]: unknown;
}

export type PromptItem = ({ prompt: string } | { messages: ChatMessage[] }) & { maxTokens?: number; /** its exact length in the run's tokenizer, when built to one */ tokens?: number };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkMessages(v: unknown): ChatMessage[] | string {
  if (!Array.isArray(v) || v.length === 0) return 'expected "messages" to be a non-empty list';
  for (const [i, m] of v.entries()) {
    if (!isObj(m) || typeof m.role !== 'string' || !(typeof m.content === 'string' || Array.isArray(m.content))) {
      return `expected messages[${i}] to be { "role": string, "content": string }`;
    }
  }
  return v as ChatMessage[];
}

function checkItem(v: unknown): PromptItem | string {
  if (typeof v === 'string') return { prompt: v };
  if (!isObj(v)) return 'expected a JSON string, { "prompt": ... } or { "messages": [...] }';
  let maxTokens: number | undefined;
  if (v.max_tokens !== undefined) {
    const m = v.max_tokens;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1) return 'expected "max_tokens" to be a whole number ≥ 1';
    maxTokens = m;
  }
  const extra = maxTokens === undefined ? {} : { maxTokens };
  const hasPrompt = v.prompt !== undefined;
  const hasMessages = v.messages !== undefined;
  if (hasPrompt && hasMessages) return 'expected "prompt" or "messages", not both';
  if (hasPrompt) return typeof v.prompt === 'string' ? { prompt: v.prompt, ...extra } : 'expected "prompt" to be a string';
  if (hasMessages) {
    const messages = checkMessages(v.messages);
    return typeof messages === 'string' ? messages : { messages, ...extra };
  }
  return 'expected a "prompt" or "messages" key';
}

/** JSONL text → prompts, and every bad line as a problem at `SOURCE:LINE` (jsonl.ts). Never throws. */
export function parsePromptsJsonl(text: string, source: string): { prompts: PromptItem[]; problems: ProfileProblem[] } {
  const r = parseJsonl(text, source, checkItem, 'no prompts: the file has no non-blank lines');
  return { prompts: r.items, problems: r.problems };
}

/**
 * The next prompt for each request. round-robin: items in file order, wrapping. random: uniform
 * draws with replacement from a seeded stream, so the same seed sends the same sequence.
 *
 * @throws RangeError when `items` is empty (parsePromptsJsonl reports that as a problem first)
 */
export function promptPicker(items: readonly PromptItem[], order: 'round-robin' | 'random', seed: number): () => PromptItem {
  const n = items.length;
  if (n === 0) throw new RangeError('promptPicker needs at least one prompt');
  if (order === 'round-robin') {
    let i = 0;
    return () => {
      const item = items[i]!;
      i = i + 1 === n ? 0 : i + 1;
      return item;
    };
  }
  const rng = createRng(seed);
  return () => items[Math.min(n - 1, Math.floor(rng() * n))]!;
}

/** Tokens ≈ characters / 4, the rule the simulated endpoint uses (and the usual one for English). */
export const CHARS_PER_TOKEN = 4;

const WORDS = (
  'the a of to and in is it for on with as was at by an be this from that which or are have has ' +
  'model request token latency queue batch server answer question river mountain city history ' +
  'science music garden ocean winter summer market engine bridge planet signal number story ' +
  'explain describe compare summarise translate list write consider reason because however'
).split(' ');

// Prompts start at a drawn offset in the first OFFSET_SPAN characters of the corpus. A fixed span
// (not the corpus's current length, which grows with the longest prompt asked for) keeps a prompt a
// function of the rng alone, whatever was generated before.
const OFFSET_SPAN = 64 * 1024;
let corpus = '';
/** A deterministic text of random words at least `chars` long; it only grows, by extension. */
function corpusOf(chars: number): string {
  if (corpus.length >= chars) return corpus;
  const rng = createRng(0x5eed);
  const parts: string[] = [];
  let len = 0;
  while (len < chars) {
    const w = WORDS[Math.floor(rng() * WORDS.length)]!;
    parts.push(w);
    len += w.length + 1;
  }
  corpus = parts.join(' ');
  return corpus;
}

/**
 * A prompt of a drawn token length. The length is a normal draw (Box–Muller on two uniforms of
 * `rng`), rounded and clamped:
 *
 *   n = clamp(round(mean + stddev · √(−2 ln U₁) · cos(2π U₂)), min, max)
 *
 * (clamping pulls the mean in only when min or max lies within a few stddev of it). The text is
 * exactly n · 4 characters of words sliced from a fixed corpus at a drawn offset, so prompts differ
 * from their first word and a server's prefix cache does not make them free.
 *
 * With a tokenizer other than chars4, the text is n of the tokenizer's words drawn from `rng`
 * (core/tokenizer.ts wordsText): exactly n tokens by the words' additivity contract.
 */
export function syntheticPrompt(rng: () => number, tokens: { mean: number; stddev: number; min: number; max: number }, tokenizer?: Tokenizer): PromptItem {
  const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const n = Math.min(tokens.max, Math.max(tokens.min, Math.round(tokens.mean + tokens.stddev * z)));
  if (tokenizer !== undefined && tokenizer.name !== 'chars4') return { prompt: wordsText(rng, n, tokenizer.words), tokens: n };
  const chars = Math.max(0, n) * CHARS_PER_TOKEN;
  // the longest word is under 16 characters: the word start is found within that of the offset
  const text = corpusOf(OFFSET_SPAN + chars + 16);
  const offset = Math.floor(rng() * OFFSET_SPAN);
  // start on a word so the prompt reads as words; the slice is still exactly `chars` long
  const space = text.indexOf(' ', offset);
  const start = space === -1 ? offset : space + 1;
  return { prompt: text.slice(start, start + chars), tokens: n };
}

function messagesText(messages: readonly ChatMessage[]): string {
  return messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
}

/**
 * The request body for one prompt, as JSON text. Into a chat body (one with `messages`, or neither
 * `messages` nor `prompt`): an item's `messages` replace the body's; a `prompt` replaces the content
 * of the body's last user message (system messages stay), or is appended as a user message. Into a
 * completions body (`prompt`): the prompt, or the messages' text joined with newlines. The body's
 * other fields (model, stream, stream_options, ...) are kept; an item's max_tokens replaces the body's.
 */
export function applyPrompt(body: unknown, item: PromptItem): string {
  const out: Obj = isObj(body) ? { ...body } : {};
  const completions = out.prompt !== undefined && out.messages === undefined;
  if (completions) {
    out.prompt = 'prompt' in item ? item.prompt : messagesText(item.messages);
  } else if ('messages' in item) {
    out.messages = item.messages;
  } else {
    const messages = Array.isArray(out.messages) ? [...(out.messages as unknown[])] : [];
    let last = -1;
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (isObj(m) && m.role === 'user') {
        last = i;
        break;
      }
    }
    if (last === -1) messages.push({ role: 'user', content: item.prompt });
    else messages[last] = { ...(messages[last] as Obj), content: item.prompt };
    out.messages = messages;
  }
  if (item.maxTokens !== undefined) out.max_tokens = item.maxTokens;
  return JSON.stringify(out);
}
