/**
 * The rows the terminal and Markdown reports show for token accounting and scraped server metrics,
 * built once from the RunResult so both renderers say the same thing. Sections are empty for
 * reports that lack the fields (older reports, runs without a `metrics:` section).
 */
import type { RunResult } from '../core/report.js';
import type { ServerMetricReport } from '../core/server-metrics.js';
import type { TokenFigures } from '../core/tokens.js';
import { plain } from './format.js';

export const TOKEN_HEADERS = ['phase', 'input tokens', 'output tokens', 'counted from', 'req/s', 'output tok/s', 'total tok/s'] as const;
export const SERVER_HEADERS = ['source', 'metric', 'kind', 'phase', 'scrapes', 'min', 'mean', 'max', 'last', 'increase', 'rate/s', 'p50', 'p99'] as const;

/** rates: whole numbers from 100 up, two decimals from 1, three significant digits below */
const rate = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : String(Number(x.toPrecision(3))));

/** "usage 120, events 3": which requests' counts came from where */
export function sourceWords(f: Partial<TokenFigures>): string {
  const s = f.tokenSources;
  if (!s) return '—';
  const parts = (['usage', 'events', 'none'] as const).filter((k) => s[k] > 0).map((k) => `${k === 'none' ? 'no count' : k} ${s[k]}`);
  return parts.length === 0 ? '—' : parts.join(', ');
}

function tokenRow(name: string, f: Partial<TokenFigures>): string[] {
  return [name, String(f.inputTokens ?? 0), String(f.outputTokens ?? 0), sourceWords(f), rate(f.requestThroughput), rate(f.outputTokensPerS), rate(f.totalTokensPerS)];
}

/** Whether any response carried a token count (a non-LLM target has none: no token section then). */
function counted(r: RunResult): boolean {
  const s = r.totals.tokenSources;
  return s !== undefined && s.usage + s.events > 0;
}

/** One row per phase and one for the totals; empty when no response carried a token count. */
export function tokenRows(r: RunResult): string[][] {
  if (!counted(r)) return [];
  return [...r.phases.map((p) => tokenRow(p.warmup ? `${p.name} (warmup)` : p.name, p)), tokenRow('total', r.totals)];
}

/** The one-line token summary: "tokens: 1,200 in + 4,800 out (usage); 40 req/s, 960 output tok/s, 1,200 total tok/s". */
export function tokenSummary(r: RunResult): string | undefined {
  const t = r.totals;
  if (!counted(r)) return undefined;
  return `tokens ${t.inputTokens ?? 0} in + ${t.outputTokens} out (${sourceWords(t)}); ${rate(t.requestThroughput)} req/s, ${rate(t.outputTokensPerS)} output tok/s, ${rate(t.totalTokensPerS)} total tok/s`;
}

export function serverMetricRow(m: ServerMetricReport): string[] {
  const hist = m.kind === 'histogram';
  return [m.source, m.unit ? `${m.name} (${m.unit})` : m.name, m.kind, m.phase, String(m.samples), plain(m.min), plain(m.mean), plain(m.max), plain(m.last), m.increase === undefined ? '—' : plain(m.increase), rate(m.rate), hist ? plain(m.p50) : '—', hist ? plain(m.p99) : '—'];
}

export function serverMetricRows(r: RunResult): string[][] {
  return (r.serverMetrics ?? []).map(serverMetricRow);
}

/** Lines about scrapes that failed, per source: "vllm: 3 of 20 scrapes failed (timeout after 1s ×3)". */
export function scrapeProblems(r: RunResult): string[] {
  const bySource = new Map<string, { attempts: number; ok: number; failures: Map<string, number> }>();
  for (const s of r.scrapes ?? []) {
    const e = bySource.get(s.source) ?? { attempts: 0, ok: 0, failures: new Map<string, number>() };
    bySource.set(s.source, e);
    e.attempts += s.attempts;
    e.ok += s.ok;
    for (const [k, n] of Object.entries(s.failures)) e.failures.set(k, (e.failures.get(k) ?? 0) + n);
  }
  return [...bySource.entries()]
    .filter(([, e]) => e.ok < e.attempts)
    .map(([name, e]) => `${name}: ${e.attempts - e.ok} of ${e.attempts} scrapes failed (${[...e.failures.entries()].map(([k, n]) => `${k} ×${n}`).join(', ')})`);
}

/** "client counted 4,800 output tokens, llamacpp:tokens_predicted_total rose by 4,800 (difference 0)". */
export function tokenCheckLines(r: RunResult): string[] {
  return (r.tokenChecks ?? []).map((c) => {
    const rel = c.relative === null ? '' : `, ${c.relative >= 0 ? '+' : ''}${(c.relative * 100).toFixed(2)}%`;
    return `${c.source}: the client counted ${c.client} ${c.side} tokens${c.exact ? '' : ' (partly from content events)'}, ${c.metric} rose by ${plain(c.server)} (difference ${plain(c.difference)}${rel})`;
  });
}
