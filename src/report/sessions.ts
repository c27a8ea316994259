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

/** What each table's figures are, in words (Markdown and HTML print them above the table). */
export const PROMPT_TOKEN_NOTE = 'Sent, as the tokenizer counts the messages, beside the server’s `usage.prompt_tokens`; diff = server − sent (the chat template adds a few per request).';
export const TURN_NOTE = 'Session turns by number; ms from each turn’s intended send time (its previous reply plus the think time).';
export const SESSION_NOTE = 'Abandoned: a turn failed; cut: the run ended first; durations of completed sessions.';

/** The three tables with their headers, notes and numeric columns; only those the report has rows for. */
export function sessionTables(r: RunResult): { title: string; note: string; headers: readonly string[]; rows: string[][]; numeric: ReadonlySet<number> }[] {
  return [
    { title: 'Prompt tokens', note: PROMPT_TOKEN_NOTE, headers: PROMPT_TOKEN_HEADERS, rows: promptTokenRows(r), numeric: new Set([2, 3, 4, 5, 6, 7]) },
    { title: 'Turns', note: TURN_NOTE, headers: TURN_HEADERS, rows: turnRows(r), numeric: new Set([1, 4, 5, 6, 7, 8]) },
    { title: 'Sessions', note: SESSION_NOTE, headers: SESSION_HEADERS, rows: sessionRows(r), numeric: new Set([1, 2, 3, 4, 5, 6, 7, 8]) },
  ].filter((t) => t.rows.length > 0);
}

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
