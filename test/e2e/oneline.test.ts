/**
 * One-line runs, `init`, and `--json`, as a user types them: the CLI in its own process against
 * loopback servers this file starts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/core/report.js';
import { startSim, type SimServer } from '../../src/sim/index.js';
import { ROOT, expectVerdict, readReport, runCli, tempDir } from './cli.js';
import { listen, type TestServer } from './servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function track<T extends TestServer | SimServer>(s: T): T {
  cleanups.push(() => s.close());
  return s;
}

/** answers a small chat completion after `ms`, with a Server-Timing stage */
function chatServer(ms: number): Promise<TestServer> {
  return listen((_req, res) => {
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('server-timing', `app;dur=${ms}`);
      res.end(JSON.stringify({ model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }] }));
    }, ms);
  });
}

/** the stdout of a --json command: exactly one line, one JSON object */
function onlyJson(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n');
  expect(lines.length, stdout).toBe(2);
  expect(lines[1]).toBe('');
  const v = JSON.parse(lines[0] as string) as unknown;
  expect(typeof v === 'object' && v !== null && !Array.isArray(v)).toBe(true);
  return v as Record<string, unknown>;
}

/** `budgetgate A… | budgetgate B…` */
function pipe(a: readonly string[], b: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = (args: readonly string[]) => spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const first = cli(a);
  const second = cli(b);
  first.stdin.end();
  first.stdout.pipe(second.stdin);
  let stdout = '';
  let stderr = '';
  second.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  second.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  first.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => second.on('close', (code) => res({ code, stdout, stderr })));
}

describe('budgetgate run with one-line flags (end to end)', () => {
  it('happy: no profile file; exits 0 with exactly the scheduled requests at the loopback server', async () => {
    const s = track(await chatServer(5));
    const out = tempDir();
    const r = await runCli(['run', '--url', s.url, '--rate', '20', '--warmup', '2s', '--duration', '2s', '--prompt', 'Hi', '--budget', 'total p50 < 2s', '--budget', 'errorRate < 1%', '--out', out, '--quiet']);
    expect(r.stderr).not.toMatch(/internal error/);
    const rep = readReport(out);
    // the flags' budgets pass; load delivered is the machine's (80 sends, warmup included: 5 sends
    // more than 10 ms late on a starved host fail it), and exit 0 exactly when it passed too
    expectVerdict(r.code, rep, ['load delivered']);
    expect(rep.profile).toBe('adhoc');
    expect(rep.totals.sent).toBe(80); // 20/s × 2 s warmup + 20/s × 2 s
    expect(s.arrivals.length).toBe(81); // and the probe
    expect(rep.budgets.map((v) => v.id)).toEqual(['total p50', 'errorRate', 'load delivered']);
    expect(r.stdout).toMatch(/throughput: 20\.0 req\/s achieved/);
  }, 60_000);

  it('happy: a streamed one-liner (embedded endpoint, no --url) reports output tokens/s beside requests/s', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--rate', '10', '--warmup', '1s', '--duration', '2s', '--stream', '--max-tokens', '16', '--out', out, '--quiet', '--json']);
    expect(r.stderr).not.toMatch(/internal error/);
    const j = onlyJson(r.stdout) as { headline: { outputTokensPerSec: number | null; requestsPerSec: number } };
    const load = readReport(out).phases.find((p) => p.name === 'load');
    expect(load?.outputTokens).toBe(20 * 16); // 20 requests × max_tokens 16 content events
    expect(j.headline.outputTokensPerSec).toBe(160);
    expect(r.stderr).toMatch(/throughput: 10\.0 req\/s achieved, 10\.0 ok\/s, 160 output tokens\/s/);
  }, 60_000);

  it('sad: a one-liner whose budget is broken exits 1, the budget named as failed', async () => {
    const s = track(await chatServer(30));
    const out = tempDir();
    const r = await runCli(['run', '--url', s.url, '--rate', '20', '--warmup', '1s', '--duration', '2s', '--prompt', 'Hi', '--budget', 'total p50 < 5ms', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(readReport(out).budgets.find((v) => v.id === 'total p50')?.status).toBe('fail');
    expect(r.stdout).toMatch(/FAIL\s+total p50/);
  }, 60_000);

  it('sad: a malformed --budget is exit 2 naming the flag, and nothing is sent', async () => {
    const s = track(await chatServer(1));
    const r = await runCli(['run', '--url', s.url, '--rate', '20', '--duration', '2s', '--budget', 'total p99 < 800']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^budgetgate: --budget "total p99 < 800": expected a duration like 500ms, got '800' at column 13$/m);
    const v = await runCli(['run', '--url', s.url, '--rate', '20', '--duration', '2s', '--budget', 'ttft p99 < 1s']);
    expect(v.code).toBe(2); // a well-formed budget the validator refuses: same exit, named by its flag
    expect(v.stderr).toMatch(/--budget "ttft p99 < 1s": ttft is measured only on streamed responses/);
    const j = await runCli(['run', '--url', s.url, '--rate', '20', '--duration', '2s', '--budget', 'errorRate > 1%', '--json']);
    expect(j.code).toBe(2); // with --json the error is the one object on stdout too
    expect(onlyJson(j.stdout)).toMatchObject({ command: 'run', verdict: null, exitCode: 2, error: expect.stringMatching(/^--budget "errorRate > 1%": expected '<' \(errorRate is a ceiling\)/) });
    const both = await runCli(['run', 'profiles/demo.yaml', '--rate', '5']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--rate: one-line flags build a profile/);
    expect(s.arrivals.length).toBe(0);
  }, 60_000);

  it('happy: --print-profile writes a profile file that validate accepts, sending nothing', async () => {
    const s = track(await chatServer(1));
    const r = await runCli(['run', '--url', s.url, '--rate', '10', '--to', '40', '--duration', '30s', '--stream', '--preset', 'vllm', '--prompt', 'Hi', '--budget', 'ttft p99 < 500ms', '--budget', 'goodput >= 95%', '--goodput', 'ttft:500ms', '--print-profile']);
    expect(r.code, r.stderr).toBe(0);
    const file = join(tempDir(), 'p.yaml');
    writeFileSync(file, r.stdout);
    const v = await runCli(['validate', file]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/load\s+0ms\s+30s\s+10→40\/s/);
    expect(s.arrivals.length).toBe(0);
  }, 60_000);

  it('happy: a body timing rule reads a gzip-compressed response (accept-encoding asked for by a header)', async () => {
    const encodings: string[] = [];
    const s = track(
      await listen((req, res) => {
        encodings.push(String(req.headers['accept-encoding']));
        const body = Buffer.from(JSON.stringify({ model: 'm', choices: [], metrics: { queue_time_ms: 3.5 } }));
        res.setHeader('content-type', 'application/json');
        if (/gzip/.test(String(req.headers['accept-encoding']))) {
          res.setHeader('content-encoding', 'gzip');
          res.end(gzipSync(body));
        } else res.end(body);
      }),
    );
    const out = tempDir();
    const r = await runCli(['run', '--url', s.url, '--rate', '20', '--duration', '1s', '--preset', 'vllm', '--prompt', 'Hi', '--header', 'accept-encoding: gzip', '--out', out, '--quiet']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(encodings.every((e) => e === 'gzip')).toBe(true);
    const queue = readReport(out).series.find((x) => x.stage === 'queue');
    expect(queue).toMatchObject({ count: 20, unmeasured: 0, p50: 3.5 });
  }, 60_000);
});

describe('budgetgate init (end to end)', () => {
  it('happy: init | validate - exits 0, for the default and a streamed preset', async () => {
    const plain = await pipe(['init'], ['validate', '-']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/profile starter: valid/);
    expect(plain.stdout).toMatch(/spike-peak/);
    const vllm = await pipe(['init', '--preset', 'vllm', '--stream'], ['validate', '-']);
    expect(vllm.code, vllm.stderr).toBe(0);
    expect(vllm.stdout).toMatch(/p99 of ttft ≤ 1s/);
    const bad = await runCli(['init', '--preset', 'vlm']);
    expect(bad.code).toBe(2);
  }, 60_000);
});

describe('--json (end to end)', () => {
  it('happy: run, check and compare print one JSON object on stdout that matches report.json', async () => {
    const s = track(await chatServer(5));
    const dir = tempDir();
    const out = join(dir, 'run');
    const r = await runCli(['run', '--url', s.url, '--rate', '20', '--warmup', '1s', '--duration', '2s', '--prompt', 'Hi', '--budget', 'total p50 < 2s', '--budget', 'app p50 < 1ms', '--out', out, '--format', 'html', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const j = onlyJson(r.stdout);
    const rep: RunResult = readReport(out);
    expect(j).toMatchObject({ schema: 'budgetgate/summary@1', command: 'run', verdict: rep.verdict, exitCode: 1, profile: 'adhoc', durationMs: rep.durationMs, interrupted: false });
    expect(j.budgets).toEqual(rep.budgets);
    expect(j.headline).toMatchObject({ sent: rep.totals.sent, completed: rep.totals.completed, errors: rep.totals.errors, requestsPerSec: 20 });
    const load = rep.series.find((x) => x.stage === 'total' && x.phase === 'load');
    expect(j.headline).toMatchObject({ total: { p50: load?.p50, p99: load?.p99 } }); // one path: the series' own summary
    expect(j.files).toEqual({ json: join(out, 'report.json'), html: join(out, 'report.html') });
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(r.stderr).toMatch(/Budgets/); // the tables went to stderr

    const profile = join(dir, 'p.yaml');
    writeFileSync(profile, 'name: adhoc\nphases: [{ name: load, duration: 2s, rate: 20 }]\nbudgets: [{ stage: total, p50: 2s }]\n');
    const c = await runCli(['check', join(out, 'report.json'), '--profile', profile, '--json', '--out', join(dir, 'check')]);
    // check re-derives load delivered from the saved totals: pass and exit 0 unless the machine made
    // > 5% of the 60 open sends late (then compare calls the run unfit to compare: exit 5)
    const delivered = rep.budgets.find((v) => v.id === 'load delivered')?.status === 'pass';
    expect(c.code, c.stderr).toBe(delivered ? 0 : 1);
    const cj = onlyJson(c.stdout);
    const checked = readReport(join(dir, 'check'));
    expect(cj).toMatchObject({ command: 'check', verdict: delivered ? 'pass' : 'fail', exitCode: delivered ? 0 : 1, files: { json: join(dir, 'check', 'report.json') } });
    expect(cj.budgets).toEqual(checked.budgets);

    const cmp = await runCli(['compare', join(out, 'report.json'), join(out, 'report.json'), '--json']);
    if (delivered) {
      expect(cmp.code, cmp.stderr).toBe(0);
      expect(onlyJson(cmp.stdout)).toMatchObject({ command: 'compare', verdict: 'pass', exitCode: 0, regressions: 0 });
    } else expect(cmp.code, cmp.stderr).toBe(5);
  }, 90_000);

  it('happy: merge and capacity --json print one JSON object matching their report.json', async () => {
    const sim = track(await startSim({ workers: 16, seed: 3 }));
    const dir = tempDir();
    const profile = join(dir, 'p.yaml');
    const made = await runCli(['run', '--rate', '20', '--duration', '2s', '--budget', 'total p50 < 2s', '--print-profile']);
    writeFileSync(profile, made.stdout);
    const shards = await Promise.all([0, 1].map((i) => runCli(['run', profile, '--target', `${sim.url}/v1/chat/completions`, '--shard', `${i}/2`, '--out', join(dir, `s${i}`), '--quiet', '--json'])));
    for (const sh of shards) expect(onlyJson(sh.stdout)).toMatchObject({ command: 'run', shard: { count: 2 } });
    const m = await runCli(['merge', join(dir, 's0/report.json'), join(dir, 's1/report.json'), '--profile', profile, '--out', join(dir, 'm'), '--json']);
    const mj = onlyJson(m.stdout);
    const merged = readReport(join(dir, 'm'));
    expect(mj).toMatchObject({ command: 'merge', verdict: merged.verdict, files: { json: join(dir, 'm', 'report.json') } });
    expect(mj.budgets).toEqual(merged.budgets);
    expect((mj.headline as { sent: number }).sent).toBe(40);

    const cap = await runCli(['capacity', profile, '--target', `${sim.url}/v1/chat/completions`, '--from', '20', '--to', '30', '--out', join(dir, 'c'), '--min-step', '2s', '--cooldown', '200ms', '--warmup', '0s', '--json']);
    const cj = onlyJson(cap.stdout);
    const capReport = JSON.parse(readFileSync(join(dir, 'c', 'report.json'), 'utf8')) as RunResult;
    expect(cj).toMatchObject({ command: 'capacity', exitCode: cap.code, capacity: { rps: capReport.capacity?.rps, outcome: capReport.capacity?.outcome } });
    expect(cj.budgets).toEqual(capReport.budgets);
    expect(cap.stderr).toMatch(/Capacity/);
  }, 120_000);
});
