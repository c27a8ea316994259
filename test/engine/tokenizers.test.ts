/**
 * The tokenizers a profile can name, loaded as runs load them: known counts of known strings, the
 * additivity contract on the words each hands out (checked again here, independently of the
 * loader's own check), and prompts built to an exact token count in that tokenizer (fast-check).
 * The Hugging Face case loads a small byte-level BPE tokenizer.json this test writes itself.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticPrompt } from '../../src/core/prompts.js';
import { createRng } from '../../src/core/random.js';
import { additiveWords, chars4, wordsText, type Tokenizer } from '../../src/core/tokenizer.js';
import { loadTokenizer } from '../../src/engine/tokenizers.js';

/** A byte-level BPE over a–z whose vocabulary holds " w" for `words` (each a chain of merges), GPT-2 style. */
function byteLevelBpe(words: readonly string[], withSpaceWords = true): object {
  const vocab: Record<string, number> = {};
  const add = (t: string): void => {
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  };
  for (const c of 'Ġabcdefghijklmnopqrstuvwxyz') add(c);
  const merges: string[] = [];
  for (const w of words) {
    let cur = withSpaceWords ? 'Ġ' : (w[0] as string);
    for (const ch of withSpaceWords ? w : w.slice(1)) {
      const next = cur + ch;
      if (!(next in vocab)) {
        merges.push(`${cur} ${ch}`);
        add(next);
      }
      cur = next;
    }
  }
  const bl = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return { version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: bl, post_processor: null, decoder: bl, model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges } };
}

const letters = 'abcdefghijklmnopqrstuvwxyz';
const WORDS = Array.from({ length: 100 }, (_, i) => `${letters[i % 26]}${letters[(i * 7 + 3) % 26]}${letters[(i * 11 + 5) % 26]}${i >= 26 ? letters[(i * 3) % 26] : ''}`);

function writeJson(obj: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'bg-tok-'));
  const file = join(dir, 'tokenizer.json');
  writeFileSync(file, JSON.stringify(obj));
  return file;
}

/** the contract, checked from outside: each word one token, a long random concatenation n tokens */
function holdsContract(t: Tokenizer, seed: number): void {
  for (const w of t.words.slice(0, 200)) expect(t.count(w), JSON.stringify(w)).toBe(1);
  const text = wordsText(createRng(seed), 500, t.words);
  expect(t.count(text)).toBe(500);
}

describe('tiktoken encodings (gpt-tokenizer)', () => {
  let cl100k: Tokenizer;
  let o200k: Tokenizer;
  beforeAll(async () => {
    cl100k = await loadTokenizer({ kind: 'tiktoken', encoding: 'cl100k_base' }, '.');
    o200k = await loadTokenizer({ kind: 'tiktoken', encoding: 'o200k_base' }, '.');
  }, 60_000);

  it.each<[string, string, number, number]>([
    ['happy', 'hello world', 2, 2],
    ['happy', '', 0, 0],
    ['happy', 'Hello, world!', 4, 4],
    // a special token's text is counted as the text it is, not refused
    ['sad', '<|endoftext|>', 7, 7],
  ])('%s: %j is %i tokens in cl100k_base, %i in o200k_base', (_l, text, nCl, nO) => {
    expect(cl100k.count(text)).toBe(nCl);
    expect(o200k.count(text)).toBe(nO);
  });

  it('happy: names, and words that keep the additivity contract', () => {
    expect(cl100k.name).toBe('cl100k_base');
    expect(o200k.name).toBe('o200k_base');
    expect(cl100k.words.length).toBeGreaterThan(1000);
    holdsContract(cl100k, 1);
    holdsContract(o200k, 2);
  });

  it('happy: synthetic prompts are exactly the drawn token count in the tokenizer (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 100 }), (seed, mean, stddev) => {
        for (const t of [cl100k, o200k]) {
          const item = syntheticPrompt(createRng(seed), { mean, stddev, min: 1, max: mean + 4 * stddev }, t);
          const text = 'prompt' in item ? item.prompt : '';
          expect(t.count(text)).toBe(item.tokens);
          expect(item.tokens).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('a Hugging Face tokenizer.json (@huggingface/tokenizers)', () => {
  it('happy: loads, counts without special tokens, and builds exact prompts', async () => {
    const t = await loadTokenizer({ kind: 'file', file: writeJson(byteLevelBpe(WORDS)) }, '.');
    expect(t.name).toMatch(/^hf:.*tokenizer\.json$/);
    expect(t.count(` ${WORDS[0]} ${WORDS[1]}`)).toBe(2);
    expect(t.count(`${WORDS[0]}`)).toBe(3); // no leading space: no merge chain starts, one token a letter
    // every " word" of the vocabulary (the merge chains' prefixes of two letters or more are words too)
    for (const w of WORDS) expect(t.words).toContain(` ${w}`);
    for (const w of t.words) expect(WORDS.some((x) => ` ${x}`.startsWith(w)), w).toBe(true);
    holdsContract(t, 3);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 300 }), (seed, n) => {
        const item = syntheticPrompt(createRng(seed), { mean: n, stddev: 0, min: 1, max: n }, t);
        expect(t.count('prompt' in item ? item.prompt : '')).toBe(n);
      }),
      { numRuns: 50 },
    );
  });

  it('happy: a relative file is read from baseDir', async () => {
    const file = writeJson(byteLevelBpe(WORDS));
    const t = await loadTokenizer({ kind: 'file', file: 'tokenizer.json' }, join(file, '..'));
    expect(t.words).toEqual((await loadTokenizer({ kind: 'file', file }, '/')).words);
  });

  it.each<[string, () => string, RegExp]>([
    ['sad', () => join(tmpdir(), 'no-such-dir-bg', 'tokenizer.json'), /cannot read the tokenizer .*ENOENT/],
    ['sad', () => {
      const f = writeJson({});
      writeFileSync(f, '{not json');
      return f;
    }, /is not JSON/],
    // no vocabulary entry is a " word": nothing to build prompts from
    ['sad', () => writeJson(byteLevelBpe(WORDS, false)), /only 0 single-token words/],
  ])('%s: %s is refused with a profile error', async (_l, file, message) => {
    await expect(loadTokenizer({ kind: 'file', file: file() }, '.')).rejects.toThrow(message);
  });
});

describe('additiveWords', () => {
  it('happy: chars4 keeps its own words; absent means chars4', async () => {
    expect(await loadTokenizer(undefined, '.')).toBe(chars4);
    expect(additiveWords(chars4.count, chars4.words).length).toBeGreaterThan(1000);
  });

  it('sad: a word that merges with its neighbours is dropped, one that is not one token too', () => {
    // a toy count in which "ab" following anything merges into the word before it
    const count = (text: string): number => text.split(' ').filter(Boolean).filter((w, i) => !(i > 0 && w === 'ab')).length;
    const words = additiveWords(count, [' ab', ' cd', ' ef', ' gh', ' ij', ' two words', ' XY']);
    expect(words).toEqual([' cd', ' ef', ' gh', ' ij']);
  });
});
