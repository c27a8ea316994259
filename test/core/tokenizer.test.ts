import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chars4 } from '../../src/core/tokenizer.js';

describe('chars4 tokenizer', () => {
  it.each([
    ['happy: empty text is 0 tokens', '', 0],
    ['happy: 4 characters are 1 token', 'abcd', 1],
    ['happy: 5 characters round up to 2', 'abcde', 2],
  ])('%s', (_label, text, n) => {
    expect(chars4.count(text)).toBe(n);
  });

  it('happy: its words are distinct single tokens that count additively', () => {
    expect(new Set(chars4.words).size).toBe(chars4.words.length);
    for (const w of chars4.words) expect(chars4.count(w)).toBe(1);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: chars4.words.length - 1 }), { maxLength: 200 }), (ix) => {
        const text = ix.map((i) => chars4.words[i]).join('');
        expect(chars4.count(text)).toBe(ix.length);
      }),
    );
  });
});
