/**
 * The helper threads' priority (engine/thread-priority.ts): with a stand-in for the thread list,
 * which threads are lowered and what a refusal does; on Linux, in a child process (a priority, once
 * lowered, cannot be raised again), that the helpers present at load go to nice 19 while the main
 * thread and a worker thread started later keep theirs. What it buys is a speed figure: bench (f).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HELPER_NICE, helperThreads, lowerHelperThreads, type ThreadAccess } from '../../src/engine/thread-priority.js';

function fake(threads: number[] | undefined, refuse: number[] = []): ThreadAccess & { set: Map<number, number> } {
  const set = new Map<number, number>();
  return {
    set,
    threads: () => threads,
    mainId: 100,
    setNice(tid, nice) {
      if (refuse.includes(tid)) throw new Error('EPERM');
      set.set(tid, nice);
    },
  };
}

describe('helperThreads and lowerHelperThreads', () => {
  it.each([
    ['happy: every thread but the main one is a helper', [100, 101, 102], [101, 102]],
    ['happy: a process with only its main thread has none', [100], []],
    ['sad: no thread list (not Linux) gives none', undefined, []],
  ])('%s', (_name, threads, helpers) => {
    expect(helperThreads(fake(threads))).toEqual(helpers);
  });

  it.each([
    // 103 started after the list was taken (a worker thread): not in `helpers`, not lowered
    ['happy: the listed helpers still running are lowered', [101, 102], [100, 101, 102, 103], [], [101, 102]],
    ['happy: a helper that ended since is skipped', [101, 102], [100, 102], [], [102]],
    ['happy: the main thread is never lowered, even if listed', [100, 101], [100, 101], [], [101]],
    ['sad: a thread that refuses keeps its priority, the others are lowered', [101, 102, 104], [100, 101, 102, 104], [102], [101, 104]],
    ['sad: no thread list lowers nothing', [101], undefined, [], []],
  ])('%s', (_name, helpers, threads, refuse, lowered) => {
    const access = fake(threads, refuse);
    expect(lowerHelperThreads(helpers, access, 7)).toBe(lowered.length);
    expect([...access.set.keys()]).toEqual(lowered);
    expect([...access.set.values()].every((n) => n === 7)).toBe(true);
  });
});

/** each thread's nice value, from /proc/PID/task/TID/stat (field 19; the comm field before it may hold spaces) */
const niceOf = `(tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16])`;

describe.skipIf(!existsSync('/proc/self/task'))('on this process\'s real threads (Linux)', () => {
  it('happy: the helpers present at load go to nice 19; the main thread and a worker started after keep theirs; a second call changes nothing', () => {
    const src = new URL('../../src/engine/thread-priority.ts', import.meta.url).href;
    const script = `
      import { readdirSync, readFileSync } from 'node:fs';
      import { Worker } from 'node:worker_threads';
      import { lowerHelperThreads } from ${JSON.stringify(src)};
      const niceOf = ${niceOf};
      const w = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()); setTimeout(() => {}, 5000)", { eval: true, execArgv: [] });
      const workerTid = Number(await new Promise((r) => w.once('message', r)));
      const first = lowerHelperThreads();
      const second = lowerHelperThreads();
      const nice = Object.fromEntries(readdirSync('/proc/self/task').map((t) => [t, niceOf(t)]));
      console.log(JSON.stringify({ first, second, main: process.pid, workerTid, nice }));
      await w.terminate();`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { first: number; second: number; main: number; workerTid: number; nice: Record<string, number> };
    expect(out.first).toBeGreaterThan(0); // Node starts its platform threads before any JS runs
    expect(out.second).toBe(0);
    // relative to the main thread's (a CI that runs everything under `nice` starts above 0)
    const base = out.nice[String(out.main)];
    expect(base).toBeLessThan(HELPER_NICE);
    expect(out.nice[String(out.workerTid)]).toBe(base);
    const low = Object.values(out.nice).filter((n) => n === HELPER_NICE).length;
    expect(low).toBe(out.first);
  });
});
