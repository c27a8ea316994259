/**
 * Writes profiles/conversations/chat.jsonl: a small set of multi-turn conversations for
 * profiles/sessions.yaml, generated here from a fixed seed (no third-party text). The format is the
 * grammar in src/core/conversations.ts: one conversation a line, user turns only (each assistant
 * turn is the server's live reply), an optional `delay` (ms of think time) per turn.
 *
 *   npx tsx scripts/make-conversations.ts [--out FILE] [--count N] [--seed S]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng } from '../src/core/random.js';

const TOPICS = ['tides', 'bridges', 'volcanoes', 'sourdough', 'glaciers', 'comets', 'beekeeping', 'lighthouses', 'compilers', 'rivers', 'typefaces', 'orchards'];
const OPENERS = ['Explain how {t} work, briefly.', 'What should a beginner know about {t}?', 'Give me three facts about {t}.', 'Why do people find {t} interesting?'];
const FOLLOW_UPS = ['Can you say more about the second point?', 'Summarise that in one sentence.', 'What is a common misconception here?', 'How would you explain it to a child?', 'Give an example.', 'What changed in the last hundred years?'];

/** `count` conversations of 2 to 4 turns, each a function of the seed alone. */
export function conversations(count: number, seed: number): string[] {
  const rng = createRng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(rng() * xs.length))] as T;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const topic = pick(TOPICS);
    const turns: (string | { text: string; delay: number })[] = [pick(OPENERS).replace('{t}', topic)];
    const n = 2 + Math.floor(rng() * 3);
    for (let k = 1; k < n; k++) {
      const text = pick(FOLLOW_UPS);
      // every third follow-up carries its own think time (ms); the others use the phase's thinkTime
      turns.push(k % 3 === 0 ? { text, delay: 200 + Math.floor(rng() * 600) } : text);
    }
    lines.push(JSON.stringify({ session_id: `chat-${String(i + 1).padStart(3, '0')}`, turns }));
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('make-conversations.ts')) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' } } });
  const out = resolve(values.out ?? 'profiles/conversations/chat.jsonl');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${conversations(Number(values.count ?? 24), Number(values.seed ?? 15)).join('\n')}\n`);
  process.stdout.write(`wrote ${out}\n`);
}
