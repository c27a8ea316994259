/**
 * The figures people compare across tools (vegeta's rate and throughput, vLLM bench's request and
 * output-token throughput), from a finished report:
 *
 *   window            = Σ over budgeted phases of (min(end, run duration) − start)   (all phases if every one is warmup)
 *   requests/s        = sent in those phases ÷ window        (the rate achieved; compare the schedule's)
 *   ok/s              = successful responses in them ÷ window
 *   output tokens/s   = output tokens of their responses (usage, else streamed content events) ÷ window   (null when none were counted)
 *
 * Phase sums rather than the timeline: a request belongs to the phase it was scheduled in, so a
 * warmup's stragglers do not count towards the budgeted load.
 */
import type { PhaseReport, RunResult } from './report.js';

export interface Headline {
  windowMs: number;
  sent: number;
  completed: number;
  errors: number;
  requestsPerSec: number | null;
  okPerSec: number | null;
  outputTokens: number | null;
  outputTokensPerSec: number | null;
}

export function headline(r: Pick<RunResult, 'phases' | 'durationMs'>): Headline {
  const budgeted = r.phases.filter((p) => !p.warmup);
  const phases: readonly PhaseReport[] = budgeted.length > 0 ? budgeted : r.phases;
  let windowMs = 0;
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let tokens = 0;
  let counted = false;
  for (const p of phases) {
    windowMs += Math.max(0, Math.min(p.endMs, r.durationMs) - p.startMs);
    sent += p.sent;
    completed += p.completed;
    errors += p.errors;
    // tokens were counted when some response had a usage or streamed content events (core/tokens.ts)
    if (p.outputTokens !== undefined && (p.tokenSources === undefined || p.tokenSources.usage + p.tokenSources.events > 0)) {
      tokens += p.outputTokens;
      counted = true;
    }
  }
  const per = (n: number): number | null => (windowMs > 0 ? (n * 1000) / windowMs : null);
  return {
    windowMs,
    sent,
    completed,
    errors,
    requestsPerSec: per(sent),
    okPerSec: per(completed),
    outputTokens: counted ? tokens : null,
    outputTokensPerSec: counted ? per(tokens) : null,
  };
}
