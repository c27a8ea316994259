/**
 * A trace replay end to end through `run()` (the file read relative to baseDir, the schedule, the
 * bodies by schedule index) against a loopback server that logs every body: max_tokens equals
 * output_length record for record, each prompt is input_length tokens (counted by the tokenizer),
 * prompts whose records share leading hash_ids share exactly that text and no more, on one sender
 * thread and on two (--workers 2: each sends indices ≡ w mod 2), and in a completions body.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/api.js';
import { ProfileError } from '../src/core/errors.js';
import { chars4 } from '../src/core/tokenizer.js';
import { burstyMooncake, logServer } from './trace-log-server.js';
import { commonPrefix, tokenLabels, words4 } from './trace-prefix-oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'budgetgate-trace-'));
const GAP_MS = 800;
const trace = burstyMooncake({ bursts: 8, size: 4, gapMs: GAP_MS, seed: 5 });
writeFileSync(join(dir, 'day.jsonl'), trace.text);
writeFileSync(join(dir, 'bad.jsonl'), `${trace.text}{"timestamp": 5, "input_length": -1, "output_length": 3}\nnope\n`);
const B = 512;

const labels = (r: (typeof trace.records)[number], i: number): string[] => tokenLabels(r.hash_ids, r.input_length, B, i);

type Body = { max_tokens: number; messages?: { role: string; content: string }[]; prompt?: string };

async function replayed(o: { workers?: number; completions?: boolean }): Promise<{ prompts: string[]; bodies: Body[]; at: number[] }> {
  const server = await logServer();
  const body = o.completions ? { model: 'm', prompt: '' } : { model: 'm', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: '' }] };
  const result = await run(
    { name: 'trace', target: { url: server.url, body }, phases: [{ name: 'replay', trace: { file: 'day.jsonl', format: 'mooncake' } }], budgets: [{ errorRate: '1%' }] },
    { baseDir: dir, skipProbe: true, ...(o.workers ? { workers: o.workers } : {}) },
  );
  expect(result.totals.sent).toBe(trace.records.length);
  const bodies = server.log.map((l) => JSON.parse(l.body) as Body);
  const prompts = bodies.map((b) => (o.completions ? b.prompt! : b.messages![b.messages!.length - 1]!.content));
  // ms since the first arrival (record 0 is at timestamp 0)
  const first = Math.min(...server.log.map((l) => l.t));
  return { prompts, bodies, at: server.log.map((l) => l.t - first) };
}

/** Each logged request matched to its record by (input tokens, max_tokens), each record exactly once. */
function matchRecords(prompts: string[], bodies: Body[]): number[] {
  const want = trace.records.map((r) => `${r.input_length}/${r.output_length}`);
  const got = prompts.map((p, i) => `${chars4.count(p)}/${bodies[i]!.max_tokens}`);
  expect([...got].sort()).toEqual([...want].sort());
  const used = new Set<number>();
  return got.map((key) => {
    const i = want.findIndex((w, j) => w === key && !used.has(j));
    used.add(i);
    return i;
  });
}

describe('trace replay at a loopback server', () => {
  it.each([
    ['happy', 'one sender thread, chat body', {}],
    ['happy', 'two sender threads (--workers 2)', { workers: 2 }],
    ['happy', 'a completions body', { completions: true }],
  ] as const)('%s: %s: max_tokens = output_length and input_length tokens, record for record; shared hash_ids share exactly their text', async (_l, _what, o) => {
    const { prompts, bodies, at } = await replayed(o);
    const which = matchRecords(prompts, bodies);
    // record i went with send i: each body arrived at its own record's timestamp (bursts are GAP_MS apart;
    // records of one burst share their time, so among them any order is the trace's)
    // (judged against the median lag, so a loaded machine's late start does not count against it)
    const lags = which.map((r, i) => at[i]! - trace.records[r]!.timestamp).sort((x, y) => x - y);
    const lag = lags[lags.length >> 1]!;
    which.forEach((r, i) => expect(Math.abs(at[i]! - trace.records[r]!.timestamp - lag), `request ${i} carried record ${r}`).toBeLessThan(GAP_MS / 2));
    if (!('completions' in o)) for (const b of bodies) expect(b.messages?.[0]).toEqual({ role: 'system', content: 'be brief' });
    let sharing = 0;
    for (let a = 0; a < prompts.length; a++) {
      for (let b = a + 1; b < prompts.length; b++) {
        const ra = which[a]!;
        const rb = which[b]!;
        const expected = commonPrefix(labels(trace.records[ra]!, ra), labels(trace.records[rb]!, rb));
        if (expected > 0) sharing++;
        expect(commonPrefix(words4(prompts[a]!), words4(prompts[b]!)), `records ${ra} and ${rb}`).toBe(expected);
      }
    }
    expect(sharing).toBeGreaterThan(10); // the trace does share blocks, so the rule was put to the test
  });

  it('sad: bad records are a profile error naming the file and each line, before anything is sent', async () => {
    const server = await logServer();
    const e = await run({ name: 'trace', target: { url: server.url, body: { messages: [] } }, phases: [{ name: 'replay', trace: { file: 'bad.jsonl', format: 'mooncake' } }] }, { baseDir: dir, skipProbe: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProfileError);
    const n = trace.records.length;
    expect((e as ProfileError).problems.map((p) => p.path)).toEqual([`${join(dir, 'bad.jsonl')}:${n + 1}`, `${join(dir, 'bad.jsonl')}:${n + 2}`]);
    expect(server.log).toHaveLength(0);
  });

  it('sad: a trace replayed faster on average than maxRate is refused, as a phase above it would be', async () => {
    const e = await run({ name: 't', maxRate: 2, target: { url: 'http://127.0.0.1:9/', body: { messages: [] } }, phases: [{ name: 'r', trace: { file: 'day.jsonl', format: 'mooncake' } }] }, { baseDir: dir, skipProbe: true }).catch((x: unknown) => x);
    expect((e as ProfileError).problems).toEqual([{ path: 'phases[0].trace', message: expect.stringMatching(/^replays at a mean [\d.]+ requests\/s, above maxRate 2: raise maxRate if that is intended$/) }]);
  });

  it('sad: a missing trace file and a body that is no mapping are profile errors', async () => {
    const missing = await run({ name: 't', target: { url: 'http://127.0.0.1:9/', body: { messages: [] } }, phases: [{ name: 'r', trace: { file: 'none.jsonl', format: 'mooncake' } }] }, { baseDir: dir, skipProbe: true }).catch((x: unknown) => x);
    expect((missing as Error).message).toMatch(/phases\[0\]\.trace\.file: cannot read .*none\.jsonl \(ENOENT\)/);
    const nobody = await run({ name: 't', target: { url: 'http://127.0.0.1:9/' }, phases: [{ name: 'r', trace: { file: 'day.jsonl', format: 'mooncake' } }] }, { baseDir: dir, skipProbe: true }).catch((x: unknown) => x);
    expect((nobody as Error).message).toMatch(/target\.body: a trace phase needs a target\.body mapping/);
  });
});
