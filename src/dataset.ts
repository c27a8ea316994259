/**
 * Reads the prompt dataset a profile names (`target.dataset`, JSON Lines). Shared by the CLI, which
 * resolves a relative path against the profile file's directory, and by `run()`, which resolves it
 * against `RunOptions.baseDir`. A bad line is a profile error naming the file and line, raised before
 * anything is sent.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BudgetgateError, ProfileError } from './core/errors.js';
import type { Profile } from './core/profile-types.js';
import { parsePromptsJsonl, type PromptItem } from './core/prompts.js';
import { parseConversationsJsonl, type Conversation } from './core/conversations.js';
import type { ProfileProblem } from './core/errors.js';

/**
 * The dataset's prompts, or undefined when the profile names no dataset file.
 * @param baseDir where a relative `target.dataset` is resolved from
 * @param source how errors name the profile (its path, or "profile")
 */
export async function loadDataset(profile: Profile, baseDir: string, source: string): Promise<PromptItem[] | undefined> {
  const p = profile.target.prompts;
  if (p?.kind !== 'file') return undefined;
  const file = resolve(baseDir, p.file); // an absolute p.file stays as it is
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new BudgetgateError('profile', `${source}: target.dataset: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const r = parsePromptsJsonl(text, file);
  // an empty file is one of the problems ("no prompts"), so prompts is non-empty past this line
  if (r.problems.length > 0) throw new ProfileError(source, r.problems);
  return r.prompts;
}

/**
 * Phase index → the conversations of its `sessions: { file }` (core/conversations.ts), read before
 * anything is sent; undefined when no phase names a file. Every bad line of every file is one
 * problem at FILE:LINE, raised together as a profile error.
 */
export async function loadConversations(profile: Profile, baseDir: string, source: string): Promise<Map<number, Conversation[]> | undefined> {
  const out = new Map<number, Conversation[]>();
  const problems: ProfileProblem[] = [];
  for (const [i, ph] of profile.phases.entries()) {
    const s = ph.sessions;
    if (s?.kind !== 'file') continue;
    const file = resolve(baseDir, s.file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new BudgetgateError('profile', `${source}: phases[${i}].sessions.file: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const r = parseConversationsJsonl(text, file);
    problems.push(...r.problems);
    out.set(i, r.conversations);
  }
  if (problems.length > 0) throw new ProfileError(source, problems);
  return out.size > 0 ? out : undefined;
}
