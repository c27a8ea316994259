/**
 * The `paths:` section and the budgets on paths (core/profile/paths.ts, budgets.ts): happy shapes
 * normalise to ordered PathRules; each problem is reported at its position, all of them at once.
 */
import { describe, expect, it } from 'vitest';
import { parseProfile, type ProfileResult } from '../../src/core/profile/index.js';

const minimal = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'p', phases: [{ name: 'steady', duration: '10s', rate: 5 }], ...extra });
const parse = (extra: Record<string, unknown>): ProfileResult => parseProfile(minimal(extra), () => undefined);
const problems = (r: ProfileResult): { path: string; message: string }[] => (r.ok ? [] : r.problems);

const CACHE = { name: 'cache', when: { header: 'cf-aig-cache-status', equals: 'HIT' } };

describe('paths: happy', () => {
  it('happy: the issue\'s example: two named paths in order, a list under when is any of them', () => {
    const r = parse({ paths: [CACHE, { name: 'fallback', when: [{ header: 'x-route', equals: 'fallback' }, { modelDiffers: true }] }] });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.profile.paths.map((p) => [p.name, p.signals.map((s) => s.id)])).toEqual([
      ['cache', ['cf-aig-cache-status=HIT']],
      ['fallback', ['x-route=fallback', 'model differs']],
    ]);
    // the fallback path's signals are also Profile.fallback, as before
    expect(r.profile.fallback.map((s) => s.id)).toEqual(['x-route=fallback', 'model differs']);
  });

  it('happy: fallback: is shorthand for a path named fallback, after the named ones; presets bring their signals and default name', () => {
    const r = parse({ fallback: { header: 'x-route', equals: 'fallback' }, paths: [{ preset: 'portkey-cache' }, { preset: 'cloudflare-ai-gateway-cache', name: 'edge' }, { name: 'body', when: { field: 'x_cache.hit', equals: true } }] });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.profile.paths.map((p) => [p.name, p.preset, p.signals.map((s) => s.id)])).toEqual([
      ['cache', 'portkey-cache', ['x-portkey-cache-status~^(SEMANTIC )?HIT$']],
      ['edge', 'cloudflare-ai-gateway-cache', ['cf-aig-cache-status=HIT']],
      ['body', undefined, ['body.x_cache.hit=true']],
      ['fallback', undefined, ['x-route=fallback']],
    ]);
  });

  it('happy: a timings preset\'s fallback signal is the last path unless the profile names a fallback path', () => {
    const r = parse({ timings: { preset: 'litellm' }, paths: [CACHE] });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.profile.paths.map((p) => p.name)).toEqual(['cache', 'fallback']);
    const own = parse({ timings: { preset: 'litellm' }, paths: [CACHE], fallback: [] });
    expect(own.ok && own.profile.paths.map((p) => p.name)).toEqual(['cache']);
  });

  it('happy: budgets scope to any path and bound its share; one entry with min and max is two budgets', () => {
    const r = parse({ paths: [CACHE], budgets: [{ stage: 'total', p99: '50ms', path: 'cache' }, { pathShare: 'cache', min: '30%', max: '90%' }, { promptCacheShare: '>= 50%', path: 'cache', phase: 'steady' }, { errorRate: '1%', path: 'cache' }] });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.profile.budgets.map((b) => b.id)).toEqual(['total{path=cache} p99', 'pathShare{path=cache} min', 'pathShare{path=cache} max', 'promptCacheShare{path=cache,phase=steady}', 'errorRate{path=cache}']);
    expect(r.profile.budgets.find((b) => b.kind === 'pathShare')).toMatchObject({ of: 'cache', bound: 'min', limit: 0.3 });
  });
});

describe('paths: sad, each problem at its position', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['sad', { paths: CACHE }, 'paths', /expected a list of paths/],
    ['sad', { paths: ['cache'] }, 'paths[0]', /expected a mapping like/],
    ['sad', { paths: [{ when: CACHE.when }] }, 'paths[0].name', /expected a path name like "cache".*got nothing/],
    ['sad', { paths: [{ name: 'a b', when: CACHE.when }] }, 'paths[0].name', /expected a path name/],
    ['sad', { paths: [{ ...CACHE, name: 'primary' }] }, 'paths[0].name', /'primary' is reserved/],
    ['sad', { paths: [CACHE, { name: 'cache', when: { header: 'x-b', equals: '1' } }] }, 'paths[1]', /path 'cache' is already named at paths\[0\]/],
    ['sad', { paths: [{ name: 'fallback', when: { header: 'x-b', equals: '1' } }], fallback: { header: 'x-route', equals: 'fallback' } }, 'fallback', /path 'fallback' is already named at paths\[0\]/],
    ['sad', { paths: [{ name: 'a' }] }, 'paths[0].when', /expected a signal or a list of signals/],
    ['sad', { paths: [{ name: 'a', when: [] }] }, 'paths[0].when', /got nothing/],
    ['sad', { paths: [{ name: 'a', when: { header: 'x', equals: '1' }, route: 1 }] }, 'paths[0]', /unknown key 'route'/],
    ['sad', { paths: [{ name: 'a', when: [{ header: 'x', equals: '1' }, { header: 'x', matches: '(' }] }] }, 'paths[0].when[1].matches', /expected a regular expression/],
    ['sad', { paths: [CACHE, { name: 'b', when: { header: 'cf-aig-cache-status', equals: 'HIT' } }] }, 'paths[1].when', /the same signal as paths\[0\]\.when \('cf-aig-cache-status=HIT'\)/],
    ['sad', { paths: [{ name: 'a', when: { header: 'x', field: 'y', equals: '1' } }] }, 'paths[0].when', /got both/],
    ['sad', { paths: [{ name: 'a', when: { field: 'a..b', equals: '1' } }] }, 'paths[0].when.field', /dotted JSON path/],
    ['sad', { paths: [{ name: 'a', when: { field: 'model', modelDiffers: true } }] }, 'paths[0].when.field', /reads no field/],
    ['sad', { paths: [{ preset: 'cloudflare-cache' }] }, 'paths[0].preset', /expected one of cloudflare-ai-gateway-cache, portkey-cache, kong-proxy-cache, got 'cloudflare-cache'/],
    ['sad', { paths: [{ preset: 'portkey-cache', when: CACHE.when }] }, 'paths[0].when', /write either preset or when/],
    ['sad', { paths: [{ preset: 'portkey-cache' }, { preset: 'kong-proxy-cache' }] }, 'paths[1]', /path 'cache' is already named at paths\[0\]/],
    ['sad', { paths: [CACHE], budgets: [{ stage: 'total', p99: '1s', path: 'cahce' }] }, 'budgets[0].path', /no request can take the 'cahce' path: the profile's paths are primary, cache — did you mean 'cache'\?/],
    ['sad', { budgets: [{ pathShare: 'fallback', max: '5%' }] }, 'budgets[0].pathShare', /no 'fallback' rule/],
    ['sad', { paths: [CACHE], budgets: [{ pathShare: 'cache' }] }, 'budgets[0]', /expected min or max/],
    ['sad', { paths: [CACHE], budgets: [{ pathShare: 'cache', min: '60%', max: '50%' }] }, 'budgets[0]', /min 60% is above max 50%/],
    ['sad', { paths: [CACHE], budgets: [{ pathShare: 'cache', min: 30 }] }, 'budgets[0].min', /percentage/],
    ['sad', { paths: [CACHE], budgets: [{ pathShare: 'cache', min: '30%', path: 'cache' }] }, 'budgets[0]', /unknown key 'path'/],
    ['sad', { budgets: [{ promptCacheShare: '<= 50%' }] }, 'budgets[0].promptCacheShare', /expected a floor like ">= 50%"/],
    ['sad', { budgets: [{ promptCacheShare: '50%', path: 'cache' }] }, 'budgets[0].path', /no request can take the 'cache' path/],
  ])('%s: %j → %s', (_l, extra, path, message) => {
    expect(problems(parse(extra))).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('sad: every problem of a broken section is listed at once, each at its position', () => {
    const found = problems(parse({ paths: [{ ...CACHE, name: 'primary' }, { name: 'x', when: [] }, { preset: 'nope' }], budgets: [{ pathShare: 'nowhere', min: '1%' }] })).map((p) => p.path);
    expect(found).toEqual(['paths[0].name', 'paths[1].when', 'paths[2].preset', 'budgets[0].pathShare']);
  });
});
