import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStreamMeter, decodeTokensPerSecond, tokensPerSecond, tpotMs, type StreamKind, type StreamResult } from '../../src/core/stream.js';

const chatChunk = (content: string | undefined, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: 'm', choices: [{ index: 0, delta: content === undefined ? {} : { content } }], ...extra });
const textChunk = (text: string): string => JSON.stringify({ model: 'm', choices: [{ index: 0, text }] });
const ev = (data: string, eol = '\n'): string => `data: ${data}${eol}${eol}`;

/** Feeds the pieces at times 0, 10, 20, … and finishes. */
function meter(kind: StreamKind, pieces: (string | Uint8Array)[]): StreamResult {
  const m = createStreamMeter(kind);
  pieces.forEach((p, i) => m.push(p, i * 10));
  return m.finish(pieces.length * 10);
}

describe('createStreamMeter', () => {
  it('happy: chat content events give ttft, itl and tokens; the role chunk counts nothing', () => {
    const r = meter('chat', [ev(chatChunk('')), ev(chatChunk('Hel')), ev(chatChunk('lo')) + ev(chatChunk('!')), ev('[DONE]')]);
    expect(r).toMatchObject({ firstTokenMs: 10, itl: [10, 0], tokens: 3, contentEvents: 3, model: 'm', done: true });
  });

  it('sad: an in-band error event (llama.cpp, OpenAI) is the stream’s error, the first one kept', () => {
    const err = (m: string) => JSON.stringify({ error: { code: 500, message: m, type: 'server_error' } });
    const r = meter('chat', [ev(chatChunk('Hel')), ev(err('The model produced output that does not match the expected peg-native format')), ev(err('second'))]);
    expect(r.error).toBe('stream error 500: The model produced output that does not match the expected peg-native format');
    expect(meter('chat', [ev(chatChunk('a')), ev('[DONE]')]).error).toBeUndefined();
    expect(meter('chat', [ev(JSON.stringify({ error: 'overloaded' }))]).error).toBe('stream error: overloaded');
  });

  it('happy: completions read choices[0].text', () => {
    const r = meter('completions', [ev(textChunk('a')), ev(textChunk('')), ev(textChunk('b'))]);
    expect(r).toMatchObject({ firstTokenMs: 0, itl: [20], tokens: 2, done: false });
  });

  it('happy: usage.completion_tokens is preferred over counted events, and lastJson is the usage chunk', () => {
    const usage = { prompt_tokens: 5, completion_tokens: 7 };
    const last = { model: 'm', choices: [], usage, metrics: { queue_time_ms: 3 } };
    const r = meter('chat', [ev(chatChunk('a')), ev(chatChunk('b')), ev(JSON.stringify(last)), ev('[DONE]')]);
    expect(r.tokens).toBe(7);
    expect(r.contentEvents).toBe(2);
    expect(r.usage).toEqual(usage);
    expect(r.lastJson).toEqual(last);
  });

  it('happy: reasoning and tool-call deltas are generated tokens', () => {
    const reasoning = JSON.stringify({ choices: [{ delta: { reasoning_content: 'hmm' } }] });
    const tool = JSON.stringify({ choices: [{ delta: { tool_calls: [{ function: { arguments: '{"a"' } }] } }] });
    expect(meter('chat', [ev(reasoning), ev(tool)]).contentEvents).toBe(2);
  });

  it('happy: CRLF and CR line ends, comments, other fields, multi-line data, no space after the colon', () => {
    const multi = `data:{"choices":[{"delta":\r\ndata: {"content":"x"}}]}\r\n\r\n`;
    const r = meter('chat', [`: keep-alive\r\n\r\nevent: message\rid: 1\rretry: 5\r` + `data:${chatChunk('a')}\r\r`, multi]);
    expect(r).toMatchObject({ contentEvents: 2, firstTokenMs: 0, itl: [10] });
  });

  it('happy: a BOM at the start is ignored; UTF-8 split inside a character still decodes', () => {
    const bytes = new TextEncoder().encode(`\uFEFF${ev(chatChunk('é😀'))}`);
    const r = meter('chat', [bytes.slice(0, 5), bytes.slice(5, 40), bytes.slice(40)]);
    expect(r.contentEvents).toBe(1);
    expect((r.lastJson as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content).toBe('é😀');
  });

  it('happy: the model of the last event is kept', () => {
    const r = meter('chat', [ev(JSON.stringify({ model: 'a', choices: [] })), ev(JSON.stringify({ model: 'b', choices: [] }))]);
    expect(r.model).toBe('b');
  });

  it.each<[string, (string | Uint8Array)[]]>([
    ['sad: an event without the closing blank line is discarded', [`data: ${chatChunk('a')}\n`]],
    ['sad: non-JSON data', [ev('hello'), ev('{')]],
    ['sad: JSON that is not an object', [ev('[1,2]'), ev('"x"'), ev('null'), ev('42')]],
    ['sad: wrong shapes', [ev('{"choices":"x"}'), ev('{"choices":[null]}'), ev('{"choices":[{"delta":{"content":5}}]}')]],
    ['sad: a field named like data but not data', [`datum: ${chatChunk('a')}\n\n`, `Data: ${chatChunk('a')}\n\n`]],
    ['sad: binary garbage', [new Uint8Array([0xff, 0xfe, 0x00, 0x0a, 0x0a, 0xc3])]],
  ])('%s counts nothing', (_l, pieces) => {
    const r = meter('chat', pieces);
    expect([r.firstTokenMs, r.tokens, r.itl, r.done]).toEqual([undefined, 0, [], false]);
  });

  it('sad: [DONE] must be the whole data', () => {
    expect(meter('chat', [ev(' [DONE]'), ev('[DONE] ')]).done).toBe(false);
  });

  it('sad: usage with a non-integer completion_tokens is ignored', () => {
    const r = meter('chat', [ev(chatChunk('a')), ev(JSON.stringify({ choices: [], usage: { completion_tokens: 'many' } }))]);
    expect([r.tokens, r.usage]).toEqual([1, undefined]);
  });
});

/** A valid OpenAI stream of n content events plus optional usage and [DONE], in one string. */
const streamArb = fc
  .record({
    contents: fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 12 }),
    eol: fc.constantFrom('\n', '\r\n', '\r'),
    comments: fc.boolean(),
    usage: fc.option(fc.nat(1000)),
    done: fc.boolean(),
  })
  .map(({ contents, eol, comments, usage, done }) => {
    let s = '';
    for (const c of contents) {
      if (comments) s += `: ping${eol}`;
      s += ev(chatChunk(c), eol);
    }
    if (usage !== null) s += ev(JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: usage } }), eol);
    if (done) s += ev('[DONE]', eol);
    return { s, contents, usage, done };
  });

describe('stream meter properties', () => {
  it('any split of a valid stream into chunks (strings or bytes) gives the same result as one chunk', () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), ({ s, contents, usage, done }, cuts, asBytes) => {
        const whole = createStreamMeter('chat');
        whole.push(s, 0);
        const expected = whole.finish(0);
        expect(expected.contentEvents).toBe(contents.length);
        expect(expected.tokens).toBe(usage ?? contents.length);
        expect(expected.done).toBe(done);

        const data = asBytes ? new TextEncoder().encode(s) : s;
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const split = createStreamMeter('chat');
        let from = 0;
        for (const to of [...points, data.length]) {
          split.push(data.slice(from, to), 0);
          from = to;
        }
        expect(split.finish(0)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('garbage never throws and never yields negative or non-finite numbers', () => {
    const piece = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'data: {}[]"choices\n\r:DONE,0'), maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), (pieces) => {
        const r = meter('chat', pieces);
        return r.tokens >= 0 && r.itl.every((g) => Number.isFinite(g) && g >= 0);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('tpot and tokens/s', () => {
  it.each<[string, number, number, number, number | undefined]>([
    ['happy', 1_100, 100, 11, 100],
    ['happy', 300, 100, 2, 200],
    ['sad: one token has no gap', 300, 100, 1, undefined],
    ['sad: total before ttft', 50, 100, 5, undefined],
  ])('%s: tpotMs(%d, %d, %d) = %s', (_l, total, ttft, tokens, want) => {
    expect(tpotMs(total, ttft, tokens)).toBe(want);
  });

  it.each<[string, number, number, number | undefined]>([
    ['happy', 50, 500, 100],
    ['sad: zero total', 5, 0, undefined],
  ])('%s: tokensPerSecond(%d, %d) = %s', (_l, tokens, total, want) => {
    expect(tokensPerSecond(tokens, total)).toBe(want);
  });

  it('happy: decode tokens/s is 1000 / tpot', () => {
    expect(decodeTokensPerSecond(1_100, 100, 11)).toBe(10);
    expect(decodeTokensPerSecond(100, 100, 11)).toBeUndefined();
  });
});
