import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { type RunResult, parseReport } from '../../src/core/report.js';
import { renderJunit, xmlEscape } from '../../src/report/junit.js';
import { gateReport } from './synthetic.js';

const XSD = readFileSync(fileURLToPath(new URL('../fixtures/junit/junit-10.xsd', import.meta.url)), 'utf8');
const SMALL = fileURLToPath(new URL('../fixtures/reports/small.json', import.meta.url));
const small = (): RunResult => parseReport(readFileSync(SMALL, 'utf8'), 'small.json');

/** Validates with libxml2 (compiled to WebAssembly) against the Jenkins xUnit junit-10.xsd. */
async function validate(xml: string): Promise<{ valid: boolean; errors: string[] }> {
  const r = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit-10.xsd', contents: XSD }] });
  return { valid: r.valid, errors: r.errors.map((e) => e.rawMessage) };
}

/** every whole-run budget passed, but an early-abort window stopped the run */
const abortedSmall = (): RunResult => {
  const r = small();
  return { ...r, verdict: 'fail', budgets: r.budgets.map((b) => ({ ...b, status: 'pass' as const })), aborted: { ...(r.budgets[0] as RunResult['budgets'][number]), status: 'fail' }, reason: 'aborted at 4.1s: p90 over the last 1s' };
};

const cases = (xml: string): string[] => [...xml.matchAll(/<testcase name="([^"]*)"/g)].map((m) => m[1] as string);

describe('renderJunit', () => {
  it.each([
    ['happy: the small fixture (pass, fail, inconclusive)', async () => renderJunit(small())],
    ['happy: a report with intervals and a borderline pass, strict', async () => renderJunit(await gateReport(), { strict: true })],
    ['happy: an interrupted run', async () => renderJunit({ ...small(), interrupted: true, reason: 'interrupted: the run was stopped' })],
    ['happy: an aborted run', async () => renderJunit(abortedSmall())],
    ['happy: hostile text in names and reasons (quotes, <, &, ]]>, control characters)', async () =>
      renderJunit({ ...small(), profile: 'a"b<c>&d', target: "http://x/?q=1&r='2'", budgets: small().budgets.map((b) => ({ ...b, id: `${b.id} ]]> <x/>`, reason: `${b.reason} & "q" \u0001\u0007 <![CDATA[x]]>` })) })],
  ])('%s validates against junit-10.xsd', async (_name, make) => {
    const xml = await make();
    const r = await validate(xml);
    expect(r.errors).toEqual([]);
    expect(r.valid).toBe(true);
  });

  it('sad: the validator does reject a document the schema forbids (testcase without a name)', async () => {
    const bad = renderJunit(small()).replace(/<testcase name="[^"]*"/, '<testcase');
    const r = await validate(bad);
    expect(r.valid).toBe(false);
  });

  it('happy: one test case per budget, failures carry the reason in words', () => {
    const r = small();
    const xml = renderJunit(r);
    expect(cases(xml)).toEqual(r.budgets.map((b) => xmlEscape(`${b.id}: ${b.description}`)));
    for (const b of r.budgets.filter((v) => v.status === 'fail')) expect(xml).toContain(`message="${xmlEscape(b.reason)}"`);
    expect(xml).toMatch(/<testsuite name="budgetgate.small" tests="7" failures="3" errors="0" skipped="0" time="36.500"/);
  });

  it.each([
    ['sad: inconclusive is a failure when not allowed', { allowInconclusive: false }, 3, 0],
    ['happy: inconclusive is skipped when allowed', { allowInconclusive: true }, 2, 1],
  ])('%s', (_name, o, failures, skipped) => {
    const xml = renderJunit(small(), o);
    expect(xml).toContain(`failures="${failures}" errors="0" skipped="${skipped}"`);
  });

  it('sad: under strict a borderline pass is a failure; without strict it passes', async () => {
    const r = await gateReport();
    const b = r.budgets.find((v) => v.borderline === true && v.status === 'pass');
    expect(b).toBeDefined();
    const name = xmlEscape(`${b?.id}: ${b?.description}`);
    const caseOf = (xml: string): string => xml.slice(xml.indexOf(`<testcase name="${name}"`), xml.indexOf('</testcase>', xml.indexOf(`<testcase name="${name}"`)));
    expect(caseOf(renderJunit(r, { strict: true }))).toContain('<failure');
    expect(caseOf(renderJunit(r, { strict: false }))).not.toContain('<failure');
    expect(caseOf(renderJunit(r, { strict: false }))).toContain('borderline');
  });
});

describe('renderJunit: a run stopped early', () => {
  it('sad: an aborted run is a failed "run finished" test carrying the abort reason', () => {
    const xml = renderJunit(abortedSmall());
    expect(xml).toMatch(/<testcase name="run finished"[^>]*>\s*<failure message="aborted at 4\.1s: p90 over the last 1s" type="aborted"\/>/);
    expect(xml).toContain('<property name="verdict" value="fail"/>');
    expect(xml).toMatch(/<testsuites[^>]* failures="1"/);
  });
});
