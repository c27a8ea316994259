import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { ExpositionFilter, parseKept, sampleValue, type KeepRule } from '../../src/core/prom-text.js';

const rule = (names: string[], kinds: Record<string, 'gauge' | 'counter' | 'histogram'> = {}, max: string[] = []): KeepRule => ({
  wanted: (n) => names.includes(n),
  combine: (n) => (max.includes(n) ? 'max' : 'sum'),
  kindOf: (n) => kinds[n],
});

function parse(text: string, r: KeepRule, chunk = 7) {
  const f = new ExpositionFilter(r);
  for (let i = 0; i < text.length; i += chunk) f.push(text.slice(i, i + chunk));
  return parseKept(f, r);
}

const VLLM = `# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 3.0
vllm:num_requests_waiting{engine="1",model_name="m"} 4.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.5
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.9
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{engine="0",model_name="m"} 2.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 1.5
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="m"} 2.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="1.0",model_name="m"} 5.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 6.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 6.0
vllm:time_to_first_token_seconds_sum{engine="1",model_name="m"} 0.5
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.1",model_name="m"} 1.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="1.0",model_name="m"} 1.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf",model_name="m"} 2.0
vllm:time_to_first_token_seconds_count{engine="1",model_name="m"} 2.0
# TYPE other gauge
other 1
`;

describe('parseKept', () => {
  it('happy: gauges sum (or take the max) over label sets, counters sum, histograms regroup per label set', () => {
    const r = parse(VLLM, rule(['vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc', 'vllm:num_preemptions_total', 'vllm:time_to_first_token_seconds'], {}, ['vllm:kv_cache_usage_perc']));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.metrics.get('vllm:num_requests_waiting')).toEqual({ kind: 'gauge', value: 7 });
    expect(r.metrics.get('vllm:kv_cache_usage_perc')).toEqual({ kind: 'gauge', value: 0.9 });
    expect(r.metrics.get('vllm:num_preemptions_total')).toEqual({ kind: 'counter', value: 2 });
    expect(r.metrics.get('vllm:time_to_first_token_seconds')).toEqual({ kind: 'histogram', buckets: [[0.1, 3], [1, 6], [Infinity, 8]], count: 8, sum: 2 });
    expect(r.metrics.has('other')).toBe(false);
  });

  it('happy: the result does not depend on how the body was chunked', () => {
    const names = ['vllm:num_requests_waiting', 'vllm:time_to_first_token_seconds'];
    const whole = parse(VLLM, rule(names), VLLM.length);
    for (const chunk of [1, 3, 64]) expect(parse(VLLM, rule(names), chunk)).toEqual(whole);
  });

  it('happy: llama.cpp’s unlabelled output, and a histogram without its TYPE read by the preset’s kind', () => {
    const text = '# TYPE llamacpp:tokens_predicted_total counter\nllamacpp:tokens_predicted_total 42\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 3\nh_sum 9\n';
    const r = parse(text, rule(['llamacpp:tokens_predicted_total', 'h'], { h: 'histogram' }));
    expect(r.ok && r.metrics.get('llamacpp:tokens_predicted_total')).toEqual({ kind: 'counter', value: 42 });
    expect(r.ok && r.metrics.get('h')).toEqual({ kind: 'histogram', buckets: [[1, 1], [Infinity, 3]], count: 3, sum: 9 });
  });

  it('sad: a body with no sample line at all is not exposition text', () => {
    const r = parse('<html>\n<body>oops</body>\n', rule(['x']));
    expect(r).toEqual({ ok: false, error: 'not Prometheus text exposition (first line: "<html>")' });
  });

  it('sad: a kept line the library rejects fails the whole scrape, as it fails Prometheus’s', () => {
    const r = parse('x{a="1" b="2"} 1\n', rule(['x']));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^not Prometheus text exposition \(Encountered invalid line/);
  });

  it('sad: an absent metric is simply not in the result', () => {
    const r = parse('other 1\n', rule(['x']));
    expect(r.ok && r.metrics.size).toBe(0);
  });

  it('pins the library: parse-prometheus-text-format 1.1.1 folds labelled histograms (why TYPE is withheld)', () => {
    const text = '# TYPE h histogram\nh_bucket{m="a",le="+Inf"} 2\nh_count{m="a"} 2\nh_sum{m="a"} 1\nh_bucket{m="b",le="+Inf"} 1\nh_count{m="b"} 1\nh_sum{m="b"} 1\n';
    // if an upgrade returns both series with their counts, prom-text.ts can hand histograms to it again
    expect(parsePrometheusTextFormat(text)).toEqual([{ name: 'h', help: '', type: 'HISTOGRAM', metrics: [{ buckets: { '+Inf': '1' } }] }]);
  });
});

describe('sampleValue', () => {
  it.each([
    ['1', 1], ['-2.5e3', -2500], ['+Inf', Infinity], ['-Inf', -Infinity], ['.5', 0.5],
  ])('happy: %s', (s, v) => expect(sampleValue(s)).toBe(v));
  it('happy: NaN', () => expect(sampleValue('NaN')).toBeNaN());
  it.each(['', 'abc', '1,5', '0x10', '!!!'])('sad: %j', (s) => expect(sampleValue(s)).toBeUndefined());
});
