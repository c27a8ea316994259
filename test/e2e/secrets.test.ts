/**
 * Secrets stay out of every output of a run: stdout, stderr and each report format. The server here
 * echoes them where a careless tool would print them (a Server-Timing metric named after the tenant,
 * the token in the target URL), so a missing redaction shows up as a match.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReport, runCli, tempDir, writeProfile } from './cli.js';
import { listen, type TestServer } from './servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function track<T extends TestServer>(s: T): T {
  cleanups.push(() => s.close());
  return s;
}

const SECRETS = {
  token: 'sk-test-ABCDEF123456', // ${BG_TEST_TOKEN} in the authorization header
  apiKey: 'literal-api-key-98765', // written in the profile as x-api-key
  tenant: 'tenant-secret-4242', // x-tenant, named by --redact x-tenant
  pathPart: 'path-secret-5555', // in the URL path, named by --redact BG_PATH_SECRET (an env var)
  query: 'query-secret-7777', // ?key=… in the URL
  body: 'body-from-env-3131', // ${BG_BODY_VALUE} in the body: any substituted value is secret
};

function everyOutput(stdout: string, stderr: string, out: string): Record<string, string> {
  const files = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]));
  return { stdout, stderr, ...files };
}

function expectNoSecret(outputs: Record<string, string>): void {
  for (const [where, text] of Object.entries(outputs)) {
    for (const [name, secret] of Object.entries(SECRETS)) {
      expect(text.includes(secret), `${name} leaked into ${where}`).toBe(false);
      expect(text.includes(encodeURIComponent(secret)), `${name} leaked (URL-encoded) into ${where}`).toBe(false);
    }
  }
}

describe('secrets are redacted from every output', () => {
  it('happy: stdout, stderr, report.json/xml/md/html hold *** where the secrets were', async () => {
    const server = track(await listen((req, res) => {
      // a server that echoes the tenant as a metric name, and fails some requests
      res.setHeader('server-timing', `${String(req.headers['x-tenant'])};dur=3, queue;dur=1`);
      res.statusCode = Math.random() < 0.3 ? 500 : 200;
      res.end('ok');
    }));
    const dir = tempDir();
    const profile = writeProfile(dir, {
      name: 'secrets',
      target: {
        url: `${server.url}v1/${SECRETS.pathPart}/chat?key=${SECRETS.query}&model=llama`,
        method: 'POST',
        headers: { Authorization: 'Bearer ${BG_TEST_TOKEN}', 'X-Api-Key': SECRETS.apiKey, 'x-tenant': SECRETS.tenant, 'content-type': 'application/json' },
        body: { model: 'llama', user: '${BG_BODY_VALUE}' },
      },
      phases: [{ name: 'p', duration: '1s', rate: 20 }],
      budgets: [{ stage: 'total', p99: '1ms' }, { errorRate: '1%' }, { stage: 'queue', p50: '10ms' }],
    });
    const out = join(dir, 'out');
    const env = { BG_TEST_TOKEN: SECRETS.token, BG_BODY_VALUE: SECRETS.body, BG_PATH_SECRET: SECRETS.pathPart };
    const r = await runCli(['run', profile, '--out', out, '--format', 'junit,md,html', '--redact', 'x-tenant', '--redact', 'BG_PATH_SECRET'], { env });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    const outputs = everyOutput(r.stdout, r.stderr, out);
    expect(Object.keys(outputs).sort()).toEqual(['report.html', 'report.json', 'report.md', 'report.xml', 'stderr', 'stdout']);
    expectNoSecret(outputs);
    // the redaction is visible where the secrets were: the URL and the echoed stage name
    const report = readReport(out);
    expect(report.target).toBe(`${server.url}v1/***/chat?key=***&model=llama`);
    expect(report.series.some((s) => s.stage === '***')).toBe(true);
    expect(r.stdout).toContain('***');
    // the server did get the real values: redaction is of outputs only
    expect(server.arrivals.length).toBeGreaterThan(10);
  });

  it('sad: an error message (probe refused) is redacted too', async () => {
    const server = track(await listen((_q, res) => {
      res.statusCode = 401;
      res.end('no');
    }));
    const dir = tempDir();
    const profile = writeProfile(dir, {
      name: 'secrets-401',
      target: { url: `${server.url}x?api_key=${SECRETS.query}`, method: 'GET', headers: { authorization: 'Bearer ${BG_TEST_TOKEN}' } },
      phases: [{ name: 'p', duration: '1s', rate: 5 }],
    });
    const r = await runCli(['run', profile, '--out', join(dir, 'out')], { env: { BG_TEST_TOKEN: SECRETS.token } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/probe request to .*api_key=\*\*\* was refused: HTTP 401/);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr });
  });

  it('sad: a profile error quoting a substituted value does not show it', async () => {
    const dir = tempDir();
    const profile = writeProfile(dir, { name: 'secrets-bad', target: { url: 'http://127.0.0.1:9/', timeout: '${BG_TEST_TOKEN}' }, phases: [{ name: 'p', duration: '1s', rate: 1 }] });
    const r = await runCli(['run', profile], { env: { BG_TEST_TOKEN: SECRETS.token } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/target\.timeout/);
    expectNoSecret({ stdout: r.stdout, stderr: r.stderr });
  });
});
