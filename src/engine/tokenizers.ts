/**
 * Loads the tokenizer a profile names (`tokenizer:`) and hands core a plain Tokenizer
 * (core/tokenizer.ts): its count and its additive single-token words, checked here on the
 * vocabulary itself (core/tokenizer.ts additiveWords).
 *
 * - `chars4`: today's rule (⌈characters / 4⌉), no package.
 * - `cl100k_base`, `o200k_base`: gpt-tokenizer, which ships both vocabularies. Measured beside
 *   js-tiktoken on this machine (load + first count; 20 counts of an 18,000-word text): gpt-tokenizer
 *   cl100k 0.32 s, 0.10 s, 97 MB RSS; js-tiktoken cl100k 1.6 s, 1.2 s, 144 MB (README: Dependencies).
 * - `{ file: tokenizer.json }`: a Hugging Face tokenizer.json through @huggingface/tokenizers (the
 *   pure-JS tokenizers of transformers.js, no native code); a tokenizer_config.json beside it is read
 *   when present. Counts are without special tokens (no BOS), as core's contract says.
 *
 * The words are vocabulary entries decoded back to text of the form " word" (WORD_SHAPE).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BudgetgateError } from '../core/errors.js';
import { additiveWords, chars4, type Tokenizer, type TokenizerChoice } from '../core/tokenizer.js';

/** Fewer additive words than this cannot build varied prompts: the tokenizer is refused. */
const MIN_WORDS = 64;

function checked(name: string, count: (text: string) => number, candidates: Iterable<string>): Tokenizer {
  const words = additiveWords(count, candidates);
  if (words.length < MIN_WORDS) {
    throw new BudgetgateError('profile', `tokenizer ${name}: only ${words.length} single-token words count additively (at least ${MIN_WORDS} are needed to build prompts of an exact length)`);
  }
  return { name, count, words };
}

async function tiktoken(encoding: 'cl100k_base' | 'o200k_base'): Promise<Tokenizer> {
  const m = encoding === 'cl100k_base' ? await import('gpt-tokenizer/encoding/cl100k_base') : await import('gpt-tokenizer/encoding/o200k_base');
  // user text may contain "<|endoftext|>": counted as the text it is, not refused
  const options = { disallowedSpecial: new Set<string>() };
  const count = (text: string): number => m.countTokens(text, options);
  const candidates: string[] = [];
  for (let id = 0; id < m.vocabularySize; id++) {
    try {
      candidates.push(m.decode([id]));
    } catch {
      // ids without a byte sequence (gaps before the special tokens) decode to nothing
    }
  }
  return checked(encoding, count, candidates);
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new BudgetgateError('profile', `tokenizer.file: cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new BudgetgateError('profile', `tokenizer.file: ${file} is not JSON (${(e as Error).message})`);
  }
}

async function huggingFace(file: string): Promise<Tokenizer> {
  const json = await readJson(file, 'the tokenizer');
  const configFile = join(dirname(file), 'tokenizer_config.json');
  const config = await readJson(configFile, 'the tokenizer config').catch(() => ({}));
  const { Tokenizer: HfTokenizer } = await import('@huggingface/tokenizers');
  let tok: InstanceType<typeof HfTokenizer>;
  try {
    tok = new HfTokenizer(json as object, config as object);
  } catch (e) {
    throw new BudgetgateError('profile', `tokenizer.file: ${file} is not a tokenizer.json @huggingface/tokenizers can load (${(e as Error).message})`);
  }
  const count = (text: string): number => tok.encode(text, { add_special_tokens: false }).ids.length;
  const candidates: string[] = [];
  for (const id of tok.get_vocab(false).values()) candidates.push(tok.decode([id], { skip_special_tokens: true, clean_up_tokenization_spaces: false }));
  return checked(`hf:${file}`, count, candidates);
}

/** The profile's tokenizer (absent: chars4); a relative file is read from `baseDir`. */
export async function loadTokenizer(choice: TokenizerChoice | undefined, baseDir: string): Promise<Tokenizer> {
  if (choice === undefined || choice.kind === 'chars4') return chars4;
  if (choice.kind === 'tiktoken') return tiktoken(choice.encoding);
  return huggingFace(resolve(baseDir, choice.file));
}
