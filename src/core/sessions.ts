/**
 * Multi-turn sessions, the pure part: what each session says (its script, from a conversation file
 * or generated), the conversation it carries (the user's turns and the server's live replies), and
 * the body of its next turn. The engine (engine/sessions.ts) owns the timing.
 *
 * A session's turn k + 1 carries the whole conversation so far:
 *
 *   messages(k + 1) = prefix ++ [user₁, assistant₁, …, user_k, assistant_k, user_{k+1}]
 *
 * where prefix is the body's own non-user messages (a system prompt) and the conversation's
 * `system`, and assistant_i is the reply text the server actually sent (streamed or not), so the
 * server's prefix cache sees exactly the reuse a real chat gives it.
 *
 * Session i's script is a function of (seed, i) alone: generated turns draw from a stream seeded by
 * deriveSeed(seed, i), a file's conversation is i mod n (round-robin) or a draw seeded the same way.
 */
import type { Conversation } from './conversations.js';
import type { Sessions } from './profile-types.js';
import { applyPrompt, syntheticPrompt, type ChatMessage } from './prompts.js';
import { createRng, deriveSeed } from './random.js';
import type { Tokenizer } from './tokenizer.js';

export interface ScriptTurn {
  text: string;
  /** think time before this turn, ms (0 for the first) */
  delayMs: number;
  maxTokens?: number;
}

export interface SessionScript {
  system?: string;
  turns: ScriptTurn[];
}

/** The script of session `index` (0, 1, …) of a phase's sessions. */
export function sessionScript(s: Sessions, index: number, seed: number, conversations: readonly Conversation[] | undefined, tokenizer: Tokenizer | undefined): SessionScript {
  const rng = createRng(deriveSeed(seed, 0x5e55_0000 + index));
  if (s.kind === 'generated') {
    const turns: ScriptTurn[] = [];
    for (let k = 0; k < s.turns; k++) {
      const item = syntheticPrompt(rng, s.tokens, tokenizer);
      turns.push({ text: 'prompt' in item ? item.prompt : '', delayMs: k === 0 ? 0 : s.thinkTimeMs });
    }
    return { turns };
  }
  const list = conversations ?? [];
  if (list.length === 0) throw new RangeError('sessionScript: a file of sessions needs its conversations');
  const n = list.length;
  const c = list[s.order === 'random' ? Math.min(n - 1, Math.floor(rng() * n)) : index % n] as Conversation;
  return {
    ...(c.system !== undefined ? { system: c.system } : {}),
    turns: c.turns.map((t, k) => ({ text: t.text, delayMs: k === 0 ? 0 : (t.delayMs ?? s.thinkTimeMs), ...(t.maxTokens !== undefined ? { maxTokens: t.maxTokens } : {}) })),
  };
}

/** One session's conversation so far: the messages the next turn sends. */
export class Conversing {
  private readonly messages: ChatMessage[];
  /** turns sent so far (the turn in flight included) */
  sent = 0;
  /** turns that got a reply */
  replied = 0;

  constructor(
    readonly script: SessionScript,
    body: unknown,
    readonly startMs: number,
  ) {
    const own = isObj(body) && Array.isArray(body.messages) ? (body.messages as unknown[]).filter((m): m is ChatMessage => isObj(m) && m.role !== 'user') : [];
    this.messages = [...own, ...(script.system !== undefined ? [{ role: 'system', content: script.system }] : [])];
  }

  get done(): boolean {
    return this.replied >= this.script.turns.length;
  }

  /** The next turn's body (JSON text) and the messages' text it carries, for counting its tokens. */
  next(body: unknown): { body: string; text: string; turn: number } {
    const t = this.script.turns[this.sent] as ScriptTurn;
    this.messages.push({ role: 'user', content: t.text });
    this.sent++;
    const text = this.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('');
    return { body: applyPrompt(body, { messages: [...this.messages], ...(t.maxTokens !== undefined ? { maxTokens: t.maxTokens } : {}) }), text, turn: this.sent };
  }

  /** The reply to the turn in flight; the think time before the next turn (undefined: the session is over). */
  reply(text: string): number | undefined {
    this.messages.push({ role: 'assistant', content: text });
    this.replied++;
    return this.done ? undefined : (this.script.turns[this.replied] as ScriptTurn).delayMs;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The assistant's text in a finished response: a JSON body's choices[0].message.content (or .text),
 * or the concatenated choices[0].delta.content (or .text) of an event stream's `data:` lines.
 */
export function replyText(body: string | undefined): string {
  if (body === undefined) return '';
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const c = firstChoice(JSON.parse(trimmed));
      const m = c?.message;
      if (isObj(m) && typeof m.content === 'string') return m.content;
      return typeof c?.text === 'string' ? c.text : '';
    } catch {
      // not one JSON document: read it as an event stream below
    }
  }
  let out = '';
  for (const line of body.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '' || data === '[DONE]') continue;
    try {
      const c = firstChoice(JSON.parse(data));
      const d = c?.delta;
      if (isObj(d) && typeof d.content === 'string') out += d.content;
      else if (typeof c?.text === 'string') out += c.text;
    } catch {
      // a malformed event adds nothing
    }
  }
  return out;
}

function firstChoice(j: unknown): Obj | undefined {
  if (!isObj(j) || !Array.isArray(j.choices)) return undefined;
  const c: unknown = j.choices[0];
  return isObj(c) ? c : undefined;
}
