/**
 * Which Prometheus metrics matter for each inference server, their kind and unit: `metrics: [{ url,
 * preset: vllm }]`. A preset's metrics are kept from every scrape; any other metric is kept when the
 * profile names it (in the source's `keep:` or in a metric budget).
 *
 * Sources (also in README, "Server metrics"):
 * - vllm: vLLM v1 `vllm/v1/metrics/loggers.py` (prometheus_client adds `_total` to counters).
 * - tgi: Text Generation Inference `router/src/` (queue.rs, infer/, server.rs; metrics-exporter-prometheus).
 * - sglang: SGLang `python/sglang/srt/metrics/collector.py` and docs/references/production_metrics.md.
 * - llamacpp: llama.cpp `tools/server/server-task.cpp`, `server_task_result_metrics::to_metrics()`
 *   (needs `llama-server --metrics`).
 */

export type MetricKind = 'gauge' | 'counter' | 'histogram';

export interface MetricSpec {
  name: string;
  kind: MetricKind;
  /** what one unit of the value is: "requests", "seconds", "tokens", "ratio (0–1)" */
  unit: string;
  /**
   * How label sets (model_name, engine, …) combine into one series: summed, or for per-engine ratios
   * the largest (the fullest KV cache is the one that preempts). Default sum.
   */
  combine?: 'sum' | 'max';
  /** the server's own count of output or input tokens, compared with the client's count */
  tokens?: 'output' | 'input';
}

export interface MetricPreset {
  name: MetricPresetName;
  server: string;
  source: string;
  metrics: MetricSpec[];
}

export type MetricPresetName = 'vllm' | 'tgi' | 'sglang' | 'llamacpp';

const g = (name: string, unit: string, combine?: 'max'): MetricSpec => ({ name, kind: 'gauge', unit, ...(combine ? { combine } : {}) });
const c = (name: string, unit: string, tokens?: 'output' | 'input'): MetricSpec => ({ name, kind: 'counter', unit, ...(tokens ? { tokens } : {}) });
const h = (name: string, unit: string, tokens?: 'output' | 'input'): MetricSpec => ({ name, kind: 'histogram', unit, ...(tokens ? { tokens } : {}) });

export const METRIC_PRESETS: Readonly<Record<MetricPresetName, MetricPreset>> = {
  vllm: {
    name: 'vllm',
    server: 'vLLM',
    source: 'vllm/v1/metrics/loggers.py',
    metrics: [
      g('vllm:num_requests_running', 'requests'),
      g('vllm:num_requests_waiting', 'requests'),
      g('vllm:kv_cache_usage_perc', 'ratio (0–1)', 'max'),
      c('vllm:num_preemptions_total', 'preemptions'),
      c('vllm:prefix_cache_queries_total', 'tokens'),
      c('vllm:prefix_cache_hits_total', 'tokens'),
      c('vllm:prompt_tokens_total', 'tokens', 'input'),
      c('vllm:generation_tokens_total', 'tokens', 'output'),
      h('vllm:time_to_first_token_seconds', 'seconds'),
      h('vllm:inter_token_latency_seconds', 'seconds'),
      h('vllm:time_per_output_token_seconds', 'seconds'),
      h('vllm:request_queue_time_seconds', 'seconds'),
      h('vllm:e2e_request_latency_seconds', 'seconds'),
    ],
  },
  tgi: {
    name: 'tgi',
    server: 'Hugging Face Text Generation Inference',
    source: 'router/src/ (queue.rs, infer/, server.rs)',
    metrics: [
      g('tgi_queue_size', 'requests'),
      g('tgi_batch_current_size', 'requests'),
      g('tgi_batch_current_max_tokens', 'tokens'),
      c('tgi_request_count', 'requests'),
      c('tgi_request_success', 'requests'),
      c('tgi_request_failure', 'requests'),
      h('tgi_request_duration', 'seconds'),
      h('tgi_request_queue_duration', 'seconds'),
      h('tgi_request_mean_time_per_token_duration', 'seconds'),
      h('tgi_request_input_length', 'tokens', 'input'),
      h('tgi_request_generated_tokens', 'tokens', 'output'),
    ],
  },
  sglang: {
    name: 'sglang',
    server: 'SGLang',
    source: 'python/sglang/srt/metrics/collector.py',
    metrics: [
      g('sglang:num_running_reqs', 'requests'),
      g('sglang:num_queue_reqs', 'requests'),
      g('sglang:token_usage', 'ratio (0–1)', 'max'),
      g('sglang:cache_hit_rate', 'ratio (0–1)', 'max'),
      g('sglang:gen_throughput', 'tokens/s'),
      c('sglang:prompt_tokens_total', 'tokens', 'input'),
      c('sglang:generation_tokens_total', 'tokens', 'output'),
      h('sglang:time_to_first_token_seconds', 'seconds'),
      h('sglang:inter_token_latency_seconds', 'seconds'),
      h('sglang:e2e_request_latency_seconds', 'seconds'),
    ],
  },
  llamacpp: {
    name: 'llamacpp',
    server: 'llama.cpp llama-server (--metrics)',
    source: 'tools/server/server-task.cpp, to_metrics()',
    metrics: [
      g('llamacpp:requests_processing', 'requests'),
      g('llamacpp:requests_deferred', 'requests'),
      g('llamacpp:n_busy_slots_per_decode', 'slots'),
      g('llamacpp:prompt_tokens_seconds', 'tokens/s'),
      g('llamacpp:predicted_tokens_seconds', 'tokens/s'),
      c('llamacpp:prompt_tokens_total', 'tokens'),
      c('llamacpp:prompt_tokens_cached_total', 'tokens'),
      c('llamacpp:tokens_predicted_total', 'tokens', 'output'),
      c('llamacpp:prompt_seconds_total', 'seconds'),
      c('llamacpp:tokens_predicted_seconds_total', 'seconds'),
      c('llamacpp:n_decode_total', 'decode calls'),
    ],
  },
};

export const METRIC_PRESET_NAMES = Object.keys(METRIC_PRESETS) as MetricPresetName[];

export function isMetricPresetName(v: unknown): v is MetricPresetName {
  return typeof v === 'string' && Object.hasOwn(METRIC_PRESETS, v);
}

/** The preset's spec of a metric, if the preset names it. */
export function presetSpec(preset: MetricPresetName | undefined, name: string): MetricSpec | undefined {
  return preset === undefined ? undefined : METRIC_PRESETS[preset].metrics.find((m) => m.name === name);
}
