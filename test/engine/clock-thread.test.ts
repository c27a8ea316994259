/**
 * The pacer's clock thread (engine/clock-thread.ts) on real threads: a wake-up never runs before its
 * time, a replaced or cancelled one never runs, a thread that cannot start or dies leaves Node's
 * timers doing the waking, and neither a pending nor a closed clock holds a process past its end.
 * How fine its grain is is a speed figure: bench (f) prints it (the server-seen lateness).
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { clockThread, type ClockThread } from '../../src/engine/clock-thread.js';

const hrMs = (): number => {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
};
/** setTimeout's own grain: libuv's loop time is whole ms, so its wake-ups may come up to 1 ms before an hrtime deadline */
const SET_TIMEOUT_GRAIN_MS = 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const clocks: ClockThread[] = [];
afterEach(() => {
  for (const c of clocks.splice(0)) c.close();
});
function clock(...args: Parameters<typeof clockThread>): ClockThread {
  const c = clockThread(...args);
  clocks.push(c);
  return c;
}

/** arms `ms` on the clock; resolves with how late (ms, ≥ 0 expected) the wake-up ran */
function wake(c: ClockThread, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const due = hrMs() + ms;
    c.after(ms, () => resolve(hrMs() - due));
  });
}

describe('clockThread', () => {
  it('happy: it starts, and 200 wake-ups of 0.05–2 ms each run, none before its time', async () => {
    const c = clock();
    expect(await c.ready).toBe(true);
    const late: number[] = [];
    for (let i = 0; i < 200; i++) late.push(await wake(c, 0.05 + ((i * 37) % 100) / 50));
    expect(late).toHaveLength(200);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(-0.01); // hrtime read in two threads: µs apart at most
  });

  it('happy: a wake-up of ≤ 0 ms runs as an immediate', async () => {
    const c = clock();
    await c.ready;
    const ran = await new Promise<boolean>((r) => c.after(0, () => r(true)));
    expect(ran).toBe(true);
  });

  it('sad: an `after` replaces the pending wake-up; a cancelled one never runs; an old handle cancels nothing', async () => {
    const c = clock();
    await c.ready;
    const ran: string[] = [];
    c.after(2, () => ran.push('replaced'));
    const second = c.after(3, () => ran.push('second'));
    await sleep(20);
    expect(ran).toEqual(['second']);
    const third = c.after(2, () => ran.push('cancelled'));
    c.cancel(third);
    await sleep(20);
    expect(ran).toEqual(['second']);
    c.after(2, () => ran.push('fourth'));
    c.cancel(second); // already ran: not the pending one
    await sleep(20);
    expect(ran).toEqual(['second', 'fourth']);
  });

  it('sad: a thread that cannot start leaves setTimeout waking (ready is false, nothing is lost)', async () => {
    const c = clock(() => {
      throw new Error('no threads here');
    });
    expect(await c.ready).toBe(false);
    expect(await wake(c, 2)).toBeGreaterThanOrEqual(-SET_TIMEOUT_GRAIN_MS);
  });

  it('sad: a thread that dies with a wake-up pending: the wake-up still runs, on setTimeout', async () => {
    let thread: Worker | undefined;
    const c = clock((code, options) => (thread = new Worker(code, options)));
    await c.ready;
    const late = wake(c, 50);
    await thread?.terminate();
    expect(await late).toBeGreaterThanOrEqual(-SET_TIMEOUT_GRAIN_MS);
    expect(await wake(c, 2)).toBeGreaterThanOrEqual(-SET_TIMEOUT_GRAIN_MS); // and the next ones too
  });

  it('sad: close() drops a pending wake-up', async () => {
    const c = clock();
    await c.ready;
    let ran = false;
    c.after(5, () => (ran = true));
    c.close();
    await sleep(30);
    expect(ran).toBe(false);
  });

  it.each([
    ['a wake-up ran and none is pending', '', 'c.after(2, () => {});'],
    // each wake-up arms the next inside its callback (the thread stays held throughout), the fifth arms none
    ['a chain of five wake-ups, each arming the next from its callback', '', 'let n = 0; const go = () => { if (++n < 5) c.after(1, go); }; c.after(1, go); process.on("exit", () => { if (n !== 5) process.exitCode = 3; });'],
    ['a long wake-up is pending, then closed', '', 'c.after(60000, () => {}); setTimeout(() => c.close(), 20);'],
    // its 'error' and then its 'exit': the fallback is set once, and close() clears it
    ['the thread\'s program failed, a long wake-up pending, then closed', '(code, o) => new Worker("throw new Error(1)", o)', 'c.after(60000, () => {}); setTimeout(() => c.close(), 200);'],
  ])('happy: the process exits when its work is done (%s)', (_name, start, body) => {
    const src = new URL('../../src/engine/clock-thread.ts', import.meta.url).href;
    const script = `import { Worker } from 'node:worker_threads'; import { clockThread } from ${JSON.stringify(src)}; const c = clockThread(${start}); await c.ready; ${body}`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
  });
});
