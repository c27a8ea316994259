/** Reading a parsed YAML/JSON document safely: every section parser goes through these. */

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only: `raw.constructor` must not find Object.prototype's. */
export function own(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Optional sections may be written as a bare `key:` in YAML, which parses as null. */
export function absent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

/** The path of `key` inside `path`: `target.headers`, `timings.headers["x y"]`. */
export function child(path: string, key: string): string {
  const plain = /^[A-Za-z_$][\w$-]*$/.test(key);
  const part = plain ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return plain ? key : part;
  return plain ? `${path}.${part}` : `${path}${part}`;
}

/** A value as a message quotes it: JSON, cut at 60 characters. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function' || typeof v === 'symbol') return typeof v;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  if (text === undefined) return typeof v;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function isStageName(v: unknown): v is string {
  return typeof v === 'string' && /^\S+$/.test(v);
}

/** An HTTP field name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
