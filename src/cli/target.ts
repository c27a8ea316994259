/** --target URL checked before anything starts (the API resolves the target: the flag, the profile's url, or the embedded endpoint). */
import { BudgetgateError } from '../core/errors.js';

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
