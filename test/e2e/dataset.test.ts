/**
 * `budgetgate run` with a profile that names a dataset beside it: the CLI reads it relative to the
 * profile file (not the working directory) and every scheduled request carries one of its prompts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectVerdict, readReport, runCli, tempDir, writeProfile } from './cli.js';
import { recordingServer } from './servers.js';

describe('budgetgate run with target.dataset', () => {
  it('happy: the dataset is read beside the profile and its prompts are sent', async () => {
    const s = await recordingServer();
    const dir = join(tempDir(), 'profiles');
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'p.jsonl'), '{"prompt": "north", "max_tokens": 3}\n"south"\n');
    const profile = writeProfile(dir, {
      name: 'cli-dataset',
      target: { url: s.url, body: { model: 'm', messages: [{ role: 'user', content: 'FIXED' }], max_tokens: 8 }, dataset: 'data/p.jsonl' },
      phases: [{ name: 'p', duration: '1s', rate: 6 }],
    });
    const r = await runCli(['run', profile, '--out', join(dir, 'out'), '--quiet']);
    expect(r.stderr).not.toMatch(/internal error/);
    // 6 sends: one left > 10 ms late by a stalled machine fails load delivered (5/6), which is not what this tests
    expectVerdict(r.code, readReport(join(dir, 'out')), ['load delivered']);
    const sent = s.bodies.slice(1).map((b) => JSON.parse(b) as { messages: { content: string }[]; max_tokens: number });
    expect(sent).toHaveLength(6);
    expect(new Set(sent.map((b) => `${b.messages.at(-1)?.content}/${b.max_tokens}`))).toEqual(new Set(['north/3', 'south/8']));
  });

  it('sad: a dataset missing beside the profile is exit 2 naming the field and the file, and nothing is sent', async () => {
    const s = await recordingServer();
    const dir = tempDir();
    const profile = writeProfile(dir, {
      name: 'cli-dataset-missing',
      target: { url: s.url, body: { model: 'm', messages: [{ role: 'user', content: 'x' }] }, dataset: 'nope.jsonl' },
      phases: [{ name: 'p', duration: '1s', rate: 6 }],
    });
    const r = await runCli(['run', profile, '--out', join(dir, 'out'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/target\.dataset: cannot read .*nope\.jsonl \(ENOENT\)/);
    expect(s.bodies).toHaveLength(0);
  });
});
