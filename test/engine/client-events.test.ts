import { EventEmitter } from 'node:events';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretResponse } from '../../src/core/response.js';
import { compileTimings } from '../../src/core/timing.js';
import type { HookedClient } from '../../src/engine/autocannon-hook.js';
import { bodyForUsage, listen, type ClientEventSink } from '../../src/engine/client-events.js';
import type { Connection, Slot } from '../../src/engine/connection-pool.js';

const BODY = JSON.stringify({ id: 'x', choices: [{ message: { content: 'hi' } }], usage: { prompt_tokens: 3, completion_tokens: 8, total_tokens: 11 } });
const USAGE = { output: 8, input: 3, source: 'usage' };
const extractor = compileTimings({ serverTiming: true, headers: {} }, undefined);

/**
 * One connection's events as autocannon emits them, through listen(), with each body chunk a view of
 * one buffer that is overwritten once the parser call that carried it has returned (as the shared
 * read buffer is, autocannon-hook.ts): `reads` are the parser calls, each a list of events.
 */
function replay(opts: { readBody?: boolean; headers: string[]; reads: ('response' | Buffer)[][] }): { slot: Slot; tokens: unknown } {
  const client = new EventEmitter() as unknown as HookedClient;
  const slot: Slot = { arrival: { t: 0, phase: 0, index: 0 } as Slot['arrival'], headers: undefined, sentMs: 0, reused: false };
  const s = { slot, closing: false, keepAliveMs: undefined, afterResponse: false, onSocket: 0 } as unknown as Connection;
  let done: Slot | undefined;
  const sink: ClientEventSink = { now: () => 0, stream: undefined, readBody: opts.readBody ?? false, readsHeader: (n) => extractor.reads(n), responded: (_s, sl) => (done = sl), connError: () => {} };
  listen(client, s, sink);
  client.emit('headers', { headers: opts.headers, statusCode: 200 });
  const readBuffer = Buffer.alloc(64 * 1024);
  for (const read of opts.reads) {
    let at = 0;
    for (const e of read) {
      if (e === 'response') client.emit('response', 200);
      else {
        e.copy(readBuffer, at);
        client.emit('body', readBuffer.subarray(at, at + e.length));
        at += e.length;
      }
    }
    readBuffer.fill(0x7b); // the next read overwrites the buffer
  }
  if (!done) throw new Error('no response');
  const m = interpretResponse(done, 200, 1, bodyForUsage(done), { extractor });
  return { slot: done, tokens: m.tokens };
}

const json = (n: number): string[] => ['Content-Type', 'application/json', 'Content-Length', String(n)];

describe('a JSON body read for its usage alone', () => {
  it('happy: whole in one read, its usage is read where it lies: nothing copied, tokens exact after the buffer is overwritten', () => {
    const { slot, tokens } = replay({ headers: json(BODY.length), reads: [[Buffer.from(BODY), 'response']] });
    expect(slot.bodyTokens).toEqual(USAGE);
    expect(slot.body).toBeUndefined(); // nothing copied, and no chunk list made
    expect(tokens).toEqual(USAGE);
  });

  it('happy: over two reads, the first part is copied before its read buffer is overwritten', () => {
    const b = Buffer.from(BODY);
    const { slot, tokens } = replay({ headers: json(b.length), reads: [[b.subarray(0, 40)], [b.subarray(40), 'response']] });
    expect(slot.bodyTokens).toBeUndefined();
    expect(Buffer.concat(slot.body ?? []).toString()).toBe(BODY);
    expect(tokens).toEqual(USAGE);
  });

  it('happy: a body without usage, whole in one read, reads as read with none (null), not as unread', () => {
    const b = Buffer.from('{"id":"x"}');
    const { slot, tokens } = replay({ headers: json(b.length), reads: [[b, 'response']] });
    expect(slot.bodyTokens).toBeNull();
    expect(tokens).toBeUndefined();
  });

  it.each([
    ['happy: names in upper case', ['CONTENT-TYPE', 'application/json', 'CONTENT-LENGTH', String(BODY.length)]],
    ['happy: names in mixed case, the type too', ['content-TYPE', 'Application/JSON', 'Content-length', String(BODY.length)]],
  ])('%s: read for its usage where it lies, as in lower case', (_name, headers) => {
    const { slot, tokens } = replay({ headers, reads: [[Buffer.from(BODY), 'response']] });
    expect(slot.bodyTokens).toEqual(USAGE);
    expect(slot.body).toBeUndefined();
    expect(tokens).toEqual(USAGE);
  });

  it.each([
    ['sad: a name one letter off Content-Length', ['Content-Type', 'application/json', 'Content-Lengti', String(BODY.length)]],
    ['sad: a name one letter off Content-Type (the body is not JSON to us)', ['Content-Typf', 'application/json', 'Content-Length', String(BODY.length)]],
  ])('%s: not read where it lies', (_name, headers) => {
    const { slot } = replay({ headers, reads: [[Buffer.from(BODY), 'response']] });
    expect(slot.bodyTokens).toBeUndefined();
  });

  it.each([
    ['sad: chunked (no Content-Length)', ['Content-Type', 'application/json', 'Transfer-Encoding', 'chunked']],
    ['sad: two Content-Length headers', [...json(BODY.length), 'Content-Length', String(BODY.length)]],
    ['sad: a Content-Length that is not digits', ['Content-Type', 'application/json', 'Content-Length', `+${BODY.length}`]],
  ])('%s: the body is copied and read when it is recorded, with the same tokens', (_name, headers) => {
    const { slot, tokens } = replay({ headers, reads: [[Buffer.from(BODY), 'response']] });
    expect(slot.bodyTokens).toBeUndefined();
    expect(slot.body).toHaveLength(1);
    expect(tokens).toEqual(USAGE);
  });

  it('sad: a gzipped body is kept for decoding, not scanned as it came', () => {
    const z = gzipSync(BODY);
    const { slot, tokens } = replay({ headers: [...json(z.length), 'Content-Encoding', 'gzip'], reads: [[z, 'response']] });
    expect(slot.bodyTokens).toBeUndefined();
    expect(slot.body).toHaveLength(1);
    expect(tokens).toEqual(USAGE);
  });

  it('sad: when a rule reads the body, the body is kept whole (its text is parsed later), not read for usage at once', () => {
    const { slot } = replay({ readBody: true, headers: json(BODY.length), reads: [[Buffer.from(BODY), 'response']] });
    expect(slot.bodyTokens).toBeUndefined();
    expect(Buffer.concat(slot.body ?? []).toString()).toBe(BODY);
  });
});

/** Server-Timing on, a named-header stage and a header signal: the three kinds of header a response's handling reads */
const READER = compileTimings({ serverTiming: true, headers: { 'x-queue-time': { stage: 'queue', unit: 's' } } }, [{ kind: 'equals', header: 'x-route', value: 'fallback', id: 'x-route=fallback' }]);

/** the headers list a response keeps once its headers are in, and the list autocannon is left holding */
function keptAfterHeaders(headers: string[]): { slot: string[] | undefined; info: string[] } {
  const client = new EventEmitter() as unknown as HookedClient;
  const slot: Slot = { arrival: { t: 0, phase: 0, index: 0 } as Slot['arrival'], headers: undefined, sentMs: 0, reused: false };
  const s = { slot, closing: false, keepAliveMs: undefined, afterResponse: false, onSocket: 0 } as unknown as Connection;
  const sink: ClientEventSink = { now: () => 0, stream: undefined, readBody: false, readsHeader: (n) => READER.reads(n), responded: () => {}, connError: () => {} };
  listen(client, s, sink);
  const info = { headers: [...headers], statusCode: 200 };
  client.emit('headers', info);
  return { slot: slot.headers, info: info.headers };
}

describe('the headers a response keeps', () => {
  it.each([
    ['happy: the read ones in order, in any case, Content-Encoding too; the rest let go', ['Content-Type', 'text/event-stream', 'SERVER-TIMING', 'queue;dur=1', 'Date', 'Mon, 07 Dec 2026 07:06:55 GMT', 'X-Route', 'fallback', 'x-queue-time', '0.5', 'Content-Encoding', 'gzip', 'Connection', 'keep-alive', 'server-timing', 'decode;dur=2'], ['SERVER-TIMING', 'queue;dur=1', 'X-Route', 'fallback', 'x-queue-time', '0.5', 'Content-Encoding', 'gzip', 'server-timing', 'decode;dur=2']],
    ['happy: a repeated read header is kept each time (a repeated named header is garbled, not the first)', ['x-queue-time', '0.5', 'x-queue-time', '0.7'], ['x-queue-time', '0.5', 'x-queue-time', '0.7']],
    ['sad: names of a read length that are not read (x-queue-tim3, servr-timings)', ['x-queue-tim3', '1', 'servr-timings', 'a;dur=1', 'x-rout3', 'fallback'], []],
    ['sad: none read', ['Content-Type', 'application/json', 'Keep-Alive', 'timeout=5'], []],
  ])('%s', (_name, headers, kept) => {
    const r = keptAfterHeaders(headers);
    expect(r.slot).toEqual(kept);
    expect(r.info).toBe(r.slot); // autocannon holds the response's info until it ends: it holds the kept list, not the parser's
  });

  it('happy: Server-Timing off, it is not kept', () => {
    const off = compileTimings({ serverTiming: false, headers: {} }, undefined);
    expect(off.reads('Server-Timing')).toBe(false);
    expect(READER.reads('Server-Timing')).toBe(true);
    expect(READER.reads('X-QUEUE-TIME')).toBe(true);
    expect(READER.reads('content-type')).toBe(false);
  });

  it('happy: a response reads the same from the kept headers as from all of them, over generated header lists', () => {
    const seed = Date.now() % 100_000;
    console.log(`kept-headers property seed ${seed}`);
    const name = fc.constantFrom('Server-Timing', 'server-timing', 'x-queue-time', 'X-Queue-Time', 'x-route', 'X-ROUTE', 'Content-Type', 'Date', 'x-queue-tim3', 'Connection', 'Content-Encoding', 'x-other');
    const value = fc.constantFrom('fallback', 'primary', '0.5', '1e-3', 'garbled', 'queue;dur=1.5', 'decode;dur=2, queue;dur=3', 'a;dur=x', '');
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 10 }), fc.array(fc.tuple(name, value), { maxLength: 3 }), (pairs, trailerPairs) => {
        const all = pairs.flat();
        const trailers = trailerPairs.flat();
        const kept = keptAfterHeaders(all).slot ?? [];
        expect(READER.extract(kept, trailers)).toEqual(READER.extract(all, trailers));
      }),
      { numRuns: 1000, seed },
    );
  });
});
