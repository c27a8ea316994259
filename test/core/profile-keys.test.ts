/**
 * PROFILE_KEYS is the one list of accepted keys per section (a JSON Schema takes its properties from
 * it): every key it lists must be accepted by the validator at that section, and any other key
 * refused there. (keys.ts holds the lists equal to the input types' keys at compile time.)
 */
import { describe, expect, it } from 'vitest';
import type { ProfileInput } from '../../src/core/profile-types.js';
import { PROFILE_KEYS, parseProfile } from '../../src/core/profile/index.js';

type Section = keyof typeof PROFILE_KEYS;
const phase = { name: 'steady', duration: '10s', rate: 5 };

/** A document whose `section` mapping is `m`, and the problem path of that mapping. */
const placements: Record<Section, [(m: Record<string, unknown>) => Record<string, unknown>, string]> = {
  top: [(m) => ({ name: 'p', phases: [phase], ...m }), ''],
  target: [(m) => ({ name: 'p', phases: [phase], target: m }), 'target'],
  dataset: [(m) => ({ name: 'p', phases: [phase], target: { body: {}, dataset: m } }), 'target.dataset'],
  prompts: [(m) => ({ name: 'p', phases: [phase], target: { body: {}, prompts: m } }), 'target.prompts'],
  promptTokens: [(m) => ({ name: 'p', phases: [phase], target: { body: {}, prompts: { tokens: m } } }), 'target.prompts.tokens'],
  timings: [(m) => ({ name: 'p', phases: [phase], timings: m }), 'timings'],
  stageSource: [(m) => ({ name: 'p', phases: [phase], timings: { headers: { 'x-a': m } } }), 'timings.headers.x-a'],
  fallback: [(m) => ({ name: 'p', phases: [phase], fallback: [m] }), 'fallback[0]'],
  path: [(m) => ({ name: 'p', phases: [phase], paths: [m] }), 'paths[0]'],
  phase: [(m) => ({ name: 'p', phases: [m] }), 'phases[0]'],
  spike: [(m) => ({ name: 'p', phases: [{ spike: m }] }), 'phases[0].spike'],
  steps: [(m) => ({ name: 'p', phases: [{ steps: m }] }), 'phases[0].steps'],
  tracePhase: [(m) => ({ name: 'p', phases: [{ trace: { file: 't.jsonl', format: 'mooncake' }, ...m }] }), 'phases[0]'],
  trace: [(m) => ({ name: 'p', phases: [{ name: 'r', trace: m }] }), 'phases[0].trace'],
  traceWindow: [(m) => ({ name: 'p', phases: [{ name: 'r', trace: { file: 't.jsonl', format: 'mooncake', window: m } }] }), 'phases[0].trace.window'],
  latencyBudget: [(m) => ({ name: 'p', phases: [phase], budgets: [m] }), 'budgets[0]'],
  errorRateBudget: [(m) => ({ name: 'p', phases: [phase], budgets: [m] }), 'budgets[0]'],
  fallbackRateBudget: [(m) => ({ name: 'p', phases: [phase], budgets: [m] }), 'budgets[0]'],
  goodputBudget: [(m) => ({ name: 'p', phases: [phase], budgets: [m] }), 'budgets[0]'],
  pathShareBudget: [(m) => ({ name: 'p', phases: [phase], budgets: [m] }), 'budgets[0]'],
  promptCacheBudget: [(m) => ({ name: 'p', phases: [phase], budgets: [m] }), 'budgets[0]'],
  metricSource: [(m) => ({ name: 'p', phases: [phase], metrics: [m] }), 'metrics[0]'],
  metricBudget: [(m) => ({ name: 'p', phases: [phase], metrics: [{ url: 'http://127.0.0.1:1/metrics' }], budgets: [m] }), 'budgets[0]'],
  sessions: [(m) => ({ name: 'p', target: { body: {} }, phases: [{ ...phase, sessions: m }] }), 'phases[0].sessions'],
  tokenizer: [(m) => ({ name: 'p', phases: [phase], tokenizer: m }), 'tokenizer'],
  hook: [(m) => ({ name: 'p', phases: [{ ...phase, onStart: m }] }), 'phases[0].onStart'],
  httpHook: [(m) => ({ name: 'p', phases: [{ ...phase, onEnd: { http: m } }] }), 'phases[0].onEnd.http'],
  recovery: [(m) => ({ name: 'p', phases: [phase], budgets: [{ recovery: m }] }), 'budgets[0].recovery'],
};

const unknownAt = (doc: unknown, path: string): string[] => {
  const r = parseProfile(doc, () => undefined);
  if (r.ok) return [];
  return r.problems.filter((p) => p.path === path && p.message.startsWith('unknown key')).map((p) => p.message);
};

describe('PROFILE_KEYS: the accepted keys per section', () => {
  it.each(Object.keys(placements) as Section[])('happy: every key listed for %s is accepted there', (section) => {
    const [place, path] = placements[section];
    // null is "absent" to most checks but still a present key to the unknown-key check; the top
    // level keeps its required name and phases
    const keys = PROFILE_KEYS[section].filter((k) => section !== 'top' || (k !== 'name' && k !== 'phases'));
    const doc = place(Object.fromEntries(keys.map((k) => [k, null])));
    expect(unknownAt(doc, path)).toEqual([]);
  });

  it.each(Object.keys(placements) as Section[])('sad: a key not listed for %s is refused there', (section) => {
    const [place, path] = placements[section];
    const kind = { latencyBudget: 'stage', errorRateBudget: 'errorRate', fallbackRateBudget: 'fallbackRate', goodputBudget: 'goodput', pathShareBudget: 'pathShare', promptCacheBudget: 'promptCacheShare', metricBudget: 'metric' }[section as string];
    const m: Record<string, unknown> = kind === undefined ? { bogusKey: 1 } : { [kind]: null, bogusKey: 1 };
    expect(unknownAt(place(m), path)).toEqual(["unknown key 'bogusKey'"]);
  });
});

describe('ProfileInput: the written shape', () => {
  it('happy: a document using every section, typed as ProfileInput, is a valid profile', () => {
    const doc: ProfileInput = {
      name: 'every-section',
      target: { url: 'http://127.0.0.1:8080/v1/chat/completions', headers: { 'x-retries': 3 }, body: { model: 'm', messages: [] }, timeout: '10s', stream: true, prompts: { tokens: { mean: 64, stddev: 8 } } },
      timings: { serverTiming: true, preset: 'vllm', headers: { 'x-queue-time': 'queue' }, body: { 'metrics.prefill_ms': { stage: 'prefill', unit: 'ms' } } },
      fallback: [{ header: 'x-route', equals: 'fallback' }, { header: 'x-tries', greaterThan: 0 }, { modelDiffers: true }],
      paths: [{ name: 'cache', when: [{ header: 'x-sim-cache', equals: 'HIT' }, { field: 'x_cache.hit', equals: true }] }, { preset: 'portkey-cache', name: 'portkey' }],
      goodput: { ttft: '500ms', total: '5s' },
      arrivals: 'gamma',
      burstiness: 0.5,
      seed: 7,
      maxInFlight: 100,
      maxRate: 6000,
      phases: [
        { name: 'warm', duration: '2s', rate: 5, warmup: true, onStart: { http: { path: '/admin/fault', method: 'POST', body: { kind: 'stall' }, headers: { 'x-a': 1 } }, timeout: '5s', optional: true }, onEnd: [{ exec: ['true'], always: true }] },
        { name: 'users', duration: '2s', concurrency: 2, to: 4 },
        { spike: { base: 10, peak: 5500, at: '1s', hold: '1s', duration: '3s' } },
        { steps: { from: 10, to: 30, step: 10, hold: '1s' } },
      ],
      budgets: [
        { stage: 'ttft', p99: '800ms', phase: 'users', abortOnFail: true, window: '1s', after: '0s' },
        { errorRate: '1%', path: 'primary' },
        { fallbackRate: 0.05 },
        { goodput: '>= 95%' },
        { pathShare: 'cache', min: '30%', max: '90%' },
        { promptCacheShare: '>= 50%', path: 'cache' },
        { recovery: { stage: 'total', p99: '800ms', errorRate: '1%', within: '5s', after: 'users', window: '1s', hold: '3s', path: 'primary' } },
      ],
    };
    const r = parseProfile(doc, () => undefined);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });
});
