import { describe, expect, it } from 'vitest';
import { PRESETS, PRESET_NAMES, describePreset, getPreset } from '../../src/core/presets.js';
import { parseProfile } from '../../src/core/profile/index.js';
import type { Profile } from '../../src/core/profile-types.js';
import { compileTimings } from '../../src/core/timing.js';

function profileWith(timings: Record<string, unknown>, extra: Record<string, unknown> = {}): Profile {
  const r = parseProfile({ name: 'p', timings, phases: [{ name: 's', duration: '1s', rate: 1 }], ...extra }, () => undefined);
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return r.profile;
}

type Row = [preset: string, headers: string[], json: unknown, stages: Record<string, number>];
const rows: Row[] = [
  [
    'tgi',
    ['x-total-time', '120', 'x-validation-time', '1', 'x-queue-time', '20', 'x-inference-time', '99', 'x-time-per-token', '9', 'x-compute-time', '0.099'],
    undefined,
    { server_total: 120, validation: 1, queue: 20, inference: 99, time_per_token: 9, compute: 99 },
  ],
  ['envoy', ['x-envoy-upstream-service-time', '42'], undefined, { upstream: 42 }],
  ['openai', ['openai-processing-ms', '310'], undefined, { processing: 310 }],
  ['litellm', ['x-litellm-response-duration-ms', '500.5', 'x-litellm-overhead-duration-ms', '3.2'], undefined, { litellm_response: 500.5, litellm_overhead: 3.2 }],
  [
    'vllm',
    [],
    { metrics: { queue_time_ms: 4, time_to_first_token_ms: 30, generation_time_ms: 200, mean_itl_ms: 6.5 } },
    { queue: 4, server_ttft: 30, generation: 200, server_itl: 6.5 },
  ],
  ['llamacpp', [], { timings: { prompt_ms: 12.5, predicted_ms: 400, predicted_per_token_ms: 6.25 } }, { prompt: 12.5, predicted: 400, per_token: 6.25 }],
];

describe('presets', () => {
  it.each(rows)('happy: %s headers/body → stages in ms', (name, headers, json, stages) => {
    const p = profileWith({ preset: name, serverTiming: false });
    expect(p.timings.preset).toBe(name);
    const r = compileTimings(p.timings, p.fallback).extract(headers, undefined, { json });
    expect(Object.fromEntries(r.stages)).toEqual(stages);
    expect(r.unmeasured).toEqual([]);
  });

  it('happy: every preset is in the table above and has a source', () => {
    expect(PRESET_NAMES.sort()).toEqual(rows.map((r) => r[0]).sort());
    for (const name of PRESET_NAMES) expect(PRESETS[name].source).not.toBe('');
  });

  it('happy: litellm brings its fallback signal when the profile has none', () => {
    const p = profileWith({ preset: 'litellm' });
    expect(p.fallback).toEqual([{ kind: 'greaterThan', header: 'x-litellm-attempted-fallbacks', than: 0, id: 'x-litellm-attempted-fallbacks>0' }]);
    const ex = compileTimings(p.timings, p.fallback);
    expect(ex.extract(['x-litellm-attempted-fallbacks', '1']).path).toBe('fallback');
    expect(ex.extract(['x-litellm-attempted-fallbacks', '0']).path).toBe('primary');
  });

  it('happy: the profile\'s own fallback (even []) replaces the preset\'s', () => {
    expect(profileWith({ preset: 'litellm' }, { fallback: [] }).fallback).toEqual([]);
    expect(profileWith({ preset: 'litellm' }, { fallback: { header: 'x-route', equals: 'b' } }).fallback.map((f) => f.id)).toEqual(['x-route=b']);
  });

  it('happy: the profile\'s headers and body go over the preset\'s', () => {
    const p = profileWith({
      preset: 'tgi',
      headers: { 'X-Compute-Time': { stage: 'compute', unit: 'ms' }, 'x-extra': 'extra' },
      body: { 'metrics.q': 'q' },
    });
    expect(p.timings.headers['x-compute-time']).toEqual({ stage: 'compute', unit: 'ms' });
    expect(p.timings.headers['x-queue-time']).toEqual({ stage: 'queue', unit: 'ms' });
    expect(p.timings.headers['x-extra']).toEqual({ stage: 'extra', unit: 'ms' });
    expect(p.timings.body).toEqual({ 'metrics.q': { stage: 'q', unit: 'ms' } });
  });

  it('happy: describePreset names the source and the units', () => {
    expect(describePreset('tgi')).toMatch(/^tgi — Hugging Face Text Generation Inference \(TGI router\/src\/server\.rs\): x-total-time → server_total \(ms\),.*x-compute-time → compute \(s\)/);
    expect(describePreset('vllm')).toMatch(/body metrics\.queue_time_ms → queue \(ms\)/);
    expect(describePreset('litellm')).toMatch(/fallback when x-litellm-attempted-fallbacks > 0/);
  });

  it.each([['sad', 'nginx'], ['sad', 'constructor'], ['sad', '']])('%s: unknown preset %j', (_l, name) => {
    expect(describePreset(name)).toBeUndefined();
    expect(getPreset(name)).toBeUndefined();
  });
});
