/**
 * The problem collector: every check adds to it and carries on, so one run lists every problem with
 * its field path (k6's `Validate() []error`).
 */
import type { ProfileProblem } from '../errors.js';
import { show, type Obj } from './values.js';

export class Problems {
  readonly list: ProfileProblem[] = [];
  /** Paths whose value had an unset variable: further complaints there would only be noise. */
  private readonly envPaths = new Set<string>();

  env(path: string, name: string): void {
    this.envPaths.add(path);
    this.list.push({ path, message: `environment variable ${name} is not set` });
  }

  add(path: string, message: string): void {
    if (this.envPaths.has(path)) return;
    this.list.push({ path, message });
  }

  expected(path: string, what: string, got: unknown): void {
    this.add(path, `expected ${what}, got ${show(got)}`);
  }

  unknownKeys(path: string, o: Obj, allowed: readonly string[]): void {
    for (const key of Object.keys(o)) {
      if (allowed.includes(key)) continue;
      // The problem's path is the mapping holding the key, so the message reads "phases[1]: unknown key 'rat'".
      this.add(path, `unknown key '${key}'${didYouMean(key, allowed)}`);
    }
  }
}

/** " — did you mean 'rate'?" when a candidate is within two edits of `word`; '' otherwise. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates);
  return guess === undefined ? '' : ` — did you mean '${guess}'?`;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
