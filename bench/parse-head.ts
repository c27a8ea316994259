/**
 * CPU per response of http-parser-js reading the sim's closed-model response (whole in one read),
 * as autocannon's client has it in budgetgate: with the one-pass header block (header-block.ts)
 * alone, and with the one-pass head (response-head.ts) too. Both in this process, alternated:
 *
 *   node --import tsx bench/parse-head.ts
 */
import { createRequire } from 'node:module';
import { readHeaderBlocks } from '../src/engine/header-block.js';
import { readResponseHeads, refuseBadLengths } from '../src/engine/response-head.js';

const require = createRequire(import.meta.url);
type Parser = Record<number, unknown> & { execute(b: Buffer): unknown };
const { HTTPParser } = require('http-parser-js') as { HTTPParser: (new (t: unknown) => Parser) & { RESPONSE: unknown; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number } };

const body = '{"id":"chatcmpl-sim-1","object":"chat.completion","created":1796641304,"model":"sim","choices":[{"index":0,"message":{"role":"assistant","content":"lorem ipsum dolor sit amet conse"},"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":8,"total_tokens":9}}';
const response = Buffer.from(
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-route: primary\r\nx-queue-time: 0.118\r\n` +
    'server-timing: queue;dur=0.118, prefill;dur=1.000, decode;dur=0.000\r\nDate: Mon, 07 Dec 2026 11:01:44 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n' +
    body,
);

function parser(heads: boolean): Parser {
  const p = new HTTPParser(HTTPParser.RESPONSE);
  p[HTTPParser.kOnHeadersComplete] = () => {};
  p[HTTPParser.kOnBody] = () => {};
  p[HTTPParser.kOnMessageComplete] = () => {};
  refuseBadLengths(p);
  readHeaderBlocks(p);
  if (heads) readResponseHeads(p);
  return p;
}

/** the best of 5 rounds of N responses, ns per response */
function measure(p: Parser, n = 200_000): number {
  for (let i = 0; i < 20_000; i++) p.execute(response);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) p.execute(response);
    const c = process.cpuUsage(c0);
    best = Math.min(best, ((c.user + c.system) * 1000) / n);
  }
  return best;
}

const blocks = parser(false);
const heads = parser(true);
for (let round = 1; round <= 2; round++) {
  console.log(`round ${round}: header blocks ${measure(blocks).toFixed(0)} ns, whole heads ${measure(heads).toFixed(0)} ns per response`);
}
