import { describe, expect, it } from 'vitest';
import type { ClientControl, HookedClient } from '../../src/engine/autocannon-hook.js';
import { ConnectionPool, wantsClose } from '../../src/engine/connection-pool.js';

const control = (): ClientControl & { parked: number } => {
  const c = { parked: 0, connect() {}, connected: () => true, park() { c.parked++; }, opened: async () => {} };
  return c;
};
const client = (): HookedClient => ({}) as HookedClient;

describe('ConnectionPool', () => {
  it('happy: cold connections are taken first-in first-out', () => {
    const pool = new ConnectionPool();
    const [a, b] = [pool.add(client(), control()), pool.add(client(), control())];
    expect(pool.take(0)).toBe(a);
    expect(pool.take(0)).toBe(b);
    expect(pool.take(0)).toBeUndefined();
  });

  it('happy: warm ones are reused last-in first-out, before any cold one', () => {
    const pool = new ConnectionPool();
    const [a, b, c] = [pool.add(client(), control()), pool.add(client(), control()), pool.add(client(), control())];
    for (const s of [a, b]) {
      expect(pool.take(0)).toBe(s);
      s.idle = false;
    }
    pool.rest(a, 0);
    pool.rest(b, 0);
    expect(pool.take(0)).toBe(b);
    expect(pool.take(0)).toBe(a);
    expect(pool.take(0)).toBe(c);
  });

  it('sad: a busy or reserved connection is never handed out; a parked one goes cold', () => {
    const pool = new ConnectionPool();
    const ctl = control();
    const a = pool.add(client(), ctl);
    a.reserved = { arrival: { index: 0, t: 0, phase: 0 }, waited: false };
    expect(pool.take(0)).toBeUndefined();
    a.reserved = undefined;
    a.idle = false;
    pool.park(a);
    expect(ctl.parked).toBe(1);
    a.slot = { arrival: { index: 1, t: 0, phase: 0 }, sentMs: 0, headers: undefined, reused: false };
    expect(pool.take(0)).toBeUndefined();
  });
});

describe('wantsClose', () => {
  it.each([
    ['happy: keep-alive as the parser says', { headers: [], shouldKeepAlive: true }, false],
    ['sad: the parser says close', { headers: [], shouldKeepAlive: false }, true],
    ['sad: Connection: close', { headers: ['Connection', 'close'] }, true],
    ['happy: Connection: keep-alive', { headers: ['connection', 'keep-alive'], versionMajor: 1, versionMinor: 0 }, false],
    ['sad: HTTP/1.0 without keep-alive', { headers: [], versionMajor: 1, versionMinor: 0 }, true],
    ['happy: HTTP/1.1 by default', { headers: [], versionMajor: 1, versionMinor: 1 }, false],
  ])('%s', (_label, info, want) => {
    expect(wantsClose(info)).toBe(want);
  });
});
