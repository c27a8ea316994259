/**
 * The `fallback` section: the signals that say a response was served by a fallback. One signal or a
 * list of them:
 *
 *   signal = { header: H, equals: TEXT } | { header: H, matches: REGEX }
 *          | { header: H, greaterThan: NUMBER } | { modelDiffers: true }
 *
 * Each gets an id from what it tests (`fallbackId`); two signals with the same id test the same
 * thing, which is refused.
 */
import type { FallbackRule, FallbackSignal } from '../profile-types.js';
import { FALLBACK_KEYS, FALLBACK_TESTS } from './keys.js';
import type { Problems } from './problems.js';
import { HEADER_NAME, absent, isObj, own, show, type Obj } from './values.js';

/** "x-route=fallback", "x-route~^fall", "x-litellm-attempted-fallbacks>0", "model differs". */
export function fallbackId(s: FallbackSignal): string {
  switch (s.kind) {
    case 'equals':
      return `${s.header}=${s.value}`;
    case 'matches':
      return `${s.header}~${s.pattern}`;
    case 'greaterThan':
      return `${s.header}>${s.than}`;
    case 'modelDiffers':
      return 'model differs';
  }
}

const FALLBACK_EXAMPLE = '{ header: x-route, equals: fallback }, { header: H, matches: REGEX }, { header: H, greaterThan: 0 } or { modelDiffers: true }';

/** Absent: undefined (a preset's signals may apply); `[]`: no signals. */
export function checkFallback(v: unknown, p: Problems): FallbackRule[] | undefined {
  if (absent(v)) return undefined;
  const list = Array.isArray(v) ? v : [v];
  const rules: FallbackRule[] = [];
  const firstAt = new Map<string, string>();
  list.forEach((raw: unknown, i) => {
    const path = Array.isArray(v) ? `fallback[${i}]` : 'fallback';
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

  let header: string | undefined;
  const headerRaw = own(v, 'header');
  // Header lookup is case-insensitive; storing lower case lets the engine compare directly.
  if (typeof headerRaw === 'string' && HEADER_NAME.test(headerRaw)) header = headerRaw.toLowerCase();
  else p.expected(`${path}.header`, 'a header name like "x-route"', headerRaw);
  const value = checkTestValue(test, own(v, test), `${path}.${test}`, p);
  return header === undefined || value === undefined ? undefined : ({ kind: test, header, ...value } as FallbackSignal);
}

function checkModelDiffers(v: Obj, path: string, p: Problems): FallbackSignal | undefined {
  const md = own(v, 'modelDiffers');
  let ok = true;
  if (md !== true) {
    p.expected(`${path}.modelDiffers`, 'true (the response body names a model other than the request asked for)', md);
    ok = false;
  }
  if (own(v, 'header') !== undefined) {
    p.add(`${path}.header`, "modelDiffers compares the response body's model with the request's; it reads no header");
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
