/**
 * The body of each trace request, by its global schedule index, so request i carries trace record i
 * however the schedule is split (shards, --workers: each sender sends indices ≡ w mod N, and every
 * sender computes the same whole plan). Indices count the open phases' requests in phase order, as
 * `arrivals` (schedule.ts) numbers them: phase j's request k is index first(j) + k.
 */
import type { Plan } from '../schedule.js';
import type { Tokenizer } from '../tokenizer.js';
import { TracePrompts } from './prompt.js';

/** undefined when the plan has no trace phase; else index → body (undefined for a non-trace request). */
export function traceBodyAt(whole: Plan, body: unknown, seed: number, tokenizer: Tokenizer): ((index: number) => string | undefined) | undefined {
  const spans: { first: number; end: number; build: (k: number, index: number) => string }[] = [];
  let first = 0;
  for (const p of whole.phases) {
    const replay = p.replay;
    if (replay) {
      const prompts = new TracePrompts({ tokenizer, seed, blockTokens: replay.blockTokens, exactOutput: p.trace?.exactOutput === true });
      spans.push({ first, end: first + p.requests, build: (k, index) => prompts.body(body, replay.requests[k]!, index) });
    }
    first += p.requests;
  }
  if (spans.length === 0) return undefined;
  return (index) => {
    for (const s of spans) if (index >= s.first && index < s.end) return s.build(index - s.first, index);
    return undefined;
  };
}
