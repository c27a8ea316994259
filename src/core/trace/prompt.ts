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
 * match another's first words.) The rest of a block's words are a run of a fixed filler of F = 2¹⁶
 * words drawn once from the profile's seed, starting at a word offset drawn from (seed, c) and
 * wrapping: building a prompt is string slicing, not a draw per word, so a burst of long prompts
 * leaves on time. A record without hash_ids (Azure, BurstGPT) is all tail: no two requests share a
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

/** Words in the filler the rest of every block is cut from. */
const FILLER_WORDS = 1 << 16;

export class TracePrompts {
  private readonly words: readonly string[];
  private readonly digits: number;
  /** the filler's text, and the character offset of each of its words (plus its end) */
  private readonly filler: string;
  private readonly starts: Int32Array;

  constructor(private readonly o: TracePromptOptions) {
    this.words = o.tokenizer.words;
    const V = this.words.length;
    if (V < 2) throw new RangeError(`tokenizer ${o.tokenizer.name} has ${V} single-token words: prompts need at least 2`);
    this.digits = Math.ceil((54 * Math.LN2) / Math.log(V));
    const rng = createRng(deriveSeed(o.seed, 0x74726163));
    const parts: string[] = [];
    this.starts = new Int32Array(FILLER_WORDS + 1);
    let at = 0;
    for (let i = 0; i < FILLER_WORDS; i++) {
      const w = this.words[Math.min(V - 1, Math.floor(rng() * V))]!;
      this.starts[i] = at;
      parts.push(w);
      at += w.length;
    }
    this.starts[FILLER_WORDS] = at;
    this.filler = parts.join('');
  }

  /** The prompt text of request `index` (its schedule index), exactly req.input tokens long. */
  text(req: TraceRequest, index: number): string {
    const B = this.o.blockTokens;
    let left = req.input;
    const parts: string[] = [];
    for (const h of req.hashIds) {
      if (left <= 0 || B <= 0) break;
      const n = Math.min(B, left);
      parts.push(this.sequence(2n * BigInt(h), n));
      left -= n;
    }
    if (left > 0) parts.push(this.sequence(2n * BigInt(index) + 1n, left));
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

  /** n words: the code's K digits (least significant first), then the filler from the code's offset. */
  private sequence(code: bigint, n: number): string {
    const W = this.words;
    const V = BigInt(W.length);
    let out = '';
    let c = code;
    const k = Math.min(this.digits, n);
    for (let d = 0; d < k; d++) {
      out += W[Number(c % V)]!;
      c /= V;
    }
    let left = n - k;
    if (left === 0) return out;
    const lo = Number(code & 0xffffffffn);
    const hi = Number(code >> 32n);
    let from = Math.floor(createRng(deriveSeed(deriveSeed(this.o.seed, hi), lo))() * FILLER_WORDS);
    const parts = [out];
    while (left > 0) {
      const m = Math.min(left, FILLER_WORDS - from);
      parts.push(this.filler.slice(this.starts[from], this.starts[from + m]));
      left -= m;
      from = 0;
    }
    return parts.join('');
  }
}
