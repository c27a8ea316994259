/**
 * POST /admin/fault (sim/admin.ts): faults injected over HTTP while the simulated endpoint runs,
 * the way a profile's `http: { path: /admin/fault }` hook injects them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSim, type SimOptions, type SimServer } from '../../src/sim/index.js';
import { parseFaultCommand } from '../../src/sim/admin.js';

const open: SimServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function sim(o?: SimOptions): Promise<SimServer> {
  const s = await startSim(o);
  open.push(s);
  return s;
}
const chat = (s: SimServer): Promise<Response> =>
  fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }), signal: AbortSignal.timeout(10_000) });
const fault = (s: SimServer, body: unknown, method = 'POST'): Promise<Response> =>
  fetch(`${s.url}/admin/fault`, { method, ...(method === 'POST' ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });

describe('parseFaultCommand', () => {
  it.each([
    ['happy', '{"kind":"stall","ms":3000}', { kind: 'stall', ms: 3000 }],
    ['happy', '{"kind":"outage"}', { kind: 'outage', ms: null }],
    ['happy', '{"kind":"clear"}', { kind: 'clear' }],
    ['sad', 'nope', /not JSON/],
    ['sad', '[1]', /JSON object/],
    ['sad', '{"kind":"explode"}', /kind: expected/],
    ['sad', '{"kind":"stall","ms":-1}', /ms: expected/],
    ['sad', '{"kind":"stall","ms":"3s"}', /ms: expected/],
  ])('%s: %s', (_l, raw, want) => {
    const got = parseFaultCommand(raw);
    if (want instanceof RegExp) expect('error' in got ? got.error : '').toMatch(want);
    else expect(got).toEqual(want);
  });
});

describe('POST /admin/fault', () => {
  it('happy: an outage fails the primary: served by the fallback, or 503 with the fallback off; clear ends it', async () => {
    const s = await sim();
    expect((await fault(s, { kind: 'outage', ms: 60_000 })).status).toBe(200);
    const r = await chat(s);
    expect([r.status, r.headers.get('x-route')]).toEqual([200, 'fallback']);
    const off = await sim({ fallbackOff: true });
    await fault(off, { kind: 'outage' });
    expect((await chat(off)).status).toBe(503);
    const cleared = await fault(off, { kind: 'clear' });
    expect(cleared.status).toBe(200);
    expect((await chat(off)).status).toBe(200);
  });

  it('happy: a stall holds the primary for its length (then serves), and clear releases it early', async () => {
    const s = await sim({ fallbackOff: true });
    // t before the fault: a stall of this process between the two only makes the wait look longer
    const t = performance.now();
    const body = (await (await fault(s, { kind: 'stall', ms: 600 })).json()) as { kind: string; fromMs: number; untilMs: number };
    expect(body.kind).toBe('stall');
    expect(body.untilMs - body.fromMs).toBe(600);
    expect((await chat(s)).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(590);
    await fault(s, { kind: 'stall' }); // until cleared
    const held = chat(s);
    await new Promise((r) => setTimeout(r, 300));
    const t2 = performance.now();
    await fault(s, { kind: 'clear' });
    expect((await held).status).toBe(200);
    expect(performance.now() - t2).toBeLessThan(2000); // woken within the pool's re-check, not never
    expect(s.stats().served).toBe(2);
  });

  it('sad: a bad body is 400, another method 405, and neither injects anything', async () => {
    const s = await sim({ fallbackOff: true });
    const bad = await fault(s, { kind: 'stall', ms: 0 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/ms: expected/);
    expect((await fault(s, undefined, 'GET')).status).toBe(405);
    const t = performance.now();
    expect((await chat(s)).status).toBe(200);
    expect(performance.now() - t).toBeLessThan(2000);
  });
});
