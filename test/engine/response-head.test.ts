/**
 * The response head read in one pass (src/engine/response-head.ts) against http-parser-js's own
 * reading: parsers fed the same bytes cut into the same reads must call back with the same values
 * in the same order, return the same from every read and be left in the same state after it.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { readHeaderBlocks } from '../../src/engine/header-block.js';
import { cut } from './reads.js';
import { readResponseHeads, refuseBadLengths } from '../../src/engine/response-head.js';

const require = createRequire(import.meta.url);
type Parser = Record<number | string, unknown> & { execute(b: Buffer): unknown; consumeLine(): unknown };
const { HTTPParser } = require('http-parser-js') as { HTTPParser: (new (t: unknown) => Parser) & { RESPONSE: unknown; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number } };

type Setup = 'parser' | 'blocks' | 'heads';

/** What a parser says about the reads: every callback, every execute result and its state after each read, as text. */
function transcript(reads: Buffer[], setup: Setup, skipBody?: unknown): string[] {
  const p = new HTTPParser(HTTPParser.RESPONSE);
  const log: string[] = [];
  p[HTTPParser.kOnHeaders] = (t: string[]) => void log.push(`trailers ${JSON.stringify(t)}`);
  p[HTTPParser.kOnHeadersComplete] = (info: Record<string, unknown>) => {
    const { headers, statusCode, statusMessage, versionMajor, versionMinor, shouldKeepAlive, upgrade } = info;
    log.push(`headers ${JSON.stringify({ headers, statusCode, statusMessage, versionMajor, versionMinor, shouldKeepAlive, upgrade, state: p.state, offset: p.offset, user: p.isUserCall })}`);
    return skipBody;
  };
  p[HTTPParser.kOnBody] = (b: Buffer, s: number, l: number) => void log.push(`body ${b.subarray(s, s + l).toString('hex')}`);
  p[HTTPParser.kOnMessageComplete] = () => void log.push('complete');
  // on every parser, the reference too: without it a negative length has the parser loop for ever
  expect(refuseBadLengths(p)).toBe(true);
  if (setup !== 'parser') expect(readHeaderBlocks(p)).toBe(true);
  if (setup === 'heads') expect(readResponseHeads(p)).toBe(true);
  for (const r of reads) {
    const out = p.execute(r);
    log.push(out instanceof Error ? `error ${(out as Error & { code?: string }).code ?? out.message}` : `read ${String(out)}`);
    const { state, line, body_bytes, isChunked, connection, headerSize, hadError, isUserCall, trailers } = p;
    log.push(`state ${JSON.stringify({ state, line, body_bytes, isChunked, connection, headerSize, hadError, isUserCall, trailers })}`);
  }
  return log;
}

// what servers send and what they should not: high bytes (0x8a, 0x8d decode as LF and CR in
// 'ascii'; 0xb2 as "2"), bare CRs, controls, tabs and spaces at both ends, continuation lines,
// lines without a colon, framing headers in any case, repeated or garbled
const byteArb = fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.constantFrom(0x20, 0x09, 0x0d, 0x8a, 0x8d, 0xb2, 0xe9, 0x3a, 0x00, 0x7f, 0x0a));
const nameArb = fc.oneof(
  fc.constantFrom('Content-Type', 'content-length', 'CONTENT-LENGTH', 'Server-Timing', 'Connection', 'connection', 'Keep-Alive', 'x-route', 'Upgrade', 'Transfer-Encoding', 'Date'),
  fc.array(byteArb, { minLength: 0, maxLength: 6 }).map((b) => Buffer.from(b).toString('latin1')),
);
const valueArb = fc.oneof(
  fc.constantFrom('application/json', 'keep-alive', 'Close', 'close', 'upgrade', 'timeout=5', 'queue;dur=1.5', 'chunked', ' padded\t', '', '  ', '12', '0', '1e1', '0x1', '-5', '1.5', '-0'),
  fc.array(byteArb, { maxLength: 12 }).map((b) => Buffer.from(b).toString('latin1')),
);
const lineArb = fc.oneof(
  fc.tuple(nameArb, fc.constantFrom(':', ': ', ':\t', ' : ', ':  '), valueArb).map(([n, c, v]) => n + c + v),
  valueArb.map((v) => ` ${v}`), // a continuation line
  valueArb, // a line without a colon, or anything
);
const eolArb = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r\r\n');
const statusArb = fc.oneof(
  fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.0 200 OK', 'HTTP/1.1 503 Service Unavailable', 'HTTP/1.1 304 Not Modified', 'HTTP/1.1 100 Continue', 'HTTP/1.1 200', 'HTTP/1.1 200 ', 'HTTP/1.1 2000', 'HTTP/1.1 099 x', 'HTTP/1.1 \xb22\xb20 OK', 'HTTP/2 200 OK', 'http/1.1 200 OK', 'HTTP/1.1 200  two  spaces '),
  fc.tuple(fc.constantFrom('HTTP/1.1 200 ', 'HTTP/1.1 404 '), fc.array(byteArb, { maxLength: 8 })).map(([s, b]) => s + Buffer.from(b).toString('latin1')),
);
const bodyArb = fc.oneof(
  fc.string({ maxLength: 12 }).map((b) => ({ framing: `Content-Length: ${Buffer.byteLength(b)}\r\n`, body: b })),
  fc.string({ maxLength: 12 }).map((b) => ({ framing: `content-length: ${Buffer.byteLength(b)}\r\nContent-Length: ${Buffer.byteLength(b)}\r\n`, body: b })),
  fc.constant({ framing: 'Content-Length: 0\r\n', body: '' }),
  fc.constantFrom('-3', '1.5', 'abc', ' 2 ').map((n) => ({ framing: `Content-Length: ${n}\r\n`, body: 'abc' })),
  fc.constantFrom('-3', '1.5').map((n) => ({ framing: 'Transfer-Encoding: chunked\r\n', body: `${n}\r\nabc\r\n0\r\n\r\n` })),
  fc.array(fc.string({ minLength: 1, maxLength: 5 }), { maxLength: 3 }).map((parts) => ({ framing: 'Transfer-Encoding: chunked\r\n', body: `${parts.map((s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`).join('')}0\r\nx-trailer: t\r\n\r\n` })),
  fc.constant({ framing: '', body: '' }),
);
const responseArb = fc
  .tuple(statusArb, eolArb, fc.array(fc.tuple(lineArb, eolArb), { maxLength: 8 }), bodyArb, fc.boolean(), eolArb)
  .map(([status, eol, lines, { framing, body }, framingFirst, last]) => {
    const rest = lines.map(([l, e]) => l + e).join('');
    return Buffer.from(`${status}${eol}${framingFirst ? framing + rest : rest + framing}${last}${body}`, 'latin1');
  });

describe('response heads read in one pass', () => {
  it('happy: the same callbacks, results and parser state as http-parser-js, over generated responses in random reads', () => {
    const seed = Date.now() % 100_000;
    console.log(`response-head property seed ${seed}`);
    fc.assert(
      fc.property(fc.array(responseArb, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom(undefined, undefined, 0, 1, 2, true), (responses, points, skip) => {
        const reads = cut(Buffer.concat(responses), points);
        const own = transcript(reads, 'parser', skip);
        expect(transcript(reads, 'heads', skip)).toEqual(own);
        expect(transcript(reads, 'blocks', skip)).toEqual(own);
      }),
      { numRuns: 3000, seed },
    );
  });

  it.each<[string, string]>([
    ["happy: the sim's response, whole in one read", 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nx-route: primary\r\nserver-timing: queue;dur=0.118, prefill;dur=1.000, decode;dur=0.000\r\nDate: Mon, 07 Dec 2026 11:01:44 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n{}'],
    ['happy: two responses in one read, the second cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 503 Busy\r\nContent-Length: 3\r\nConnection: close\r\n\r\nab'],
    ['happy: bare LF line ends and blanks around values', 'HTTP/1.1 200 OK\nContent-Length: 1\nx-a:\t b \t\n\nz'],
    ['happy: Connection values are joined lower-cased, as the parser joins them', 'HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nCONNECTION: Close\r\nContent-Length: 0\r\n\r\n'],
    ['sad: a CR inside a header line is the parser\'s error', 'HTTP/1.1 200 OK\r\nx-a: o\rne\r\nContent-Length: 0\r\n\r\n'],
    ['sad: a CR inside the reason phrase is the parser\'s error', 'HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n'],
    ['sad: two Content-Lengths that differ are the parser\'s error', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    ['sad: a continuation line is the parser\'s to join', 'HTTP/1.1 200 OK\r\nx-a: one\r\n two\r\nContent-Length: 0\r\n\r\n'],
    ['sad: no Content-Length: the body runs to the connection\'s end', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n\r\nabc'],
    ['sad: a garbled status line is the parser\'s error', 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n'],
  ])('%s', (_l, text) => {
    const bytes = Buffer.from(text, 'latin1');
    expect(transcript([bytes], 'heads')).toEqual(transcript([bytes], 'parser'));
    const bytewise = [...bytes].map((b) => Buffer.from([b]));
    expect(transcript(bytewise, 'heads')).toEqual(transcript(bytewise, 'parser'));
  });

  it('happy: a plain head in one read is read without the parser reading a line', () => {
    const p = new HTTPParser(HTTPParser.RESPONSE);
    let lines = 0;
    const own = p.consumeLine;
    p.consumeLine = function (this: unknown) {
      lines++;
      return own.call(this);
    };
    let headers: string[] = [];
    let status = 0;
    p[HTTPParser.kOnHeadersComplete] = (info: { headers: string[]; statusCode: number }) => {
      headers = info.headers;
      status = info.statusCode;
    };
    p[HTTPParser.kOnMessageComplete] = () => {};
    readResponseHeads(p);
    p.execute(Buffer.from('HTTP/1.1 201 Created\r\nx-a: 1\r\nContent-Length: 0\r\nx-c: 3\r\n\r\n'));
    expect({ headers, status, lines }).toEqual({ headers: ['x-a', '1', 'Content-Length', '0', 'x-c', '3'], status: 201, lines: 0 });
  });

  it.each<[string, string]>([
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabcdef'],
    ['a fractional Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1.5\r\n\r\nabcdef'],
    ['a negative chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n'],
  ])('sad: %s is the parser\'s error, from the read that would use it, and the parser stops there', (_l, text) => {
    const p = new HTTPParser(HTTPParser.RESPONSE);
    let calls = 0;
    p[HTTPParser.kOnHeadersComplete] = () => void calls++;
    p[HTTPParser.kOnBody] = () => void calls++;
    p[HTTPParser.kOnMessageComplete] = () => void calls++;
    refuseBadLengths(p);
    readResponseHeads(p);
    const out = p.execute(Buffer.from(text, 'latin1')) as Error & { code?: string };
    expect(out).toBeInstanceOf(Error);
    expect(out.code).toBe('HPE_INVALID_CONTENT_LENGTH');
    expect(calls).toBe(1); // the headers, then nothing read again
  });

  it('sad: a parser without the methods it relies on is left alone', () => {
    expect(refuseBadLengths({ BODY_SIZED: 1 })).toBe(false);
    const p = { RESPONSE_LINE: 1 };
    expect(readResponseHeads(p)).toBe(false);
    expect(p.RESPONSE_LINE).toBe(1);
  });
});
