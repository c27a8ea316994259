/**
 * Reads the trace files a profile's trace phases name and attaches each phase's replay and duration
 * (core/trace/replay.ts), so everything downstream (the plan, workers, reports) sees plain data.
 * Shared by the CLI, which resolves a relative path against the profile file's directory, and by
 * `run()`, which resolves it against `RunOptions.baseDir`. Every bad record of every file is a
 * profile error naming the file and line, raised before anything is sent.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BudgetgateError, ProfileError, type ProfileProblem } from './core/errors.js';
import type { Phase, Profile } from './core/profile-types.js';
import { BLOCK_TOKENS, parseTrace, type TraceParse } from './core/trace/formats.js';
import { replayOf } from './core/trace/replay.js';
import { isObj } from './core/profile/values.js';

/**
 * The profile with every trace phase's replay attached (the same profile when it has none).
 * @param baseDir where a relative trace file is resolved from
 * @param source how errors name the profile (its path, or "profile")
 */
export async function loadTraces(profile: Profile, baseDir: string, source: string): Promise<Profile> {
  if (!profile.phases.some((ph) => ph.trace && !ph.trace.replay)) return profile;
  const parsed = new Map<string, Promise<TraceParse>>();
  const problems: ProfileProblem[] = [];
  if (!isObj(profile.target.body)) problems.push({ path: 'target.body', message: 'a trace phase needs a target.body mapping (an OpenAI chat or completions request) to put its prompts into' });
  const phases: Phase[] = [];
  for (const [i, ph] of profile.phases.entries()) {
    const t = ph.trace;
    if (!t || t.replay) {
      phases.push(ph);
      continue;
    }
    const file = resolve(baseDir, t.file);
    const key = `${t.format}\0${file}`;
    if (!parsed.has(key)) parsed.set(key, read(file, source, i).then((text) => parseTrace(text, t.format, file)));
    const r = await parsed.get(key)!;
    if (r.problems.length > 0) {
      // a file's problems once, however many phases replay it
      if (!problems.some((p) => r.problems.includes(p))) problems.push(...r.problems);
      phases.push(ph);
      continue;
    }
    const path = `phases[${i}].trace`;
    const plan = replayOf(r.records, t, BLOCK_TOKENS[t.format], path);
    if ('problems' in plan) {
      problems.push(...plan.problems);
      phases.push(ph);
      continue;
    }
    const mean = plan.replay.offsetsMs.length / (plan.durationMs / 1000);
    if (mean > profile.maxRate) problems.push({ path, message: `replays at a mean ${round(mean)} requests/s, above maxRate ${profile.maxRate}: raise maxRate if that is intended` });
    phases.push({ ...ph, durationMs: plan.durationMs, trace: { ...t, replay: plan.replay } });
  }
  if (problems.length > 0) throw new ProfileError(source, problems);
  return { ...profile, phases };
}

function round(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}

async function read(file: string, source: string, phase: number): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new BudgetgateError('profile', `${source}: phases[${phase}].trace.file: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
