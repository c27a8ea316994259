/** File access for the CLI: profiles in, reports out (atomically: a reader never sees half a file). */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BudgetgateError, ProfileError } from '../core/errors.js';
import { parseProfileText } from '../core/profile/index.js';
import type { Profile } from '../core/profile-types.js';
import { loadTraces } from '../trace-file.js';

export async function readText(path: string, kind: 'profile' | 'report'): Promise<string> {
  try {
    // "-" is standard input (`budgetgate init | budgetgate validate -`)
    return path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BudgetgateError(kind === 'profile' ? 'usage' : 'report', `${path}: cannot read ${kind} (${code ?? (e as Error).message})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function loadProfile(path: string, env: NodeJS.ProcessEnv): Promise<Profile> {
  const text = await readText(path, 'profile');
  const r = parseProfileText(text, (name) => env[name]);
  if (!r.ok) throw new ProfileError(path, r.problems);
  // trace phases read their files relative to the profile's (stdin: the working directory)
  return loadTraces(r.profile, path === '-' ? '.' : dirname(path), path);
}

export async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    throw new BudgetgateError('io', `cannot write ${path}: ${code ?? (e as Error).message}`);
  }
}

/** reports/<profile>-<UTC time, e.g. 20261125T104512Z>/ */
export function defaultOutDir(profile: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join('reports', `${profile}-${stamp}`);
}
