/** Where a command sends its load: --target, else the profile's url, else the embedded endpoint. */
import type { Profile } from '../core/profile-types.js';
import { startSim, type SimServer } from '../sim/index.js';
import { BudgetgateError } from '../core/errors.js';
import type { Io } from './io.js';

export async function resolveTarget(flag: string | undefined, profile: Profile, io: Io): Promise<{ url: string; sim?: SimServer }> {
  if (flag !== undefined) return { url: checkTargetUrl(flag, '--target') };
  if (profile.target.url !== undefined) return { url: profile.target.url };
  const sim = await startSim();
  const url = `${sim.url}/v1/chat/completions`;
  io.stderr(`no target: using the embedded simulated endpoint at ${url}\n`);
  return { url, sim };
}

export function checkTargetUrl(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BudgetgateError('usage', `${what}: expected an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new BudgetgateError('usage', `${what}: expected an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  return url;
}
