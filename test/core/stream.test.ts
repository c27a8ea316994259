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

  it.each([
    ['happy: one event per read', 1],
    ['happy: 8 events in one read (the last of them kept)', 8],
  ])('%s: push() keeps nothing of the chunk: the engine overwrites its read buffer, lastJson and model stay', (_label, perRead) => {
    // one reused buffer, as the engine's socket reads (autocannon-hook.ts READ_BUFFER)
    const buffer = new Uint8Array(4096);
    const m = createStreamMeter('chat');
    const enc = new TextEncoder();
    const reads = [0, 1, 2].map((r) => Array.from({ length: perRead }, (_, i) => ev(chatChunk(`t${r}.${i}`, { model: `model-${r}` }))).join(''));
    reads.forEach((text, r) => {
      const n = enc.encodeInto(text, buffer).written;
      m.push(buffer.subarray(0, n), r * 10);
      buffer.fill(0x20); // the next read, of another socket, lands here
    });
    const res = m.finish(30);
    expect(res.contentEvents).toBe(3 * perRead);
    expect(res.model).toBe('model-2');
    expect(res.lastJson).toEqual(JSON.parse(chatChunk(`t2.${perRead - 1}`, { model: 'model-2' })));
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

/**
 * The spec read literally, as the reference: decode the whole stream, split it into lines and
 * events, JSON.parse every event's data. The meter (bytes, a scanner, parsing only rare events)
 * must give the same counts, model, usage, done, error and last JSON object.
 */
function reference(kind: StreamKind, whole: string): Omit<StreamResult, 'firstTokenMs' | 'itl'> {
  const text = whole.charCodeAt(0) === 0xfeff ? whole.slice(1) : whole;
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // the unterminated rest
  const out: Omit<StreamResult, 'firstTokenMs' | 'itl'> = { tokens: 0, contentEvents: 0, done: false };
  let data: string[] = [];
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
  for (const line of lines) {
    if (line !== '') {
      const colon = line.indexOf(':');
      if ((colon === -1 ? line : line.slice(0, colon)) === 'data') data.push(colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, ''));
      continue;
    }
    const d = data.join('\n');
    const had = data.length > 0;
    data = [];
    if (!had) continue;
    if (d === '[DONE]') {
      out.done = true;
      continue;
    }
    let j: unknown;
    try {
      j = JSON.parse(d);
    } catch {
      continue;
    }
    if (!obj(j)) continue;
    out.lastJson = j;
    if (j.error !== undefined && j.error !== null && out.error === undefined) out.error = 'error';
    if (str(j.model)) out.model = j.model as string;
    if (obj(j.usage) && Number.isInteger(j.usage.completion_tokens) && (j.usage.completion_tokens as number) >= 0) {
      const p = j.usage.prompt_tokens;
      out.usage = { prompt_tokens: typeof p === 'number' && Number.isFinite(p) && p >= 0 ? p : 0, completion_tokens: j.usage.completion_tokens as number };
    }
    const c = Array.isArray(j.choices) ? (j.choices[0] as unknown) : undefined;
    if (!obj(c)) continue;
    const delta = c.delta;
    const tool = obj(delta) && Array.isArray(delta.tool_calls) && delta.tool_calls.some((t: unknown) => obj(t) && obj(t.function) && str(t.function.arguments));
    const content = kind === 'completions' ? str(c.text) : obj(delta) && (str(delta.content) || str(delta.reasoning_content) || str(delta.reasoning) || tool);
    if (content) out.contentEvents++;
  }
  out.tokens = out.usage ? out.usage.completion_tokens : out.contentEvents;
  return out;
}

describe('stream meter against the reference', () => {
  const value = fc.oneof(fc.constantFrom('', 'a', 'é😀', '\n'), fc.integer(), fc.constant(null));
  const eventArb = fc.oneof(
    fc.record({ model: fc.constantFrom('a', 'b', '', 'a\\"'), choices: fc.constant([{ delta: {} }]) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    fc.tuple(fc.constantFrom('a', 'b'), value, fc.constantFrom('content', 'reasoning', 'text', 'tool_calls')).map(([model, v, k]) =>
      JSON.stringify({ model, choices: [k === 'text' ? { text: v } : { delta: k === 'tool_calls' ? { tool_calls: [{ function: { arguments: v } }] } : { [k]: v } }] }),
    ),
    fc.record({ prompt_tokens: fc.nat(9), completion_tokens: fc.oneof(fc.nat(99), fc.constant(-1)) }).map((u) => JSON.stringify({ model: 'u', choices: [], usage: u })),
    fc.constantFrom('[DONE]', '{"error":{"code":500}}', '{"error":null}', 'not json', '{"choices":[{"delta":{"content":"x"}}]', '{"a":1}\ndata: {"b":2}', '[1]'),
  );
  const streamOf = fc.tuple(fc.array(fc.tuple(eventArb, fc.constantFrom('\n', '\r\n', '\r'), fc.boolean()), { maxLength: 10 }), fc.boolean()).map(([events, bom]) => {
    let s = bom ? '\uFEFF' : '';
    for (const [e, eol, comment] of events) s += `${comment ? `: ping${eol}` : ''}data: ${e}${eol}${eol}`;
    return s;
  });

  it('any stream, any split into byte chunks, either kind: the reference figures', () => {
    fc.assert(
      fc.property(streamOf, fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom<StreamKind>('chat', 'completions'), (s, cuts, kind) => {
        const bytes = new TextEncoder().encode(s);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const m = createStreamMeter(kind);
        let from = 0;
        for (const to of [...points, bytes.length]) {
          m.push(bytes.slice(from, to), from);
          from = to;
        }
        const { firstTokenMs: _f, itl, error, ...got } = m.finish(from);
        const { error: wantError, ...want } = reference(kind, s);
        expect(got).toEqual(want);
        expect(error !== undefined).toBe(wantError !== undefined);
        expect(itl.length).toBe(Math.max(0, want.contentEvents - 1));
      }),
      { numRuns: 1500 },
    );
  });

  it('a reset meter is a new one: any stream after any other (cut anywhere, even mid-event) gives what a fresh meter gives', () => {
    const feed = (m: ReturnType<typeof createStreamMeter>, s: string, cuts: number[], t0: number): void => {
      const bytes = new TextEncoder().encode(s);
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      let from = 0;
      for (const to of [...points, bytes.length]) {
        m.push(bytes.slice(from, to), t0 + from);
        from = to;
      }
    };
    fc.assert(
      fc.property(streamOf, fc.nat(400), streamOf, fc.array(fc.nat(), { maxLength: 4 }), fc.constantFrom<StreamKind>('chat', 'completions'), (a, cutA, b, cuts, kind) => {
        const reused = createStreamMeter(kind);
        // the first stream may end anywhere (a timeout, a dropped connection): half an event, a BOM, a CR
        feed(reused, a.slice(0, cutA), [cutA >> 1], 0);
        reused.finish(1);
        reused.reset();
        feed(reused, b, cuts, 1000);
        const fresh = createStreamMeter(kind);
        feed(fresh, b, cuts, 1000);
        expect(reused.finish(5000)).toEqual(fresh.finish(5000));
      }),
      { numRuns: 800 },
    );
  });

  it('happy: a model set by a parsed event, then the earlier model again from a scanned one', () => {
    const r = meter('chat', [ev(chatChunk('a')), ev(JSON.stringify({ model: 'n', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } })), ev(chatChunk('b'))]);
    expect(r.model).toBe('m');
  });

  it('happy: the last JSON object is a scanned content event, kept from a large chunk too', () => {
    const big = ev(JSON.stringify({ model: 'm', choices: [], pad: 'x'.repeat(40_000) }));
    const r = meter('chat', [new TextEncoder().encode(big + ev(chatChunk('z'))), ev('[DONE]')]);
    expect((r.lastJson as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content).toBe('z');
  });

  it('happy: a BOM split across chunks is still stripped', () => {
    const bytes = new TextEncoder().encode(`\uFEFF${ev(chatChunk('a'))}`);
    expect(meter('chat', [bytes.slice(0, 1), bytes.slice(1, 2), bytes.slice(2)]).contentEvents).toBe(1);
  });
});
