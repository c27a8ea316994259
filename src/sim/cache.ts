/**
 * The simulator's two caches, both off unless asked for (SimOptions `responseCache`/`prefixCache`,
 * or per request with the header `x-sim-cache-enabled: true`, after Helicone's `Helicone-Cache-Enabled`):
 *
 * Response cache (a gateway's exact-match cache: Cloudflare AI Gateway, Portkey, Helicone): the
 * last `capacity` distinct request bodies per endpoint, least recently used evicted. A request whose
 * body is byte-identical to a cached one is answered from it in `hitMs`, without the model, marked
 * `x-sim-cache: HIT` (a miss says `MISS`); the stored answer, usage included, is replayed as it was.
 * An answer enters the cache when it completes, so a duplicate still in flight misses.
 *
 * Prefix cache (vLLM's automatic prefix caching, llama.cpp's cache_prompt): the prompt texts of the
 * last `capacity` requests. A request's cached tokens are the longest common leading part of its
 * prompt with any of them, in whole blocks of BLOCK_TOKENS tokens (vLLM caches whole KV blocks, 16
 * tokens by default), never the whole prompt (the last token is always computed):
 *
 *   cached = min(⌊lcp_chars / 4 / 16⌋ · 16, P − 1)     (0 when P ≤ 1)
 *
 * reported as usage.prompt_tokens_details.cached_tokens, and prefill costs
 * prefillBaseMs + prefillMsPerToken · (P − cached): proportionally less.
 */
const CHARS_PER_TOKEN = 4;

export const BLOCK_TOKENS = 16;
export const CACHE_REQUEST_HEADER = 'x-sim-cache-enabled';
export const CACHE_RESPONSE_HEADER = 'x-sim-cache';

/** A least-recently-used map of at most `capacity` entries. */
export class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }
  values(): IterableIterator<V> {
    return this.map.values();
  }
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** The prompt texts seen lately, and how much of a new one they already hold (see the module comment). */
export class PrefixCache {
  private readonly recent: Lru<string>;
  constructor(capacity: number) {
    this.recent = new Lru(capacity);
  }

  /** Cached tokens of `text` (of `promptTokens` tokens), then remembers it. */
  lookup(text: string, promptTokens: number): number {
    let best = 0;
    for (const t of this.recent.values()) best = Math.max(best, commonPrefix(text, t));
    this.recent.set(text, text);
    if (promptTokens <= 1) return 0;
    // whole tokens only: the sim counts a token per CHARS_PER_TOKEN characters (model.ts estimateTokens)
    const blocks = Math.floor(Math.floor(best / CHARS_PER_TOKEN) / BLOCK_TOKENS);
    return Math.min(blocks * BLOCK_TOKENS, promptTokens - 1);
  }
}
