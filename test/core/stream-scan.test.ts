import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkScanner, NOT_OBJECT, OBJECT, SLOW } from '../../src/core/stream-scan.js';
import type { StreamKind } from '../../src/core/stream.js';
import { bodyUsageTokens, usageTokens, type RequestTokens } from '../../src/core/tokens.js';
import { OBJECT as BODY_OBJECT, scanBody, usageScan } from '../../src/core/body-scan.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

/** What JSON.parse and the stream meter's reading of the parsed value say (the oracle). */
function oracle(text: string, kind: StreamKind): { object: boolean; content: boolean; model: string | undefined; needsValues: boolean } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { object: false, content: false, model: undefined, needsValues: false };
  }
  if (!isObj(json)) return { object: false, content: false, model: undefined, needsValues: false };
  const choices = json.choices;
  const choice = Array.isArray(choices) && isObj(choices[0]) ? choices[0] : undefined;
  let content = false;
  let toolCalls = false;
  if (choice && kind === 'chat' && isObj(choice.delta)) {
    const d = choice.delta;
    content = nonEmpty(d.content) || nonEmpty(d.reasoning_content) || nonEmpty(d.reasoning);
    toolCalls = Array.isArray(d.tool_calls);
  } else if (choice && kind === 'completions') content = nonEmpty(choice.text);
  const needsValues = (json.usage !== undefined && json.usage !== null) || (json.error !== undefined && json.error !== null) || toolCalls;
  return { object: true, content, model: nonEmpty(json.model) ? (json.model as string) : undefined, needsValues };
}

const enc = new TextEncoder();
const wire = (text: string): string => new TextDecoder().decode(enc.encode(text));

/** The scanner's answer for `text`, read from the middle of a larger buffer (it must not look outside its range). */
function scanned(text: string, kind: StreamKind): { verdict: number; content: boolean; model: string | undefined } {
  const body = enc.encode(text);
  const buf = new Uint8Array(body.length + 8).fill(0x7d); // '}' on both sides: a scanner reading past its range would accept bad input
  buf.set(body, 4);
  const s = new ChunkScanner(kind);
  const verdict = s.scan(buf, 4, 4 + body.length);
  const model = s.modelStart >= 0 && s.modelEnd - s.modelStart > 2 ? (JSON.parse(new TextDecoder().decode(buf.subarray(s.modelStart, s.modelEnd))) as string) : undefined;
  return { verdict, content: s.content, model };
}

function agrees(text: string, kind: StreamKind): void {
  const want = oracle(text, kind);
  const got = scanned(text, kind);
  if (got.verdict === SLOW) {
    // SLOW may only be answered where the fast reading lacks values, or for what the scanner cannot judge alone
    return;
  }
  expect({ text, object: got.verdict === OBJECT }).toEqual({ text, object: want.object });
  if (got.verdict === OBJECT) {
    expect(want.needsValues).toBe(false);
    expect({ text, content: got.content, model: got.model }).toEqual({ text, content: want.content, model: want.model });
  }
}

const chunk = (delta: unknown, extra: Obj = {}): string => JSON.stringify({ id: 'c-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }], ...extra });

describe('ChunkScanner', () => {
  it.each<[string, string, StreamKind, number, boolean]>([
    ['happy: a content delta', chunk({ content: 'Hel' }), 'chat', OBJECT, true],
    ['happy: the role chunk (empty content)', chunk({ role: 'assistant', content: '' }), 'chat', OBJECT, false],
    ['happy: reasoning_content', chunk({ reasoning_content: 'hmm' }), 'chat', OBJECT, true],
    ['happy: reasoning', chunk({ reasoning: 'hmm' }), 'chat', OBJECT, true],
    ['happy: an escape is a character', chunk({ content: '\n' }), 'chat', OBJECT, true],
    ['happy: completions text', JSON.stringify({ model: 'm', choices: [{ index: 0, text: 'a', logprobs: null }] }), 'completions', OBJECT, true],
    ['happy: completions ignore delta', chunk({ content: 'a' }), 'completions', OBJECT, false],
    ['happy: chat ignores text', JSON.stringify({ choices: [{ text: 'a' }] }), 'chat', OBJECT, false],
    ['happy: usage null and error null need nothing', chunk({ content: 'a' }, { usage: null, error: null }), 'chat', OBJECT, true],
    ['happy: only the first choice counts', JSON.stringify({ choices: [{ delta: {} }, { delta: { content: 'a' } }] }), 'chat', OBJECT, false],
    ['happy: duplicate keys, the last wins', '{"choices":[{"delta":{"content":"a","content":""}}]}', 'chat', OBJECT, false],
    ['happy: duplicate keys, the last wins (2)', '{"choices":[{"delta":{"content":""}}],"choices":[{"delta":{"content":"b"}}]}', 'chat', OBJECT, true],
    ['happy: whitespace everywhere', ' { "choices" : [ { "delta" : { "content" : "a" } } ] } \n', 'chat', OBJECT, true],
    ['sad: a usage chunk is parsed', chunk({}, { usage: { prompt_tokens: 1, completion_tokens: 2 } }), 'chat', SLOW, false],
    ['sad: an error event is parsed', JSON.stringify({ error: { code: 500, message: 'x' } }), 'chat', SLOW, false],
    ['sad: tool calls are parsed', chunk({ tool_calls: [{ function: { arguments: '{' } }] }), 'chat', SLOW, false],
    ['sad: an escaped key is parsed', '{"choices":[{"delta":{"cont\\u0065nt":"a"}}]}', 'chat', SLOW, false],
    ['sad: deep nesting is parsed', `{"x":${'['.repeat(100)}${']'.repeat(100)}}`, 'chat', SLOW, false],
    ['sad: trailing garbage', `${chunk({ content: 'a' })} x`, 'chat', NOT_OBJECT, false],
    ['sad: a raw control character in a string', '{"choices":[{"delta":{"content":"a\tb"}}]}', 'chat', NOT_OBJECT, false],
    ['sad: a bad escape', '{"choices":[{"delta":{"content":"\\x"}}]}', 'chat', NOT_OBJECT, false],
    ['sad: a short \\u escape', '{"choices":[{"delta":{"content":"\\u12"}}]}', 'chat', NOT_OBJECT, false],
    ['sad: leading zeros', '{"a":01,"choices":[{"delta":{"content":"a"}}]}', 'chat', NOT_OBJECT, false],
    ['sad: an unclosed object', '{"choices":[{"delta":{"content":"a"}}]', 'chat', NOT_OBJECT, false],
    ['sad: an array', '[{"choices":[]}]', 'chat', NOT_OBJECT, false],
    ['sad: a trailing comma', '{"choices":[{"delta":{"content":"a"},}]}', 'chat', NOT_OBJECT, false],
  ])('%s', (_l, text, kind, verdict, content) => {
    const got = scanned(text, kind);
    expect(got.verdict).toBe(verdict);
    if (verdict === OBJECT) {
      expect(got.content).toBe(content);
      expect(oracle(text, kind)).toMatchObject({ object: true, content });
    }
    if (verdict === NOT_OBJECT) expect(oracle(text, kind).object).toBe(false);
  });

  it('happy: the last string model is reported; an empty or non-string last model is not', () => {
    expect(scanned('{"model":"a","model":"b"}', 'chat').model).toBe('b');
    expect(scanned('{"model":"a","model":5}', 'chat').model).toBeUndefined();
    expect(scanned('{"model":"a\\"b"}', 'chat').model).toBe('a"b');
    expect(scanned('{"model":""}', 'chat').model).toBeUndefined();
  });
});

/** OpenAI-shaped chunks with odd values in every place the scanner reads. */
const odd = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('', 'a', '\n', '"', '\\', '\u0000', 'é😀'), fc.integer(), fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}), fc.array(fc.string({ maxLength: 2 }), { maxLength: 2 }));
const deltaArb = fc.dictionary(fc.constantFrom('content', 'reasoning_content', 'reasoning', 'role', 'tool_calls', 'x'), odd, { maxKeys: 4 });
const choiceArb = fc.record({ index: fc.nat(3), delta: fc.oneof(deltaArb, odd), text: odd, finish_reason: odd }, { requiredKeys: [] });
const chunkArb = fc.record(
  {
    id: fc.string({ maxLength: 8 }),
    model: odd,
    choices: fc.oneof(fc.array(fc.oneof(choiceArb, odd), { maxLength: 3 }), odd),
    usage: fc.oneof(fc.constant(null), fc.record({ prompt_tokens: fc.nat(), completion_tokens: fc.nat() })),
    error: fc.oneof(fc.constant(null), odd),
    extra: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);

/** A JSON text, then perhaps broken: a cut, a character put in or taken out. */
const textArb = fc.tuple(fc.oneof(chunkArb.map((c) => JSON.stringify(c)), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v))), fc.nat(), fc.constantFrom('', ',', '"', '\\', '}', ']', ' ', '\t', 'x', '0', '-', 'e', '\u0001', 'é'), fc.constantFrom('keep', 'cut', 'insert', 'delete', 'pad'));

describe('ChunkScanner agrees with JSON.parse', () => {
  it('on OpenAI-shaped chunks, any JSON, and broken variants of both, read as chat and as completions', () => {
    fc.assert(
      fc.property(textArb, ([text, at, ch, how]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        const edited = how === 'keep' ? text : how === 'cut' ? text.slice(0, i) : how === 'insert' ? text.slice(0, i) + ch + text.slice(i) : how === 'delete' ? text.slice(0, i) + text.slice(i + 1) : ` \n${text}\r\t`;
        // the text as bytes carry it: an edit inside a surrogate pair leaves a lone surrogate, which
        // UTF-8 cannot hold (TextEncoder writes U+FFFD); the oracle parses what the scanner reads
        const t = wire(edited);
        agrees(t, 'chat');
        agrees(t, 'completions');
      }),
      { numRuns: 3000 },
    );
  });

  it('SLOW only where values are needed or the scanner cannot judge alone', () => {
    fc.assert(
      fc.property(chunkArb, (c) => {
        const text = JSON.stringify(c);
        if (scanned(text, 'chat').verdict === SLOW) expect(oracle(text, 'chat').needsValues || /\\u|\\"|\\\\/.test(text)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('bodyUsageTokens (a non-streamed body, only its usage parsed)', () => {
  const parsed = (t: string): unknown => {
    try {
      return JSON.parse(t);
    } catch {
      return undefined;
    }
  };
  // counts as servers send them and as they should not: big, negative, -0, fractions, exponents, strings
  const countArb = fc.oneof(fc.nat(), fc.nat(), fc.constant(-1), fc.constant(-0), fc.constant('x'), fc.constant(null), fc.double(), fc.constant(3.5), fc.constant(1e21), fc.constant(2 ** 53 + 2), fc.constant(123456789012345), fc.constant(1234567890123456));
  const detailsArb = fc.oneof(fc.record({ cached_tokens: countArb, audio_tokens: fc.nat(), nested: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }), fc.constant(null), fc.constant([1]), fc.constant('d'));
  const usageArb = fc.oneof(
    fc.record({ prompt_tokens: countArb, completion_tokens: countArb, total_tokens: fc.nat(), prompt_tokens_details: detailsArb, completion_tokens_details: fc.jsonValue({ maxDepth: 2 }), note: odd }, { requiredKeys: [] }),
    fc.constant(null),
    fc.constant('u'),
    fc.constant([1, 2]),
  );
  // JSON.stringify's number spellings are one of several: these are others a server may write
  const respell = (t: string, k: number): string => (k % 4 === 1 ? t.replace(/"completion_tokens":(\d+)/, '"completion_tokens":$1.0') : k % 4 === 2 ? t.replace(/"prompt_tokens":(\d+)/, '"prompt_tokens":$1e0') : k % 4 === 3 ? t.replace(/"cached_tokens":(\d+)/, '"cached_tokens" : $1 ') : t);
  const bodyArb = fc
    .tuple(fc.record({ model: odd, choices: fc.array(fc.record({ message: fc.record({ content: odd }) })), usage: usageArb, extra: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }), fc.nat(5), fc.nat())
    .map(([b, variant, k]) => {
      const t = respell(JSON.stringify(b, null, variant === 4 ? 2 : undefined), k);
      // a duplicate usage key: JSON.parse keeps the last one
      if (variant === 1 && t.length > 2) return `${t.slice(0, -1)},"usage":{"completion_tokens":7}}`;
      // duplicate keys inside usage, and an escaped key that spells one of them
      if (variant === 2) return t.replace('"usage":{', '"usage":{"completion_tokens":1,"prompt_tokens":2,"prompt_tokens_details":{"cached_tokens":2},');
      if (variant === 3) return t.replace('"usage":{', '"usage":{"completion_tok\\u0065ns":5,');
      return t;
    });

  it('equals usageTokens(JSON.parse(body)) on bodies, any JSON and broken variants', () => {
    fc.assert(
      fc.property(fc.oneof(bodyArb, textArb.map(([t]) => t)), fc.nat(), fc.boolean(), (text, at, cut) => {
        const t = cut ? text.slice(0, at % (text.length + 1)) : text;
        expect(bodyUsageTokens(enc.encode(t))).toEqual(usageTokens(parsed(t)));
      }),
      { numRuns: 3000 },
    );
  });

  it.each<[string, string, number | undefined]>([
    ['happy: the usage of a completion', '{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":8}}', 8],
    ['happy: an escaped key spelling usage is read', '{"us\\u0061ge":{"completion_tokens":4}}', 4],
    ['sad: no usage', '{"choices":[]}', undefined],
    ['sad: not JSON', '{"usage":{"completion_tokens":4}', undefined],
    ['happy: a string in usage holding an escaped quote and a brace is skipped whole', '{"usage":{"note":"x\\"}","completion_tokens":1}}', 1],
    ['happy: a nested array of objects in usage is skipped whole', '{"usage":{"x":[{"completion_tokens":9},"]"],"completion_tokens":2}}', 2],
  ])('%s', (_l, text, output) => {
    expect(bodyUsageTokens(enc.encode(text))?.output).toBe(output);
  });

  it.each<[string, string, RequestTokens | 'slow' | undefined]>([
    ['happy: OpenAI\'s shape, details and all, is read from the bytes', '{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":16,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"accepted_prediction_tokens":0}}', { output: 10, input: 19, source: 'usage', cached: 16 }],
    ['happy: no prompt count: output only', '{ "completion_tokens" : 8 }', { output: 8, source: 'usage' }],
    ['happy: a later prompt_tokens_details without cached_tokens has none', '{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":4},"prompt_tokens_details":{}}', { output: 1, input: 9, source: 'usage' }],
    ['happy: cached_tokens one level further down is not the cached count', '{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{"x":{"cached_tokens":4}}}', { output: 1, input: 9, source: 'usage' }],
    ['happy: cached_tokens in another object of the usage is not the cached count', '{"prompt_tokens":9,"completion_tokens":1,"other":{"cached_tokens":4}}', { output: 1, input: 9, source: 'usage' }],
    ['happy: a count after the usage, in another top-level member, is not the usage\'s', '{"completion_tokens":1},"x":{"completion_tokens":5,"prompt_tokens":7}', { output: 1, source: 'usage' }],
    ['happy: a count that is a string is absent', '{"prompt_tokens":"9","completion_tokens":1}', { output: 1, source: 'usage' }],
    ['sad: a fraction is JSON.parse\'s to read', '{"completion_tokens":8.0}', 'slow'],
    ['sad: a negative count is JSON.parse\'s to read', '{"completion_tokens":-1}', 'slow'],
    ['sad: 16 digits are JSON.parse\'s to read', '{"completion_tokens":1234567890123456}', 'slow'],
    ['sad: an escaped key is JSON.parse\'s to read', '{"completion_tok\\u0065ns":8}', 'slow'],
    ['sad: an escaped key in the details is JSON.parse\'s to read', '{"completion_tokens":8,"prompt_tokens_details":{"cached_tok\\u0065ns":1}}', 'slow'],
    ['sad: not an object: no usage', 'null', undefined],
  ])('the usage read on the way (body-scan.ts): %s', (_l, usage, want) => {
    const text = `{"id":"x","usage":${usage}}`;
    expect(scanBody(enc.encode(text), 0, enc.encode(text).length)).toBe(BODY_OBJECT);
    expect(usageScan.slow).toBe(want === 'slow');
    // and whatever the route, the answer is JSON.parse's
    const parsedUsage = usageTokens(JSON.parse(text));
    expect(bodyUsageTokens(enc.encode(text))).toEqual(parsedUsage);
    if (want !== 'slow') expect(parsedUsage).toEqual(want);
  });
});
