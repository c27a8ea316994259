/**
 * Trace prompts: exactly input_length tokens in the tokenizer, max_tokens = output_length, and the
 * prefix rule: two prompts share exactly the text their leading hash_ids share, block for block, and
 * nothing more (fast-check properties over random block lists drawn from a small pool, so sharing
 * is common).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceRequest } from '../../../src/core/profile-types.js';
import { chars4, type Tokenizer } from '../../../src/core/tokenizer.js';
import { TracePrompts } from '../../../src/core/trace/prompt.js';
import { commonPrefix, tokenLabels, words4 } from '../../trace-prefix-oracle.js';

const B = 16;
const prompts = (tokenizer: Tokenizer = chars4, exactOutput = false, seed = 3): TracePrompts => new TracePrompts({ tokenizer, seed, blockTokens: B, exactOutput });

const labels = (req: TraceRequest, index: number): string[] => tokenLabels(req.hashIds, req.input, B, index);

const request = fc.record({
  hashIds: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 6 }),
  input: fc.integer({ min: 0, max: 6 * B + 20 }),
  output: fc.integer({ min: 0, max: 4096 }),
});

/** a tokenizer of words of different lengths, counting words: tests that only `words` is relied on */
const wordy: Tokenizer = {
  name: 'wordy',
  count: (text) => text.split(' ').filter((w) => w !== '').length,
  words: ['alpha', 'be', 'c', 'delta', 'echo', 'fox', 'golf'].map((w) => ` ${w}`),
};

describe('TracePrompts', () => {
  it('property: a prompt is exactly input_length tokens in the tokenizer (chars4 and a word-counting one)', () => {
    fc.assert(
      fc.property(request, fc.nat(1000), (req, index) => {
        expect(chars4.count(prompts().text(req, index))).toBe(req.input);
        expect(wordy.count(prompts(wordy).text(req, index))).toBe(req.input);
      }),
    );
  });

  it('property: two prompts share exactly the words their leading blocks share, and no more', () => {
    fc.assert(
      fc.property(request, request, fc.nat(1000), fc.nat(1000), (a, b, ia, ib) => {
        fc.pre(ia !== ib);
        const p = prompts();
        const shared = commonPrefix(words4(p.text(a, ia)), words4(p.text(b, ib)));
        expect(shared).toBe(commonPrefix(labels(a, ia), labels(b, ib)));
      }),
    );
  });

  it('property: the same request builds the same text, whatever was built before (block cache)', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 8 }), (reqs) => {
        const warm = prompts();
        for (const [i, r] of reqs.entries()) warm.text(r, i);
        const last = reqs.length - 1;
        expect(warm.text(reqs[last]!, last)).toBe(prompts().text(reqs[last]!, last));
      }),
    );
  });

  it('happy: different block ids differ in their first word; a different seed changes the rest', () => {
    const p = prompts();
    const one = (h: number, seed = 3): string[] => words4(prompts(chars4, false, seed).text({ hashIds: [h], input: B, output: 1 }, 0));
    const firsts = new Set(Array.from({ length: 200 }, (_, h) => words4(p.text({ hashIds: [h], input: B, output: 1 }, 0))[0]));
    expect(firsts.size).toBe(200);
    expect(one(7, 3).slice(0, 5)).toEqual(one(7, 4).slice(0, 5)); // the id's digits
    expect(one(7, 3).slice(5)).not.toEqual(one(7, 4).slice(5));
  });

  it('happy: records without hash_ids (Azure, BurstGPT) share no leading word', () => {
    const p = prompts();
    const firsts = new Set(Array.from({ length: 300 }, (_, i) => words4(p.text({ hashIds: [], input: 8, output: 1 }, i))[0]));
    expect(firsts.size).toBe(300);
  });

  it.each([
    ['happy', 'chat: the last user message gets the prompt, the system message stays', { model: 'm', messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: '' }], max_tokens: 9 }, false],
    ['happy', 'completions: prompt', { model: 'm', prompt: '', stream: true }, false],
    ['happy', 'exactOutput: min_tokens and ignore_eos too', { model: 'm', messages: [{ role: 'user', content: '' }] }, true],
  ] as const)('%s: body, %s', (_l, _what, base, exact) => {
    const req = { hashIds: [1], input: 20, output: 42 };
    const body = JSON.parse(prompts(chars4, exact).body(base, req, 0)) as Record<string, unknown>;
    const text = prompts().text(req, 0);
    expect(body.max_tokens).toBe(42);
    expect(body.model).toBe('m');
    if ('prompt' in base) {
      expect(body.prompt).toBe(text);
      expect(body.stream).toBe(true);
    } else {
      const messages = body.messages as { role: string; content: string }[];
      expect(messages[messages.length - 1]).toEqual({ role: 'user', content: text });
      if (base.messages.length > 1) expect(messages[0]).toEqual({ role: 'system', content: 'sys' });
    }
    if (exact) expect([body.min_tokens, body.ignore_eos]).toEqual([42, true]);
    else expect('min_tokens' in body || 'ignore_eos' in body).toBe(false);
  });

  it('happy: output_length 0 (a failed BurstGPT request) asks for 1 token, which a server accepts', () => {
    const body = JSON.parse(prompts().body({ messages: [] }, { hashIds: [], input: 3, output: 0 }, 0)) as { max_tokens: number };
    expect(body.max_tokens).toBe(1);
  });

  it('sad: a tokenizer with fewer than two words cannot encode block ids', () => {
    expect(() => prompts({ name: 'one', count: () => 1, words: [' a'] })).toThrow(RangeError);
  });
});
