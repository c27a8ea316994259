/**
 * The example traces in profiles/traces/ are what scripts/make-traces.ts writes from its default
 * seed (so anyone can regenerate and check them), each parses in its format, and the prefix-cache
 * pair differs only in its hash_ids: same times and lengths, shared blocks in one, none in the other.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrace } from '../../src/core/trace/formats.js';
import { allTraces, mooncakePair } from '../../scripts/make-traces.js';

const DIR = resolve(import.meta.dirname, '../../profiles/traces');

describe('scripts/make-traces.ts', () => {
  it('happy: the committed traces are its output for seed 15, byte for byte', () => {
    for (const [name, text] of Object.entries(allTraces(15))) expect(readFileSync(join(DIR, name), 'utf8'), name).toBe(text);
  });

  it('happy: another seed writes other traces (the seed is used)', () => {
    expect(allTraces(16)['mooncake.jsonl']).not.toBe(allTraces(15)['mooncake.jsonl']);
  });

  it('happy: the prefix-cache pair: same times and lengths; one shares leading blocks, the other no block at all', () => {
    const pair = mooncakePair(15);
    const shared = parseTrace(pair.shared, 'mooncake', 's').records;
    const unshared = parseTrace(pair.unshared, 'mooncake', 'u').records;
    expect(shared.map((r) => [r.timeMs, r.input, r.output])).toEqual(unshared.map((r) => [r.timeMs, r.input, r.output]));
    const ids = unshared.flatMap((r) => r.hashIds);
    expect(new Set(ids).size).toBe(ids.length);
    const firsts = shared.map((r) => r.hashIds.slice(0, 2).join(','));
    expect(new Set(firsts).size).toBe(3); // three groups of 8 requests, two 512-token blocks each
  });
});
