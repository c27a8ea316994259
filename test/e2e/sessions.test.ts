/**
 * `budgetgate validate` and `run` with session phases: the shipped profiles/sessions.yaml validates,
 * and a conversation file with bad lines is exit 2 naming the file and each bad line's number,
 * before anything is sent.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeProfile } from './cli.js';
import { recordingServer } from './servers.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('budgetgate with sessions', () => {
  it('happy: profiles/sessions.yaml validates (its conversation file beside it included)', async () => {
    const r = await runCli(['validate', join(ROOT, 'profiles/sessions.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replay/);
  });

  it.each([['validate'], ['run']])('sad: %s with bad conversation lines is exit 2 naming file:line, nothing sent', async (command) => {
    const s = await recordingServer();
    const dir = tempDir();
    writeFileSync(join(dir, 'c.jsonl'), '{"turns": ["fine"]}\n{"turns": []}\n\n{oops\n');
    const profile = writeProfile(dir, {
      name: 'bad-conversations',
      target: { url: s.url, body: { model: 'm', messages: [] } },
      phases: [{ name: 'p', duration: '1s', rate: 2, sessions: { file: 'c.jsonl' } }],
    });
    const r = await runCli(command === 'run' ? ['run', profile, '--out', join(dir, 'out'), '--quiet'] : ['validate', profile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/c\.jsonl:2.*non-empty list/);
    expect(r.stderr).toMatch(/c\.jsonl:4.*not valid JSON/);
    expect(s.bodies).toHaveLength(0);
  });
});
