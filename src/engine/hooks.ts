/**
 * Fault hooks, the shell side: fires each instant of core/hooks.ts's plan on the run's clock with a
 * timer (never in the pacer's way), spawns `exec` hooks as an argv (no shell) and sends `http`
 * hooks with fetch, each bounded by its timeout (an exec hook is killed, SIGKILL, at its timeout).
 * `finish` is called once the load has stopped: hooks not yet due run now when the run finished its
 * schedule (an onEnd at the schedule's end) or, when it stopped early, only if `always`; then every
 * running hook is awaited (each ends by its timeout) and the reports come back in plan order.
 */
import { spawn } from 'node:child_process';
import { describeHook, tail, type HookInstant, type HookReport } from '../core/hooks.js';

export interface HookRunnerOptions {
  /** the run's target URL: an http hook's `path` is sent to its origin */
  targetUrl: string;
  redact: (s: string) => string;
}

export class HookRunner {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly started = new Map<number, Promise<HookReport>>();
  private now: () => number = () => 0;

  constructor(
    private readonly plan: readonly HookInstant[],
    private readonly o: HookRunnerOptions,
  ) {}

  get empty(): boolean {
    return this.plan.length === 0;
  }

  /** t = 0 of the run is now; `now()` reads the run's clock in ms from then. */
  start(now: () => number): void {
    this.now = now;
    this.plan.forEach((inst, i) => {
      const wait = inst.atMs - now();
      if (wait <= 0) this.fire(i);
      else this.timers.push(setTimeout(() => this.fire(i), wait));
    });
  }

  private fire(i: number): void {
    if (this.started.has(i)) return;
    const inst = this.plan[i] as HookInstant;
    this.started.set(i, runHook(inst, this.now, this.o));
  }

  /** See the module comment; `stoppedEarly`: interrupted or aborted before the schedule ended. */
  async finish(stoppedEarly: boolean): Promise<HookReport[]> {
    for (const t of this.timers) clearTimeout(t);
    this.plan.forEach((inst, i) => {
      if (!this.started.has(i) && (!stoppedEarly || inst.hook.always)) this.fire(i);
    });
    return Promise.all(this.plan.map((inst, i) => this.started.get(i) ?? Promise.resolve(skipped(inst, this.o))));
  }
}

function base(inst: HookInstant, o: HookRunnerOptions): Omit<HookReport, 'startedMs' | 'durationMs' | 'status' | 'output'> {
  return { id: inst.id, phase: inst.phase, when: inst.when, kind: inst.hook.action.kind, what: o.redact(describeHook(inst.hook)), scheduledMs: inst.atMs, optional: inst.hook.optional };
}

function skipped(inst: HookInstant, o: HookRunnerOptions): HookReport {
  return { ...base(inst, o), startedMs: null, durationMs: null, status: 'skipped', output: '' };
}

async function runHook(inst: HookInstant, now: () => number, o: HookRunnerOptions): Promise<HookReport> {
  const startedMs = now();
  const r = inst.hook.action.kind === 'exec' ? await runExec(inst.hook.action.argv, inst.hook.timeoutMs) : await runHttp(inst.hook.action, inst.hook.timeoutMs, o.targetUrl);
  const durationMs = now() - startedMs;
  return { ...base(inst, o), startedMs, durationMs, ...r, ...(r.error !== undefined ? { error: o.redact(r.error) } : {}), output: o.redact(tail(r.output)) };
}

type Outcome = Pick<HookReport, 'status' | 'output' | 'error' | 'exitCode' | 'signal' | 'httpStatus'>;

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))}s`;

function runExec(argv: readonly string[], timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let out = '';
    let timedOut = false;
    const keep = (b: Buffer): void => {
      out = tail(out + b.toString('utf8'), 4096);
    };
    const child = spawn(argv[0] as string, argv.slice(1), { shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ status: 'failed', exitCode: null, error: `spawn ${e.code ?? e.message}`, output: out });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ status: 'timeout', exitCode: null, signal, error: `timed out after ${seconds(timeoutMs)}`, output: out });
      else if (code === 0) resolve({ status: 'ok', exitCode: 0, output: out });
      else resolve({ status: 'failed', exitCode: code, signal, error: code === null ? `killed by ${signal ?? 'a signal'}` : `exit ${code}`, output: out });
    });
  });
}

async function runHttp(a: Extract<HookInstant['hook']['action'], { kind: 'http' }>, timeoutMs: number, targetUrl: string): Promise<Outcome> {
  const url = a.url ?? new URL(a.path ?? '/', targetUrl).href;
  try {
    const res = await fetch(url, { method: a.method, headers: a.headers, ...(a.body !== undefined ? { body: a.body } : {}), signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return res.status >= 400 ? { status: 'failed', httpStatus: res.status, error: `http ${res.status}`, output: body } : { status: 'ok', httpStatus: res.status, output: body };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return { status: 'timeout', error: `timed out after ${seconds(timeoutMs)}`, output: '' };
    return { status: 'failed', error: err.cause?.code ?? err.message, output: '' };
  }
}
