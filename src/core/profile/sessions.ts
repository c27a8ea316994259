/**
 * A phase's `sessions:` (multi-turn conversations, engine/sessions.ts) and the profile's `tokenizer:`.
 *
 *   sessions: { file: conversations.jsonl, thinkTime: 2s, order: round-robin }    replayed conversations
 *   sessions: { turns: 3, thinkTime: 2s, tokens: { mean: 64 } }                  generated user turns
 *
 * Sessions need an open phase (its arrivals start them) and a chat body to carry the conversation.
 */
import type { Sessions } from '../profile-types.js';
import type { TokenizerChoice } from '../tokenizer.js';
import { checkDuration } from './fields.js';
import { SESSIONS_KEYS, TOKENIZER_KEYS, TOKENIZER_NAMES } from './keys.js';
import { didYouMean, type Problems } from './problems.js';
import { checkTokenLengths } from './target-prompts.js';
import { absent, isObj, own, show } from './values.js';

/** More turns than this in a generated session is a typo; a conversation that long is a file's job. */
export const MAX_TURNS = 1000;
/** User turns of generated sessions without `tokens` or target.prompts. */
export const DEFAULT_TURN_TOKENS = { mean: 64, stddev: 0, min: 1, max: 64 } as const;

export interface SessionContext {
  /** the phase is open (rate): sessions start at its arrivals */
  open: boolean;
  /** target.body is a chat request (a mapping without `prompt`) */
  chatBody: boolean;
  /** target.prompts' lengths, the default for generated turns */
  promptTokens: { mean: number; stddev: number; min: number; max: number } | undefined;
}

export function checkSessions(v: unknown, path: string, ctx: SessionContext, p: Problems): Sessions | undefined {
  if (absent(v)) return undefined;
  if (!isObj(v)) {
    p.expected(path, 'a mapping like { turns: 3, thinkTime: 2s } or { file: conversations.jsonl }', v);
    return undefined;
  }
  p.unknownKeys(path, v, SESSIONS_KEYS);
  let ok = true;
  if (!ctx.open) {
    p.add(path, 'sessions need an open phase (rate): its arrivals are when sessions start');
    ok = false;
  }
  if (!ctx.chatBody) {
    p.add(path, 'sessions need a chat target.body (a mapping with messages, not prompt) to carry the conversation');
    ok = false;
  }
  const thinkRaw = own(v, 'thinkTime');
  const thinkTimeMs = absent(thinkRaw) ? 0 : checkDuration(thinkRaw, `${path}.thinkTime`, p, true);
  if (thinkTimeMs === undefined) ok = false;
  const file = own(v, 'file');
  const turns = own(v, 'turns');
  const tokens = own(v, 'tokens');
  const order = own(v, 'order');
  if (!absent(file)) {
    for (const [k, x] of [['turns', turns], ['tokens', tokens]] as const) {
      if (!absent(x)) {
        p.add(`${path}.${k}`, 'only for generated sessions: a conversation file has its own turns');
        ok = false;
      }
    }
    if (typeof file !== 'string' || file.trim() === '') {
      p.expected(`${path}.file`, 'a JSONL file of conversations like "conversations/chat.jsonl" (relative to the profile)', file);
      ok = false;
    }
    if (!absent(order) && order !== 'round-robin' && order !== 'random') {
      p.expected(`${path}.order`, 'round-robin or random', order);
      ok = false;
    }
    if (!ok) return undefined;
    return { kind: 'file', file: file as string, thinkTimeMs: thinkTimeMs ?? 0, order: order === 'random' ? 'random' : 'round-robin' };
  }
  if (!absent(order)) {
    p.add(`${path}.order`, 'only for sessions from a file');
    ok = false;
  }
  if (typeof turns !== 'number' || !Number.isInteger(turns) || turns < 1 || turns > MAX_TURNS) {
    p.expected(`${path}.turns`, `a whole number of turns from 1 to ${MAX_TURNS} (or file: for recorded conversations)`, turns);
    ok = false;
  }
  let lengths = ctx.promptTokens ?? DEFAULT_TURN_TOKENS;
  if (!absent(tokens)) {
    const t = isObj(tokens) ? checkTokenLengths(tokens, `${path}.tokens`, p) : undefined;
    if (!isObj(tokens)) p.expected(`${path}.tokens`, 'a mapping like { mean: 64, stddev: 16 }', tokens);
    if (t === undefined) ok = false;
    else lengths = t;
  }
  if (!ok) return undefined;
  return { kind: 'generated', turns: turns as number, thinkTimeMs: thinkTimeMs ?? 0, tokens: { ...lengths } };
}

/** `tokenizer: cl100k_base` or `tokenizer: { file: tokenizer.json }`; absent: undefined (chars4). */
export function checkTokenizer(v: unknown, p: Problems): TokenizerChoice | undefined {
  if (absent(v)) return undefined;
  if (v === 'chars4') return { kind: 'chars4' };
  if (v === 'cl100k_base' || v === 'o200k_base') return { kind: 'tiktoken', encoding: v };
  if (isObj(v)) {
    p.unknownKeys('tokenizer', v, TOKENIZER_KEYS);
    const file = own(v, 'file');
    if (typeof file === 'string' && file.trim() !== '') return { kind: 'file', file };
    p.expected('tokenizer.file', 'a Hugging Face tokenizer.json path (relative to the profile)', file);
    return undefined;
  }
  const hint = typeof v === 'string' ? didYouMean(v, TOKENIZER_NAMES) : '';
  p.add('tokenizer', `expected ${TOKENIZER_NAMES.join(', ')} or { file: tokenizer.json }, got ${show(v)}${hint}`);
  return undefined;
}
