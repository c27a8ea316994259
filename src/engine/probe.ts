/**
 * One request before the run: a target that cannot be reached, or that refuses the request itself
 * (a wrong path, a missing credential), is reported in one line and nothing else is sent.
 */
import { BudgetgateError } from '../core/errors.js';

export interface ProbeRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
}

export interface ProbeResult {
  status: number;
  ms: number;
}

function causeOf(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no response within the timeout';
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

/**
 * Resolves with the probe's status when the target answered with anything but a client error;
 * 4xx other than 408 and 429 means every request of the run would fail the same way.
 */
export async function probe(r: ProbeRequest, redact: (s: string) => string = (s) => s): Promise<ProbeResult> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body,
      signal: AbortSignal.timeout(Math.min(r.timeoutMs, 10_000)),
      redirect: 'manual',
    });
    await res.arrayBuffer();
  } catch (e) {
    throw new BudgetgateError('unreachable', `cannot reach ${redact(r.url)}: ${causeOf(e)}`, { cause: e });
  }
  const ms = performance.now() - started;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    throw new BudgetgateError('unreachable', `probe request to ${redact(r.url)} was refused: HTTP ${res.status} ${res.statusText}`.trim());
  }
  return { status: res.status, ms };
}
