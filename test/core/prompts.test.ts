import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyPrompt, parsePromptsJsonl, promptPicker, syntheticPrompt, type PromptItem } from '../../src/core/prompts.js';
import { createRng } from '../../src/core/random.js';

describe('parsePromptsJsonl', () => {
  it('happy: strings, prompt and messages items, max_tokens, blank lines and CRLF', () => {
    const text = [
      '"plain"',
      '',
      '{"prompt": "p", "max_tokens": 32, "id": 7}',
      '   ',
      '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}\r',
    ].join('\n');
    expect(parsePromptsJsonl(text, 'f.jsonl')).toEqual({
      prompts: [
        { prompt: 'plain' },
        { prompt: 'p', maxTokens: 32 },
        { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }] },
      ],
      problems: [],
    });
  });

  it.each<[string, string, string, RegExp]>([
    ['sad', '"ok"\n{bad', 'f:2', /not valid JSON/],
    ['sad', '"ok"\n\n42', 'f:3', /expected a JSON string/],
    ['sad', '{"text": "x"}', 'f:1', /"prompt" or "messages" key/],
    ['sad', '{"prompt": 1}', 'f:1', /"prompt" to be a string/],
    ['sad', '{"prompt": "a", "messages": []}', 'f:1', /not both/],
    ['sad', '{"messages": []}', 'f:1', /non-empty list/],
    ['sad', '{"messages": [{"role": "user"}]}', 'f:1', /messages\[0\]/],
    ['sad', '{"prompt": "a", "max_tokens": 0}', 'f:1', /max_tokens/],
    ['sad', '\n  \n', 'f', /no prompts/],
  ])('%s: %j → problem at %s', (_l, text, path, message) => {
    expect(parsePromptsJsonl(text, 'f').problems).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('sad: every bad line is reported with its number, good lines still load, the list is capped', () => {
    const lines = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? `"p${i}"` : '{'));
    const r = parsePromptsJsonl(lines.join('\n'), 'f');
    expect(r.prompts).toHaveLength(25);
    expect(r.problems.slice(0, 3).map((p) => p.path)).toEqual(['f:2', 'f:4', 'f:6']);
    expect(r.problems).toHaveLength(21);
    expect(r.problems[20]).toEqual({ path: 'f', message: '5 more bad lines not listed' });
  });

  it('happy: the shipped dataset parses cleanly with ~50 prompts of varied length', () => {
    const text = readFileSync(new URL('../../profiles/data/prompts.jsonl', import.meta.url), 'utf8');
    const r = parsePromptsJsonl(text, 'prompts.jsonl');
    expect(r.problems).toEqual([]);
    expect(r.prompts.length).toBeGreaterThanOrEqual(45);
    const lengths = r.prompts.map((p) => ('prompt' in p ? p.prompt : JSON.stringify(p.messages)).length);
    expect(Math.max(...lengths)).toBeGreaterThan(10 * Math.min(...lengths));
  });

  it('property: never throws; every non-blank line is a prompt or a problem', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.json(), fc.string({ maxLength: 10 })), { maxLength: 15 }), (lines) => {
        const clean = lines.map((l) => l.replace(/[\r\n]/g, ''));
        const r = parsePromptsJsonl(clean.join('\n'), 'f');
        const nonBlank = clean.filter((l) => l.trim() !== '').length;
        const lineProblems = r.problems.filter((p) => p.path.startsWith('f:')).length;
        return nonBlank === 0 ? r.prompts.length === 0 : r.prompts.length + lineProblems === nonBlank;
      }),
      { numRuns: 500 },
    );
  });
});

describe('promptPicker', () => {
  const items: PromptItem[] = ['a', 'b', 'c'].map((prompt) => ({ prompt }));
  const take = (pick: () => PromptItem, n: number): string[] => Array.from({ length: n }, () => (pick() as { prompt: string }).prompt);

  it('happy: round-robin wraps in file order', () => {
    expect(take(promptPicker(items, 'round-robin', 1), 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('happy: random is reproducible from the seed and differs across seeds', () => {
    const a = take(promptPicker(items, 'random', 7), 50);
    expect(take(promptPicker(items, 'random', 7), 50)).toEqual(a);
    expect(take(promptPicker(items, 'random', 8), 50)).not.toEqual(a);
    expect(new Set(a)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('sad: no items throws', () => {
    expect(() => promptPicker([], 'random', 1)).toThrow(RangeError);
  });
});

describe('syntheticPrompt', () => {
  const tokens = { mean: 512, stddev: 128, min: 16, max: 2048 };

  it('happy: lengths average the mean within 5%, stay within min..max, and are 4 chars a token', () => {
    const rng = createRng(3);
    const n = 2_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const { prompt } = syntheticPrompt(rng, tokens) as { prompt: string };
      expect(prompt.length % 4).toBe(0);
      const t = prompt.length / 4;
      expect(t).toBeGreaterThanOrEqual(16);
      expect(t).toBeLessThanOrEqual(2048);
      sum += t;
      sumSq += t * t;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sumSq / n - mean * mean);
    expect(Math.abs(mean - 512) / 512).toBeLessThan(0.05);
    expect(Math.abs(sd - 128) / 128).toBeLessThan(0.1);
  });

  it('happy: clamped to min and max; same rng seed, same prompt, whatever came before', () => {
    expect((syntheticPrompt(createRng(1), { mean: 10, stddev: 1000, min: 10, max: 10 }) as { prompt: string }).prompt).toHaveLength(40);
    const first = syntheticPrompt(createRng(9), tokens);
    syntheticPrompt(createRng(2), { mean: 100_000, stddev: 0, min: 1, max: 100_000 });
    expect(syntheticPrompt(createRng(9), tokens)).toEqual(first);
  });

  it('happy: prompts differ from their first words', () => {
    const rng = createRng(5);
    const starts = new Set(Array.from({ length: 20 }, () => (syntheticPrompt(rng, tokens) as { prompt: string }).prompt.slice(0, 40)));
    expect(starts.size).toBe(20);
  });
});

describe('applyPrompt', () => {
  const chat = { model: 'm', stream: true, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'Hello' }], max_tokens: 64 };
  it.each<[string, unknown, PromptItem, unknown]>([
    ['happy: a prompt replaces the last user message, system kept', chat, { prompt: 'Q' }, { ...chat, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'Q' }] }],
    ['happy: messages replace the body\'s; max_tokens from the item', chat, { messages: [{ role: 'user', content: 'X' }], maxTokens: 9 }, { ...chat, messages: [{ role: 'user', content: 'X' }], max_tokens: 9 }],
    ['happy: completions body gets prompt', { model: 'm', prompt: 'old' }, { prompt: 'new' }, { model: 'm', prompt: 'new' }],
    ['happy: completions body gets messages joined', { prompt: '' }, { messages: [{ role: 'system', content: 'a' }, { role: 'user', content: 'b' }] }, { prompt: 'a\nb' }],
    ['happy: no user message: one is appended', { messages: [{ role: 'system', content: 's' }] }, { prompt: 'p' }, { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'p' }] }],
    ['sad: a body that is not a mapping becomes a chat body', 'text', { prompt: 'p' }, { messages: [{ role: 'user', content: 'p' }] }],
  ])('%s', (_l, body, item, want) => {
    expect(JSON.parse(applyPrompt(body, item))).toEqual(want);
  });

  it('happy: the body passed in is not changed', () => {
    const body = structuredClone(chat);
    applyPrompt(body, { prompt: 'Q', maxTokens: 1 });
    expect(body).toEqual(chat);
  });
});
