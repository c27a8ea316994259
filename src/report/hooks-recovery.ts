/**
 * What every format shows of fault hooks and recovery budgets, as plain lines: each hook's instant,
 * actual start, duration, result and output tail (core/hooks.ts), and each recovery budget's
 * figures (core/recovery.ts). The renderers lay these out; none of them judges anything.
 */
import { describeHookReport, failsRunHook, type HookReport } from '../core/hooks.js';
import { describeWindow } from '../core/recovery.js';
import type { RunResult, Verdict } from '../core/report.js';
import { formatDuration } from '../core/units.js';

export interface HookLine {
  text: string;
  /** this hook's failure fails the run */
  failed: boolean;
  /** its output tail, one line (newlines shown as ⏎), '' when it printed nothing */
  output: string;
}

export function hookLines(r: Pick<RunResult, 'hooks'>): HookLine[] {
  return (r.hooks ?? []).map((h: HookReport) => ({ text: describeHookReport(h), failed: failsRunHook(h), output: h.output.trim().replace(/\r?\n/g, ' ⏎ ') }));
}

/** "recovery{after=outage} total: fault at 9s, recovered at 10.9s: time-to-recover 1.9s (within 8s); 285 requests affected; worst window …" */
export function recoveryLines(r: Pick<RunResult, 'budgets'>): string[] {
  return r.budgets.flatMap((v: Verdict) => {
    const x = v.recovery;
    if (x === undefined) return [];
    const when = x.recoveredMs === null ? 'not recovered by the end of the run' : `recovered at ${formatDuration(x.recoveredMs)}: time-to-recover ${formatDuration(x.timeToRecoverMs ?? 0)}`;
    const worst = x.worst ? `; worst window before it: ${describeWindow(x.worst)}` : '';
    return [`${v.id}: fault at ${formatDuration(x.faultMs)}, ${when} (within ${formatDuration(v.limit)}; ${formatDuration(x.windowMs)} windows held ${formatDuration(x.holdMs)}); ${x.affected} requests affected${worst}`];
  });
}
