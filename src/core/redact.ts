/**
 * Secrets never reach a report, a log line or an error message. Redaction is by value: whatever the
 * text (a URL in an error, a header echoed in a reason, a profile problem quoting a value), every
 * occurrence of a known secret value becomes `***`. Pure: the caller supplies the environment lookup.
 */

export const REDACTED = '***';

/**
 * Values shorter than this are not redacted: replacing every "on" or "1" in a report would mangle
 * numbers and words while protecting nothing (a 3-character secret is guessable anyway).
 */
export const MIN_SECRET_LENGTH = 4;

/** Header names whose values are credentials (compared case-insensitively). */
export const SECRET_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'cookie'];

/** URL query keys whose values are credentials (`?key=…`, `?api_key=…`, `?access_token=…`, `?sig=…`). */
const SECRET_QUERY_KEY = /key|token|secret|passw|auth|sig|credential/i;

/** `${NAME}` references in a profile's text, as the loader substitutes them (`$${` is a literal `${`). */
const VAR_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The environment variable names a profile text refers to, in order of first use. */
export function referencedVariables(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(VAR_REF)) if (m[1] !== undefined) out.add(m[1]);
  return [...out];
}

/**
 * The forms a value takes in our outputs: as is, JSON-escaped (a secret with a quote or backslash in
 * a serialized string) and URL-encoded (a secret in a query string). Redacting each form keeps a
 * secret with special characters from slipping through in an escaped spelling.
 */
function spellings(v: string): string[] {
  const out = [v];
  const json = JSON.stringify(v).slice(1, -1);
  if (json !== v) out.push(json);
  const enc = encodeURIComponent(v);
  if (enc !== v) out.push(enc);
  return out;
}

/**
 * A function replacing every occurrence of each secret with `***`. Longest secrets first, so a secret
 * that contains a shorter one is replaced whole rather than leaving its remainder visible.
 */
export function createRedactor(secrets: readonly string[]): (s: string) => string {
  const list = [...new Set(secrets.flatMap(spellings))].filter((v) => v.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (s) => s;
  return (s) => {
    let out = s;
    for (const v of list) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  };
}

export interface SecretSources {
  /** `--redact NAME` values: a header name (its value is secret) or an environment variable name */
  names?: readonly string[];
  /** environment lookup for `names` */
  env?: (name: string) => string | undefined;
  /** URLs whose credential-like query values and user-info password are secret (the target URL) */
  urls?: readonly string[];
}

/** The credential part of an `Authorization`-style value ("Bearer abc" → "abc"), which may be echoed alone. */
function credentialPart(v: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9_-]*\s+(\S.*)$/.exec(v.trim());
  return m?.[1];
}

function urlSecrets(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (u.password !== '') out.push(u.password, decodeURIComponent(u.password));
  for (const [k, v] of u.searchParams) if (SECRET_QUERY_KEY.test(k) && v !== '') out.push(v);
  // the raw spelling as it appears in the URL text (encoded differently than encodeURIComponent would)
  for (const part of u.search.replace(/^\?/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0 && SECRET_QUERY_KEY.test(decodeURIComponent(part.slice(0, eq).replace(/\+/g, ' '))) && eq + 1 < part.length) out.push(part.slice(eq + 1));
  }
  return out;
}

/**
 * Every value to hide: credential headers by name, headers or environment variables named by
 * `--redact`, every value that came from `${VAR}` substitution (`envValuesUsed`), and credentials in
 * the target URL.
 */
export function secretValues(headers: Readonly<Record<string, string>>, envValuesUsed: readonly string[], extra: SecretSources = {}): string[] {
  const named = new Set((extra.names ?? []).map((n) => n.toLowerCase()));
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!SECRET_HEADERS.includes(lower) && !named.has(lower)) continue;
    out.push(value);
    const cred = credentialPart(value);
    if (cred !== undefined) out.push(cred);
  }
  for (const v of envValuesUsed) out.push(v);
  for (const n of extra.names ?? []) {
    const v = extra.env?.(n);
    if (v !== undefined && v !== '') out.push(v);
  }
  for (const url of extra.urls ?? []) out.push(...urlSecrets(url));
  return out.filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/**
 * A copy of a JSON-like value with every string (and object key) redacted. `skipKeys` names fields
 * left as they are: encoded histograms are base64, where a short secret could occur by chance and
 * its replacement would corrupt the data.
 */
export function redactDeep<T>(value: T, redact: (s: string) => string, skipKeys: ReadonlySet<string> = new Set()): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), skipKeys.has(k) ? x : walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
