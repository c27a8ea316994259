/** The `target` section: the request to send (url, method, headers, body, timeout, stream, prompts). */
import type { Target } from '../profile-types.js';
import { parseDuration } from '../units.js';
import { DURATION_EXAMPLE } from './fields.js';
import { TARGET_KEYS } from './keys.js';
import type { Problems } from './problems.js';
import { checkPrompts } from './target-prompts.js';
import { absent, child, isObj, own, type Obj } from './values.js';

export const DEFAULT_TIMEOUT_MS = 30_000;

/** No `target`: a small chat request to the embedded simulator. */
function defaultTarget(): Target {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: { model: 'sim', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 64 },
    timeoutMs: DEFAULT_TIMEOUT_MS,
    stream: false,
  };
}

export function checkTarget(v: unknown, p: Problems): Target {
  if (absent(v)) return defaultTarget();
  if (!isObj(v)) {
    p.expected('target', 'a mapping with url, method, headers, body, timeout', v);
    return defaultTarget();
  }
  p.unknownKeys('target', v, TARGET_KEYS);
  const target: Target = { method: 'GET', headers: {}, timeoutMs: DEFAULT_TIMEOUT_MS, stream: false };

  const url = own(v, 'url');
  if (!absent(url)) {
    if (typeof url === 'string' && isHttpUrl(url)) target.url = url;
    else p.expected('target.url', 'an http:// or https:// URL', url);
  }

  const body = own(v, 'body');
  if (!absent(body)) target.body = body;

  const method = own(v, 'method');
  if (absent(method)) target.method = target.body === undefined ? 'GET' : 'POST';
  else if (typeof method === 'string' && /^[A-Za-z]+$/.test(method)) target.method = method.toUpperCase();
  else p.expected('target.method', 'an HTTP method like "POST"', method);

  target.headers = checkStringMap(own(v, 'headers'), 'target.headers', p);

  const timeout = own(v, 'timeout');
  if (!absent(timeout)) {
    const ms = parseDuration(timeout);
    if (ms !== undefined && ms > 0) target.timeoutMs = ms;
    else p.expected('target.timeout', DURATION_EXAMPLE, timeout);
  }

  checkStream(v, target, p);
  const prompts = checkPrompts(v, target, p);
  if (prompts !== undefined) target.prompts = prompts;
  return target;
}

export function checkStringMap(v: unknown, path: string, p: Problems): Record<string, string> {
  if (absent(v)) return {};
  if (!isObj(v)) {
    p.expected(path, 'a mapping of names to strings', v);
    return {};
  }
  const out: [string, string][] = [];
  for (const [k, item] of Object.entries(v)) {
    // YAML turns `x-retries: 3` into a number; a header value is text either way.
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
      out.push([k, String(item)]);
    } else {
      p.expected(child(path, k), 'a string', item);
    }
  }
  return Object.fromEntries(out);
}

/**
 * `target.stream: true` or `target.body.stream: true` both mean a streamed request. With a mapping
 * body, `stream: true` is also put into the body, so the profile cannot say "stream" while the server
 * is asked for a plain response; a body that says the opposite of `target.stream` is a problem.
 */
function checkStream(v: Obj, target: Target, p: Problems): void {
  const raw = own(v, 'stream');
  const body = target.body;
  const bodyStream = isObj(body) ? own(body, 'stream') : undefined;
  let stream = false;
  if (!absent(raw)) {
    if (typeof raw === 'boolean') stream = raw;
    else p.expected('target.stream', 'true or false', raw);
  }
  if (typeof raw === 'boolean' && typeof bodyStream === 'boolean' && raw !== bodyStream) {
    p.add('target.stream', `target.stream is ${raw} but target.body.stream is ${bodyStream}`);
    return;
  }
  if (bodyStream === true) stream = true;
  // Without a body there is no request that could ask for a stream (and the method would be GET).
  if (stream && body === undefined) p.add('target.stream', 'a streamed request needs a target.body (an OpenAI chat or completions request with stream: true)');
  if (stream && isObj(body) && bodyStream !== true) target.body = { ...body, stream: true };
  target.stream = stream;
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
