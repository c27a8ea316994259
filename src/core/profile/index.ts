/**
 * Profile text / parsed value → validated `Profile`. Hand-written checks rather than a schema library:
 * the messages are the product here, and cross-field rules (budget phases, duplicate names) need the
 * whole document anyway. Every check runs even after earlier ones fail, so one run lists every problem.
 *
 * One file per section (target.ts, timings.ts, fallback.ts, paths.ts, goodput.ts, settings.ts, phases.ts,
 * budgets.ts); this file reads them in order and passes each what it needs from the others.
 */
import { parseDocument } from 'yaml';
import type { ProfileProblem } from '../errors.js';
import type { Profile } from '../profile-types.js';
import { checkBudgets } from './budgets.js';
import { checkMetricSources } from './metrics.js';
import { substituteEnv, type EnvLookup } from './env.js';
import { checkPaths } from './paths.js';
import { checkGoodput } from './goodput.js';
import { TOP_KEYS } from './keys.js';
import { checkPhases } from './phases.js';
import { Problems } from './problems.js';
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RATE, checkArrivals, checkBurstiness, checkMaxInFlight, checkMaxRate, checkName, checkSeed } from './settings.js';
import { checkTarget } from './target.js';
import { checkTokenizer } from './sessions.js';
import { checkTimings } from './timings.js';
import { absent, isObj, own } from './values.js';

export type { EnvLookup } from './env.js';
export { fallbackId } from './fallback.js';
export { parseGoodputLimit } from './budgets.js';
export { DEFAULT_MAX_RATE } from './settings.js';
export { PROFILE_KEYS } from './keys.js';
export { describeBudget, describeGoodput, describeTarget } from '../profile-types.js';

export type ProfileResult = { ok: true; profile: Profile } | { ok: false; problems: ProfileProblem[] };

/** unknown (already parsed YAML/JSON) → Profile, or EVERY problem with its field path. */
export function parseProfile(raw: unknown, env: EnvLookup): ProfileResult {
  const p = new Problems();
  const doc = substituteEnv(raw, env, p);
  if (!isObj(doc)) {
    p.expected('', 'a mapping at the top level (name, phases, budgets, ...)', doc);
    return { ok: false, problems: p.list };
  }
  p.unknownKeys('', doc, TOP_KEYS);

  const name = checkName(own(doc, 'name'), p);
  const target = checkTarget(own(doc, 'target'), p);
  const { timings, presetFallback } = checkTimings(own(doc, 'timings'), p);
  // The profile's own fallback (even `[]`, or a path named fallback) replaces a preset's signals rather than adding to them.
  const { paths, fallback, hasFallbackRule, names: pathNames, namesKnown: pathsKnown } = checkPaths(own(doc, 'paths'), own(doc, 'fallback'), presetFallback, p);
  const goodputRaw = own(doc, 'goodput');
  const goodput = checkGoodput(goodputRaw, target.stream, p);
  const arrivals = checkArrivals(own(doc, 'arrivals'), p);
  const burstiness = checkBurstiness(own(doc, 'burstiness'), p);
  const seed = checkSeed(own(doc, 'seed'), p);
  const maxInFlightOrNot = checkMaxInFlight(own(doc, 'maxInFlight'), p);
  const maxRateOrNot = checkMaxRate(own(doc, 'maxRate'), p);

  // Budget phase references can only be judged against a list whose every name was readable.
  const chatBody = isObj(target.body) && target.body.prompt === undefined;
  const promptTokens = target.prompts?.kind === 'synthetic' ? target.prompts.tokens : undefined;
  const { phases, known: phasesKnown } = checkPhases(own(doc, 'phases'), { maxInFlight: maxInFlightOrNot, maxRate: maxRateOrNot, sessions: { chatBody, promptTokens } }, p);
  const tokenizer = checkTokenizer(own(doc, 'tokenizer'), p);
  // A broken fallback rule is reported once, not again by every budget that mentions the fallback path.
  const hasGoodput = !absent(goodputRaw);
  const metrics = checkMetricSources(own(doc, 'metrics'), p);
  const budgets = checkBudgets(own(doc, 'budgets'), { phases, phasesKnown, hasFallbackRule, pathNames, pathsKnown, hasGoodput, stream: target.stream, metricSources: metrics }, p);

  if (phasesKnown && budgets.length > 0 && phases.every((ph) => ph.warmup)) {
    p.add('phases', 'every phase is a warmup phase, so no request would be budgeted');
  }

  if (p.list.length > 0) return { ok: false, problems: p.list };
  const maxInFlight = maxInFlightOrNot ?? DEFAULT_MAX_IN_FLIGHT;
  const maxRate = maxRateOrNot ?? DEFAULT_MAX_RATE;
  const profile: Profile = { name, target, timings, fallback, paths, goodput, arrivals, burstiness, seed, maxInFlight, maxRate, phases, budgets, metrics, ...(tokenizer ? { tokenizer } : {}) };
  return { ok: true, profile };
}

/** Text (YAML, which includes JSON) → same; a YAML syntax error is a problem with line:col in its message. */
export function parseProfileText(text: string, env: EnvLookup): ProfileResult {
  const doc = parseDocument(text, { logLevel: 'error', prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lineCol(text, e.pos[0]);
      return { path: '', message: `YAML syntax error at line ${line}, column ${col}: ${e.message}` };
    });
    return { ok: false, problems };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Alias expansion limits are enforced only while converting, not while parsing.
    return { ok: false, problems: [{ path: '', message: `YAML error: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  return parseProfile(raw, env);
}

/** 1-based, as editors count. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, col: offset - lastNewline };
}
