/**
 * JSON Lines read item by item, for prompt datasets (prompts.ts) and conversation files
 * (conversations.ts): every non-blank line is one JSON value that `check` turns into an item or a
 * reason; a bad line is a problem at `SOURCE:LINE` (line numbers count from 1, every line, CR LF
 * accepted), at most MAX_LINE_PROBLEMS of them listed. Never throws.
 */
import type { ProfileProblem } from './errors.js';

/** Problems past this many are summed up in one line: a wrong file should not print a million. */
export const MAX_LINE_PROBLEMS = 20;

/** `none`: the problem when the file has no non-blank line ("no prompts: …") */
export function parseJsonl<T>(text: string, source: string, check: (v: unknown) => T | string, none: string): { items: T[]; problems: ProfileProblem[] } {
  const items: T[] = [];
  const problems: ProfileProblem[] = [];
  let bad = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line.trim() === '') continue;
    let why: string;
    try {
      const item = check(JSON.parse(line));
      if (typeof item !== 'string') {
        items.push(item);
        continue;
      }
      why = item;
    } catch (e) {
      why = `not valid JSON (${e instanceof Error ? e.message : String(e)})`;
    }
    bad++;
    if (bad <= MAX_LINE_PROBLEMS) problems.push({ path: `${source}:${i + 1}`, message: why });
  }
  if (bad > MAX_LINE_PROBLEMS) problems.push({ path: source, message: `${bad - MAX_LINE_PROBLEMS} more bad lines not listed` });
  if (items.length === 0 && bad === 0) problems.push({ path: source, message: none });
  return { items, problems };
}
