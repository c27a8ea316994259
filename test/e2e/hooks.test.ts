/**
 * Fault hooks as a user meets them (core/hooks.ts, engine/hooks.ts): the CLI in its own process
 * against loopback servers this test starts. Without --allow-hooks an exec or url hook is exit 2
 * with nothing sent; a failing hook fails the run unless optional; a path hook reaches the target;
 * validate and --dry-run list hooks without running them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { expectVerdict, readReport, runCli, tempDir, writeProfile } from './cli.js';
import { listen, type TestServer } from './servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** a target answering 200 to load, and counting what reached /admin/fault */
async function target(adminStatus = 200): Promise<TestServer & { admin: string[] }> {
  const admin: string[] = [];
  const s = await listen((req, res) => {
    if (req.url === '/admin/fault') {
      admin.push(req.method ?? '');
      res.writeHead(adminStatus, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ injected: adminStatus < 400, token: 'secret-xyz' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  cleanups.push(() => s.close());
  return { ...s, admin };
}

const node = process.execPath;
const profile = (url: string, onStart: unknown, extra: object = {}): object => ({
  name: 'hooks',
  target: { url: `${url}v1/chat/completions`, method: 'POST', body: { model: 'm' } },
  phases: [{ name: 'one', duration: '1s', rate: 20, onStart, ...extra }],
});

describe('--allow-hooks', () => {
  it.each([
    ['sad', 'an exec hook', { exec: [node, '-e', 'process.exit(0)'] }, /phases one\.onStart \(exec .*\): it runs a program/],
    ['sad', 'an http hook with a url', { http: { url: 'http://127.0.0.1:9/x' } }, /it calls an address other than the target/],
  ])('%s: %s without the flag is exit 2 and nothing is sent', async (_l, _what, hook, message) => {
    const s = await target();
    const dir = tempDir();
    const r = await runCli(['run', writeProfile(dir, profile(s.url, hook)), '-q', '-o', dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/--allow-hooks \(nothing was sent\)/);
    expect(s.arrivals.length).toBe(0);
  });
});

describe('hooks in a run', () => {
  it('happy: a path hook goes to the target at the phase start, needs no flag, and is reported (output redacted)', async () => {
    const s = await target();
    const dir = tempDir();
    const hook = { http: { path: '/admin/fault', body: { kind: 'stall', ms: 100 } } };
    const r = await runCli(['run', writeProfile(dir, profile(s.url, hook)), '-q', '-o', dir, '-f', 'junit,md', '--redact', 'TOKEN'], { env: { TOKEN: 'secret-xyz' } });
    const rep = readReport(dir);
    expectVerdict(r.code, rep, ['load delivered']);
    expect(s.admin).toEqual(['POST']);
    const h = rep.hooks?.[0];
    expect(h).toMatchObject({ id: 'one.onStart', status: 'ok', httpStatus: 200, scheduledMs: 0, kind: 'http' });
    expect(h?.startedMs).toBeGreaterThanOrEqual(0);
    expect(h?.startedMs).toBeLessThan(1000);
    expect(h?.output).toContain('"injected":true');
    expect(h?.output).not.toContain('secret-xyz');
    expect(r.stdout).toMatch(/Hooks\n {2}one\.onStart at 0ms .*POST \/admin\/fault \(on the target\) → http 200/);
  });

  it('happy: with --workers 2 a hook runs once, on the main thread', async () => {
    const s = await target();
    const dir = tempDir();
    const hook = { http: { path: '/admin/fault', body: { kind: 'stall', ms: 100 } } };
    const r = await runCli(['run', writeProfile(dir, profile(s.url, hook, { onEnd: hook })), '-q', '-o', dir, '--workers', '2']);
    const rep = readReport(dir);
    expectVerdict(r.code, rep, ['load delivered']);
    expect(rep.workers).toBe(2);
    expect(s.admin).toEqual(['POST', 'POST']);
    expect(rep.hooks?.map((h) => [h.id, h.status])).toEqual([['one.onStart', 'ok'], ['one.onEnd', 'ok']]);
  });

  it.each([
    ['sad', 'non-zero exit', { exec: [node, '-e', 'console.error("boom"); process.exit(3)'] }, 'failed', /exit 3/],
    ['sad', 'a timeout', { exec: [node, '-e', 'setTimeout(() => {}, 20000)'], timeout: '300ms' }, 'timeout', /timed out after 0\.3s/],
    ['sad', 'a missing program', { exec: ['/nonexistent/budgetgate-hook'] }, 'failed', /spawn ENOENT/],
  ])('%s: a hook that fails by %s fails the run (exit 1), whatever the budgets say', async (_l, _what, hook, status, error) => {
    const s = await target();
    const dir = tempDir();
    const r = await runCli(['run', writeProfile(dir, profile(s.url, hook)), '-q', '-o', dir, '--allow-hooks', '-f', 'junit']);
    const rep = readReport(dir);
    expect(r.code, r.stderr).toBe(1);
    expect(rep.verdict).toBe('fail');
    expect(rep.hooks?.[0]?.status).toBe(status);
    expect(rep.hooks?.[0]?.error).toMatch(error);
    expect(r.stdout).toMatch(/FAIL .*hook/);
    expect(s.arrivals.length).toBeGreaterThan(0); // the load went on beside the hook
  });

  it('sad: an http hook answered 500 fails the run; happy: the same hook marked optional does not', async () => {
    const s = await target(500);
    const dir = tempDir();
    const hook = { http: { path: '/admin/fault', body: { kind: 'stall' } } };
    const failed = await runCli(['run', writeProfile(dir, profile(s.url, hook)), '-q', '-o', dir]);
    expect(failed.code).toBe(1);
    expect(readReport(dir).hooks?.[0]).toMatchObject({ status: 'failed', httpStatus: 500, error: 'http 500' });
    const dir2 = tempDir();
    const ok = await runCli(['run', writeProfile(dir2, profile(s.url, { ...hook, optional: true })), '-q', '-o', dir2]);
    const rep = readReport(dir2);
    expect(rep.hooks?.[0]).toMatchObject({ status: 'failed', optional: true });
    expectVerdict(ok.code, rep, ['load delivered']);
  });

  it('happy: validate and --dry-run show the hooks and run none of them', async () => {
    const s = await target();
    const hookTarget = await target();
    const dir = tempDir();
    const path = writeProfile(dir, profile(s.url, { http: { url: `${hookTarget.url}admin/fault`, body: {} } }, { onEnd: { exec: [node, '-e', 'process.exit(0)'], always: true } }));
    const v = await runCli(['validate', path]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/Hooks \(not run by validate or --dry-run\)\n {2}at 0ms: one\.onStart: POST http:\/\/127\.0\.0\.1:\d+\/admin\/fault \(timeout 10s\), needs --allow-hooks\n {2}at 1s: one\.onEnd: exec .* \(timeout 10s, always\), needs --allow-hooks/);
    const d = await runCli(['run', path, '--dry-run', '--allow-hooks']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/one\.onStart: POST/);
    expect(hookTarget.admin).toEqual([]);
    expect(hookTarget.arrivals.length + s.arrivals.length).toBe(0);
  });
});
