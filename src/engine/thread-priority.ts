/**
 * The helper threads of this process run at a low priority (nice HELPER_NICE) while load is driven:
 * the sender (the main thread and its clock thread, and each --workers thread) comes first.
 *
 * Why: a run's first seconds compile its hot code. V8 does that on its platform threads (four here),
 * ~300 TurboFan jobs and ~0.5 s of CPU in the first 1.5 s of a 2,000 req/s run, and on two cores those
 * threads, at the same priority as the sender, took the core the main thread woke up for: the
 * scheduler let the running helper finish its slice, and the sends due meanwhile left 2–4 ms late.
 * At nice 19 a helper yields the core as soon as the sender wakes, and still runs whenever the sender
 * sleeps (most of the time). Measured against one arrival-logging server, 5 s runs, interleaved:
 * 2,000 req/s p99 lateness median 1.19 ms against 1.48 ms without (better in 5 of 6 rounds; vegeta
 * 1.18 in the same rounds); 5,000 req/s 1.32 against 1.45 ms (2 of 3).
 *
 * Which threads: those that exist when this module is first evaluated in the main thread, other than
 * the main thread itself. That is Node's platform (V8's compiler and GC helpers, its delayed-task
 * thread) and any libuv pool thread already started; worker threads come later (budgetgate's clock
 * and --workers threads start during a run), so they keep their priority. Linux only (it reads
 * /proc/self/task; elsewhere nothing happens), once per process: an unprivileged process cannot raise
 * a priority again, and the helpers stay low for the rest of it.
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

/** the nice value the helper threads get (the lowest priority) */
export const HELPER_NICE = 19;

export interface ThreadAccess {
  /** the ids of the process's threads (Linux: /proc/self/task), or undefined where there is no such list */
  threads(): number[] | undefined;
  /** the main thread's id (the process id) */
  mainId: number;
  setNice(tid: number, nice: number): void;
}

export const procThreads: ThreadAccess = {
  threads() {
    try {
      return readdirSync('/proc/self/task').map(Number);
    } catch {
      return undefined;
    }
  },
  mainId: process.pid,
  setNice: (tid, nice) => setPriority(tid, nice),
};

/** The helper threads present now (see above): every thread but the main one. */
export function helperThreads(access: ThreadAccess): number[] {
  return (access.threads() ?? []).filter((tid) => tid !== access.mainId);
}

/** what was there when this module was evaluated in the main thread (none in a worker thread) */
const atLoad: readonly number[] = isMainThread ? helperThreads(procThreads) : [];
let lowered = false;

/**
 * Lowers the helpers in `atLoad` that still run to `nice`; returns how many. A thread that ended
 * since, or refuses, is skipped. The default arguments act once per process.
 */
export function lowerHelperThreads(helpers: readonly number[] = atLoad, access: ThreadAccess = procThreads, nice = HELPER_NICE): number {
  if (helpers === atLoad) {
    if (lowered) return 0;
    lowered = true;
  }
  const alive = new Set(access.threads() ?? []);
  let n = 0;
  for (const tid of helpers) {
    if (!alive.has(tid) || tid === access.mainId) continue;
    try {
      access.setNice(tid, nice);
      n++;
    } catch {
      // gone in between, or not ours to change: it keeps its priority
    }
  }
  return n;
}
