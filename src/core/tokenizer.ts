/**
 * How a profile counts tokens, and the words it builds prompts of an exact token length from.
 *
 * A real BPE (cl100k_base, o200k_base, a Hugging Face tokenizer.json) is loaded outside core and handed
 * in through this interface, so core stays free of I/O and of package imports beyond core.
 *
 * Additivity contract for `words`: every w in words has count(w) = 1, and for any sequence w₁ … wₙ of
 * them count(w₁ + … + wₙ) = n. A text built from n such words is then exactly n tokens long, which is
 * what trace replay (`input_length`) and synthetic prompts need. A loader checks the contract on its
 * own vocabulary (a word that merges with its neighbours is dropped) before it hands the words out.
 */
export interface Tokenizer {
  /** 'chars4', 'cl100k_base', 'o200k_base', or 'hf:<file>' */
  readonly name: string;
  /** tokens in `text` as this tokenizer counts them (no special tokens, no chat template) */
  count(text: string): number;
  /** single-token words, each with its leading space, whose concatenations count additively */
  readonly words: readonly string[];
}

/** Characters per token in the `chars4` rule (the simulated endpoint's rule, and the usual one for English). */
export const CHARS_PER_TOKEN = 4;

/** Four-character words " xyz": each is one chars4 token, and n of them are 4n characters = n tokens. */
function chars4Words(): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const out: string[] = [];
  for (const a of letters) for (const b of letters) for (const c of 'aeiou') out.push(` ${a}${c}${b}`);
  return out;
}

/** Today's rule: tokens = ⌈characters / 4⌉. Exact for text built from its words; an estimate otherwise. */
export const chars4: Tokenizer = {
  name: 'chars4',
  count: (text) => Math.ceil(text.length / CHARS_PER_TOKEN),
  words: chars4Words(),
};
