import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NOT_OBJECT, OBJECT, scanBody, UNDECIDED, usageScan } from '../../src/core/body-scan.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** JSON.parse's verdict: an object, and its top-level usage re-serialized (undefined: none) */
function oracle(text: string): { object: boolean; usage: string | undefined } {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { object: false, usage: undefined };
    return { object: true, usage: Object.hasOwn(v, 'usage') ? JSON.stringify((v as { usage: unknown }).usage) : undefined };
  } catch {
    return { object: false, usage: undefined };
  }
}

function scanned(text: string): { result: number; usage: string | undefined } {
  const b = enc.encode(text);
  const result = scanBody(b, 0, b.length);
  return { result, usage: usageScan.start < 0 ? undefined : dec.decode(b.subarray(usageScan.start, usageScan.end)) };
}

describe('scanBody', () => {
  it.each<[string, string, number, string | undefined]>([
    ['happy: a completion with its usage', '{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":8}}', OBJECT, '{"prompt_tokens":3,"completion_tokens":8}'],
    ['happy: white space all around, usage a number', ' \n{ "usage" : 12 ,"a":[ ] }\t', OBJECT, '12'],
    ['happy: the last of two usage keys', '{"usage":{"a":1},"usage":null}', OBJECT, 'null'],
    ['happy: a usage key one level down is not the usage', '{"x":{"usage":1}}', OBJECT, undefined],
    ['happy: an empty object, an empty usage', '{"usage":{}}', OBJECT, '{}'],
    ['happy: literals, numbers, escapes', '{"t":true,"f":false,"n":null,"x":-0.5e+3,"s":"a\\"\\u00e9\\n"}', OBJECT, undefined],
    ['happy: an escaped top-level key is JSON.parse\'s to read', '{"us\\u0061ge":{"completion_tokens":4}}', UNDECIDED, undefined],
    ['happy: nesting past 64 levels is JSON.parse\'s to read', `{"a":${'['.repeat(70)}${']'.repeat(70)}}`, UNDECIDED, undefined],
    ['sad: an array', '[{"usage":1}]', NOT_OBJECT, undefined],
    ['sad: cut short', '{"usage":{"completion_tokens":4}', NOT_OBJECT, undefined],
    ['sad: text after the object', '{"usage":1} x', NOT_OBJECT, undefined],
    ['sad: a trailing comma', '{"usage":1,}', NOT_OBJECT, undefined],
    ['sad: a control character in a string', '{"a":"\u0001"}', NOT_OBJECT, undefined],
    ['sad: a leading zero', '{"a":01}', NOT_OBJECT, undefined],
    ['sad: a bad escape', '{"a":"\\x"}', NOT_OBJECT, undefined],
    ['sad: a mismatched bracket', '{"a":[1}', NOT_OBJECT, undefined],
    ['sad: an unquoted key', '{a:1}', NOT_OBJECT, undefined],
    ['sad: empty', '', NOT_OBJECT, undefined],
  ])('%s', (_l, text, result, usage) => {
    const s = scanned(text);
    expect(s.result).toBe(result);
    if (result === OBJECT) expect(s.usage).toBe(usage);
    // the oracle agrees on what is an object (an undecided text is one)
    expect(oracle(text).object).toBe(result !== NOT_OBJECT);
  });

  it('agrees with JSON.parse on any JSON, cut, spliced and padded (the usage value as the same JSON)', () => {
    const seed = Date.now() % 100_000;
    console.log(`scanBody property seed ${seed}`);
    const textArb = fc
      .tuple(
        fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.record({ usage: fc.jsonValue({ maxDepth: 3 }), other: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] })),
        fc.nat(),
        fc.constantFrom('', ',', '"', '\\', '}', ']', ' ', 'x', '0', '-', 'e', '\u0001', 'é', '\\u00'),
        fc.constantFrom('keep', 'cut', 'insert', 'pad'),
      )
      .map(([v, at, ch, how]) => {
        const t = JSON.stringify(v, null, at % 3 === 0 ? 1 : undefined);
        const k = at % (t.length + 1);
        return how === 'cut' ? t.slice(0, k) : how === 'insert' ? t.slice(0, k) + ch + t.slice(k) : how === 'pad' ? ` ${t}\n` : t;
      });
    fc.assert(
      fc.property(textArb, (text) => {
        const want = oracle(text);
        const s = scanned(text);
        expect(s.result !== NOT_OBJECT).toBe(want.object);
        if (s.result === OBJECT) expect(s.usage === undefined ? undefined : JSON.stringify(JSON.parse(s.usage))).toBe(want.usage);
      }),
      { numRuns: 3000, seed },
    );
  });

  it('reads no byte outside [start, end)', () => {
    const text = '{"usage":{"completion_tokens":4}}';
    const b = enc.encode(`x${text}{`);
    expect(scanBody(b, 1, 1 + text.length)).toBe(OBJECT);
    expect(dec.decode(b.subarray(usageScan.start, usageScan.end))).toBe('{"completion_tokens":4}');
    // the same bytes with the window one short: cut, not read past
    expect(scanBody(b, 1, text.length)).toBe(NOT_OBJECT);
  });
});
