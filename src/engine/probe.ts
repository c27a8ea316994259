/**
 * One request before the run: a target that cannot be reached, or that refuses the request itself
 * (a wrong path, a missing credential), or whose TLS certificate is not trusted, is reported in one
 * line and nothing else is sent.
 *
 * TLS: autocannon connects with `rejectUnauthorized: false` whatever it is told, so the probe is
 * where an https target's certificate is verified (against the system CAs, or `--ca FILE`; skipped
 * only with `--insecure`). The load connections then reuse autocannon's TLS to the same host and
 * port without verifying again: the check is per run, not per connection.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BudgetgateError } from '../core/errors.js';

export interface ProbeTls {
  /** PEM certificates to trust instead of the system CAs (--ca FILE) */
  ca?: string;
  /** skip certificate verification (--insecure) */
  insecure?: boolean;
}

export interface ProbeRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  tls?: ProbeTls;
  /**
   * Read the response to its end (within the timeout) instead of hanging up after the headers: when
   * server metrics are scraped, a server must have finished and counted the probe's work (llama.cpp
   * counts a cancelled stream's tokens when it notices the hang-up) before the counters' baseline.
   */
  drain?: boolean;
}

export interface ProbeResult {
  status: number;
  ms: number;
}

/** OpenSSL verification codes, as node reports them on the socket error. */
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

class ProbeTimeout extends Error {}

function causeOf(e: unknown): string {
  if (e instanceof ProbeTimeout) return 'no response within the timeout';
  const err = e as { code?: string; message?: string };
  if (err.code !== undefined && CERT_CODES.has(err.code)) {
    // one line: what is wrong with the certificate, and the two ways to proceed
    return `TLS certificate not trusted (${err.code}: ${err.message ?? ''}); pass --ca FILE to trust its issuer, or --insecure to skip verification`;
  }
  return err.code ?? err.message ?? String(e);
}

/** The status line and headers of one response; its body is discarded unread (it may be huge or endless). */
function send(r: ProbeRequest, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(r.url);
    const https = u.protocol === 'https:';
    const hasBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
    const headers: Record<string, string> = { ...r.headers };
    if (hasBody && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(Buffer.byteLength(r.body ?? ''));
    const options = {
      method: r.method,
      headers,
      // a fresh connection, so nothing from the probe lingers in a pool after it
      agent: false as const,
      ...(https ? { rejectUnauthorized: r.tls?.insecure !== true, ...(r.tls?.ca !== undefined ? { ca: r.tls.ca } : {}) } : {}),
    };
    let got: IncomingMessage | undefined;
    const req = (https ? httpsRequest : httpRequest)(u, options, (res) => {
      res.on('error', () => {});
      if (r.drain === true) {
        got = res;
        res.resume();
        res.on('end', () => {
          clearTimeout(timer);
          resolve(res);
        });
        res.on('close', () => {
          clearTimeout(timer);
          resolve(res);
        });
        return;
      }
      clearTimeout(timer);
      resolve(res);
      res.destroy(); // status and headers are all the probe needs
    });
    const timer = setTimeout(() => {
      // a drained response that is still streaming at the deadline is answer enough
      if (got) {
        resolve(got);
        got.destroy();
      } else req.destroy(new ProbeTimeout());
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(hasBody ? r.body : undefined);
  });
}

/**
 * Resolves with the probe's status when the target answered with anything but a client error;
 * 4xx other than 408 and 429 means every request of the run would fail the same way.
 */
export async function probe(r: ProbeRequest, redact: (s: string) => string = (s) => s): Promise<ProbeResult> {
  const started = performance.now();
  let res: IncomingMessage;
  try {
    res = await send(r, Math.min(r.timeoutMs, 10_000));
  } catch (e) {
    throw new BudgetgateError('unreachable', redact(`cannot reach ${r.url}: ${causeOf(e)}`), { cause: e });
  }
  const ms = performance.now() - started;
  const status = res.statusCode ?? 0;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    throw new BudgetgateError('unreachable', redact(`probe request to ${r.url} was refused: HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
  }
  return { status, ms };
}
