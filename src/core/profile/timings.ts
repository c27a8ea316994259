/**
 * The `timings` section: where each response's per-stage timings are read from — Server-Timing, a
 * preset's headers and body fields, and the profile's own mappings over the preset's.
 */
import { PRESET_NAMES, getPreset } from '../presets.js';
import type { FallbackSignal, StageSource, TimeUnit, TimingRules } from '../profile-types.js';
import { CLIENT_STAGES, clientStageMeaning } from '../stages.js';
import { STAGE_SOURCE_KEYS, TIMINGS_KEYS } from './keys.js';
import { didYouMean, type Problems } from './problems.js';
import { HEADER_NAME, absent, child, isObj, isStageName, own, show } from './values.js';

export interface TimingsResult {
  timings: TimingRules;
  /** the preset's fallback signals, used when the profile has no `fallback` */
  presetFallback: FallbackSignal[];
}

export function checkTimings(v: unknown, p: Problems): TimingsResult {
  const timings: TimingRules = { serverTiming: true, headers: {}, body: {} };
  const result: TimingsResult = { timings, presetFallback: [] };
  if (absent(v)) return result;
  if (!isObj(v)) {
    p.expected('timings', 'a mapping with serverTiming, preset, headers, body', v);
    return result;
  }
  p.unknownKeys('timings', v, TIMINGS_KEYS);
  const st = own(v, 'serverTiming');
  if (!absent(st)) {
    if (typeof st === 'boolean') timings.serverTiming = st;
    else p.expected('timings.serverTiming', 'true or false', st);
  }
  const presetRaw = own(v, 'preset');
  if (!absent(presetRaw)) applyPreset(presetRaw, result, p);
  // The profile's own mappings go over the preset's: same header or path, the profile's stage wins.
  Object.assign(timings.headers, checkSourceMap(own(v, 'headers'), 'headers', p));
  Object.assign(timings.body, checkSourceMap(own(v, 'body'), 'body', p));
  return result;
}

function applyPreset(raw: unknown, result: TimingsResult, p: Problems): void {
  const preset = typeof raw === 'string' ? getPreset(raw) : undefined;
  if (preset === undefined) {
    const hint = typeof raw === 'string' ? didYouMean(raw, PRESET_NAMES) : '';
    p.add('timings.preset', `expected one of ${PRESET_NAMES.join(', ')}, got ${show(raw)}${hint}`);
    return;
  }
  result.timings.preset = preset.name;
  result.timings.headers = { ...preset.headers };
  result.timings.body = { ...preset.body };
  result.presetFallback = preset.fallback.map((f) => ({ ...f }));
}

// Dotted path: segments of anything but ".", none empty (see timing.ts).
const BODY_PATH = /^[^.]+(?:\.[^.]+)*$/;

function checkSourceMap(v: unknown, section: 'headers' | 'body', p: Problems): Record<string, StageSource> {
  const base = `timings.${section}`;
  if (absent(v)) return {};
  if (!isObj(v)) {
    const example = section === 'headers' ? '{ x-queue-time: queue }' : '{ metrics.queue_time_ms: queue }';
    p.expected(base, `a mapping like ${example}`, v);
    return {};
  }
  const out: [string, StageSource][] = [];
  const seen = new Map<string, string>();
  for (const [name, raw] of Object.entries(v)) {
    const path = child(base, name);
    if (section === 'headers' && !checkHeaderName(name, path, seen, p)) continue;
    if (section === 'body' && !BODY_PATH.test(name)) {
      p.add(path, `'${name}' is not a dotted path like metrics.queue_time_ms`);
      continue;
    }
    const src = checkStageSource(raw, path, p);
    if (src !== undefined) out.push([section === 'headers' ? name.toLowerCase() : name, src]);
  }
  return Object.fromEntries(out);
}

/** A valid header name not mapped before under another case; `seen`: lower case → as first written. */
function checkHeaderName(name: string, path: string, seen: Map<string, string>, p: Problems): boolean {
  if (!HEADER_NAME.test(name)) {
    p.add(path, `'${name}' is not a header name`);
    return false;
  }
  const lower = name.toLowerCase();
  const first = seen.get(lower);
  if (first !== undefined) {
    p.add(path, `header '${name}' is already mapped as '${first}' (header names ignore case)`);
    return false;
  }
  seen.set(lower, name);
  return true;
}

const UNITS: Record<string, TimeUnit> = { us: 'us', µs: 'us', ms: 'ms', s: 's' };

/** One mapping entry, header or body: `stage` (a value in ms) or `{ stage, unit }` with unit us, ms or s. */
function checkStageSource(v: unknown, path: string, p: Problems): StageSource | undefined {
  let stage: unknown = v;
  let unit: TimeUnit = 'ms';
  if (isObj(v)) {
    p.unknownKeys(path, v, STAGE_SOURCE_KEYS);
    stage = own(v, 'stage');
    const u = own(v, 'unit');
    if (!absent(u)) {
      const known = typeof u === 'string' ? UNITS[u] : undefined;
      if (known === undefined) {
        p.expected(`${path}.unit`, 'us, ms or s', u);
        return undefined;
      }
      unit = known;
    }
  }
  const stagePath = isObj(v) ? `${path}.stage` : path;
  if (!isStageName(stage)) {
    p.expected(stagePath, 'a stage name without spaces, or { stage: NAME, unit: ms }', stage);
    return undefined;
  }
  if (CLIENT_STAGES.includes(stage)) {
    // the client's own clock measures these; a server value under the same name would mix two clocks
    p.add(stagePath, `stage '${stage}' is reserved for the client-measured ${clientStageMeaning(stage)}`);
    return undefined;
  }
  return { stage, unit };
}
