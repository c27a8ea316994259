/**
 * The body of each trace request, by its global schedule index, so request i carries trace record i
 * however the schedule is split (shards, --workers: each sender sends indices ≡ w mod N, and every
 * sender computes the same whole plan). Indices count the open phases' requests in phase order, as
 * `arrivals` (schedule.ts) numbers them: phase j's request k is index first(j) + k.
 *
 * Bodies can be built ahead (`prepare`, called by the driver when it is idle after a send), so a
 * burst of long prompts at one timestamp costs its sends no prompt building: at(i) takes a prepared
 * body when there is one. At most LOOKAHEAD bodies are held.
 */
import type { Plan } from '../schedule.js';
import type { Shard } from '../shard.js';
import type { Tokenizer } from '../tokenizer.js';
import { TracePrompts } from './prompt.js';

const LOOKAHEAD = 16;

export interface TraceBodies {
  /** the body of the request with this index, or undefined when it is no trace request */
  at(index: number): string | undefined;
  /** build the bodies of the next few trace requests of this sender after `index` */
  prepare(index: number): void;
  /** bodies at() found built ahead, and those it had to build on the send path */
  readonly counts: { ahead: number; onSend: number };
}

/** undefined when the plan has no trace phase. `shard`: the indices this sender sends (default: all). */
export function traceBodies(whole: Plan, body: unknown, seed: number, tokenizer: Tokenizer, shard?: Shard): TraceBodies | undefined {
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
  const last = spans[spans.length - 1]!.end;
  const stride = shard?.count ?? 1;
  const build = (index: number): string | undefined => {
    const s = spans.find((x) => index >= x.first && index < x.end);
    return s?.build(index - s.first, index);
  };
  const ready = new Map<number, string>();
  // the highest index asked for: a body at or below it is never asked again. A burst sends several
  // requests before the first one's prepare runs; without this, that prepare would build again the
  // bodies its burst had just taken, they would stay in `ready` for good, and after LOOKAHEAD of them
  // nothing more would be prepared: every later body would be built on the send path.
  let asked = -1;
  const counts = { ahead: 0, onSend: 0 };
  return {
    counts,
    at(index) {
      if (index > asked) asked = index;
      const b = ready.get(index);
      if (b === undefined) {
        const built = build(index);
        if (built !== undefined) counts.onSend++;
        return built;
      }
      ready.delete(index);
      counts.ahead++;
      return b;
    },
    prepare(index) {
      for (const k of ready.keys()) if (k <= asked) ready.delete(k);
      // this sender's next index above both (at() and prepare() see only this sender's indices, ≡ mod stride)
      let i = Math.max(index, asked) + stride;
      while (i < last && ready.size < LOOKAHEAD) {
        const s = spans.find((x) => i < x.end);
        if (!s) break;
        if (i < s.first) {
          i += Math.ceil((s.first - i) / stride) * stride; // the class's first index in the next trace phase
          continue;
        }
        if (!ready.has(i)) ready.set(i, s.build(i - s.first, i));
        i += stride;
      }
    },
  };
}
