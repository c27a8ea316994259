/**
 * The rows every report shows for named paths and prompt-cache accounting (view.ts `paths`): per
 * phase × path its completions, errors, share of the phase's completions, and the cached share of
 * the prompt tokens its responses reported (usage.prompt_tokens_details.cached_tokens).
 */
import type { PathFigure } from '../core/paths.js';
import { percent } from './format.js';

const HEADERS = ['phase', 'path', 'ok', 'errors', 'share', 'prompt tokens', 'cached tokens', 'cached share'] as const;

/** "—" where no response reported cached_tokens (unknown, not 0) */
function pathRow(f: PathFigure): string[] {
  const c = f.promptCache;
  const reported = c.responses > 0;
  return [f.phase, f.path, String(f.completed), String(f.errors), percent(f.share), reported ? String(c.promptTokens) : '—', reported ? String(c.cachedTokens) : '—', percent(f.cacheShare)];
}

/** The table; the prompt-cache columns only when some response reported cached_tokens. `numeric`: right-aligned columns. */
export function pathTable(figs: readonly PathFigure[]): { headers: string[]; rows: string[][]; numeric: Set<number> } {
  const cache = figs.some((f) => f.promptCache.responses > 0);
  const width = cache ? HEADERS.length : 5;
  return { headers: HEADERS.slice(0, width), rows: figs.map((f) => pathRow(f).slice(0, width)), numeric: new Set([2, 3, 4, 5, 6, 7].filter((i) => i < width)) };
}

/** the note above the table (the cache part only with the cache columns) */
export function pathsNote(figs: readonly PathFigure[]): string {
  const cache = figs.some((f) => f.promptCache.responses > 0);
  return `share: of the phase’s completed requests${cache ? '; cached share: cached ÷ prompt tokens of the responses that reported usage.prompt_tokens_details.cached_tokens' : ''}`;
}
