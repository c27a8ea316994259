/**
 * schema/profile.schema.json (exported as budgetgate/profile.schema.json, for editors): every shipped
 * profile and fixture validates under a maintained JSON Schema validator (ajv, draft-07), the
 * fixtures meant to be broken and typos are refused, and its key sets equal the validator's, so the
 * two cannot drift apart. The semantic checks (phase references, streamed-only stages) stay in
 * parseProfile; this is the shape only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/core/profile/index.js';
import { PROFILE_KEYS as ACCEPTED_KEYS } from '../../src/core/profile/keys.js';
import { PATH_PRESET_NAMES } from '../../src/core/path-presets.js';
import { PRESET_NAMES } from '../../src/core/presets.js';
import { starterProfile } from '../../src/cli/init-command.js';
import { oneLineProfile, printedProfile } from '../../src/cli/oneline.js';

const ROOT = resolve(import.meta.dirname, '../..');
type Node = { properties?: Record<string, Node>; anyOf?: Node[]; oneOf?: Node[]; enum?: unknown[]; $ref?: string; definitions?: Record<string, Node> };
const schema = JSON.parse(readFileSync(join(ROOT, 'schema/profile.schema.json'), 'utf8')) as Node & { $schema: string };
const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true }) // required-only branches (rate or concurrency) are plain draft-07;
const validate = ajv.compile(schema);

const yamlFiles = (dir: string): string[] => readdirSync(join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
const load = (file: string): unknown => parse(readFileSync(join(ROOT, file), 'utf8'));
const errors = (): string => (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n');
/** fixtures named bad-* are broken on purpose (test/core/profile.test.ts lists their problems) */
const meantBad = (file: string): boolean => /(^|\/)bad-[^/]*$/.test(file);

const def = (name: string): Node => {
  const d = schema.definitions?.[name];
  if (!d) throw new Error(`no definition ${name}`);
  return d;
};
const keys = (n: Node): string[] => Object.keys(n.properties ?? {}).sort();

describe('profile JSON Schema', () => {
  it('happy: it is draft-07 and compiles in strict mode', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  const files = [...yamlFiles('profiles'), ...yamlFiles('test/fixtures/profiles')];
  it.each(files.filter((f) => !meantBad(f)).map((f) => ['happy', f]))('%s: %s validates (and parseProfile agrees)', (_l, file) => {
    const raw = load(file);
    expect(validate(raw), errors()).toBe(true);
    expect(parseProfile(raw, () => 'x').ok).toBe(true);
  });

  it.each(files.filter(meantBad).map((f) => ['sad', f]))('%s: %s (broken on purpose) is refused by both', (_l, file) => {
    const raw = load(file);
    expect(validate(raw)).toBe(false);
    expect(parseProfile(raw, () => 'x').ok).toBe(false);
  });

  it('happy: the profiles in profiles/ and the starters start with the yaml-language-server schema line', () => {
    for (const f of yamlFiles('profiles')) expect(readFileSync(join(ROOT, f), 'utf8').split('\n')[0], f).toBe('# yaml-language-server: $schema=../schema/profile.schema.json');
    for (const preset of [undefined, ...PRESET_NAMES]) {
      for (const stream of [false, true]) {
        const text = starterProfile({ ...(preset ? { preset } : {}), stream });
        expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\S+profile\.schema\.json$/);
        expect(validate(parse(text)), `init ${preset ?? ''} ${stream}: ${errors()}`).toBe(true);
        expect(parseProfile(parse(text), () => 'key').ok).toBe(true);
      }
    }
    const line = printedProfile(oneLineProfile({ url: 'http://127.0.0.1:1/', rate: '5', duration: '10s', stream: true, budget: ['ttft p99 < 1s', 'errorRate < 1%'] }));
    expect(validate(parse(line)), errors()).toBe(true);
  });

  it.each([
    ['sad', 'a misspelt top-level key', { name: 'x', phases: [{ name: 'a', duration: '1s', rate: 1 }], budget: [] }, '/budget'],
    ['sad', 'a misspelt phase key', { name: 'x', phases: [{ name: 'a', duration: '1s', rate: 1, warmpu: true }] }, '/phases/0/warmpu'],
    ['sad', 'a misspelt target key', { name: 'x', target: { urll: 'http://a/' }, phases: [{ name: 'a', duration: '1s', rate: 1 }] }, '/target/urll'],
    ['sad', 'a misspelt budget key', { name: 'x', phases: [{ name: 'a', duration: '1s', rate: 1 }], budgets: [{ stage: 'total', p98: '1s' }] }, '/budgets/0/p98'],
    ['sad', 'a bare-number duration', { name: 'x', phases: [{ name: 'a', duration: 30, rate: 1 }] }, '/phases/0'],
    ['sad', 'a unitless budget limit', { name: 'x', phases: [{ name: 'a', duration: '1s', rate: 1 }], budgets: [{ stage: 'total', p99: '800' }] }, '/budgets/0'],
    ['sad', 'an unknown preset', { name: 'x', timings: { preset: 'vlm' }, phases: [{ name: 'a', duration: '1s', rate: 1 }] }, '/timings/preset'],
    ['sad', 'an unknown arrivals', { name: 'x', arrivals: 'posson', phases: [{ name: 'a', duration: '1s', rate: 1 }] }, '/arrivals'],
    ['sad', 'both rate and concurrency', { name: 'x', phases: [{ name: 'a', duration: '1s', rate: 1, concurrency: 2 }] }, '/phases/0'],
    ['sad', 'an unknown trace format', { name: 'x', phases: [{ name: 'r', trace: { file: 't.jsonl', format: 'mooncak' } }] }, '/phases/0'],
    ['sad', 'a misspelt trace key', { name: 'x', phases: [{ name: 'r', trace: { file: 't.jsonl', format: 'mooncake', sped: 2 } }] }, '/phases/0'],
    ['sad', 'a percentage without %', { name: 'x', phases: [{ name: 'a', duration: '1s', rate: 1 }], budgets: [{ errorRate: '1' }] }, '/budgets/0'],
  ] as const)('%s: %s is refused by the schema and by the validator', (_l, _what, raw, where) => {
    expect(validate(raw)).toBe(false);
    // where the schema points: the value's path, or the mapping's path plus the key it refuses
    const at = (e: ErrorObject): string => e.instancePath + (typeof e.params.additionalProperty === 'string' ? `/${e.params.additionalProperty}` : '');
    expect((validate.errors ?? []).some((e: ErrorObject) => at(e).startsWith(where)), errors()).toBe(true);
    expect(parseProfile(raw, () => undefined).ok).toBe(false);
  });

  it('happy: its key sets equal the validator\'s, section by section (they cannot drift)', () => {
    const signal = def('signal').anyOf ?? [];
    const objectVariant = (n: Node): Node => (n.anyOf ?? []).find((v) => v.properties !== undefined) ?? n;
    const pairs: [keyof typeof ACCEPTED_KEYS, string[]][] = [
      ['top', keys(schema)],
      ['target', keys(def('target'))],
      ['timings', keys(def('timings'))],
      ['stageSource', keys(objectVariant(def('stageSource')))],
      ['fallback', [...new Set(signal.flatMap(keys))].sort()],
      ['dataset', keys(def('dataset'))],
      ['prompts', keys(def('prompts'))],
      ['promptTokens', keys(def('tokens'))],
      ['phase', keys(def('phase'))],
      ['spike', keys(def('spike'))],
      ['steps', keys(def('steps'))],
      ['tracePhase', keys(def('tracePhase'))],
      ['trace', keys(def('trace'))],
      ['traceWindow', keys(def('traceWindow'))],
      ['latencyBudget', keys(def('latencyBudget'))],
      ['errorRateBudget', keys(def('errorBudget'))],
      ['fallbackRateBudget', keys(def('fallbackBudget'))],
      ['metricSource', keys(def('metricSource'))],
      ['metricBudget', keys(def('metricBudget'))],
      ['goodputBudget', keys(def('goodputBudget'))],
      ['sessions', keys(def('sessions'))],
      ['tokenizer', keys(objectVariant(def('tokenizer')))],
      ['path', [...new Set((def('path').anyOf ?? []).flatMap(keys))].sort()],
      ['pathShareBudget', keys(def('pathShareBudget'))],
      ['promptCacheBudget', keys(def('promptCacheBudget'))],
      ['hook', keys(def('hook'))],
      ['httpHook', keys(def('httpHook'))],
      ['recovery', keys(def('recovery'))],
    ];
    for (const [section, fromSchema] of pairs) expect(fromSchema, String(section)).toEqual([...ACCEPTED_KEYS[section]].sort());
    expect(Object.keys(ACCEPTED_KEYS).sort()).toEqual(pairs.map(([s]) => s).sort()); // no section left unchecked
    expect(keys(def('spikeEntry'))).toEqual(['spike']);
    expect(keys(def('stepsEntry'))).toEqual(['steps']);
  });

  it('happy: its enums are the values the validator accepts (presets, arrivals, paths)', () => {
    const base = { name: 'x', phases: [{ name: 'a', duration: '1s', rate: 1 }] };
    expect([...(def('timings').properties?.preset?.enum ?? [])].sort()).toEqual([...PRESET_NAMES].sort());
    const arrivals = schema.properties?.arrivals?.enum ?? [];
    for (const a of arrivals) expect(parseProfile({ ...base, arrivals: a }, () => undefined).ok, String(a)).toBe(true);
    expect(parseProfile({ ...base, arrivals: 'bursty' }, () => undefined).ok).toBe(false);
    // a budget's path is any path name (the validator checks it names a path of the profile)
    expect(JSON.stringify(def('latencyBudget').properties?.path)).toContain('#/definitions/pathName');
    const presets = (def('path').anyOf ?? []).flatMap((v) => v.properties?.preset?.enum ?? []);
    expect([...presets].sort()).toEqual([...PATH_PRESET_NAMES].sort());
  });

  it('happy: the package exports it as budgetgate/profile.schema.json', () => {
    const require = createRequire(join(ROOT, 'package.json'));
    expect(require.resolve('budgetgate/profile.schema.json')).toBe(join(ROOT, 'schema/profile.schema.json'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schema');
  });
});
