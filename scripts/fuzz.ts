/**
 * Fuzzing with fast-check: the parsers that read what a server or a user wrote never throw anything
 * but the project's typed errors (BudgetgateError, ProfileError). `npm run fuzz` runs 100,000 cases
 * per target (`-- --runs N` to change; `-- --seed N` to replay) and prints per target the cases run,
 * the untyped exceptions found and the time taken; it exits 1 if any target found one.
 * test/core/fuzz.test.ts runs a fast subset of the same targets in `npm test`.
 *
 * A failure is counted and the run goes on (rather than stopping at the first), so the figures say
 * how many inputs broke a target; the first one found is printed for replay.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { BudgetgateError } from '../src/core/errors.js';
import { parseProfile, parseProfileText } from '../src/core/profile/index.js';
import { parseServerTiming, parseServerTimingDetailed } from '../src/core/server-timing.js';
import { compileTimings, type TimingExtractor } from '../src/core/timing.js';

export interface FuzzTarget {
  name: string;
  arbitrary: fc.Arbitrary<unknown>;
  /** runs the code under test on one input; may throw only typed errors */
  run(input: unknown): void;
}

export interface TargetResult {
  name: string;
  cases: number;
  failures: number;
  firstFailure?: { input: unknown; error: string };
  ms: number;
}

const env = (name: string): string | undefined => (name.length % 2 === 0 ? `v-${name}` : undefined);

// ---------------------------------------------------------------------------------------------------
// Arbitraries: random text, plus text shaped like what the parsers expect, so the fuzz reaches past
// the first syntax check into the validators.

const tokenChars = fc.constantFrom(...'abcdefgh_-.;=,"\\ \t:/*%0123456789e+'.split(''));
const metricLike = fc.tuple(fc.string({ unit: tokenChars, maxLength: 12 }), fc.oneof(fc.double().map(String), fc.string({ unit: tokenChars, maxLength: 6 })), fc.string({ maxLength: 8 }))
  .map(([n, d, desc]) => `${n};dur=${d};desc="${desc}"`);
const serverTimingValue = fc.oneof(fc.string(), fc.string({ unit: tokenChars, maxLength: 80 }), fc.array(metricLike, { maxLength: 5 }).map((m) => m.join(', ')));

const headerName = fc.oneof(fc.constantFrom('server-timing', 'Server-Timing', 'x-queue-time', 'X-Route', 'x-litellm-attempted-fallbacks', 'content-type', 'x-prefill-ms'), fc.string({ maxLength: 12 }));
const headerValue = fc.oneof(serverTimingValue, fc.double().map(String), fc.constantFrom('fallback', 'primary', '12, 13', '', 'NaN', '-1', '1e999'));
/** raw header arrays as node's parser gives them (name, value, name, value, …), sometimes odd-length */
const rawHeaders = fc.oneof(
  fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }).map((pairs) => pairs.flat()),
  fc.array(fc.string(), { maxLength: 7 }),
);
const jsonBody = fc.oneof(fc.jsonValue(), fc.record({ model: fc.oneof(fc.string(), fc.jsonValue()), metrics: fc.dictionary(fc.constantFrom('queue_time_ms', 'prefill'), fc.jsonValue()) }));

const extractors: TimingExtractor[] = [
  compileTimings({ serverTiming: true, headers: {} }, []),
  compileTimings(
    { serverTiming: true, headers: { 'X-Queue-Time': { stage: 'queue', unit: 'ms' }, 'x-prefill-ms': { stage: 'prefill', unit: 's' } }, body: { 'metrics.queue_time_ms': { stage: 'queue2', unit: 'us' } } },
    [
      { kind: 'equals', header: 'x-route', value: 'fallback', id: 'x-route=fallback' },
      { kind: 'matches', header: 'x-route', pattern: '^fall(back)?$', id: 'x-route~' },
      { kind: 'greaterThan', header: 'x-litellm-attempted-fallbacks', than: 0, id: 'x-litellm-attempted-fallbacks>0' },
      { kind: 'modelDiffers', id: 'model differs' },
    ],
    ['decode', 'total'],
  ),
];

const dur = fc.oneof(fc.constantFrom('1s', '30s', '500ms', '1m', '0s', '-1s', '1h', 'fast', ''), fc.double(), fc.integer(), fc.jsonValue());
const num = fc.oneof(fc.double(), fc.integer({ min: -10, max: 100_000 }), fc.constantFrom('10', '1%', 'NaN', null), fc.jsonValue());
const phase = fc.oneof(
  fc.record({ name: fc.oneof(fc.string({ maxLength: 6 }), fc.jsonValue()), duration: dur, rate: num, to: num, concurrency: num, warmup: fc.oneof(fc.boolean(), fc.jsonValue()) }, { requiredKeys: [] }),
  fc.record({ spike: fc.dictionary(fc.constantFrom('name', 'base', 'peak', 'duration', 'at', 'for', 'rate'), fc.oneof(dur, num)) }),
  fc.record({ steps: fc.dictionary(fc.constantFrom('name', 'from', 'to', 'step', 'every', 'duration', 'rate'), fc.oneof(dur, num)) }),
  fc.jsonValue(),
);
const budget = fc.oneof(
  fc.record({ stage: fc.oneof(fc.constantFrom('total', 'queue', 'ttft', 'decode', ''), fc.string()), p50: dur, p99: dur, max: dur, path: fc.constantFrom('primary', 'fallback', 'x'), phase: fc.string({ maxLength: 4 }), abortOnFail: fc.jsonValue(), window: dur }, { requiredKeys: [] }),
  fc.record({ errorRate: fc.oneof(fc.constantFrom('1%', '0%', '150%', '-1%', 0.01), num) }),
  fc.record({ fallbackRate: num }),
  fc.record({ goodput: num }),
  fc.jsonValue(),
);
const profileLike = fc.record(
  {
    name: fc.oneof(fc.constantFrom('demo', ''), fc.string(), fc.jsonValue()),
    target: fc.oneof(
      fc.record({ url: fc.oneof(fc.constantFrom('http://127.0.0.1:8080/v1/chat/completions', 'ftp://x', '${URL}', '${NO}'), fc.string()), method: fc.constantFrom('GET', 'POST', 'get', 1), headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.constant('Bearer ${TOKEN}'), fc.jsonValue())), body: fc.jsonValue(), timeout: dur, stream: fc.jsonValue(), prompts: fc.jsonValue() }, { requiredKeys: [] }),
      fc.jsonValue(),
    ),
    timings: fc.oneof(fc.record({ serverTiming: fc.jsonValue(), preset: fc.constantFrom('tgi', 'vllm', 'envoy', 'nope'), headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.record({ stage: fc.string(), unit: fc.constantFrom('ms', 'us', 's', 'h') }))), body: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()) }, { requiredKeys: [] }), fc.jsonValue()),
    fallback: fc.oneof(fc.record({ header: fc.string(), equals: fc.string(), matches: fc.string({ maxLength: 6 }), greaterThan: num, modelDiffers: fc.jsonValue() }, { requiredKeys: [] }), fc.array(fc.jsonValue(), { maxLength: 3 })),
    goodput: fc.oneof(fc.dictionary(fc.constantFrom('ttft', 'tpot', 'total', 'queue'), dur), fc.jsonValue()),
    arrivals: fc.oneof(fc.constantFrom('uniform', 'poisson', 'gamma', 'poison'), fc.jsonValue()),
    burstiness: num,
    seed: num,
    maxInFlight: num,
    maxRate: num,
    phases: fc.oneof(fc.array(phase, { maxLength: 4 }), fc.jsonValue()),
    budgets: fc.oneof(fc.array(budget, { maxLength: 4 }), fc.jsonValue()),
    phasse: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

const VALID = readFileSync(resolve(import.meta.dirname, '../test/fixtures/profiles/valid-full.yaml'), 'utf8');
/** the valid fixture with a few characters inserted, deleted or replaced: near-miss YAML */
const mutated = fc.array(fc.tuple(fc.nat(VALID.length), fc.nat(3), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 4 }).map((edits) => {
  let t = VALID;
  for (const [at, del, ins] of edits) t = t.slice(0, at) + ins + t.slice(at + del);
  return t;
});
const profileText = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 200 }), profileLike.map((p) => stringify(p)), profileLike.map((p) => JSON.stringify(p)), mutated);

export const TARGETS: FuzzTarget[] = [
  {
    name: 'server-timing parser',
    arbitrary: serverTimingValue,
    run: (v) => {
      parseServerTiming(v as string);
      parseServerTimingDetailed(v as string);
    },
  },
  {
    name: 'header mappings (compileTimings().extract)',
    arbitrary: fc.tuple(rawHeaders, fc.option(rawHeaders), fc.option(jsonBody), fc.option(fc.string({ maxLength: 10 }))),
    run: (v) => {
      const [headers, trailers, json, requestedModel] = v as [string[], string[] | null, unknown, string | null];
      for (const x of extractors) x.extract(headers, trailers ?? undefined, { json: json ?? undefined, requestedModel: requestedModel ?? undefined });
    },
  },
  {
    name: 'profile loader (parseProfileText on strings)',
    arbitrary: profileText,
    run: (v) => {
      parseProfileText(v as string, env);
    },
  },
  {
    name: 'profile loader (parseProfile on JSON)',
    arbitrary: fc.oneof(fc.jsonValue(), profileLike),
    run: (v) => {
      parseProfile(v, env);
    },
  },
];

/** Runs one target for `runs` cases; typed errors count as handled, anything else as a failure. */
export function fuzzTarget(t: FuzzTarget, runs: number, seed?: number): TargetResult {
  let failures = 0;
  let firstFailure: TargetResult['firstFailure'];
  const started = performance.now();
  fc.assert(
    fc.property(t.arbitrary, (input) => {
      try {
        t.run(input);
      } catch (e) {
        if (e instanceof BudgetgateError) return; // ProfileError is one too
        failures++;
        firstFailure ??= { input, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      }
    }),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
  );
  return { name: t.name, cases: runs, failures, ...(firstFailure ? { firstFailure } : {}), ms: performance.now() - started };
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : undefined;
}

function main(): void {
  const runs = arg('--runs') ?? 100_000;
  const seed = arg('--seed') ?? Date.now() % 2 ** 31;
  console.log(`fuzz: ${runs} cases per target, seed ${seed}`);
  let failed = 0;
  for (const t of TARGETS) {
    const r = fuzzTarget(t, runs, seed);
    failed += r.failures;
    console.log(`${r.name.padEnd(46)} ${String(r.cases).padStart(7)} cases  ${String(r.failures).padStart(3)} failures  ${(r.ms / 1000).toFixed(1).padStart(6)} s`);
    if (r.firstFailure) console.log(`  first failure on ${JSON.stringify(r.firstFailure.input)?.slice(0, 500)}\n  ${r.firstFailure.error.split('\n').slice(0, 4).join('\n  ')}`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
