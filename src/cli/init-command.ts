/**
 * `budgetgate init [--preset NAME] [--stream]`: a commented starter profile on stdout, which
 * `validate` accepts as printed: a target, the timings preset, a warm-up, a ramp and a spike, and the
 * budgets most teams start with. Without a preset it targets the embedded simulated endpoint, so
 * `budgetgate init > p.yaml && budgetgate run p.yaml` works on a fresh machine.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { PRESET_NAMES, isPresetName, type PresetName } from '../core/presets.js';
import type { Io } from './io.js';

/** Where each server listens by default, what it calls its API key, and what the starter says about it. */
const SERVERS: Record<PresetName, { url: string; key?: string; model: string; note: string }> = {
  vllm: { url: 'http://127.0.0.1:8000/v1/chat/completions', model: 'meta-llama/Llama-3.1-8B-Instruct', note: 'start vLLM with --enable-per-request-metrics for its queue and generation times' },
  tgi: { url: 'http://127.0.0.1:8080/v1/chat/completions', model: 'tgi', note: "TGI's timing headers come on non-streamed responses only" },
  openai: { url: 'https://api.openai.com/v1/chat/completions', key: 'OPENAI_API_KEY', model: 'gpt-4o-mini', note: 'a paid API: keep the rates small' },
  litellm: { url: 'http://127.0.0.1:4000/v1/chat/completions', key: 'LITELLM_API_KEY', model: 'gpt-4o-mini', note: 'the preset counts x-litellm-attempted-fallbacks > 0 as the fallback path' },
  envoy: { url: 'http://127.0.0.1:10000/v1/chat/completions', model: 'model', note: 'envoy reports the upstream service time' },
  llamacpp: { url: 'http://127.0.0.1:8080/v1/chat/completions', model: 'model', note: 'llama-server puts prompt and generation times in the body' },
};

export interface InitOptions {
  preset?: PresetName;
  stream?: boolean;
}

/** The starter profile's text (YAML with comments). */
export function starterProfile(o: InitOptions): string {
  const server = o.preset === undefined ? undefined : SERVERS[o.preset];
  const stream = o.stream === true;
  const model = server?.model ?? 'sim';
  const lines = [
    '# yaml-language-server: $schema=./node_modules/budgetgate/schema/profile.schema.json',
    `# A starter profile from \`budgetgate init${o.preset !== undefined ? ` --preset ${o.preset}` : ''}${stream ? ' --stream' : ''}\`. Check it with \`budgetgate validate FILE\``,
    '# (it prints the plan: phases, request counts, budgets in words), then `budgetgate run FILE`.',
    `name: ${o.preset ?? 'starter'}`,
    'target:',
    server === undefined ? '  # no url: the embedded simulated endpoint serves the run (give --target URL to aim elsewhere)' : `  url: ${server.url}`,
    ...(server?.key !== undefined ? ['  headers:', `    authorization: "Bearer \${${server.key}}"   # from the environment; hidden as *** in every output`] : []),
    '  body:',
    `    model: ${JSON.stringify(model)}`,
    '    messages: [{ role: user, content: "Write a haiku about latency." }]',
    '    max_tokens: 64',
    ...(stream ? ['    stream_options: { include_usage: true }   # a final usage chunk: tokens counted by the server'] : []),
    ...(stream ? ['  stream: true                   # time every token: ttft, tpot, itl, tokens_per_s'] : []),
    '  timeout: 30s',
    'timings:',
    o.preset === undefined ? '  serverTiming: true             # every Server-Timing metric with a dur is a stage (the simulator sends them)' : `  preset: ${o.preset}                   # ${server?.note ?? ''}`,
    ...(o.preset === undefined ? ['fallback: { header: x-route, equals: fallback }   # how the simulator marks a rerouted request'] : []),
    'arrivals: poisson                # bursty like real traffic, reproducible from the seed',
    'seed: 1',
    'phases:',
    '  - { name: warmup, duration: 10s, rate: 5, warmup: true }         # sent, not budgeted',
    '  - { name: ramp,   duration: 60s, rate: 5, to: 40 }               # (5 + 40) / 2 × 60 = 1,350 requests',
    '  - { spike: { base: 20, peak: 80, at: 10s, hold: 5s, duration: 30s } }   # spike-base, spike-peak, spike-recover',
    '# p99 needs 1,000 samples in its scope to be conclusive (p50 needs 20): these have 2,250.',
    'budgets:',
    '  - { stage: total, p50: 1s, p99: 5s }       # end to end as the client saw it, from the intended send time',
    ...(stream ? ['  - { stage: ttft, p99: 1s }                 # time to first token', '  - { stage: tpot, p99: 100ms }              # time per output token after the first'] : []),
    '  - { errorRate: 1% }                        # non-2xx, timeouts and connection errors',
    ...(o.preset === undefined || o.preset === 'litellm' ? ['  - { fallbackRate: 5% }                     # responses served by the fallback path'] : []),
  ];
  return `${lines.join('\n')}\n`;
}

function presetArg(v: string): PresetName {
  if (!isPresetName(v)) throw new InvalidArgumentError(`expected one of ${PRESET_NAMES.join(', ')}, got ${v}`);
  return v;
}

export function registerInitCommand(program: Command, io: Io): void {
  program
    .command('init')
    .description('print a commented starter profile (target, timings preset, a ramp and a spike, common budgets)')
    .option('--preset <name>', `the server: ${PRESET_NAMES.join(', ')} (default: the embedded simulated endpoint)`, presetArg)
    .option('--stream', 'streamed chat completions, with ttft and tpot budgets')
    .addHelpText('after', '\nExamples:\n  $ budgetgate init > profile.yaml && budgetgate validate profile.yaml\n  $ budgetgate init --preset vllm --stream | budgetgate validate -')
    .action((o: InitOptions) => {
      io.stdout(starterProfile(o));
    });
}
