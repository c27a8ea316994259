/**
 * Done-when of issue 17: an exec hook stops the primary backend (SIGSTOP) mid-run behind a real
 * nginx with a backup upstream, and SIGCONTs it when the run ends (`always`). The recovery budget's
 * time-to-recover matches what the per-second timeline shows within one window, and the same data
 * passes a generous `within` and fails a tight one (a stopped primary costs nginx's 1 s read
 * timeout before the retry on the backup, so time-to-recover is about a second). Everything listens on 127.0.0.1, bounded in
 * time, and is killed after the test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readReport, runCli, tempDir, writeProfile } from './cli.js';
import { findNginx, startBackend, startNginx, warm, type Backend } from './nginx.js';

const nginx = findNginx(process.env);
if (nginx.kind !== 'found') console.log(`nginx failover test: ${nginx.reason}`);
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});

const WARMUP_MS = 2000;
const STEADY_MS = 4000;
const FAULT_MS = WARMUP_MS + STEADY_MS;
const WINDOW_MS = 1000;
const LIMIT_MS = 150;

describe.skipIf(nginx.kind === 'skip')('recovery behind nginx with a backup upstream', () => {
  it('happy/sad: SIGSTOP of the primary → failover; time-to-recover matches the timeline; within 5s passes, within 100ms fails', async () => {
    if (nginx.kind === 'fail') throw new Error(nginx.reason);
    if (nginx.kind !== 'found') return;
    const dir = tempDir('budgetgate-nginx-');
    const a: Backend = await startBackend('A');
    cleanups.push(a.stop);
    const b: Backend = await startBackend('B');
    cleanups.push(b.stop);
    await warm(a.port);
    await warm(b.port);
    const proxy = await startNginx(nginx.path, dir, a.port, b.port);
    cleanups.push(proxy.stop);

    const recovery = { stage: 'total', p90: `${LIMIT_MS}ms`, errorRate: '1%', after: 'outage', window: '1s', hold: '3s' };
    const profile = writeProfile(dir, {
      name: 'nginx-failover',
      target: { url: `http://127.0.0.1:${proxy.port}/v1/chat/completions`, method: 'POST', body: { model: 'm' } },
      fallback: { header: 'x-backend', equals: 'B' },
      phases: [
        { name: 'warmup', duration: `${WARMUP_MS}ms`, rate: 50, warmup: true },
        { name: 'steady', duration: `${STEADY_MS}ms`, rate: 150 },
        {
          name: 'outage', duration: '8s', rate: 150,
          onStart: { exec: ['kill', '-STOP', '${PRIMARY_PID}'] },
          onEnd: { exec: ['kill', '-CONT', '${PRIMARY_PID}'], always: true },
        },
      ],
      budgets: [{ recovery: { ...recovery, within: '5s' } }, { recovery: { ...recovery, within: '100ms' } }],
    });
    const out = tempDir();
    const r = await runCli(['run', profile, '--allow-hooks', '-q', '-o', out, '-f', 'junit,md,html'], { env: { PRIMARY_PID: String(a.pid) } });
    const rep = readReport(out);
    expect(r.code, `${r.stderr}\n${proxy.log()}`).toBe(1);
    expect(rep.hooks?.map((h) => [h.id, h.status, h.scheduledMs])).toEqual([['outage.onStart', 'ok', FAULT_MS], ['outage.onEnd', 'ok', FAULT_MS + 8000]]);
    // the failover happened: steady on A only, the outage served by B
    const phase = (n: string) => rep.phases.find((p) => p.name === n);
    expect(phase('steady')?.fallback).toBe(0);
    expect(phase('outage')?.fallback).toBeGreaterThan(0);

    const [loose, tight] = rep.budgets;
    expect(loose?.status, loose?.reason).toBe('pass');
    expect(tight?.status).toBe('fail');
    expect(tight?.observed).toBe(loose?.observed);
    const ttr = loose?.observed as number;
    const rec = loose?.recovery;
    expect(rec?.faultMs).toBe(FAULT_MS);
    expect(rec?.affected).toBeGreaterThan(0);
    // the timeline (by completion second): the seconds after the fault whose slowest completions broke
    // the limit (p99 over it), from the first in a row, hold the requests the failover delayed; they
    // were sent about their latency (that second's p99) earlier, so by intended time the slow stretch
    // ends within [t − p99, t + 1 s − p99] of the last such second t (its slowest completed somewhere in
    // it), and the recovery instant must lie within one window of that interval. Not p50: the
    // ~150 requests delayed by nginx's 1 s timeout complete in the same second as the ~150 sent after
    // it straight to the backup, so that second's p50 falls on either side (CI: 1,002 ms once, 11.9 ms once)
    const slow = (p: (typeof rep.timeline)[number] | undefined): boolean => (p?.p99 ?? 0) > LIMIT_MS;
    const around = rep.timeline.filter((p) => p.t >= FAULT_MS - 1000 && p.t < FAULT_MS + 8000);
    let end = around.findIndex(slow);
    expect(end, JSON.stringify(rep.timeline.map((p) => [p.t, p.p50, p.p99]))).toBeGreaterThanOrEqual(0);
    while (slow(around[end + 1])) end++;
    const last = around[end] as (typeof around)[number];
    const slowEndsFrom = last.t - (last.p99 ?? 0);
    const slowEndsAt = slowEndsFrom + 1000;
    const recoveredAt = rec?.recoveredMs as number;
    expect(recoveredAt).toBeGreaterThan(FAULT_MS);
    const outside = Math.max(0, slowEndsFrom - recoveredAt, recoveredAt - slowEndsAt);
    expect(outside, `recovered at ${recoveredAt} ms; the timeline's slow stretch ends in [${slowEndsFrom}, ${slowEndsAt}] ms`).toBeLessThanOrEqual(WINDOW_MS);
    console.log(`nginx failover: time-to-recover ${ttr} ms (recovered at ${recoveredAt} ms; ${rec?.affected} requests affected; timeline: slow until ${Math.round(slowEndsFrom)}–${Math.round(slowEndsAt)} ms)`);
  }, 90_000);
});
