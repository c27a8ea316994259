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

/** A profile's `tokenizer:` once validated: the chars4 rule, a tiktoken encoding, or a Hugging Face tokenizer.json. */
export type TokenizerChoice = { kind: 'chars4' } | { kind: 'tiktoken'; encoding: 'cl100k_base' | 'o200k_base' } | { kind: 'file'; file: string };

/** The words a loader offers are single-token, read as English-ish text, and split before their space in every common pre-tokenizer. */
export const WORD_SHAPE = /^ [a-z]{2,12}$/;

/** Enough words that prompts drawn from them differ from their first word on; more only costs load time. */
export const MAX_WORDS = 4096;

/**
 * The additivity contract checked on a vocabulary's candidate words (a loader calls this with its
 * own count). A candidate is kept when it is one token alone and beside itself, and when it counts
 * as two tokens beside each of NEIGHBOURS others, on either side (count(u + w) = count(w + u) = 2),
 * failing with at most one of them (a pair that merges does not say which of the two is to blame,
 * and a word that merges fails with every neighbour); the survivors are checked once more among
 * themselves with no failure allowed. A final check counts the concatenation of every kept word;
 * should it still merge somewhere, the list is halved until the whole counts exactly.
 *
 * @returns the kept words, sorted (deterministic whatever order the vocabulary listed them in)
 */
export function additiveWords(count: (text: string) => number, candidates: Iterable<string>, maxWords = MAX_WORDS): string[] {
  const shaped = [...new Set(candidates)].filter((w) => WORD_SHAPE.test(w)).sort();
  // spread the picks over the whole vocabulary rather than its first letters
  const step = Math.max(1, Math.floor(shaped.length / maxWords));
  const picked = shaped.filter((w, i) => i % step === 0 && count(w) === 1 && count(w + w) === 2).slice(0, maxWords);
  let words = pairChecked(count, pairChecked(count, picked, 1), 0);
  while (words.length > 0 && count(words.join('')) !== words.length) words = words.slice(0, Math.floor(words.length / 2));
  return words;
}

const NEIGHBOURS = 4;

/** the words failing with at most `allowed` of their NEIGHBOURS spread-out neighbours */
function pairChecked(count: (text: string) => number, words: readonly string[], allowed: number): string[] {
  const n = words.length;
  const stride = Math.max(1, Math.floor(n / NEIGHBOURS));
  return words.filter((w, i) => {
    let fails = 0;
    for (let j = 0; j < NEIGHBOURS && j + 1 < n; j++) {
      const v = words[(i + 1 + j * stride) % n] as string;
      if (v === w) continue;
      if (count(w + v) !== 2 || count(v + w) !== 2) fails++;
    }
    return fails <= allowed;
  });
}

/** n words drawn uniformly from `words` (each its own token): a text of exactly n tokens under the contract. */
export function wordsText(rng: () => number, n: number, words: readonly string[]): string {
  let s = '';
  const k = words.length;
  for (let i = 0; i < n; i++) s += words[Math.min(k - 1, Math.floor(rng() * k))] as string;
  return s;
}
