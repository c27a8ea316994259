/**
 * Named paths and prompt-cache accounting end to end, against a loopback server this test starts on
 * 127.0.0.1: each response's headers or body route it (a gateway cache header, a fallback header, a
 * body field; first match wins), and its usage carries prompt_tokens_details.cached_tokens. The
 * report's per-path counts and cached tokens must equal, exactly, what the server sent.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/api.js';
import { evaluateBudgets, measurementsFromReport } from '../src/core/budgets.js';
import { parseProfile } from '../src/core/profile/index.js';
import { decide } from '../src/core/verdict.js';
import type { RunResult } from '../src/core/report.js';

/** what the server does with each prompt: its headers, its body's x_cache, its usage */
interface Answer {
  headers: Record<string, string>;
  field?: boolean;
  cached?: number;
  /** the path budgetgate must put it on */
  path: string;
}
const PROMPT_TOKENS = 100;
const ANSWERS: Record<string, Answer> = {
  'cache-1': { headers: { 'cf-aig-cache-status': 'HIT' }, cached: 100, path: 'cache' },
  'cache-2': { headers: { 'cf-aig-cache-status': 'HIT' }, cached: 100, path: 'cache' },
  'cache-3': { headers: { 'cf-aig-cache-status': 'HIT' }, cached: 96, path: 'cache' },
  // both signals fire: the cache path is listed first, so it wins
  both: { headers: { 'cf-aig-cache-status': 'HIT', 'x-route': 'fallback' }, cached: 64, path: 'cache' },
  'fb-1': { headers: { 'cf-aig-cache-status': 'MISS', 'x-route': 'fallback' }, cached: 0, path: 'fallback' },
  'fb-2': { headers: { 'x-route': 'fallback' }, cached: 0, path: 'fallback' },
  // no usage details: reports nothing about its cache
  field: { headers: {}, field: true, path: 'edge' },
  'plain-1': { headers: { 'cf-aig-cache-status': 'MISS' }, cached: 32, path: 'primary' },
  'plain-2': { headers: { 'cf-aig-cache-status': 'MISS' }, cached: 16, path: 'primary' },
  'plain-3': { headers: {}, path: 'primary' },
};

const dir = mkdtempSync(join(tmpdir(), 'budgetgate-paths-'));
writeFileSync(join(dir, 'prompts.jsonl'), `${Object.keys(ANSWERS).map((p) => JSON.stringify(p)).join('\n')}\n`);

/** the server: answers by prompt, and tallies per expected path what it sent */
async function routingServer(): Promise<{ url: string; sent: Map<string, { n: number; prompt: number; cached: number; reported: number }>; close: () => Promise<void> }> {
  const sent = new Map<string, { n: number; prompt: number; cached: number; reported: number }>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const content = (JSON.parse(body) as { messages: { content: string }[] }).messages.at(-1)?.content ?? '';
      const a = ANSWERS[content];
      // the probe (the profile's own body) is not a dataset prompt: a plain answer, not tallied
      if (a !== undefined) {
        const t = sent.get(a.path) ?? { n: 0, prompt: 0, cached: 0, reported: 0 };
        t.n++;
        if (a.cached !== undefined) {
          t.prompt += PROMPT_TOKENS;
          t.cached += a.cached;
          t.reported++;
        }
        sent.set(a.path, t);
      }
      const usage = { prompt_tokens: PROMPT_TOKENS, completion_tokens: 4, total_tokens: PROMPT_TOKENS + 4, ...(a?.cached !== undefined ? { prompt_tokens_details: { cached_tokens: a.cached } } : {}) };
      res.writeHead(200, { 'content-type': 'application/json', ...(a?.headers ?? {}) });
      res.end(JSON.stringify({ model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }], usage, ...(a?.field ? { x_cache: { hit: true } } : {}) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/v1/chat/completions`, sent, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const profile = (url: string, budgets: object[] = []): object => ({
  name: 'paths',
  target: { url, body: { model: 'm', messages: [{ role: 'user', content: 'PROBE' }], max_tokens: 4 }, dataset: 'prompts.jsonl' },
  paths: [{ preset: 'cloudflare-ai-gateway-cache' }, { name: 'edge', when: { field: 'x_cache.hit', equals: true } }],
  fallback: { header: 'x-route', equals: 'fallback' },
  phases: [{ name: 'steady', duration: '2s', rate: 20 }],
  budgets,
});

const budgetsOf = (raw: object[]): ReturnType<typeof parseProfile> => parseProfile(profile('http://127.0.0.1:1/', raw), () => undefined);

describe('named paths against a loopback server', () => {
  let report: RunResult;
  let sent: Awaited<ReturnType<typeof routingServer>>['sent'];

  it('happy: cache header, fallback header and body field route each request to its path, with exact counts and cached tokens', async () => {
    const s = await routingServer();
    try {
      report = await run(profile(s.url, [{ pathShare: 'cache', min: '30%' }, { pathShare: 'fallback', max: '25%' }, { promptCacheShare: '>= 50%', path: 'cache' }]), { baseDir: dir });
    } finally {
      await s.close();
    }
    sent = s.sent;
    const phase = report.phases[0]!;
    // 40 requests, each of the 10 prompts 4 times (round-robin): cache 16, fallback 8, edge 4, primary 12
    expect(phase.completed).toBe(40);
    expect([...sent.values()].reduce((n, t) => n + t.n, 0)).toBe(40);
    for (const [path, t] of sent) {
      expect(phase.paths?.[path]?.completed, path).toBe(t.n);
      // what the server reported, added up: prompt tokens of the responses with cached_tokens, and those
      expect(phase.paths?.[path]?.promptCache, path).toEqual({ responses: t.reported, promptTokens: t.prompt, cachedTokens: t.cached });
    }
    expect(Object.keys(phase.paths ?? {}).sort()).toEqual([...sent.keys()].sort());
    // every path saw requests (the dataset has 4 of its 10 prompts on the cache path, 2 on fallback, 1 on edge)
    for (const path of ['cache', 'fallback', 'edge', 'primary']) expect(sent.get(path)?.n ?? 0, path).toBeGreaterThan(0);
    // the legacy counts still say the same about the fallback path
    expect(phase.fallback).toBe(sent.get('fallback')?.n);
    // series are keyed by the path too
    expect(new Set(report.series.filter((x) => x.stage === 'total').map((x) => x.path))).toEqual(new Set(['cache', 'fallback', 'edge', 'primary']));
    const share = (p: string): number => (sent.get(p)?.n ?? 0) / 40;
    const cache = sent.get('cache')!;
    expect(report.budgets.filter((v) => v.id !== 'load delivered').map((v) => [v.id, v.status, v.observed])).toEqual([
      ['pathShare{path=cache} min', share('cache') >= 0.3 ? 'pass' : 'fail', share('cache')],
      ['pathShare{path=fallback} max', share('fallback') <= 0.25 ? 'pass' : 'fail', share('fallback')],
      ['promptCacheShare{path=cache}', 'pass', cache.cached / cache.prompt],
    ]);
    // the timeline counts each named path's completions too
    expect(report.timeline.reduce((n, p) => n + (p.paths?.cache ?? 0), 0)).toBe(cache.n);
  });

  // the bound just below, at and just above the share the server actually sent (0.1 point apart)
  it.each([
    ['happy', 'cache', 'min', -0.001, 'pass'],
    ['happy', 'cache', 'min', 0, 'pass'],
    ['sad', 'cache', 'min', 0.001, 'fail'],
    ['happy', 'cache', 'max', 0.001, 'pass'],
    ['happy', 'cache', 'max', 0, 'pass'],
    ['sad', 'cache', 'max', -0.001, 'fail'],
    ['happy', 'edge', 'min', -0.001, 'pass'],
    ['sad', 'edge', 'min', 0.001, 'fail'],
    ['happy', 'primary', 'max', 0.001, 'pass'],
    ['sad', 'primary', 'max', -0.001, 'fail'],
    ['happy', 'fallback', 'fallbackRate', 0, 'pass'],
    ['sad', 'fallback', 'fallbackRate', -0.001, 'fail'],
  ] as const)('%s: %s share, %s bound at the sent share %+d → %s', (_l, path, bound, offset, status) => {
    const limit = `${Number(((sent.get(path)!.n / 40 + offset) * 100).toFixed(4))}%`;
    const budget = bound === 'fallbackRate' ? { fallbackRate: limit } : { pathShare: path, [bound]: limit };
    const parsed = budgetsOf([budget]);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const [v] = evaluateBudgets(parsed.profile.budgets, measurementsFromReport(report));
    expect(v?.status, v?.reason).toBe(status);
    expect(decide([v!], { interrupted: false }, { allowInconclusive: false }).verdict).toBe(status);
  });

  it.each([
    ['happy', -0.001, undefined, 'pass'],
    ['sad', 0.001, undefined, 'fail'],
    ['happy', -0.001, 'cache', 'pass'],
    ['sad', 0.001, 'cache', 'fail'],
    // the edge path's responses report no cached_tokens: nothing to judge, and that does not pass
    ['sad', -1, 'edge', 'inconclusive'],
  ] as const)('%s: promptCacheShare at the sent share %+d (path %s) → %s', (_l, offset, path, status) => {
    const ts = [...sent].filter(([p]) => path === undefined || p === path).map(([, t]) => t);
    const sentShare = ts.reduce((n, t) => n + t.cached, 0) / Math.max(1, ts.reduce((n, t) => n + t.prompt, 0));
    const limit = `>= ${Number((Math.max(0, sentShare + offset) * 100).toFixed(4))}%`;
    const parsed = budgetsOf([{ promptCacheShare: limit, ...(path !== undefined ? { path } : {}) }]);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const [v] = evaluateBudgets(parsed.profile.budgets, measurementsFromReport(report));
    expect(v?.status, v?.reason).toBe(status);
    // one policy decides: an inconclusive budget does not pass the run
    expect(decide([v!], { interrupted: false }, { allowInconclusive: false }).verdict).toBe(status === 'pass' ? 'pass' : 'fail');
  });

  it('happy: over every path, the cached tokens add up to what the server sent', () => {
    const all = [...sent.values()].reduce((a, t) => ({ prompt: a.prompt + t.prompt, cached: a.cached + t.cached }), { prompt: 0, cached: 0 });
    const tallies = Object.values(report.phases[0]?.paths ?? {});
    expect({ prompt: tallies.reduce((n, t) => n + (t.promptCache?.promptTokens ?? 0), 0), cached: tallies.reduce((n, t) => n + (t.promptCache?.cachedTokens ?? 0), 0) }).toEqual(all);
    expect(all.cached).toBeGreaterThan(0);
  });
});
