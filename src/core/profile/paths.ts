/**
 * The `paths` section: named routes a response can take, tried in order, the first whose signals
 * match wins; a response no path matches is `primary`.
 *
 *   paths:
 *     - { name: cache, when: { header: cf-aig-cache-status, equals: HIT } }
 *     - { name: fallback, when: [{ header: x-route, equals: fallback }, { modelDiffers: true }] }
 *     - { preset: portkey-cache }                 # a gateway cache preset, path `cache`
 *     - { preset: kong-proxy-cache, name: edge }  # … under another name
 *
 * `when` is one signal or a list (ANY of them matching takes the path), in the grammar of
 * fallback.ts. `fallback:` stays as shorthand for a path named `fallback`, matched after every
 * `paths:` entry; a timings preset's fallback signals apply when the profile names no fallback path.
 * Names are unique, `primary` is reserved (it is where unmatched responses go), and one signal may
 * appear once across all paths (a second copy could never route a response).
 */
import { PATH_PRESETS, PATH_PRESET_NAMES, isPathPreset } from '../path-presets.js';
import { FALLBACK_PATH, PRIMARY_PATH, type FallbackRule, type FallbackSignal, type PathRule } from '../profile-types.js';
import { checkFallback, fallbackId } from './fallback.js';
import { PATH_KEYS } from './keys.js';
import { didYouMean, type Problems } from './problems.js';
import { absent, isObj, own } from './values.js';

const PATH_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NAME_WORDS = 'a path name like "cache" (letters, digits, _ . -)';

export interface CheckedPaths {
  /** in match order, the fallback path (shorthand or preset) last unless `paths:` placed it */
  paths: PathRule[];
  /** the fallback path's signals (empty: none) */
  fallback: FallbackRule[];
  /** a fallback path was written (even a broken one: its problems are reported once, there) */
  hasFallbackRule: boolean;
  /** every path name written (budgets may scope to these and to primary) */
  names: string[];
  /** false when some entry's name could not be read: budget path references cannot be judged then */
  namesKnown: boolean;
}

export function checkPaths(pathsRaw: unknown, fallbackRaw: unknown, presetFallback: readonly FallbackSignal[], p: Problems): CheckedPaths {
  const firstAt = new Map<string, string>();
  const paths: PathRule[] = [];
  const names = new Map<string, string>();
  let namesKnown = true;
  let fallbackWritten = false;
  const claim = (name: string, where: string): boolean => {
    const first = names.get(name);
    if (first !== undefined) {
      p.add(where, `path '${name}' is already named at ${first}: path names are unique`);
      return false;
    }
    names.set(name, where);
    return true;
  };

  if (!absent(pathsRaw) && !Array.isArray(pathsRaw)) p.expected('paths', 'a list of paths like { name: cache, when: { header: cf-aig-cache-status, equals: HIT } }', pathsRaw);
  const list: unknown[] = Array.isArray(pathsRaw) ? pathsRaw : [];
  list.forEach((raw, i) => {
    const at = `paths[${i}]`;
    if (!isObj(raw)) {
      p.expected(at, `a mapping like { name: cache, when: { header: H, equals: HIT } } or { preset: ${PATH_PRESET_NAMES[0]} }`, raw);
      namesKnown = false;
      return;
    }
    p.unknownKeys(at, raw, PATH_KEYS);
    const presetRaw = own(raw, 'preset');
    const nameRaw = own(raw, 'name');
    let name: string | undefined;
    if (nameRaw !== undefined) {
      if (typeof nameRaw === 'string' && PATH_NAME.test(nameRaw)) name = nameRaw;
      else p.expected(`${at}.name`, NAME_WORDS, nameRaw);
    }
    let signals: FallbackRule[] | undefined;
    let preset: string | undefined;
    if (presetRaw !== undefined) {
      if (own(raw, 'when') !== undefined) p.add(`${at}.when`, `a preset brings its own signals; write either preset or when`);
      if (typeof presetRaw === 'string' && isPathPreset(presetRaw)) {
        preset = presetRaw;
        name ??= nameRaw === undefined ? PATH_PRESETS[presetRaw].name : undefined;
        signals = PATH_PRESETS[presetRaw].signals.map((s: FallbackSignal) => ({ ...s, id: fallbackId(s) }));
        for (const s of signals) {
          const first = firstAt.get(s.id);
          if (first !== undefined) p.add(`${at}.preset`, `the same signal as ${first} ('${s.id}')`);
          else firstAt.set(s.id, `${at}.preset`);
        }
      } else {
        const got = typeof presetRaw === 'string' ? `'${presetRaw}'${didYouMean(presetRaw, PATH_PRESET_NAMES)}` : JSON.stringify(presetRaw);
        p.add(`${at}.preset`, `expected one of ${PATH_PRESET_NAMES.join(', ')}, got ${got}`);
      }
    } else {
      if (nameRaw === undefined) p.add(`${at}.name`, `expected ${NAME_WORDS}, got nothing`);
      const when = own(raw, 'when');
      if (absent(when) || (Array.isArray(when) && when.length === 0)) {
        p.add(`${at}.when`, 'expected a signal or a list of signals like { header: cf-aig-cache-status, equals: HIT }, got nothing');
      } else {
        signals = checkFallback(when, p, `${at}.when`, firstAt);
      }
    }
    if (name === undefined) {
      if (nameRaw !== undefined || presetRaw === undefined) namesKnown = false;
      return;
    }
    if (name === PRIMARY_PATH) {
      p.add(`${at}.name`, `'${PRIMARY_PATH}' is reserved: it is the path of every response no path matches`);
      return;
    }
    if (!claim(name, at)) return;
    if (name === FALLBACK_PATH) fallbackWritten = true;
    if (signals !== undefined) paths.push({ name, signals, ...(preset !== undefined ? { preset } : {}) });
  });

  // `fallback:` is a path named fallback after the others; a preset's signals when none is written
  const shorthand = checkFallback(fallbackRaw, p, 'fallback', firstAt);
  if (!absent(fallbackRaw)) {
    if (claim(FALLBACK_PATH, 'fallback') && shorthand !== undefined && shorthand.length > 0) paths.push({ name: FALLBACK_PATH, signals: shorthand });
    // `fallback: []` says "no fallback path", as it always has
    fallbackWritten = !(Array.isArray(fallbackRaw) && fallbackRaw.length === 0);
  } else if (!names.has(FALLBACK_PATH) && presetFallback.length > 0) {
    paths.push({ name: FALLBACK_PATH, signals: presetFallback.map((f) => ({ ...f, id: fallbackId(f) })) });
    names.set(FALLBACK_PATH, 'timings.preset');
    fallbackWritten = true;
  }
  const fallback = paths.find((x) => x.name === FALLBACK_PATH)?.signals ?? [];
  return { paths, fallback, hasFallbackRule: fallbackWritten, names: [...names.keys()].filter((n) => n !== FALLBACK_PATH || fallbackWritten), namesKnown };
}
