/**
 * Named paths in the core: first match wins in compileTimings (headers, body fields), per-path
 * tallies in the Recorder, pathShare/promptCacheShare verdicts (fail-safe at zero), reports older
 * than named paths, and merge over arbitrary path names.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateBudgets, measurementsFromReport } from '../../src/core/budgets.js';
import { mergeReports } from '../../src/core/merge.js';
import { pathFigures, pathTallies } from '../../src/core/paths.js';
import { parseProfile } from '../../src/core/profile/index.js';
import type { Budget, PathRule } from '../../src/core/profile-types.js';
import { Recorder } from '../../src/core/recorder.js';
import { REPORT_SCHEMA, parseReport, type RunResult } from '../../src/core/report.js';
import { compileTimings } from '../../src/core/timing.js';
import { decide } from '../../src/core/verdict.js';
import { usageTokens } from '../../src/core/tokens.js';
import { createStreamMeter } from '../../src/core/stream.js';

const RULES = { serverTiming: false, headers: {}, body: {} };
const PATHS: PathRule[] = [
  { name: 'cache', signals: [{ kind: 'equals', header: 'cf-aig-cache-status', value: 'HIT', id: 'cf-aig-cache-status=HIT' }] },
  { name: 'semantic', signals: [{ kind: 'equals', field: 'x_cache.hit', value: 'true', id: 'body.x_cache.hit=true' }, { kind: 'greaterThan', field: 'x_cache.score', than: 0.9, id: 'body.x_cache.score>0.9' }] },
  { name: 'fallback', signals: [{ kind: 'equals', header: 'x-route', value: 'fallback', id: 'x-route=fallback' }, { kind: 'modelDiffers', id: 'model differs' }] },
];

describe('compileTimings: the first path whose signals match', () => {
  const x = compileTimings(RULES, PATHS);
  it.each([
    ['happy', 'no signal: primary', [], undefined, 'primary', []],
    ['happy', 'a cache header', ['CF-AIG-Cache-Status', 'HIT'], undefined, 'cache', ['cf-aig-cache-status=HIT']],
    ['happy', 'cache and fallback both fire: the earlier path wins', ['cf-aig-cache-status', 'HIT', 'x-route', 'fallback'], undefined, 'cache', ['cf-aig-cache-status=HIT']],
    ['happy', 'a body field, JSON true compared as its text', ['x-route', 'fallback'], { x_cache: { hit: true } }, 'semantic', ['body.x_cache.hit=true']],
    ['happy', 'a numeric body field over its threshold', [], { x_cache: { score: 0.95 } }, 'semantic', ['body.x_cache.score>0.9']],
    ['sad', 'a body field under its threshold', [], { x_cache: { score: 0.5 } }, 'primary', []],
    ['sad', 'a body field that is an object never fires', [], { x_cache: { hit: { v: true } } }, 'primary', []],
    ['happy', 'the served model differs', [], { model: 'other' }, 'fallback', ['model differs']],
    ['sad', 'MISS is not HIT', ['cf-aig-cache-status', 'MISS'], undefined, 'primary', []],
  ] as const)('%s: %s', (_l, _what, headers, json, path, signals) => {
    const t = x.extract([...headers], undefined, { json, requestedModel: 'm' });
    expect([t.path, t.signals]).toEqual([path, signals]);
  });

  it('happy: a bare signal list is the fallback path, as before named paths', () => {
    expect(compileTimings(RULES, PATHS[2]!.signals).extract(['x-route', 'fallback']).path).toBe('fallback');
  });
});

describe('cached_tokens', () => {
  it.each([
    ['happy', { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 64 } }, 64],
    ['happy', { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 0 } }, 0],
    ['sad', { prompt_tokens: 100, completion_tokens: 5 }, undefined],
    ['sad', { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 101 } }, undefined],
    ['sad', { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: '64' } }, undefined],
    ['sad', { completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 } }, undefined],
  ] as const)('%s: usage %j → cached %s', (_l, usage, cached) => {
    expect(usageTokens({ usage })?.cached).toBe(cached);
  });

  it('happy: the final SSE usage chunk carries it too', () => {
    const m = createStreamMeter('chat');
    m.push(Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":32}}}\n\ndata: [DONE]\n\n'), 5);
    expect(m.finish(6).usage).toEqual({ prompt_tokens: 40, completion_tokens: 1, cached_tokens: 32 });
  });
});

const PHASES = [{ name: 'steady', warmup: false, model: 'open' as const, startMs: 0, endMs: 10_000, rate: 1, to: 1, concurrency: 0, concurrencyTo: 0, requests: 0 }];
const seen = (path: string, cached?: number) => ({ stages: new Map(), unmeasured: [], path, ...(cached !== undefined ? { tokens: { input: 100, output: 1, source: 'usage' as const, cached } } : {}) });

function budgets(raw: object[]): Budget[] {
  const r = parseProfile({ name: 'x', paths: [{ name: 'cache', when: { header: 'h', equals: 'v' } }], phases: [{ name: 'steady', duration: '10s', rate: 1 }], budgets: raw }, () => undefined);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.profile.budgets;
}

describe('Recorder per path → pathShare and promptCacheShare', () => {
  function recorded(cacheHits: number, others: number): Recorder {
    const r = new Recorder(PHASES);
    for (let i = 0; i < cacheHits; i++) r.completed(0, i, i + 1, seen('cache', 100));
    for (let i = 0; i < others; i++) r.completed(0, i, i + 2, seen('primary', 20));
    r.failed(0, 5, 'http 503', 'cache');
    return r;
  }

  it.each([
    ['happy', 300, 700, { pathShare: 'cache', min: '30%' }, 'pass'],
    ['sad', 299, 701, { pathShare: 'cache', min: '30%' }, 'fail'],
    ['happy', 50, 950, { pathShare: 'cache', max: '5%' }, 'pass'],
    ['sad', 51, 949, { pathShare: 'cache', max: '5%' }, 'fail'],
    ['sad', 0, 0, { pathShare: 'cache', min: '0%' }, 'inconclusive'],
    // (300·100 + 700·20) ÷ 100 000 = 44%
    ['happy', 300, 700, { promptCacheShare: '>= 44%' }, 'pass'],
    ['sad', 300, 700, { promptCacheShare: '>= 44.1%' }, 'fail'],
    ['happy', 300, 700, { promptCacheShare: '>= 100%', path: 'cache' }, 'pass'],
    ['sad', 0, 0, { promptCacheShare: '>= 0%' }, 'inconclusive'],
  ] as const)('%s: %i cache hits, %i others, %j → %s', (_l, hits, others, b, status) => {
    const [v] = evaluateBudgets(budgets([b]), recorded(hits, others).measurements());
    expect(v?.status, v?.reason).toBe(status);
    expect(decide([v!], { interrupted: false }, { allowInconclusive: false }).verdict).toBe(status === 'pass' ? 'pass' : 'fail');
  });

  it('happy: the phase report holds each path\'s tally, the errors on their path', () => {
    const p = recorded(3, 2).report().phases[0]!;
    expect(p.paths).toEqual({
      cache: { completed: 3, errors: 1, promptCache: { responses: 3, promptTokens: 300, cachedTokens: 300 } },
      primary: { completed: 2, errors: 0, promptCache: { responses: 2, promptTokens: 200, cachedTokens: 40 } },
    });
  });

  it('sad: responses without cached_tokens add nothing to the prompt-cache tally (unknown is not 0)', () => {
    const r = new Recorder(PHASES);
    r.completed(0, 0, 1, seen('primary'));
    const [v] = evaluateBudgets(budgets([{ promptCacheShare: '0%' }]), r.measurements());
    expect(v?.status).toBe('inconclusive');
    expect(v?.reason).toMatch(/no response reported usage\.prompt_tokens_details\.cached_tokens \(1 completed\)/);
  });
});

describe('reports older than named paths', () => {
  const old = parseReport(readFileSync(new URL('../fixtures/reports/small.json', import.meta.url), 'utf8'), 'small.json');

  it('happy: their fallback counts read as the primary and fallback paths', () => {
    const ramp = old.phases.find((p) => !p.warmup)!;
    expect(ramp.paths).toBeUndefined();
    expect(pathTallies(ramp)).toEqual({ primary: { completed: ramp.completed - ramp.fallback, errors: ramp.errors - ramp.fallbackErrors }, fallback: { completed: ramp.fallback, errors: ramp.fallbackErrors } });
    const [share] = evaluateBudgets([{ kind: 'pathShare', id: 's', of: 'fallback', bound: 'max', limit: 0.5 }], measurementsFromReport(old));
    expect(share?.observed).toBeCloseTo(ramp.fallback / ramp.completed, 12);
    expect(pathFigures(old.phases).map((f) => `${f.phase}/${f.path}`)).toEqual(['warmup/primary', 'ramp/primary', 'ramp/fallback']);
  });
});

describe('merge over arbitrary path names', () => {
  function shard(index: number, cache: number): RunResult {
    const r = new Recorder(PHASES);
    for (let i = 0; i < cache; i++) r.completed(0, i, i + 1, seen('cache', 50));
    r.completed(0, 0, 3, seen('primary', 10));
    const rep = r.report(10_000);
    return { schema: REPORT_SCHEMA, tool: { name: 'budgetgate', version: 't' }, profile: 'x', target: 't', arrivals: 'uniform', startedAt: '2026-01-01T00:00:00Z', durationMs: 10_000, verdict: 'pass', interrupted: false, shard: { index, count: 2 }, scheduleId: 's', startEpochMs: 0, budgets: [], ...rep };
  }

  it('happy: per-path tallies and the timeline\'s path counts add up; budgets judge the whole', () => {
    const { report } = mergeReports([{ source: 'a', report: shard(0, 3) }, { source: 'b', report: shard(1, 5) }], { budgets: budgets([{ pathShare: 'cache', min: '80%' }]), allowInconclusive: false });
    expect(report.phases[0]?.paths?.cache).toEqual({ completed: 8, errors: 0, promptCache: { responses: 8, promptTokens: 800, cachedTokens: 400 } });
    expect(report.phases[0]?.paths?.primary?.completed).toBe(2);
    expect(report.timeline.reduce((n, p) => n + (p.paths?.cache ?? 0), 0)).toBe(8);
    expect(report.budgets[0]).toMatchObject({ status: 'pass', observed: 0.8 });
  });
});
