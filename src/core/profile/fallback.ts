/**
 * The `fallback` section (and each `paths:` entry's `when`, paths.ts): the signals that say a
 * response took a path. One signal or a list of them, any of which matching is enough:
 *
 *   signal = { header: H, equals: TEXT } | { header: H, matches: REGEX }
 *          | { header: H, greaterThan: NUMBER } | { modelDiffers: true }
 *          | { field: DOTTED.PATH, equals|matches|greaterThan: … }   ; a JSON body field
 *
 * Each gets an id from what it tests (`fallbackId`); two signals with the same id test the same
 * thing, which is refused (across paths too: the later one could never route a response).
 */
import type { FallbackRule, FallbackSignal } from '../profile-types.js';
import { FALLBACK_KEYS, FALLBACK_TESTS } from './keys.js';
import type { Problems } from './problems.js';
import { HEADER_NAME, absent, isObj, own, show, type Obj } from './values.js';

/** "x-route=fallback", "x-route~^fall", "x-litellm-attempted-fallbacks>0", "model differs". */
export function fallbackId(s: FallbackSignal): string {
  const at = s.field !== undefined ? `body.${s.field}` : s.header;
  switch (s.kind) {
    case 'equals':
      return `${at}=${s.value}`;
    case 'matches':
      return `${at}~${s.pattern}`;
    case 'greaterThan':
      return `${at}>${s.than}`;
    case 'modelDiffers':
      return 'model differs';
  }
}

const FALLBACK_EXAMPLE = '{ header: x-route, equals: fallback }, { header: H, matches: REGEX }, { header: H, greaterThan: 0 }, { field: x_cache.hit, equals: true } or { modelDiffers: true }';

/**
 * Absent: undefined (a preset's signals may apply); `[]`: no signals. `where` names the section in
 * messages; `firstAt` (signal id → where it was first given) is shared by every path's signals.
 */
export function checkFallback(v: unknown, p: Problems, where = 'fallback', firstAt = new Map<string, string>()): FallbackRule[] | undefined {
  if (absent(v)) return undefined;
  const list = Array.isArray(v) ? v : [v];
  const rules: FallbackRule[] = [];
  list.forEach((raw: unknown, i) => {
    const path = Array.isArray(v) ? `${where}[${i}]` : where;
    const signal = checkSignal(raw, path, p);
    if (signal === undefined) return;
    const id = fallbackId(signal);
    const first = firstAt.get(id);
    if (first !== undefined) {
      p.add(path, `the same signal as ${first} ('${id}')`);
      return;
    }
    firstAt.set(id, path);
    rules.push({ ...signal, id });
  });
  return rules;
}

function checkSignal(v: unknown, path: string, p: Problems): FallbackSignal | undefined {
  if (!isObj(v)) {
    p.expected(path, `a mapping like ${FALLBACK_EXAMPLE}`, v);
    return undefined;
  }
  p.unknownKeys(path, v, FALLBACK_KEYS);
  const tests = FALLBACK_TESTS.filter((k) => own(v, k) !== undefined);
  if (tests.length !== 1) {
    const got = tests.length === 0 ? 'neither' : tests.join(' and ');
    p.add(path, `expected exactly one of ${FALLBACK_TESTS.map((k) => `'${k}'`).join(', ')}, got ${got}`);
    return undefined;
  }
  const test = tests[0]!;
  if (test === 'modelDiffers') return checkModelDiffers(v, path, p);

  const source = checkSource(v, path, p);
  const value = checkTestValue(test, own(v, test), `${path}.${test}`, p);
  return source === undefined || value === undefined ? undefined : ({ kind: test, ...source, ...value } as FallbackSignal);
}

/** `header: NAME` or `field: DOTTED.PATH`, exactly one. */
function checkSource(v: Obj, path: string, p: Problems): { header: string } | { field: string } | undefined {
  const headerRaw = own(v, 'header');
  const fieldRaw = own(v, 'field');
  if (headerRaw !== undefined && fieldRaw !== undefined) {
    p.add(path, "expected one of 'header' or 'field' (a signal reads one place), got both");
    return undefined;
  }
  if (fieldRaw !== undefined) {
    if (typeof fieldRaw === 'string' && fieldRaw !== '' && !fieldRaw.split('.').includes('')) return { field: fieldRaw };
    p.expected(`${path}.field`, 'a dotted JSON path like "x_cache.hit"', fieldRaw);
    return undefined;
  }
  // Header lookup is case-insensitive; storing lower case lets the engine compare directly.
  if (typeof headerRaw === 'string' && HEADER_NAME.test(headerRaw)) return { header: headerRaw.toLowerCase() };
  p.expected(`${path}.header`, 'a header name like "x-route" (or field: a JSON body path)', headerRaw);
  return undefined;
}

function checkModelDiffers(v: Obj, path: string, p: Problems): FallbackSignal | undefined {
  const md = own(v, 'modelDiffers');
  let ok = true;
  if (md !== true) {
    p.expected(`${path}.modelDiffers`, 'true (the response body names a model other than the request asked for)', md);
    ok = false;
  }
  for (const k of ['header', 'field'] as const) {
    if (own(v, k) === undefined) continue;
    p.add(`${path}.${k}`, `modelDiffers compares the response body's model with the request's; it reads no ${k}`);
    ok = false;
  }
  return ok ? { kind: 'modelDiffers' } : undefined;
}

/** The header test's operand, as the signal's field (`value`, `pattern` or `than`). */
function checkTestValue(test: 'equals' | 'matches' | 'greaterThan', value: unknown, vp: string, p: Problems): { value: string } | { pattern: string } | { than: number } | undefined {
  if (test === 'equals') {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { value: String(value) };
    p.expected(vp, 'a string', value);
    return undefined;
  }
  if (test === 'matches') {
    if (typeof value !== 'string') {
      p.expected(vp, 'a regular expression', value);
      return undefined;
    }
    const err = regexError(value);
    if (err === undefined) return { pattern: value };
    p.add(vp, `expected a regular expression, got ${show(value)} (${err})`);
    return undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return { than: value };
  p.expected(vp, 'a number, like 0', value);
  return undefined;
}

function regexError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
