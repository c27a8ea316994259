/**
 * CPU per SSE event of the stream meter (core/stream.ts), without sockets: N streams of the shapes
 * real servers send are pushed as the engine pushes them (one Buffer per read), and the CPU time of
 * this thread (process.cpuUsage: user + system, which a loaded machine inflates far less than wall
 * time) is divided by the events pushed. A raw scan (indexOf of the content marker per chunk, what
 * bench (g)'s raw reader does) is measured beside it as the floor.
 *
 *   npx tsx bench/stream-meter.ts              # 2,000 streams of 100 tokens per shape, best of 3
 *   npx tsx bench/stream-meter.ts 500 5        # 500 streams, best of 5 rounds
 *   npx tsx bench/stream-meter.ts 2000 3 ../other/src/core/stream.ts   # beside another meter, interleaved
 *
 * Shapes: the sim's chat chunks (one event per read), vLLM-style chat chunks, the same with 8 events
 * per read (a client that fell behind), and completions. Each stream ends with a usage chunk and
 * `data: [DONE]`, as with `stream_options.include_usage`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createStreamMeter, type StreamKind, type StreamMeter } from '../src/core/stream.js';

const TOKENS = 100;

interface Shape {
  name: string;
  kind: StreamKind;
  /** the reads of one stream */
  reads: Buffer[];
  events: number;
}

function sseShape(name: string, kind: StreamKind, event: (i: number) => string, last: string, perRead: number): Shape {
  const events: string[] = [];
  for (let i = 0; i < TOKENS; i++) events.push(`data: ${event(i)}\n\n`);
  events.push(`data: ${last}\n\n`, 'data: [DONE]\n\n');
  const reads: Buffer[] = [];
  for (let i = 0; i < events.length; i += perRead) reads.push(Buffer.from(events.slice(i, i + perRead).join('')));
  return { name, kind, reads, events: events.length };
}

const word = (i: number): string => JSON.stringify(['Hel', 'lo', ' wor', 'ld', ' é', '😀', ' the'][i % 7]);
const head = '{"id":"chatcmpl-sim-1","object":"chat.completion.chunk","created":1764633600,"model":"sim"';
const simChat = (i: number): string => `${head},"choices":[{"index":0,"delta":{"content":${word(i)}},"finish_reason":null}]}`;
const vllm = (i: number): string =>
  `{"id":"chatcmpl-7f3a","object":"chat.completion.chunk","created":1764633600,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":${word(i)}},"logprobs":null,"finish_reason":null}]}`;
const completion = (i: number): string => `{"id":"cmpl-1","object":"text_completion","created":1764633600,"model":"sim","choices":[{"index":0,"text":${word(i)},"logprobs":null,"finish_reason":null}]}`;
const usage = `${head},"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":${TOKENS},"total_tokens":${TOKENS + 3}}}`;

const SHAPES: Shape[] = [
  sseShape('sim chat, 1 event/read', 'chat', simChat, usage, 1),
  sseShape('vLLM chat, 1 event/read', 'chat', vllm, usage, 1),
  sseShape('vLLM chat, 8 events/read', 'chat', vllm, usage, 8),
  sseShape('completions, 1 event/read', 'completions', completion, usage.replace('"choices":[]', '"choices":[]'), 1),
];

const MARKER: Record<StreamKind, Buffer> = { chat: Buffer.from('"content":'), completions: Buffer.from('"text":') };

/** CPU µs of `fn`, run once. */
function cpuUs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

type Create = (kind: StreamKind) => StreamMeter;

function meterRound(create: Create, shape: Shape, streams: number): number {
  let sink = 0;
  const us = cpuUs(() => {
    for (let s = 0; s < streams; s++) {
      const m = create(shape.kind);
      let t = s;
      for (const r of shape.reads) m.push(r, (t += 20));
      const res = m.finish(t);
      sink += res.tokens + res.itl.length;
    }
  });
  if (sink !== streams * (shape.events - 2 + TOKENS - 1)) throw new Error(`${shape.name}: the meter counted ${sink}, expected ${streams * (shape.events - 2 + TOKENS - 1)}`);
  return us;
}

function rawRound(shape: Shape, streams: number): number {
  let sink = 0;
  const marker = MARKER[shape.kind];
  const us = cpuUs(() => {
    for (let s = 0; s < streams; s++) {
      for (const r of shape.reads) for (let i = r.indexOf(marker); i >= 0; i = r.indexOf(marker, i + marker.length)) sink++;
    }
  });
  if (sink === 0) throw new Error('raw scan found nothing');
  return us;
}

const streams = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const otherPath = process.argv[4];
const other = otherPath ? ((await import(pathToFileURL(resolve(otherPath)).href)) as { createStreamMeter: Create }).createStreamMeter : undefined;
console.log(`stream meter CPU per event (node ${process.version}), ${streams} streams × ${TOKENS + 2} events per shape, best of ${rounds}`);
console.log(['shape'.padEnd(28), 'meter ns/event', ...(other ? ['other ns/event', 'meter ÷ other'] : []), 'raw scan ns/event', 'meter ÷ raw'].join('  '));
for (const shape of SHAPES) {
  meterRound(createStreamMeter, shape, Math.min(streams, 200)); // warm the JIT
  if (other) meterRound(other, shape, Math.min(streams, 200));
  let best = Infinity;
  let bestOther = Infinity;
  let bestRaw = Infinity;
  for (let r = 0; r < rounds; r++) {
    best = Math.min(best, meterRound(createStreamMeter, shape, streams));
    if (other) bestOther = Math.min(bestOther, meterRound(other, shape, streams));
    bestRaw = Math.min(bestRaw, rawRound(shape, streams));
  }
  const n = streams * shape.events;
  const ns = (us: number): number => (us * 1000) / n;
  const cells = [shape.name.padEnd(28), ns(best).toFixed(0).padStart(14)];
  if (other) cells.push(ns(bestOther).toFixed(0).padStart(14), (best / bestOther).toFixed(2).padStart(13));
  cells.push(ns(bestRaw).toFixed(0).padStart(17), (best / bestRaw).toFixed(1).padStart(11));
  console.log(cells.join('  '));
}
