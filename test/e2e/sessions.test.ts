/**
 * `budgetgate validate` and `run` with session phases: the shipped profiles/sessions.yaml validates,
 * and a conversation file with bad lines is exit 2 naming the file and each bad line's number,
 * before anything is sent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
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

  it('happy: a run against the embedded endpoint prints the Turns, Sessions and Prompt tokens tables and writes them to report.json', async () => {
    const dir = tempDir();
    const profile = writeProfile(dir, {
      name: 'sessions-sim',
      target: { body: { model: 'sim', messages: [], max_tokens: 8, stream: true, stream_options: { include_usage: true } } },
      phases: [{ name: 'chat', duration: '2s', rate: 3, sessions: { turns: 2, thinkTime: '100ms', tokens: { mean: 16 } } }],
      budgets: [{ stage: 'ttft', max: '5s', turn: 2 }],
    });
    const out = join(dir, 'out');
    const r = await runCli(['run', profile, '--out', out, '--format', 'json,md,html']);
    expect(r.stdout).toMatch(/Prompt tokens[\s\S]*chat +chars4 +12 /);
    for (const file of ['report.md', 'report.html']) {
      const text = readFileSync(join(out, file), 'utf8');
      expect(text, file).toMatch(/Prompt tokens[\s\S]*Turns[\s\S]*Sessions/);
      expect(text, file).toMatch(file.endsWith('html') ? /<td>chat<\/td><td class="num">2<\/td><td>total<\/td>/ : /\| chat +\| +2 \| total/);
    }
    expect(r.stdout).toMatch(/Turns[\s\S]*chat +1 +ttft[\s\S]*chat +2 +total/);
    expect(r.stdout).toMatch(/Sessions[\s\S]*chat +6 +6 +0 +0 +12/);
    expect(r.stdout).toMatch(/ttft\{turn=2\} max/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { turns: { turn: number; stage: string; count: number }[]; sessions: { completed: number }[] };
    expect(report.turns.filter((t) => t.stage === 'total').map((t) => [t.turn, t.count])).toEqual([[1, 6], [2, 6]]);
    expect(report.sessions[0]?.completed).toBe(6);
  });

  it('sad: --workers 2 with sessions is exit 2 saying why, and nothing is sent', async () => {
    const s = await recordingServer();
    const dir = tempDir();
    const profile = writeProfile(dir, {
      name: 'sessions-workers',
      target: { url: s.url, body: { model: 'm', messages: [] } },
      phases: [{ name: 'p', duration: '1s', rate: 2, sessions: { turns: 2 } }],
    });
    const r = await runCli(['run', profile, '--workers', '2', '--skip-probe', '--out', join(dir, 'out'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--workers 2: a profile with sessions runs on one sender thread/);
    expect(s.bodies).toHaveLength(0);
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
