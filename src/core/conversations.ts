/**
 * Conversations for multi-turn sessions (`sessions: { file: … }`), read from JSON Lines, one
 * conversation a line, in the shape of AIPerf's multi_turn dataset (`session_id`, `turns[].text`,
 * `turns[].delay` in ms):
 *
 *   file    = *( line ( LF / CR LF ) ) [ line ]            ; line numbers count from 1, every line
 *   line    = blank / conversation
 *   blank   = *WSP                                         ; skipped
 *   conversation = { ["session_id": string ,] ["system": string ,] "turns": [ turn+ ] }
 *   turn    = string                                       ; the user's text
 *           / { "text": string [, "delay": ms ≥ 0 ] [, "max_tokens": int ≥ 1 ] }
 *
 * Only the user's turns are in the file: each assistant turn is the server's live reply. `delay` is
 * the think time before that turn (after the previous reply arrived; ignored on the first turn) and
 * replaces the phase's `thinkTime`; `max_tokens` replaces the body's for that turn. Other keys are
 * ignored, so exports with ids and metadata load as they are.
 */
import type { ProfileProblem } from './errors.js';
import { parseJsonl } from './jsonl.js';

export interface ConversationTurn {
  text: string;
  /** think time before this turn, ms (undefined: the phase's thinkTime) */
  delayMs?: number;
  maxTokens?: number;
}

export interface Conversation {
  id?: string;
  system?: string;
  turns: ConversationTurn[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkTurn(v: unknown, i: number): ConversationTurn | string {
  if (typeof v === 'string') return { text: v };
  if (!isObj(v) || typeof v.text !== 'string') return `expected turns[${i}] to be a string or { "text": string }`;
  const t: ConversationTurn = { text: v.text };
  if (v.delay !== undefined) {
    if (typeof v.delay !== 'number' || !Number.isFinite(v.delay) || v.delay < 0) return `expected turns[${i}].delay to be milliseconds ≥ 0`;
    t.delayMs = v.delay;
  }
  if (v.max_tokens !== undefined) {
    const m = v.max_tokens;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1) return `expected turns[${i}].max_tokens to be a whole number ≥ 1`;
    t.maxTokens = m;
  }
  return t;
}

function checkConversation(v: unknown): Conversation | string {
  if (!isObj(v)) return 'expected a conversation like { "turns": ["Hi", "And then?"] }';
  if (!Array.isArray(v.turns) || v.turns.length === 0) return 'expected "turns" to be a non-empty list';
  if (v.system !== undefined && typeof v.system !== 'string') return 'expected "system" to be a string';
  if (v.session_id !== undefined && typeof v.session_id !== 'string' && typeof v.session_id !== 'number') return 'expected "session_id" to be a string';
  const turns: ConversationTurn[] = [];
  for (const [i, raw] of v.turns.entries()) {
    const t = checkTurn(raw, i);
    if (typeof t === 'string') return t;
    turns.push(t);
  }
  return { ...(v.session_id !== undefined ? { id: String(v.session_id) } : {}), ...(typeof v.system === 'string' ? { system: v.system } : {}), turns };
}

/** JSONL text → conversations, and every bad line as a problem at `SOURCE:LINE` (jsonl.ts). Never throws. */
export function parseConversationsJsonl(text: string, source: string): { conversations: Conversation[]; problems: ProfileProblem[] } {
  const r = parseJsonl(text, source, checkConversation, 'no conversations: the file has no non-blank lines');
  return { conversations: r.items, problems: r.problems };
}
