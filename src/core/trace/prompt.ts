/**
 * Prompts that honour a trace: `input_length` tokens of text (counted by the profile's tokenizer),
 * built block by block from the record's `hash_ids`, so a prefix cache sees exactly the trace's
 * reuse; `output_length` as max_tokens.
 *
 * Text: a request with hash_ids h₀ … h_{m−1} (B tokens per block, from the format) and input length
 * L is the concatenation of
 *
 *   block(h₀, B) · block(h₁, B) · … · block(h_j, L − j·B)   (blocks while tokens remain; the last may be partial)
 *   · tail(i, L − m·B)                                       (when the blocks hold fewer than L tokens)
 *
 * each made of single-token words of the tokenizer (tokenizer.ts: n such words are n tokens), so the
 * prompt is exactly L tokens. block(h, n) is the first n words of one fixed word sequence of h, the
 * same in every request: two requests with the same leading ids share that text, word for word. A
 * partial block is a prefix of the full one, as the trace's tokens would be.
 *
 * Different blocks never share text: a block's words start with its code c written in base V (V =
 * the tokenizer's word count), least significant digit first, in K = ⌈54·log_V 2⌉ words,
 *
 *   c = 2·h (a block of id h)   or   c = 2·i + 1 (the tail of request i, its schedule index)
 *
 * so two different blocks (or a block and a tail) differ within their first K words, in the first
 * word already unless their codes are ≡ mod V. (Only a block cut to fewer than K tokens can then
 * match another's first words.) The rest of a block's words are drawn from a stream seeded by
 * (profile seed, c). A record without hash_ids (Azure, BurstGPT) is all tail: no two requests share a
 * leading word by design.
 */
import { applyPrompt } from '../prompts.js';
import type { TraceRequest } from '../profile-types.js';
import { createRng, deriveSeed } from '../random.js';
import type { Tokenizer } from '../tokenizer.js';

export interface TracePromptOptions {
  tokenizer: Tokenizer;
  seed: number;
  /** tokens per hash_ids block */
  blockTokens: number;
  /** also send min_tokens = max_tokens and ignore_eos: true (vLLM, llama.cpp), so the output length is exact */
  exactOutput: boolean;
}

/** Blocks kept built: a block is reused as often as the trace shares it; 4,096 of 512 words is a few MB. */
const BLOCK_CACHE = 4096;

export class TracePrompts {
  private readonly words: readonly string[];
  private readonly digits: number;
  private readonly cache = new Map<bigint, string[]>();

  constructor(private readonly o: TracePromptOptions) {
    this.words = o.tokenizer.words;
    const V = this.words.length;
    if (V < 2) throw new RangeError(`tokenizer ${o.tokenizer.name} has ${V} single-token words: prompts need at least 2`);
    this.digits = Math.ceil((54 * Math.LN2) / Math.log(V));
  }

  /** The prompt text of request `index` (its schedule index), exactly req.input tokens long. */
  text(req: TraceRequest, index: number): string {
    const B = this.o.blockTokens;
    let left = req.input;
    const parts: string[] = [];
    for (const h of req.hashIds) {
      if (left <= 0 || B <= 0) break;
      const n = Math.min(B, left);
      const block = this.block(2n * BigInt(h), B);
      parts.push(n === B ? block.join('') : block.slice(0, n).join(''));
      left -= n;
    }
    if (left > 0) parts.push(this.sequence(2n * BigInt(index) + 1n, left).join(''));
    return parts.join('');
  }

  /** The request body: the profile's body with this prompt and its max_tokens (applyPrompt: chat or completions). */
  body(base: unknown, req: TraceRequest, index: number): string {
    // a server refuses max_tokens 0; BurstGPT marks a failed request's response with 0 tokens
    const maxTokens = Math.max(1, req.output);
    const extra = this.o.exactOutput ? { min_tokens: maxTokens, ignore_eos: true } : {};
    const withExtra = base !== null && typeof base === 'object' && !Array.isArray(base) ? { ...base, ...extra } : extra;
    return applyPrompt(withExtra, { prompt: this.text(req, index), maxTokens });
  }

  private block(code: bigint, n: number): string[] {
    const hit = this.cache.get(code);
    if (hit) return hit;
    const words = this.sequence(code, n);
    if (this.cache.size >= BLOCK_CACHE) this.cache.delete(this.cache.keys().next().value as bigint);
    this.cache.set(code, words);
    return words;
  }

  /** n words: the code's K digits (least significant first), then seeded draws. */
  private sequence(code: bigint, n: number): string[] {
    const W = this.words;
    const V = BigInt(W.length);
    const out: string[] = [];
    let c = code;
    for (let d = 0; d < this.digits && out.length < n; d++) {
      out.push(W[Number(c % V)]!);
      c /= V;
    }
    const lo = Number(code & 0xffffffffn);
    const hi = Number(code >> 32n);
    const rng = createRng(deriveSeed(deriveSeed(this.o.seed, hi), lo));
    while (out.length < n) out.push(W[Math.min(W.length - 1, Math.floor(rng() * W.length))]!);
    return out;
  }
}
