/**
 * The header block read in one pass (src/engine/header-block.ts) against http-parser-js's own
 * line-by-line reading: two parsers, one with it and one without, fed the same bytes cut into the
 * same reads, must call back with the same values in the same order and return the same from every
 * read (counts and errors alike).
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { readHeaderBlocks } from '../../src/engine/header-block.js';
import { cut } from './reads.js';
import { refuseBadLengths } from '../../src/engine/response-head.js';

const require = createRequire(import.meta.url);
type Parser = Record<number, unknown> & { execute(b: Buffer): unknown };
const { HTTPParser } = require('http-parser-js') as { HTTPParser: (new (t: unknown) => Parser) & { RESPONSE: unknown; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number } };

/** What a parser says about the reads: every callback and every execute result, as text. */
function transcript(reads: Buffer[], blocks: boolean): string[] {
  const p = new HTTPParser(HTTPParser.RESPONSE);
  const log: string[] = [];
  p[HTTPParser.kOnHeaders] = (t: string[]) => void log.push(`trailers ${JSON.stringify(t)}`);
  p[HTTPParser.kOnHeadersComplete] = (info: Record<string, unknown>) => {
    const { headers, statusCode, statusMessage, versionMajor, versionMinor, shouldKeepAlive, upgrade } = info;
    log.push(`headers ${JSON.stringify({ headers, statusCode, statusMessage, versionMajor, versionMinor, shouldKeepAlive, upgrade })}`);
  };
  p[HTTPParser.kOnBody] = (b: Buffer, s: number, l: number) => void log.push(`body ${b.subarray(s, s + l).toString('hex')}`);
  p[HTTPParser.kOnMessageComplete] = () => void log.push('complete');
  // on both parsers: without it a negative length (a generated `content-length: -5`) has the parser loop for ever
  refuseBadLengths(p);
  if (blocks) expect(readHeaderBlocks(p)).toBe(true);
  for (const r of reads) {
    const out = p.execute(r);
    log.push(out instanceof Error ? `error ${(out as Error & { code?: string }).code ?? out.message}` : `read ${String(out)}`);
  }
  return log;
}

// header text as servers send it and as they should not: high bytes (0x8a and 0x8d decode as LF and
// CR in 'ascii'), bare CRs, tabs and spaces at both ends, continuation lines, lines without a colon
const byteArb = fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.constantFrom(0x20, 0x09, 0x0d, 0x8a, 0x8d, 0xe9, 0x3a, 0x00));
const nameArb = fc.oneof(fc.constantFrom('Content-Type', 'content-length', 'Server-Timing', 'Connection', 'Keep-Alive', 'x-route', 'Upgrade', 'Transfer-Encoding'), fc.array(byteArb, { minLength: 0, maxLength: 6 }).map((b) => Buffer.from(b).toString('latin1')));
const valueArb = fc.oneof(fc.constantFrom('application/json', 'keep-alive', 'close', 'timeout=5', 'queue;dur=1.5', 'chunked', ' padded\t'), fc.array(byteArb, { maxLength: 12 }).map((b) => Buffer.from(b).toString('latin1')));
const lineArb = fc.oneof(
  fc.tuple(nameArb, fc.constantFrom(':', ': ', ':\t', ' : '), valueArb).map(([n, c, v]) => n + c + v),
  valueArb.map((v) => ` ${v}`), // a continuation line
  valueArb, // a line without a colon, or anything
);
const eolArb = fc.constantFrom('\r\n', '\r\n', '\n', '\r\r\n');
const bodyArb = fc.oneof(
  fc.string({ maxLength: 12 }).map((b) => ({ framing: `Content-Length: ${Buffer.byteLength(b)}\r\n`, body: b })),
  fc.array(fc.string({ minLength: 1, maxLength: 5 }), { maxLength: 3 }).map((parts) => ({ framing: 'Transfer-Encoding: chunked\r\n', body: `${parts.map((s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`).join('')}0\r\nx-trailer: t\r\n\r\n` })),
);
const responseArb = fc
  .tuple(fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.0 200 OK', 'HTTP/1.1 503 Busy'), fc.array(fc.tuple(lineArb, eolArb), { maxLength: 8 }), bodyArb, eolArb)
  .map(([status, lines, { framing, body }, last]) => Buffer.from(`${status}\r\n${framing}${lines.map(([l, e]) => l + e).join('')}${last}${body}`, 'latin1'));

describe('header blocks read in one pass', () => {
  it('happy: the same callbacks and results as http-parser-js line by line, over generated responses in random reads', () => {
    const seed = Date.now() % 100_000;
    console.log(`header-block property seed ${seed}`);
    fc.assert(
      fc.property(fc.array(responseArb, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (responses, points) => {
        const reads = cut(Buffer.concat(responses), points);
        expect(transcript(reads, true)).toEqual(transcript(reads, false));
      }),
      { numRuns: 2000, seed },
    );
  });

  it.each<[string, string]>([
    ['happy: the sim\'s response, whole in one read', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nserver-timing: queue;dur=0.012, prefill;dur=1.002\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}'],
    ['happy: bare LF line ends', 'HTTP/1.1 200 OK\nContent-Length: 1\nx-a: b\n\nz'],
    ['happy: a continuation line joins the value before it', 'HTTP/1.1 200 OK\r\nx-a: one\r\n two\r\nContent-Length: 0\r\n\r\n'],
    ['sad: a CR inside a header line is the parser\'s error', 'HTTP/1.1 200 OK\r\nx-a: o\rne\r\nContent-Length: 0\r\n\r\n'],
    ['sad: 0x8a inside a value decodes as a line feed but does not end the line', 'HTTP/1.1 200 OK\r\nx-a: o\x8ane\r\nContent-Length: 0\r\n\r\n'],
    ['sad: a line of one 0x8d is an empty line once decoded', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\x8d\nx-late: 1\r\n\r\n'],
  ])('%s', (_l, text) => {
    const bytes = Buffer.from(text, 'latin1');
    expect(transcript([bytes], true)).toEqual(transcript([bytes], false));
    // cut after every byte: each header line then spans reads, the parser's own reading
    const bytewise = [...bytes].map((b) => Buffer.from([b]));
    expect(transcript(bytewise, true)).toEqual(transcript(bytewise, false));
  });

  it('happy: a whole block in one read is read in one pass: the parser reads only its status line and the empty line itself', () => {
    const p = new HTTPParser(HTTPParser.RESPONSE) as Parser & { consumeLine(): unknown };
    let lines = 0;
    const own = p.consumeLine;
    p.consumeLine = function (this: unknown) {
      lines++;
      return own.call(this);
    };
    let headers: string[] = [];
    p[HTTPParser.kOnHeadersComplete] = (info: { headers: string[] }) => void (headers = info.headers);
    p[HTTPParser.kOnMessageComplete] = () => {};
    readHeaderBlocks(p);
    p.execute(Buffer.from('HTTP/1.1 204 No Content\r\nx-a: 1\r\nx-b: 2\r\nx-c: 3\r\n\r\n'));
    expect(headers).toEqual(['x-a', '1', 'x-b', '2', 'x-c', '3']);
    expect(lines).toBe(2);
  });

  it('sad: a parser without the methods it relies on is left alone', () => {
    const p = { HEADER: 1 };
    expect(readHeaderBlocks(p)).toBe(false);
    expect(p.HEADER).toBe(1);
  });
});
