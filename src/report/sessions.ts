/**
 * The rows the terminal and Markdown reports show for multi-turn sessions (per-turn ttft and total,
 * per-session figures) and for the prompt-token check (tokens sent, as the run's tokenizer counts
 * them, beside the server's usage.prompt_tokens). Empty for reports without them.
 */
import type { RunResult } from '../core/report.js';
import { ms, plain } from './format.js';

export const TURN_HEADERS = ['phase', 'turn', 'stage', 'path', 'count', 'p50', 'p90', 'p99', 'max'] as const;
export const SESSION_HEADERS = ['phase', 'started', 'completed', 'abandoned', 'cut', 'turns answered', 'duration p50', 'p90', 'max'] as const;
export const PROMPT_TOKEN_HEADERS = ['phase', 'tokenizer', 'requests', 'sent', 'server', 'mean diff', 'min diff', 'max diff'] as const;

/** ttft and total of every turn number, phase by phase */
export function turnRows(r: RunResult): string[][] {
  return (r.turns ?? []).map((t) => [t.phase, String(t.turn), t.stage, t.path, String(t.count), ms(t.p50), ms(t.p90), ms(t.p99), ms(t.max)]);
}

export function sessionRows(r: RunResult): string[][] {
  return (r.sessions ?? []).map((s) => [s.phase, String(s.started), String(s.completed), String(s.abandoned), String(s.cut), String(s.turns), ms(s.duration.p50), ms(s.duration.p90), ms(s.duration.max)]);
}

const signed = (x: number | null): string => (x === null ? '—' : `${x > 0 ? '+' : ''}${plain(Number(x.toFixed(2)))}`);

/** server − sent per phase: the chat template's few tokens per request, or a tokenizer that is not the model's */
export function promptTokenRows(r: RunResult): string[][] {
  return r.phases.flatMap((p) => {
    const c = p.promptTokens;
    if (!c) return [];
    return [[p.warmup ? `${p.name} (warmup)` : p.name, c.tokenizer, String(c.requests), String(c.sent), String(c.server), signed(c.meanDifference), signed(c.minDifference), signed(c.maxDifference)]];
  });
}
