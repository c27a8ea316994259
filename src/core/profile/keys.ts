/**
 * The keys each profile section accepts: the one list the validator checks unknown keys against, and
 * the one a JSON Schema of profiles must take its `properties` from. The type checks at the bottom
 * hold these lists equal to the keys of the input types (profile-types.ts), so the three cannot
 * drift apart.
 */
import { LATENCY_KEYS } from '../profile-types.js';
import type {
  Arrivals,
  BudgetInput,
  DatasetInput,
  ErrorRateBudgetInput,
  FallbackRateBudgetInput,
  FallbackSignalInput,
  GoodputBudgetInput,
  HookInput,
  HttpHookInput,
  LatencyBudgetInput,
  MetricBudgetInput,
  MetricSourceInput,
  PathInput,
  PathShareBudgetInput,
  PhaseInput,
  ProfileInput,
  PromptCacheBudgetInput,
  PromptsInput,
  SessionsInput,
  TokenizerFileInput,
  RecoveryInput,
  SpikeInput,
  StageSourceInput,
  StepsInput,
  TargetInput,
  TimingsInput,
  TraceInput,
  TracePhaseInput,
} from '../profile-types.js';

export const TOP_KEYS = ['name', 'target', 'timings', 'fallback', 'paths', 'goodput', 'arrivals', 'burstiness', 'seed', 'maxInFlight', 'maxRate', 'phases', 'budgets', 'metrics', 'tokenizer'] as const;
export const TARGET_KEYS = ['url', 'method', 'headers', 'body', 'timeout', 'stream', 'dataset', 'prompts'] as const;
export const DATASET_KEYS = ['file', 'order'] as const;
export const PROMPTS_KEYS = ['tokens'] as const;
export const PROMPT_TOKENS_KEYS = ['mean', 'stddev', 'min', 'max'] as const;
export const TIMINGS_KEYS = ['serverTiming', 'preset', 'headers', 'body'] as const;
export const STAGE_SOURCE_KEYS = ['stage', 'unit'] as const;
/** a signal has `header` and one test, or `modelDiffers` alone */
export const FALLBACK_TESTS = ['equals', 'matches', 'greaterThan', 'modelDiffers'] as const;
export const FALLBACK_KEYS = ['header', 'field', ...FALLBACK_TESTS] as const;
/** a `paths:` entry: a named route with its signals, or a gateway preset (optionally renamed) */
export const PATH_KEYS = ['name', 'when', 'preset'] as const;
export const ARRIVALS: readonly Arrivals[] = ['uniform', 'poisson', 'gamma'];
export const PHASE_KEYS = ['name', 'duration', 'rate', 'concurrency', 'to', 'warmup', 'sessions', 'onStart', 'onEnd'] as const;
/** a phase's fault hook (hooks.ts): one of http or exec */
export const HOOK_KEYS = ['http', 'exec', 'timeout', 'optional', 'always'] as const;
export const HTTP_HOOK_KEYS = ['url', 'path', 'method', 'body', 'headers'] as const;
export const SESSIONS_KEYS = ['file', 'turns', 'thinkTime', 'tokens', 'order'] as const;
export const TOKENIZER_KEYS = ['file'] as const;
export const TOKENIZER_NAMES = ['chars4', 'cl100k_base', 'o200k_base'] as const;
/** a phase entry with one of these keys is sugar for plain phases (phase-sugar.ts) */
export const SUGAR_KINDS = ['spike', 'steps'] as const;
export type SugarKind = (typeof SUGAR_KINDS)[number];
export const SPIKE_KEYS = ['name', 'base', 'peak', 'at', 'hold', 'duration', 'warmup'] as const;
export const STEPS_KEYS = ['name', 'from', 'to', 'step', 'hold', 'warmup'] as const;
/** a phase entry with a `trace` key replays a trace file (trace.ts) */
export const TRACE_PHASE_KEYS = ['name', 'trace', 'warmup'] as const;
export const TRACE_KEYS = ['file', 'format', 'speed', 'rate', 'window', 'limit', 'exactOutput'] as const;
export const TRACE_WINDOW_KEYS = ['from', 'to'] as const;

/** the key a budget entry's kind is named by */
export const BUDGET_KINDS = ['stage', 'errorRate', 'fallbackRate', 'goodput', 'pathShare', 'promptCacheShare', 'recovery'] as const;
/** early abort: any budget may stop the run when it fails over a sliding window (core/abort.ts) */
export const ABORT_KEYS = ['abortOnFail', 'window', 'after'] as const;
export const LATENCY_BUDGET_KEYS = ['stage', 'path', 'phase', 'turn', ...LATENCY_KEYS, ...ABORT_KEYS] as const;
export const ERROR_BUDGET_KEYS = ['errorRate', 'path', 'phase', ...ABORT_KEYS] as const;
export const FALLBACK_BUDGET_KEYS = ['fallbackRate', 'phase', ...ABORT_KEYS] as const;
export const GOODPUT_BUDGET_KEYS = ['goodput', 'path', 'phase', ...ABORT_KEYS] as const;
export const PATH_SHARE_BUDGET_KEYS = ['pathShare', 'min', 'max', 'phase', ...ABORT_KEYS] as const;
export const PROMPT_CACHE_BUDGET_KEYS = ['promptCacheShare', 'path', 'phase', ...ABORT_KEYS] as const;
/** `metrics:` entries (metrics.ts) and the budgets on one statistic of a scraped metric */
export const METRIC_SOURCE_KEYS = ['url', 'preset', 'interval', 'timeout', 'name', 'keep'] as const;
export const METRIC_STATS = ['max', 'mean', 'last', 'increase', 'rate', 'p50', 'p90', 'p95', 'p99'] as const;
export const METRIC_BUDGET_KEYS = ['metric', 'source', 'phase', ...ABORT_KEYS, ...METRIC_STATS] as const;
/** `{ recovery: { ... } }` (recovery.ts) */
export const RECOVERY_KEYS = ['stage', ...LATENCY_KEYS, 'errorRate', 'within', 'after', 'window', 'hold', 'path'] as const;
export const ANY_BUDGET_KEYS: readonly string[] = [...new Set([...LATENCY_BUDGET_KEYS, ...ERROR_BUDGET_KEYS, ...FALLBACK_BUDGET_KEYS, ...GOODPUT_BUDGET_KEYS, ...PATH_SHARE_BUDGET_KEYS, ...PROMPT_CACHE_BUDGET_KEYS])];

/** Every section's keys by name, for generated schemas and docs. */
export const PROFILE_KEYS = {
  top: TOP_KEYS,
  target: TARGET_KEYS,
  dataset: DATASET_KEYS,
  prompts: PROMPTS_KEYS,
  promptTokens: PROMPT_TOKENS_KEYS,
  timings: TIMINGS_KEYS,
  stageSource: STAGE_SOURCE_KEYS,
  fallback: FALLBACK_KEYS,
  path: PATH_KEYS,
  phase: PHASE_KEYS,
  hook: HOOK_KEYS,
  httpHook: HTTP_HOOK_KEYS,
  spike: SPIKE_KEYS,
  steps: STEPS_KEYS,
  tracePhase: TRACE_PHASE_KEYS,
  trace: TRACE_KEYS,
  traceWindow: TRACE_WINDOW_KEYS,
  latencyBudget: LATENCY_BUDGET_KEYS,
  errorRateBudget: ERROR_BUDGET_KEYS,
  fallbackRateBudget: FALLBACK_BUDGET_KEYS,
  goodputBudget: GOODPUT_BUDGET_KEYS,
  pathShareBudget: PATH_SHARE_BUDGET_KEYS,
  promptCacheBudget: PROMPT_CACHE_BUDGET_KEYS,
  metricSource: METRIC_SOURCE_KEYS,
  metricBudget: METRIC_BUDGET_KEYS,
  sessions: SESSIONS_KEYS,
  tokenizer: TOKENIZER_KEYS,
  recovery: RECOVERY_KEYS,
} as const;

// ---------------------------------------------------------------------------------------------------
// Compile-time: each list is exactly the keys of its input type (a union's keys are all its members').

type AllKeys<T> = T extends unknown ? keyof T : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
type KeysOf<L extends readonly string[]> = L[number];
type ObjectOf<T> = Extract<T, object>;

export type KeyListsMatchInputTypes = [
  Holds<Same<KeysOf<typeof TOP_KEYS>, keyof ProfileInput>>,
  Holds<Same<KeysOf<typeof TARGET_KEYS>, keyof TargetInput>>,
  Holds<Same<KeysOf<typeof DATASET_KEYS>, keyof DatasetInput>>,
  Holds<Same<KeysOf<typeof PROMPTS_KEYS>, keyof PromptsInput>>,
  Holds<Same<KeysOf<typeof PROMPT_TOKENS_KEYS>, keyof PromptsInput['tokens']>>,
  Holds<Same<KeysOf<typeof TIMINGS_KEYS>, keyof TimingsInput>>,
  Holds<Same<KeysOf<typeof STAGE_SOURCE_KEYS>, keyof ObjectOf<StageSourceInput>>>,
  Holds<Same<KeysOf<typeof FALLBACK_KEYS>, AllKeys<FallbackSignalInput>>>,
  Holds<Same<KeysOf<typeof PATH_KEYS>, AllKeys<PathInput>>>,
  Holds<Same<KeysOf<typeof PHASE_KEYS>, AllKeys<PhaseInput>>>,
  Holds<Same<KeysOf<typeof SUGAR_KINDS>, AllKeys<SpikeInput | StepsInput>>>,
  Holds<Same<KeysOf<typeof SPIKE_KEYS>, keyof SpikeInput['spike']>>,
  Holds<Same<KeysOf<typeof STEPS_KEYS>, keyof StepsInput['steps']>>,
  Holds<Same<KeysOf<typeof TRACE_PHASE_KEYS>, keyof TracePhaseInput>>,
  Holds<Same<KeysOf<typeof TRACE_KEYS>, keyof TraceInput>>,
  Holds<Same<KeysOf<typeof TRACE_WINDOW_KEYS>, keyof NonNullable<TraceInput['window']>>>,
  Holds<Same<KeysOf<typeof LATENCY_BUDGET_KEYS>, keyof LatencyBudgetInput>>,
  Holds<Same<KeysOf<typeof ERROR_BUDGET_KEYS>, keyof ErrorRateBudgetInput>>,
  Holds<Same<KeysOf<typeof FALLBACK_BUDGET_KEYS>, keyof FallbackRateBudgetInput>>,
  Holds<Same<KeysOf<typeof GOODPUT_BUDGET_KEYS>, keyof GoodputBudgetInput>>,
  Holds<Same<KeysOf<typeof PATH_SHARE_BUDGET_KEYS>, keyof PathShareBudgetInput>>,
  Holds<Same<KeysOf<typeof PROMPT_CACHE_BUDGET_KEYS>, keyof PromptCacheBudgetInput>>,
  Holds<Same<KeysOf<typeof METRIC_SOURCE_KEYS>, keyof MetricSourceInput>>,
  Holds<Same<KeysOf<typeof METRIC_BUDGET_KEYS>, keyof MetricBudgetInput>>,
  Holds<Same<KeysOf<typeof HOOK_KEYS>, keyof HookInput>>,
  Holds<Same<KeysOf<typeof HTTP_HOOK_KEYS>, keyof HttpHookInput>>,
  Holds<Same<KeysOf<typeof RECOVERY_KEYS>, keyof RecoveryInput>>,
  Holds<Same<KeysOf<typeof SESSIONS_KEYS>, keyof SessionsInput>>,
  Holds<Same<KeysOf<typeof TOKENIZER_KEYS>, keyof TokenizerFileInput>>,
  Holds<Same<KeysOf<typeof BUDGET_KINDS>, Exclude<AllKeys<Exclude<BudgetInput, MetricBudgetInput>>, 'path' | 'phase' | 'turn' | 'min' | 'max' | KeysOf<typeof ABORT_KEYS> | (typeof LATENCY_KEYS)[number]>>>,
];
