/**
 * What real inference servers and gateways report, as ready-made `timings` (and, for LiteLLM, a
 * fallback signal): `timings: { preset: tgi }`. The profile's own `timings.headers` / `timings.body`
 * are merged over a preset's (the profile wins for a header or body path it names), and a preset's
 * fallback signals apply only when the profile has no `fallback` of its own.
 *
 * Sources are the servers' own code and docs (see README, "Where stage timings come from"); each
 * header's unit is the one the server writes, converted to ms when read.
 */
import type { FallbackSignal, StageSource, TimeUnit } from './profile-types.js';

export interface Preset {
  name: string;
  /** the server, in words */
  server: string;
  /** where the facts below come from */
  source: string;
  /** lower-cased header name → stage */
  headers: Record<string, StageSource>;
  /** dotted JSON body path → stage */
  body: Record<string, StageSource>;
  fallback: FallbackSignal[];
  /** what a user should know (non-streamed only, flags to turn on) */
  note?: string;
}

const s = (stage: string, unit: TimeUnit = 'ms'): StageSource => ({ stage, unit });

export type PresetName = 'tgi' | 'envoy' | 'openai' | 'litellm' | 'vllm' | 'llamacpp';

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  tgi: {
    name: 'tgi',
    server: 'Hugging Face Text Generation Inference',
    source: 'TGI router/src/server.rs',
    headers: {
      'x-total-time': s('server_total'),
      'x-validation-time': s('validation'),
      'x-queue-time': s('queue'),
      'x-inference-time': s('inference'),
      'x-time-per-token': s('time_per_token'),
      'x-compute-time': s('compute', 's'),
    },
    body: {},
    fallback: [],
    note: 'non-streamed responses only; x-compute-time is in seconds (some older builds sent ms)',
  },
  envoy: {
    name: 'envoy',
    server: 'Envoy proxy',
    source: 'Envoy docs, x-envoy-upstream-service-time',
    headers: { 'x-envoy-upstream-service-time': s('upstream') },
    body: {},
    fallback: [],
  },
  openai: {
    name: 'openai',
    server: 'OpenAI API',
    source: 'OpenAI API reference, debugging requests',
    headers: { 'openai-processing-ms': s('processing') },
    body: {},
    fallback: [],
  },
  litellm: {
    name: 'litellm',
    server: 'LiteLLM proxy',
    source: 'LiteLLM proxy docs, response headers',
    headers: {
      'x-litellm-response-duration-ms': s('litellm_response'),
      'x-litellm-overhead-duration-ms': s('litellm_overhead'),
    },
    body: {},
    fallback: [{ kind: 'greaterThan', header: 'x-litellm-attempted-fallbacks', than: 0 }],
    note: 'on streams some versions name the requested model even after a fallback: the header signal does not depend on it',
  },
  vllm: {
    name: 'vllm',
    server: 'vLLM OpenAI-compatible server',
    source: 'vLLM --enable-per-request-metrics',
    headers: {},
    body: {
      'metrics.queue_time_ms': s('queue'),
      'metrics.time_to_first_token_ms': s('server_ttft'),
      'metrics.generation_time_ms': s('generation'),
      'metrics.mean_itl_ms': s('server_itl'),
    },
    fallback: [],
    note: 'needs --enable-per-request-metrics; on streams the metrics come on the final usage chunk, which needs stream_options.include_usage',
  },
  llamacpp: {
    name: 'llamacpp',
    server: 'llama.cpp server',
    source: 'llama.cpp tools/server README, timings',
    headers: {},
    body: {
      'timings.prompt_ms': s('prompt'),
      'timings.predicted_ms': s('predicted'),
      'timings.predicted_per_token_ms': s('per_token'),
    },
    fallback: [],
  },
};
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function isPresetName(v: unknown): v is PresetName {
  return typeof v === 'string' && Object.hasOwn(PRESETS, v);
}

export function getPreset(name: string): Preset | undefined {
  return isPresetName(name) ? PRESETS[name] : undefined;
}

function sourceText(from: string, src: StageSource): string {
  return `${from} → ${src.stage} (${src.unit})`;
}

/**
 * One preset in words, for `validate` and the README:
 * "tgi — Hugging Face Text Generation Inference (TGI router/src/server.rs): x-total-time → server_total (ms), …".
 * Undefined for an unknown name.
 */
export function describePreset(name: string): string | undefined {
  const p = getPreset(name);
  if (p === undefined) return undefined;
  const parts = [
    ...Object.entries(p.headers).map(([h, src]) => sourceText(h, src)),
    ...Object.entries(p.body).map(([path, src]) => sourceText(`body ${path}`, src)),
    ...p.fallback.map((f) => `fallback when ${f.kind === 'greaterThan' ? `${f.header} > ${f.than}` : f.kind}`),
  ];
  const note = p.note === undefined ? '' : `; ${p.note}`;
  return `${p.name} — ${p.server} (${p.source}): ${parts.join(', ')}${note}`;
}
