/**
 * A timer with a grain of tens of microseconds, for the pacer, without spinning: a worker thread
 * (the clock thread) sleeps in `Atomics.wait` until the deadline and then posts one message, which
 * wakes the main loop at once (a message is an async handle: epoll returns when it is signalled).
 *
 * Why: Node's own timers have a 1 ms grain (`setTimeout(fn, 0.3)` waits ≥ 1 ms, and libuv computes
 * deadlines in whole ms). A pacer on them releases every arrival due before the next wake-up, so
 * sends land anywhere in about [−0.5, +0.6] ms of their intended times: at 2,000 req/s that grain
 * alone was the p99 lateness the server saw (measured in a bare loop: p1 −0.49, p99 +0.60 ms on
 * setTimeout; +0.03 / +0.14 ms on this clock, p99 − p1 from 1.09 to 0.11 ms). `Atomics.wait` takes a
 * fractional timeout down to the kernel's timer slack (50 µs by default).
 *
 * Protocol, over one SharedArrayBuffer: ctl[SEQ] counts arms and cancels, ctl[STOP] ends the thread,
 * ctl[LOOKS] is when the clock thread next looks (10 µs steps from `base`, rounded up; LOOKS_NEVER:
 * only when notified), deadline[0] is the wake-up time on process.hrtime's clock (ms; the same clock
 * in every thread), or −1 for none. The main thread writes the deadline, bumps SEQ and notifies if
 * the thread would look later than the deadline; the clock thread waits on SEQ (so a re-arm or a
 * cancel wakes it early), and when the deadline passes with SEQ unchanged it posts SEQ back. The main
 * thread runs the wake only if that SEQ is still the one it armed: a wake cancelled or replaced in the
 * meantime is dropped. LOOKS is an atomic, not a plain number: each thread writes one cell and then
 * reads the other's (store-buffer order), which only sequentially consistent accesses make safe.
 *
 * One wake is pending at a time (the pacer never has two): `after` replaces a pending one.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { Timer } from './pacer.js';

const SEQ = 0;
const STOP = 1;
const LOOKS = 2;
const LOOKS_NEVER = 0x7fffffff;
/** LOOKS counts steps of this many ms from `base` (2^31 of them: 248 days) */
const LOOKS_STEP_MS = 0.01;

/**
 * The clock thread's whole program (run with `eval`: no file to find under tsx or in dist). After a
 * wake-up it naps for the pacer's least gap: the next deadline cannot come sooner (the pacer arms it
 * ≥ that gap after its own wake-up, which is later still), so the main thread re-arms it without a
 * notify, one system call and one thread wake fewer per wake-up. It publishes when it will next look
 * (LOOKS); the main thread notifies only for a deadline before that.
 */
const CLOCK_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const ctl = new Int32Array(workerData.sab, 0, 3);
const deadline = new Float64Array(workerData.sab, 16, 1);
const nap = workerData.napMs;
const base = workerData.base;
const now = () => { const t = process.hrtime(); return t[0] * 1e3 + t[1] / 1e6; };
const looks = (at) => Atomics.store(ctl, ${LOOKS}, Math.min(${LOOKS_NEVER} - 1, Math.ceil((at - base) / ${LOOKS_STEP_MS})));
let fired = -1;
parentPort.postMessage(-1);
for (;;) {
  const seq = Atomics.load(ctl, ${SEQ});
  if (Atomics.load(ctl, ${STOP}) !== 0) break;
  const d = deadline[0];
  if (!(d >= 0) || seq === fired) { Atomics.store(ctl, ${LOOKS}, ${LOOKS_NEVER}); Atomics.wait(ctl, ${SEQ}, seq); continue; }
  const left = d - now();
  if (left > 0) { looks(d); Atomics.wait(ctl, ${SEQ}, seq, left); continue; }
  fired = seq;
  const napEnd = now() + nap;
  if (nap > 0) looks(napEnd); // before the message: a re-arm it prompts sees it
  parentPort.postMessage(seq);
  const napLeft = napEnd - now();
  if (napLeft > 0) Atomics.wait(ctl, ${SEQ}, seq, napLeft);
}
`;

/** How early the pacer may release an arrival on this clock (its wake-ups come ~30–50 µs late). */
export const CLOCK_THREAD_EARLY_MS = 0.1;

/**
 * The least time from one of its wake-ups to the next (Timer.minGapMs). A wake-up costs ~35 µs of
 * CPU here, nearly all of it the clock thread's sleep and wake on this VM (against a few µs for a
 * setTimeout on a loop that is awake anyway), so above 1 / MIN_GAP arrivals a second one wake-up
 * releases what falls due within the gap, sends land within [−early, MIN_GAP − early] ms, and the
 * clock costs at most 2,500 wake-ups (~9% of a core) a second. Measured at 10,000 req/s with a gap
 * of 0.3 ms (3,333 wake-ups a second) the server saw a longer tail than on setTimeout; at 0.4 ms it
 * was even. It stays under the gap of 2,000 req/s, 0.5 ms, by more than a wake-up's lateness: there
 * every arrival still gets its own wake-up.
 */
export const CLOCK_THREAD_MIN_GAP_MS = 0.4;

/** process.hrtime as ms, the clock both threads read */
function hrMs(): number {
  const t = process.hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}

export interface ClockThread extends Timer {
  /** resolves true once the thread runs (false: it could not start; wake-ups then use setTimeout) */
  readonly ready: Promise<boolean>;
  /** ends the thread; a pending wake-up is dropped */
  close(): void;
}

type StartThread = (code: string, options: WorkerOptions) => Worker;
const startThread: StartThread = (code, options) => new Worker(code, options);

/**
 * A clock thread, falling back to Node's timers (setTimeout, 1 ms grain) if the thread cannot start
 * or stops: a wake-up is never lost, only coarser. `start` is injected by tests.
 */
export function clockThread(start: StartThread = startThread): ClockThread {
  const sab = new SharedArrayBuffer(24);
  const ctl = new Int32Array(sab, 0, 3);
  const deadline = new Float64Array(sab, 16, 1);
  const base = hrMs();
  deadline[0] = -1;
  ctl[LOOKS] = LOOKS_NEVER;
  let armed = -1;
  /** the wake-up armed, also its handle (one object per `after`, so an old handle cancels nothing) */
  let pending: { fn: () => void } | undefined;
  let fallback: NodeJS.Timeout | undefined;
  let worker: Worker | undefined;
  let closed = false;
  /** whether the thread holds the process alive: only while a wake-up is pending (ref/unref only on a change: ~5 µs each, 2,000 times a second) */
  let held = false;
  const hold = (on: boolean): void => {
    if (on === held || !worker) return;
    held = on;
    if (on) worker.ref();
    else worker.unref();
  };
  let markReady: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((r) => (markReady = r));
  const fire = (): void => {
    const p = pending;
    pending = undefined;
    p?.fn();
    // a wake-up that arms the next (the pacer's, nearly always) keeps the thread held
    if (!pending) hold(false);
  };
  const lost = (): void => {
    // the thread is gone ('error', then 'exit'): what it was to wake, setTimeout wakes (its deadline is near or past)
    if (!worker) return;
    worker = undefined;
    markReady(false);
    if (pending && !closed) fallback = setTimeout(fire, Math.max(0, deadline[0]! - hrMs()));
  };
  try {
    // execArgv []: not the main thread's flags (`--input-type=module` would make this CommonJS program a module; `--import tsx` would load tsx here)
    worker = start(CLOCK_THREAD, { eval: true, execArgv: [], workerData: { sab, napMs: CLOCK_THREAD_MIN_GAP_MS, base }, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    worker.unref();
    worker.on('message', (seq: number) => {
      if (seq === -1) markReady(true);
      else if (seq === armed && pending) fire();
    });
    worker.once('error', lost);
    worker.once('exit', lost);
  } catch {
    worker = undefined;
    markReady(false);
  }
  const disarm = (): void => {
    pending = undefined;
    if (fallback) clearTimeout(fallback);
    fallback = undefined;
  };
  return {
    ready,
    earlyMs: CLOCK_THREAD_EARLY_MS,
    minGapMs: CLOCK_THREAD_MIN_GAP_MS,
    after(ms, fn) {
      disarm();
      // as nodeTimer: an immediate is not cancelled (the pacer checks it was stopped)
      if (ms <= 0) return setImmediate(fn);
      const handle = { fn };
      pending = handle;
      if (!worker || closed) {
        fallback = setTimeout(fire, ms);
        return handle;
      }
      const at = hrMs() + ms;
      deadline[0] = at;
      armed = Atomics.add(ctl, SEQ, 1) + 1;
      // asleep past `at`: wake it (else it looks by then, and sees the new deadline and SEQ)
      const looks = Atomics.load(ctl, LOOKS);
      if (looks === LOOKS_NEVER || at < base + looks * LOOKS_STEP_MS) Atomics.notify(ctl, SEQ);
      hold(true); // a pending wake-up keeps the process alive, as a pending setTimeout would
      return handle;
    },
    cancel(handle) {
      if (handle === undefined || handle !== pending) return;
      disarm();
      hold(false);
      deadline[0] = -1;
      Atomics.add(ctl, SEQ, 1);
      Atomics.notify(ctl, SEQ);
    },
    close() {
      if (closed) return;
      closed = true;
      disarm();
      hold(false);
      Atomics.store(ctl, STOP, 1);
      Atomics.add(ctl, SEQ, 1);
      Atomics.notify(ctl, SEQ);
      const w = worker;
      worker = undefined;
      markReady(false);
      void w?.terminate();
    },
  };
}
