/**
 * Fault hooks as plain data: when each phase hook is due on the run's clock, what needs
 * `--allow-hooks`, and how a hook's outcome is reported. engine/hooks.ts does the spawning and
 * fetching; the verdict policy (verdict.ts) decides what a failed hook does to the run.
 *
 * Instants: a phase's onStart hooks are due at its scheduled start, its onEnd hooks at its scheduled
 * end, both on the run's clock (t = 0 when the load starts), in profile order. At one instant, the
 * ending phase's onEnd hooks come before the next phase's onStart hooks. Hooks never block the
 * sender: they fire beside the pacer.
 *
 * Permission: an `exec` hook runs a program and an `http` hook with a `url` calls an address the run
 * does not otherwise talk to; both are side effects beyond load on the target, so either needs
 * `--allow-hooks` (k6 and Artillery users expect such opt-ins to be explicit). An `http` hook with a
 * `path` goes to the run's own target, which the run sends load to anyway, and needs no flag.
 *
 * Early stop (Ctrl-C, an early-abort budget): hooks already running finish or are killed at their
 * timeout; hooks not yet due are skipped, except those marked `always: true`, which run at the stop
 * (a SIGCONT after a SIGSTOP is such a cleanup).
 */
import type { Hook, Phase } from './profile-types.js';
import { formatDuration } from './units.js';

export interface HookInstant {
  /** "outage.onStart", "outage.onEnd[1]" */
  id: string;
  phase: string;
  when: 'start' | 'end';
  atMs: number;
  hook: Hook;
}

/** The instants of every phase hook, in firing order (see the module comment). */
export function hookPlan(phases: readonly Phase[]): HookInstant[] {
  const out: HookInstant[] = [];
  let t = 0;
  for (const p of phases) {
    const add = (hooks: readonly Hook[] | undefined, when: 'start' | 'end', atMs: number): void => {
      hooks?.forEach((hook, i) => out.push({ id: `${p.name}.on${when === 'start' ? 'Start' : 'End'}${hooks.length > 1 ? `[${i}]` : ''}`, phase: p.name, when, atMs, hook }));
    };
    add(p.onStart, 'start', t);
    t += p.durationMs;
    add(p.onEnd, 'end', t);
  }
  // stable: at one instant an onEnd (pushed first, for the phase before) stays before the next onStart
  return out.map((h, i) => ({ h, i })).sort((a, b) => a.h.atMs - b.h.atMs || a.i - b.i).map((x) => x.h);
}

/** Why a hook needs --allow-hooks, or undefined when it does not (module comment). */
export function needsAllowHooks(h: Hook): string | undefined {
  if (h.action.kind === 'exec') return 'it runs a program';
  if (h.action.url !== undefined) return 'it calls an address other than the target';
  return undefined;
}

/** Every hook that --allow-hooks must permit, in words, for the exit-2 message. */
export function hooksNeedingPermission(phases: readonly Phase[]): string[] {
  return hookPlan(phases).flatMap((i) => {
    const why = needsAllowHooks(i.hook);
    return why === undefined ? [] : [`phases ${i.id} (${describeHook(i.hook)}): ${why}`];
  });
}

/** "exec kill -STOP 4242", "POST /admin/fault (the target)", "POST http://ctl:9000/fault". */
export function describeHook(h: Hook): string {
  const a = h.action;
  if (a.kind === 'exec') return `exec ${a.argv.join(' ')}`;
  return a.path !== undefined ? `${a.method} ${a.path} (on the target)` : `${a.method} ${a.url ?? ''}`;
}

/** A hook's line in a plan: "at 10s: outage.onStart: exec kill -STOP 4242 (timeout 10s, optional)". */
export function describeInstant(i: HookInstant): string {
  const opts = [`timeout ${formatDuration(i.hook.timeoutMs)}`, ...(i.hook.optional ? ['optional'] : []), ...(i.hook.always ? ['always'] : [])];
  return `at ${formatDuration(i.atMs)}: ${i.id}: ${describeHook(i.hook)} (${opts.join(', ')})`;
}

/** How a due hook ended. skipped: the run stopped before its instant (and it was not `always`). */
export type HookStatus = 'ok' | 'failed' | 'timeout' | 'skipped';

export interface HookReport {
  id: string;
  phase: string;
  when: 'start' | 'end';
  kind: 'http' | 'exec';
  /** describeHook, redacted */
  what: string;
  /** the instant it was due, and when it actually started, ms of run time (null: never started) */
  scheduledMs: number;
  startedMs: number | null;
  durationMs: number | null;
  status: HookStatus;
  /** exec: the exit code (null when killed by a signal or never spawned) */
  exitCode?: number | null;
  signal?: string | null;
  /** http: the response status */
  httpStatus?: number;
  /** why it failed: "exit 1", "http 500", "timed out after 10s", "spawn ENOENT" */
  error?: string;
  /** the last OUTPUT_TAIL bytes of stdout + stderr or the response body, redacted */
  output: string;
  optional: boolean;
}

/** output kept per hook: enough for an error message, small enough for every report */
export const OUTPUT_TAIL = 2048;

/** The last `n` characters of s (a marker shows it was cut). */
export function tail(s: string, n = OUTPUT_TAIL): string {
  return s.length <= n ? s : `…${s.slice(s.length - n)}`;
}

/** A hook whose failure fails the run: it failed or timed out and is not optional. */
export function failsRunHook(h: Pick<HookReport, 'status' | 'optional'>): boolean {
  return (h.status === 'failed' || h.status === 'timeout') && !h.optional;
}

/** One line per hook for renderers: "outage.onStart at 10s (+3ms): exec kill -STOP 42 → exit 0 in 4ms". */
export function describeHookReport(h: HookReport): string {
  const late = h.startedMs === null ? '' : ` (${h.startedMs - h.scheduledMs >= 0 ? '+' : ''}${Math.round(h.startedMs - h.scheduledMs)}ms)`;
  const result =
    h.status === 'skipped' ? 'skipped: the run stopped before it was due'
    : h.error !== undefined ? h.error
    : h.httpStatus !== undefined ? `http ${h.httpStatus}`
    : `exit ${h.exitCode ?? '?'}`;
  const took = h.durationMs === null ? '' : ` in ${formatDuration(Math.round(h.durationMs))}`;
  return `${h.id} at ${formatDuration(h.scheduledMs)}${late}: ${h.what} → ${result}${took}${h.optional ? ' (optional)' : ''}`;
}
