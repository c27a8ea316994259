/**
 * run(), the programmatic entry point, with a profile that names a dataset: every request carries one
 * of the dataset's prompts (read from baseDir, or given as `prompts`), never the profile's fixed body.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/api.js';
import { BudgetgateError } from '../src/core/errors.js';
import { recordingServer } from './e2e/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'budgetgate-api-'));
writeFileSync(join(dir, 'prompts.jsonl'), '"alpha"\n"beta"\n');

const profile = (url: string): object => ({
  name: 'api-dataset',
  target: { url, body: { model: 'm', messages: [{ role: 'user', content: 'FIXED' }], max_tokens: 4 }, dataset: 'prompts.jsonl' },
  phases: [{ name: 'p', duration: '1s', rate: 10 }],
});

const contents = (bodies: string[]): string[] =>
  bodies.map((b) => (JSON.parse(b) as { messages: { content: string }[] }).messages.map((m) => m.content).join('|'));

describe('run() with target.dataset', () => {
  it('happy: the dataset is read from baseDir and every request carries one of its prompts', async () => {
    const s = await recordingServer();
    const r = await run(profile(s.url), { baseDir: dir });
    expect(r.totals.completed).toBe(10);
    // the probe request is the profile's own body; the scheduled ones are the dataset's, in turn
    const sent = contents(s.bodies.slice(1));
    expect(sent).toHaveLength(10);
    expect(new Set(sent)).toEqual(new Set(['alpha', 'beta']));
  });

  it('happy: prompts given directly are used instead of the file', async () => {
    const s = await recordingServer();
    await run(profile(s.url), { prompts: [{ prompt: 'gamma' }], baseDir: '/nonexistent' });
    expect(new Set(contents(s.bodies.slice(1)))).toEqual(new Set(['gamma']));
  });

  it('sad: a dataset that cannot be read is a profile error, and nothing is sent', async () => {
    const s = await recordingServer();
    const e = await run(profile(s.url), { baseDir: '/nonexistent' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BudgetgateError);
    expect((e as BudgetgateError).kind).toBe('profile');
    expect((e as Error).message).toMatch(/target\.dataset: cannot read \/nonexistent\/prompts\.jsonl/);
    expect(s.bodies).toHaveLength(0);
  });

  it('sad: an empty prompts list is refused before anything is sent, not replaced by the fixed body', async () => {
    const s = await recordingServer();
    const e = await run(profile(s.url), { prompts: [] }).catch((x: unknown) => x);
    expect((e as BudgetgateError).kind).toBe('usage');
    expect((e as Error).message).toMatch(/target\.dataset: prompts\.jsonl was not loaded/);
    expect(s.bodies).toHaveLength(0);
  });
});
