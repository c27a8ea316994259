/**
 * run() from the API against a self-signed https target on loopback: the TLS options are the
 * engine's, so the probe verifies the certificate against the CA given (or skips with insecure),
 * and without either refuses it before any load, as the CLI does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { run } from '../src/api.js';
import { BudgetgateError } from '../src/core/errors.js';
import { hasOpenssl, selfSignedHttps } from './e2e/servers.js';

const profile = (url: string): object => ({
  name: 'api-tls',
  target: { url, method: 'GET' },
  phases: [{ name: 'p', duration: '1s', rate: 20 }],
  budgets: [{ errorRate: '1%' }],
});

async function server(): Promise<Awaited<ReturnType<typeof selfSignedHttps>>> {
  const s = await selfSignedHttps(mkdtempSync(join(tmpdir(), 'budgetgate-api-tls-')));
  onTestFinished(s.close);
  return s;
}

describe.skipIf(!hasOpenssl)('run() against a self-signed https target', () => {
  it('happy: tls.ca trusts the certificate: the probe passes and the load is sent', async () => {
    const s = await server();
    const r = await run(profile(s.url), { tls: { ca: s.cert } });
    expect(r.totals.completed).toBe(20);
    expect(r.totals.errors).toBe(0);
    expect(s.arrivals()).toBe(21); // the probe, then the schedule
  });

  it('happy: tls.insecure skips verification', async () => {
    const s = await server();
    const r = await run(profile(s.url), { tls: { insecure: true } });
    expect(r.totals.completed).toBe(20);
  });

  it('sad: without either the probe refuses the certificate, and no load is sent', async () => {
    const s = await server();
    const e = await run(profile(s.url)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BudgetgateError);
    expect((e as BudgetgateError).kind).toBe('unreachable');
    expect((e as Error).message).toMatch(/TLS certificate not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(s.arrivals()).toBe(0);
  });
});
