/**
 * Programmatic runs: `import { run } from 'budgetgate'`. The same path as `budgetgate run`, minus
 * files and exit codes: a profile (YAML/JSON text or an already parsed document) in, a RunResult out.
 */
import { ProfileError } from './core/errors.js';
import type { PromptItem } from './core/prompts.js';
import { loadDataset } from './dataset.js';
import { parseProfile, parseProfileText, type EnvLookup } from './core/profile/index.js';
import type { RunResult } from './core/report.js';
import { runEngine } from './engine/run.js';
import { startSim, type SimOptions } from './sim/index.js';
import { VERSION } from './version.js';

export interface RunOptions {
  /** overrides the profile's target.url; without either, the embedded simulated endpoint is used */
  target?: string;
  /** `${VAR}` lookups; default: none are set */
  env?: EnvLookup;
  allowInconclusive?: boolean;
  /** aborting stops sending; requests in flight get up to the target timeout */
  signal?: AbortSignal;
  /** options for the embedded simulated endpoint, when it is used */
  sim?: SimOptions;
  /** the prompts of the profile's `target.dataset`, given directly instead of read from its file */
  prompts?: readonly PromptItem[];
  /** where a relative `target.dataset` is read from; default: the working directory */
  baseDir?: string;
}

export async function run(profile: string | object, options: RunOptions = {}): Promise<RunResult> {
  const env = options.env ?? (() => undefined);
  const parsed = typeof profile === 'string' ? parseProfileText(profile, env) : parseProfile(profile, env);
  if (!parsed.ok) throw new ProfileError('profile', parsed.problems);
  const p = parsed.profile;
  const promptItems = options.prompts ?? (await loadDataset(p, options.baseDir ?? '.', 'profile'));
  const url = options.target ?? p.target.url;
  const sim = url === undefined ? await startSim(options.sim) : undefined;
  try {
    return await runEngine(p, {
      url: url ?? `${sim?.url}/v1/chat/completions`,
      version: VERSION,
      allowInconclusive: options.allowInconclusive === true,
      signal: options.signal,
      promptItems,
    });
  } finally {
    await sim?.close();
  }
}
