/**
 * A plain phase's `onStart` / `onEnd`: one hook or a list, each exactly one of
 *
 *   { http: { url | path, method?, body?, headers? } }   { exec: [argv0, arg, ...] }
 *
 * plus `timeout` (default 10s), `optional` and `always` (core/hooks.ts says when each fires). `exec`
 * is an argv, never a shell line: `${VAR}` has already been expanded by env.ts like any string.
 */
import type { Hook } from '../profile-types.js';
import { parseDuration } from '../units.js';
import { DURATION_EXAMPLE } from './fields.js';
import { HOOK_KEYS, HTTP_HOOK_KEYS } from './keys.js';
import type { Problems } from './problems.js';
import { checkStringMap, isHttpUrl } from './target.js';
import { absent, isObj, own, type Obj } from './values.js';

export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;
const SHAPE = '{ http: { path: /admin/fault, body: {...} } } or { exec: ["kill", "-STOP", "${PID}"] }';

/** undefined when absent; [] (with problems) when unusable. */
export function checkHooks(v: unknown, path: string, p: Problems): Hook[] | undefined {
  if (absent(v)) return undefined;
  const list = Array.isArray(v) ? v : [v];
  const out: Hook[] = [];
  list.forEach((raw: unknown, i) => {
    const at = Array.isArray(v) ? `${path}[${i}]` : path;
    const h = checkHook(raw, at, p);
    if (h) out.push(h);
  });
  return out;
}

function checkHook(raw: unknown, path: string, p: Problems): Hook | undefined {
  if (!isObj(raw)) {
    p.expected(path, `a hook like ${SHAPE}`, raw);
    return undefined;
  }
  p.unknownKeys(path, raw, HOOK_KEYS);
  const http = own(raw, 'http');
  const exec = own(raw, 'exec');
  if (absent(http) === absent(exec)) {
    p.add(path, `expected exactly one of http and exec, like ${SHAPE}`);
    return undefined;
  }
  const action = absent(exec) ? checkHttp(http, `${path}.http`, p) : checkExec(exec, `${path}.exec`, p);
  const timeoutRaw = own(raw, 'timeout');
  const timeoutMs = absent(timeoutRaw) ? DEFAULT_HOOK_TIMEOUT_MS : parseDuration(timeoutRaw);
  if (timeoutMs === undefined || !(timeoutMs > 0)) p.expected(`${path}.timeout`, DURATION_EXAMPLE, timeoutRaw);
  const optional = flag(raw, 'optional', path, p);
  const always = flag(raw, 'always', path, p);
  if (!action || timeoutMs === undefined || !(timeoutMs > 0) || optional === undefined || always === undefined) return undefined;
  return { action, timeoutMs, optional, always };
}

function flag(raw: Obj, key: string, path: string, p: Problems): boolean | undefined {
  const v = own(raw, key);
  if (absent(v)) return false;
  if (typeof v === 'boolean') return v;
  p.expected(`${path}.${key}`, 'true or false', v);
  return undefined;
}

function checkExec(v: unknown, path: string, p: Problems): Hook['action'] | undefined {
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string') || (v[0] as string) === '') {
    p.expected(path, 'a non-empty list of strings, program first (an argv; no shell runs it)', v);
    return undefined;
  }
  return { kind: 'exec', argv: v as string[] };
}

function checkHttp(v: unknown, path: string, p: Problems): Hook['action'] | undefined {
  if (!isObj(v)) {
    p.expected(path, 'a mapping like { path: /admin/fault, body: { kind: stall } } or { url: http://… }', v);
    return undefined;
  }
  p.unknownKeys(path, v, HTTP_HOOK_KEYS);
  const url = own(v, 'url');
  const rel = own(v, 'path');
  let ok = true;
  if (absent(url) === absent(rel)) {
    p.add(path, 'expected exactly one of url (any address) and path (sent to the run\'s target)');
    ok = false;
  } else if (!absent(url) && !(typeof url === 'string' && isHttpUrl(url))) {
    p.expected(`${path}.url`, 'an http:// or https:// URL', url);
    ok = false;
  } else if (!absent(rel) && !(typeof rel === 'string' && rel.startsWith('/'))) {
    p.expected(`${path}.path`, 'a path starting with /, like /admin/fault', rel);
    ok = false;
  }
  const bodyRaw = own(v, 'body');
  const body = absent(bodyRaw) ? undefined : typeof bodyRaw === 'string' ? bodyRaw : JSON.stringify(bodyRaw);
  const methodRaw = own(v, 'method');
  let method = body === undefined ? 'GET' : 'POST';
  if (!absent(methodRaw)) {
    if (typeof methodRaw === 'string' && /^[A-Za-z]+$/.test(methodRaw)) method = methodRaw.toUpperCase();
    else {
      p.expected(`${path}.method`, 'an HTTP method like "POST"', methodRaw);
      ok = false;
    }
  }
  const headers = checkStringMap(own(v, 'headers'), `${path}.headers`, p);
  if (body !== undefined && typeof bodyRaw !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  if (!ok) return undefined;
  return { kind: 'http', ...(typeof url === 'string' ? { url } : {}), ...(typeof rel === 'string' ? { path: rel } : {}), method, headers, ...(body !== undefined ? { body } : {}) };
}
