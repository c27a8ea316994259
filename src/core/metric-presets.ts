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

/** Metrics of one kind and unit: `all('gauge', 'requests', a, b)`. */
const all = (kind: MetricKind, unit: string, ...names: string[]): MetricSpec[] => names.map((name) => ({ name, kind, unit }));
/** One metric with a role: the server's token counter, or label sets combined by their largest. */
const one = (name: string, kind: MetricKind, unit: string, extra: Pick<MetricSpec, 'combine' | 'tokens'>): MetricSpec => ({ name, kind, unit, ...extra });
const RATIO = 'ratio (0–1)';
const preset = (name: MetricPresetName, server: string, source: string, metrics: MetricSpec[]): MetricPreset => ({ name, server, source, metrics });

export const METRIC_PRESETS: Readonly<Record<MetricPresetName, MetricPreset>> = {
  vllm: preset('vllm', 'vLLM', 'vllm/v1/metrics/loggers.py', [
    ...all('gauge', 'requests', 'vllm:num_requests_running', 'vllm:num_requests_waiting'),
    one('vllm:kv_cache_usage_perc', 'gauge', RATIO, { combine: 'max' }),
    ...all('counter', 'preemptions', 'vllm:num_preemptions_total'),
    ...all('counter', 'tokens', 'vllm:prefix_cache_queries_total', 'vllm:prefix_cache_hits_total'),
    one('vllm:prompt_tokens_total', 'counter', 'tokens', { tokens: 'input' }),
    one('vllm:generation_tokens_total', 'counter', 'tokens', { tokens: 'output' }),
    ...all('histogram', 'seconds', 'vllm:time_to_first_token_seconds', 'vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds', 'vllm:request_queue_time_seconds', 'vllm:e2e_request_latency_seconds'),
  ]),
  tgi: preset('tgi', 'Hugging Face Text Generation Inference', 'router/src/ (queue.rs, infer/, server.rs)', [
    ...all('gauge', 'requests', 'tgi_queue_size', 'tgi_batch_current_size'),
    ...all('gauge', 'tokens', 'tgi_batch_current_max_tokens'),
    ...all('counter', 'requests', 'tgi_request_count', 'tgi_request_success', 'tgi_request_failure'),
    ...all('histogram', 'seconds', 'tgi_request_duration', 'tgi_request_queue_duration', 'tgi_request_mean_time_per_token_duration'),
    one('tgi_request_input_length', 'histogram', 'tokens', { tokens: 'input' }),
    one('tgi_request_generated_tokens', 'histogram', 'tokens', { tokens: 'output' }),
  ]),
  sglang: preset('sglang', 'SGLang', 'python/sglang/srt/metrics/collector.py', [
    ...all('gauge', 'requests', 'sglang:num_running_reqs', 'sglang:num_queue_reqs'),
    ...['sglang:token_usage', 'sglang:cache_hit_rate'].map((n) => one(n, 'gauge', RATIO, { combine: 'max' })),
    ...all('gauge', 'tokens/s', 'sglang:gen_throughput'),
    one('sglang:prompt_tokens_total', 'counter', 'tokens', { tokens: 'input' }),
    one('sglang:generation_tokens_total', 'counter', 'tokens', { tokens: 'output' }),
    ...all('histogram', 'seconds', 'sglang:time_to_first_token_seconds', 'sglang:inter_token_latency_seconds', 'sglang:e2e_request_latency_seconds'),
  ]),
  llamacpp: preset('llamacpp', 'llama.cpp llama-server (--metrics)', 'tools/server/server-task.cpp, to_metrics()', [
    ...all('gauge', 'requests', 'llamacpp:requests_processing', 'llamacpp:requests_deferred'),
    ...all('gauge', 'slots', 'llamacpp:n_busy_slots_per_decode'),
    ...all('gauge', 'tokens/s', 'llamacpp:prompt_tokens_seconds', 'llamacpp:predicted_tokens_seconds'),
    ...all('counter', 'tokens', 'llamacpp:prompt_tokens_total', 'llamacpp:prompt_tokens_cached_total'),
    one('llamacpp:tokens_predicted_total', 'counter', 'tokens', { tokens: 'output' }),
    ...all('counter', 'seconds', 'llamacpp:prompt_seconds_total', 'llamacpp:tokens_predicted_seconds_total'),
    ...all('counter', 'decode calls', 'llamacpp:n_decode_total'),
  ]),
};

export const METRIC_PRESET_NAMES = Object.keys(METRIC_PRESETS) as MetricPresetName[];

export function isMetricPresetName(v: unknown): v is MetricPresetName {
  return typeof v === 'string' && Object.hasOwn(METRIC_PRESETS, v);
}

/** The preset's spec of a metric, if the preset names it. */
export function presetSpec(preset: MetricPresetName | undefined, name: string): MetricSpec | undefined {
  return preset === undefined ? undefined : METRIC_PRESETS[preset].metrics.find((m) => m.name === name);
}
