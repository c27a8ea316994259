/**
 * Writes the example traces in profiles/traces/, one per format, generated here from a seed (no
 * third-party data copied): `npx tsx scripts/make-traces.ts [--seed N]`. The same seed writes the
 * same bytes, so the committed files can be checked by running it again (test/scripts/make-traces.test.ts).
 *
 * - mooncake.jsonl: 60 requests over ~20 s, with bursts (several records at one timestamp) and
 *   three shared system-prompt prefixes of two 512-token blocks;
 * - mooncake-shared.jsonl / mooncake-unshared.jsonl: the same 24 timestamps and lengths, once with
 *   each request's first two blocks shared by a group of requests, once with every block unique
 *   (the llama-server prefix-cache measurement);
 * - bailian.jsonl: chats of 1–3 turns (parent_chat_id links, 16-token blocks, timestamps in s);
 * - azure.csv: the Azure LLM inference trace 2023 columns (TIMESTAMP datetimes, 100 ns digits);
 * - burstgpt.csv: BurstGPT's columns, with a failed request (Response tokens 0) among them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRng, deriveSeed } from '../src/core/random.js';

const OUT = resolve(import.meta.dirname, '../profiles/traces');
const seedArg = process.argv.indexOf('--seed');
const SEED = seedArg >= 0 ? Number(process.argv[seedArg + 1]) : 15;

type Rng = () => number;
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const blocks = (tokens: number, size: number): number => Math.ceil(tokens / size);

/** ids 1… for shared prefixes, and a counter far above them for blocks of one request only */
function idSource(start: number): () => number {
  let next = start;
  return () => next++;
}

export function mooncake(seed: number): string {
  const rng = createRng(deriveSeed(seed, 1));
  const unique = idSource(1000);
  const lines: string[] = [];
  let t = 0;
  for (let i = 0; i < 60; ) {
    // a burst of 1–6 requests at one timestamp, then a gap of 50–700 ms
    const burst = rng() < 0.3 ? int(rng, 3, 6) : 1;
    for (let b = 0; b < burst && i < 60; b++, i++) {
      const group = int(rng, 0, 2); // three system prompts of two blocks each: ids 1–6
      const input = int(rng, 1100, 3000);
      const ids = [group * 2 + 1, group * 2 + 2];
      while (ids.length < blocks(input, 512)) ids.push(unique());
      lines.push(JSON.stringify({ timestamp: t, input_length: input, output_length: int(rng, 8, 64), hash_ids: ids }));
    }
    t += int(rng, 50, 700);
  }
  return `${lines.join('\n')}\n`;
}

/** The measurement pair: the same times and lengths; shared: blocks 0–1 by group of 8 requests. */
export function mooncakePair(seed: number): { shared: string; unshared: string } {
  const rng = createRng(deriveSeed(seed, 2));
  const sharedIds = idSource(1000);
  const uniqueIds = idSource(1);
  const shared: string[] = [];
  const unshared: string[] = [];
  let t = 0;
  for (let i = 0; i < 24; i++) {
    const input = int(rng, 1100, 1500); // three blocks: two shared, one of its own
    const output = int(rng, 4, 12);
    const group = Math.floor(i / 8);
    const s = [group * 2 + 1, group * 2 + 2];
    while (s.length < blocks(input, 512)) s.push(sharedIds());
    const u: number[] = [];
    while (u.length < blocks(input, 512)) u.push(uniqueIds());
    shared.push(JSON.stringify({ timestamp: t, input_length: input, output_length: output, hash_ids: s }));
    unshared.push(JSON.stringify({ timestamp: t, input_length: input, output_length: output, hash_ids: u }));
    t += int(rng, 400, 900);
  }
  return { shared: `${shared.join('\n')}\n`, unshared: `${unshared.join('\n')}\n` };
}

export function bailian(seed: number): string {
  const rng = createRng(deriveSeed(seed, 3));
  const unique = idSource(100);
  const rows: { timestamp: number; line: string }[] = [];
  let chatId = 0;
  for (let c = 0; c < 12; c++) {
    let t = Math.round(rng() * 20_000) / 1000; // s, ms precision
    let parent = -1;
    let history: number[] = [];
    let input = int(rng, 40, 300);
    const turns = int(rng, 1, 3);
    for (let turn = 1; turn <= turns; turn++) {
      const ids = [...history];
      while (ids.length < blocks(input, 16)) ids.push(unique());
      const output = int(rng, 10, 120);
      const id = chatId++;
      rows.push({ timestamp: t, line: JSON.stringify({ chat_id: id, parent_chat_id: parent, timestamp: t, input_length: input, output_length: output, type: 'text', turn, hash_ids: ids }) });
      // the next turn carries this one (whole blocks of it) and the reply, a few seconds later
      history = ids.slice(0, Math.floor(input / 16));
      input = input + output + int(rng, 10, 80);
      parent = id;
      t = Math.round((t + 2 + rng() * 6) * 1000) / 1000;
    }
  }
  rows.sort((a, b) => a.timestamp - b.timestamp);
  return `${rows.map((r) => r.line).join('\n')}\n`;
}

export function azure(seed: number): string {
  const rng = createRng(deriveSeed(seed, 4));
  const lines = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
  let ticks = Date.UTC(2023, 10, 16, 18, 15, 46) * 10_000; // 100 ns ticks
  for (let i = 0; i < 40; i++) {
    const d = new Date(Math.floor(ticks / 10_000));
    const frac = String(ticks % 10_000_000).padStart(7, '0');
    const stamp = `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}.${frac}`;
    lines.push(`${stamp},${int(rng, 100, 4000)},${int(rng, 5, 400)}`);
    ticks += int(rng, 100, 6000) * 10_000 + int(rng, 0, 9999);
  }
  return `${lines.join('\n')}\n`;
}

export function burstgpt(seed: number): string {
  const rng = createRng(deriveSeed(seed, 5));
  const lines = ['Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type'];
  let t = 0;
  for (let i = 0; i < 40; i++) {
    const req = int(rng, 20, 1500);
    const res = i === 17 ? 0 : int(rng, 5, 500); // one failed request, as BurstGPT_1.csv has them
    lines.push(`${t},${rng() < 0.7 ? 'ChatGPT' : 'GPT-4'},${req},${res},${req + res},${rng() < 0.8 ? 'Conversation log' : 'API log'}`);
    t += rng() < 0.25 ? 0 : int(rng, 0, 2); // whole seconds, several requests in some of them
  }
  return `${lines.join('\n')}\n`;
}

export function allTraces(seed: number): Record<string, string> {
  const pair = mooncakePair(seed);
  return {
    'mooncake.jsonl': mooncake(seed),
    'mooncake-shared.jsonl': pair.shared,
    'mooncake-unshared.jsonl': pair.unshared,
    'bailian.jsonl': bailian(seed),
    'azure.csv': azure(seed),
    'burstgpt.csv': burstgpt(seed),
  };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  mkdirSync(OUT, { recursive: true });
  for (const [name, text] of Object.entries(allTraces(SEED))) {
    writeFileSync(join(OUT, name), text);
    console.log(`${join('profiles/traces', name)}: ${text.trimEnd().split('\n').length} lines`);
  }
}
