import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConversationsJsonl } from '../../src/core/conversations.js';
import { Conversing, replyText, sessionScript } from '../../src/core/sessions.js';
import { chars4 } from '../../src/core/tokenizer.js';
import { conversations } from '../../scripts/make-conversations.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('parseConversationsJsonl', () => {
  it('happy: strings and {text, delay, max_tokens} turns, session_id, system, blank lines and CRLF', () => {
    const text = ['{"session_id": "a", "turns": ["Hi", {"text": "More?", "delay": 250, "max_tokens": 16}]}', '', '{"system": "s", "turns": ["x"], "meta": 1}\r'].join('\n');
    expect(parseConversationsJsonl(text, 'c.jsonl')).toEqual({
      conversations: [
        { id: 'a', turns: [{ text: 'Hi' }, { text: 'More?', delayMs: 250, maxTokens: 16 }] },
        { system: 's', turns: [{ text: 'x' }] },
      ],
      problems: [],
    });
  });

  it.each<[string, string, string, RegExp]>([
    ['sad', '{"turns": ["a"]}\n{bad', 'f:2', /not valid JSON/],
    ['sad', '\n\n"just text"', 'f:3', /expected a conversation/],
    ['sad', '{"turns": []}', 'f:1', /non-empty list/],
    ['sad', '{"turns": "a"}', 'f:1', /non-empty list/],
    ['sad', '{"turns": [1]}', 'f:1', /turns\[0\] to be a string/],
    ['sad', '{"turns": ["a", {"text": "b", "delay": -1}]}', 'f:1', /turns\[1\]\.delay/],
    ['sad', '{"turns": ["a", {"text": "b", "max_tokens": 0}]}', 'f:1', /turns\[1\]\.max_tokens/],
    ['sad', '{"system": 3, "turns": ["a"]}', 'f:1', /"system"/],
    ['sad', ' \n', 'f', /no conversations/],
  ])('%s: %j → problem at %s', (_l, text, path, message) => {
    expect(parseConversationsJsonl(text, 'f').problems).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('sad: every bad line is reported with its number while good lines load', () => {
    const r = parseConversationsJsonl('{"turns": ["a"]}\n{"turns": []}\n{"turns": ["b"]}\n[]', 'f');
    expect(r.conversations).toHaveLength(2);
    expect(r.problems.map((p) => p.path)).toEqual(['f:2', 'f:4']);
  });

  it('happy: the shipped conversation file is what scripts/make-conversations.ts writes, and parses', () => {
    const text = readFileSync(join(ROOT, 'profiles/conversations/chat.jsonl'), 'utf8');
    expect(text).toBe(`${conversations(24, 15).join('\n')}\n`);
    const r = parseConversationsJsonl(text, 'chat.jsonl');
    expect(r.problems).toEqual([]);
    expect(r.conversations).toHaveLength(24);
  });
});

describe('sessionScript and Conversing', () => {
  const file = { kind: 'file' as const, file: 'c.jsonl', thinkTimeMs: 100, order: 'round-robin' as const };
  const list = parseConversationsJsonl('{"system": "S", "turns": ["a", {"text": "b", "delay": 7}, "c"]}\n{"turns": ["z"]}', 'f').conversations;

  it('happy: round-robin by session index; a turn’s delay replaces the phase think time; the first has none', () => {
    expect(sessionScript(file, 0, 1, list, chars4)).toEqual({ system: 'S', turns: [{ text: 'a', delayMs: 0 }, { text: 'b', delayMs: 7 }, { text: 'c', delayMs: 100 }] });
    expect(sessionScript(file, 3, 1, list, chars4).turns).toEqual([{ text: 'z', delayMs: 0 }]);
  });

  it('happy: generated sessions are a function of (seed, index), with exact chars4 lengths', () => {
    const gen = { kind: 'generated' as const, turns: 3, thinkTimeMs: 50, tokens: { mean: 10, stddev: 0, min: 10, max: 10 } };
    const a = sessionScript(gen, 5, 9, undefined, chars4);
    expect(sessionScript(gen, 5, 9, undefined, chars4)).toEqual(a);
    expect(sessionScript(gen, 6, 9, undefined, chars4)).not.toEqual(a);
    expect(a.turns.map((t) => [t.text.length, t.delayMs])).toEqual([[40, 0], [40, 50], [40, 50]]);
  });

  it('happy: each turn carries the body’s system message, the conversation’s, and every reply so far', () => {
    const body = { model: 'm', messages: [{ role: 'system', content: 'B' }, { role: 'user', content: 'dropped' }], max_tokens: 4 };
    const c = new Conversing(sessionScript(file, 0, 1, list, chars4), body, 0);
    const t1 = JSON.parse(c.next(body).body) as { messages: unknown[]; max_tokens: number; model: string };
    expect(t1).toEqual({ model: 'm', max_tokens: 4, messages: [{ role: 'system', content: 'B' }, { role: 'system', content: 'S' }, { role: 'user', content: 'a' }] });
    expect(c.reply('R1')).toBe(7);
    const t2 = c.next(body);
    expect(t2.turn).toBe(2);
    expect((JSON.parse(t2.body) as { messages: unknown[] }).messages.slice(2)).toEqual([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'R1' }, { role: 'user', content: 'b' }]);
    expect(t2.text).toBe('BSaR1b');
    expect(c.reply('R2')).toBe(100);
    c.next(body);
    expect(c.reply('R3')).toBeUndefined();
    expect(c.done).toBe(true);
  });
});

describe('replyText', () => {
  it.each<[string, string | undefined, string]>([
    ['happy', JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'Hello there' } }] }), 'Hello there'],
    ['happy', JSON.stringify({ choices: [{ text: 'completion' }] }), 'completion'],
    ['happy', 'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\ndata: {"choices":[{"delta":{"content":"He"}}]}\n\ndata: {"choices":[{"delta":{"content":"llo"}}]}\r\n\r\ndata: {"choices":[],"usage":{}}\n\ndata: [DONE]\n\n', 'Hello'],
    ['sad', 'data: {broken\n\ndata: {"choices":[{"delta":{"content":"ok"}}]}\n\n', 'ok'],
    ['sad', undefined, ''],
    ['sad', '{"error": "no"}', ''],
  ])('%s: %j → %j', (_l, body, text) => {
    expect(replyText(body)).toBe(text);
  });
});
