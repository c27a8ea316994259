/**
 * `budgetgate validate` and `run` with session phases: the shipped profiles/sessions.yaml validates,
 * and a conversation file with bad lines is exit 2 naming the file and each bad line's number,
 * before anything is sent. Sessions split over `--workers` and over `--shard` runs (merged, then
 * re-judged by `check`) give one run's turn and session counts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectVerdict, readReport, runCli, tempDir, writeProfile } from './cli.js';
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

  /** a 2-session, 2-turn profile against `url`; `extra` budgets beside a turn-2 one that passes */
  const twoTurns = (url: string, budgets: object[] = [{ stage: 'total', max: '5s', turn: 2 }]): object => ({
    name: 'sessions-senders',
    target: { url, body: { model: 'm', messages: [] } },
    phases: [{ name: 'p', duration: '1s', rate: 2, sessions: { turns: 2, thinkTime: '50ms' } }],
    budgets,
  });

  /** every turn-2 body carries a turn-1 body's user text and the server's reply to it */
  function expectCarried(bodies: readonly string[]): void {
    const sent = bodies.map((b) => (JSON.parse(b) as { messages: { role: string; content: string }[] }).messages);
    const firsts = new Set(sent.filter((m) => m.length === 1).map((m) => m[0]?.content));
    const seconds = sent.filter((m) => m.length === 3);
    expect(firsts.size).toBe(2);
    expect(seconds).toHaveLength(2);
    for (const m of seconds) {
      expect(firsts.has(m[0]?.content)).toBe(true);
      expect(m[1]).toEqual({ role: 'assistant', content: 'ok' });
    }
  }

  it('happy: --workers 2 runs the sessions split over both workers: the same turn and session counts, each conversation carried', async () => {
    const s = await recordingServer();
    const dir = tempDir();
    const out = join(dir, 'out');
    const r = await runCli(['run', writeProfile(dir, twoTurns(s.url)), '--workers', '2', '--skip-probe', '--out', out, '--quiet']);
    const report = readReport(out);
    expectVerdict(r.code, report, ['load delivered']);
    expect(report.workers).toBe(2);
    expect(report.turns?.filter((t) => t.stage === 'total').map((t) => [t.turn, t.count])).toEqual([[1, 2], [2, 2]]);
    expect(report.sessions).toEqual([expect.objectContaining({ phase: 'p', started: 2, completed: 2, abandoned: 0, cut: 0, turns: 4 })]);
    expect(report.budgets.find((b) => b.id === 'total{turn=2} max')).toMatchObject({ status: 'pass', samples: 2 });
    expectCarried(s.bodies);
  });

  it('happy: --shard 0/2 and 1/2 then merge: one run’s counts; check re-judges a turn budget from the merged report', async () => {
    const s = await recordingServer();
    const dir = tempDir();
    const profile = writeProfile(dir, twoTurns(s.url));
    const outs = [0, 1].map((i) => join(dir, `shard-${i}`));
    const runs = await Promise.all(outs.map((out, i) => runCli(['run', profile, '--shard', `${i}/2`, '--skip-probe', '--out', out, '--quiet', '--checkpoint', '0'])));
    runs.forEach((r, i) => expectVerdict(r.code, readReport(outs[i] as string), ['load delivered']));
    expect(outs.map((o) => readReport(o).sessions?.[0]?.started)).toEqual([1, 1]);
    expectCarried(s.bodies);
    const merged = join(dir, 'merged');
    const m = await runCli(['merge', ...outs.map((o) => join(o, 'report.json')), '--profile', profile, '--out', merged]);
    const report = readReport(merged);
    expectVerdict(m.code, report, ['load delivered']);
    expect(report.turns?.filter((t) => t.stage === 'total').map((t) => [t.turn, t.count])).toEqual([[1, 2], [2, 2]]);
    expect(report.sessions).toEqual([expect.objectContaining({ phase: 'p', started: 2, completed: 2, abandoned: 0, cut: 0, turns: 4, duration: expect.objectContaining({ count: 2 }) })]);
    expect(report.phases[0]).toMatchObject({ scheduled: 4, sent: 4, completed: 4 });
    // offline: a turn-2 limit no loopback reply meets (0.001 ms) fails from the merged report alone
    const tight = writeProfile(dir, twoTurns(s.url, [{ stage: 'total', max: '0.001ms', turn: 2 }]), 'tight.yaml');
    const c = await runCli(['check', join(merged, 'report.json'), '--profile', tight, '--out', join(dir, 'check')]);
    expect(c.code, c.stdout + c.stderr).toBe(1);
    expect(readReport(join(dir, 'check')).budgets.find((b) => b.id === 'total{turn=2} max')).toMatchObject({ status: 'fail', samples: 2 });
  });

  it('sad: merge refuses a shard report whose per-turn histogram is corrupt (exit 2, naming the file)', async () => {
    const s = await recordingServer();
    const dir = tempDir();
    const profile = writeProfile(dir, twoTurns(s.url));
    const outs = [0, 1].map((i) => join(dir, `shard-${i}`));
    await Promise.all(outs.map((out, i) => runCli(['run', profile, '--shard', `${i}/2`, '--skip-probe', '--out', out, '--quiet', '--checkpoint', '0'])));
    const bad = join(outs[1] as string, 'report.json');
    const report = readReport(outs[1] as string);
    writeFileSync(bad, JSON.stringify({ ...report, turns: report.turns?.map((t) => ({ ...t, hdr: '!!!' })) }));
    const m = await runCli(['merge', join(outs[0] as string, 'report.json'), bad, '--profile', profile, '--out', join(dir, 'merged')]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/shard-1\/report\.json: turns total\|primary\|p\|1: cannot decode/);
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
