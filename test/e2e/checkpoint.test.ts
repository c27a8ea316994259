/**
 * Long runs: a run killed with SIGKILL (no handler runs) still leaves the data of its last checkpoint.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/core/report.js';
import { expectVerdict, readReport, runCli, spawnCli, tempDir, writeProfile } from './cli.js';
import { listen, type TestServer } from './servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function server(): Promise<TestServer> {
  const s = await listen((_req, res) => setTimeout(() => res.end('ok'), 2));
  cleanups.push(() => s.close());
  return s;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tryRead(path: string): RunResult | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as RunResult;
}

describe('run --checkpoint (end to end)', () => {
  it('happy: a run killed with SIGKILL after ~3 s leaves report.json with checkpoint: true and its sends so far', async () => {
    const s = await server();
    const dir = tempDir();
    const profile = writeProfile(dir, { name: 'e2e-checkpoint', target: { url: s.url }, phases: [{ name: 'long', duration: '60s', rate: 50 }], budgets: [{ errorRate: '1%' }] });
    const out = join(dir, 'out');
    const run = spawnCli(['run', profile, '--out', out, '--checkpoint', '1s', '--quiet'], { timeoutMs: 60_000 });
    // the load starts once the process is up and the probe answered (seconds on a busy machine):
    // wait for a first checkpoint with sends in it, then let it run on a little before the kill
    const deadline = Date.now() + 40_000;
    while ((tryRead(join(out, 'report.json'))?.totals.sent ?? 0) === 0 && Date.now() < deadline) await sleep(100);
    await sleep(1500);
    run.child.kill('SIGKILL');
    const r = await run.done;
    expect(r.signal).toBe('SIGKILL');
    const rep = readReport(out);
    expect(rep.checkpoint).toBe(true);
    expect(rep.interrupted).toBe(true);
    expect(rep.verdict).toBe('fail');
    expect(rep.totals.sent).toBeGreaterThan(0);
    expect(rep.totals.sent).toBeLessThan(3000);
    expect(rep.phases[0]?.sent).toBe(rep.totals.sent);
    expect(rep.series.find((x) => x.stage === 'total')?.count).toBeGreaterThan(0);
    expect(rep.budgets[0]?.id).toBe('errorRate');
    expect(rep.scheduleId).toMatch(/^fnv1a64:/);
    // written atomically (temporary file, then rename): the only other file the kill may leave beside
    // report.json is the one temporary it cut short, never a second report
    const left = readdirSync(out).filter((f) => f !== 'report.json');
    expect(left.length).toBeLessThanOrEqual(1);
    for (const f of left) expect(f).toMatch(/^\.\d+-\d+\.tmp$/);
    // and report.json is one coherent snapshot: its per-second sends add up to its totals
    expect(rep.timeline.reduce((n, p) => n + p.sent, 0)).toBe(rep.totals.sent);
  }, 90_000);

  it('sad: a run that finishes replaces its checkpoints with the final report (no late checkpoint overwrites it)', async () => {
    const s = await server();
    const dir = tempDir();
    const profile = writeProfile(dir, { name: 'e2e-checkpoint-done', target: { url: s.url }, phases: [{ name: 'short', duration: '2500ms', rate: 40 }], budgets: [{ errorRate: '1%' }] });
    const out = join(dir, 'out');
    const r = await runCli(['run', profile, '--out', out, '--checkpoint', '1s', '--quiet']);
    const rep = readReport(out);
    // a 2 ms server sends no errors; only a busy CPU's late sends could fail this run
    expectVerdict(r.code, rep, ['load delivered']);
    expect(rep.checkpoint).toBeUndefined();
    expect(rep.interrupted).toBe(false);
    expect(rep.totals.sent).toBe(100);
  }, 90_000);

  it.each([['0.5s'], ['soon'], ['-1s']])('sad: --checkpoint %s is a usage error (exit 2)', async (v) => {
    const dir = tempDir();
    const profile = writeProfile(dir, { name: 'x', target: { url: 'http://127.0.0.1:9/' }, phases: [{ name: 'a', duration: '1s', rate: 1 }], budgets: [{ errorRate: '1%' }] });
    const r = await runCli(['run', profile, '--checkpoint', v, '--out', join(dir, 'o')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--checkpoint/);
  }, 30_000);
});
