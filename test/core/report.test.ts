import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BudgetgateError } from '../../src/core/errors.js';
import { createHistogram, encodeHistogram } from '../../src/core/histograms.js';
import { REPORT_SCHEMA, type RunResult, parseReport, serializeReport } from '../../src/core/report.js';

const SMALL = fileURLToPath(new URL('../fixtures/reports/small.json', import.meta.url));

function minimal(over: Partial<RunResult> = {}): RunResult {
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'budgetgate', version: '0.0.0' },
    profile: 'p',
    target: 'http://x.test/',
    arrivals: 'uniform',
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 1000,
    verdict: 'pass',
    interrupted: false,
    budgets: [],
    series: [],
    phases: [],
    timeline: [],
    totals: { scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0 },
    lateness: { p50: null, p99: null, max: null, hdr: encodeHistogram(createHistogram()) },
    ...over,
  };
}

/** Runs parseReport and returns the BudgetgateError it throws (failing the test when it does not throw). */
function reportError(text: string, source: string): BudgetgateError {
  try {
    parseReport(text, source);
  } catch (e) {
    expect(e).toBeInstanceOf(BudgetgateError);
    return e as BudgetgateError;
  }
  throw new Error('parseReport accepted the input');
}

describe('serializeReport / parseReport', () => {
  it('happy: the schema constant', () => {
    expect(REPORT_SCHEMA).toBe('budgetgate/report@1');
  });

  it('happy: a minimal report round-trips', () => {
    const r = minimal({ reason: 'interrupted', interrupted: true, verdict: 'fail' });
    expect(parseReport(serializeReport(r), 'mem')).toEqual(r);
  });

  it('happy: serialized text is indented JSON ending in one newline', () => {
    const text = serializeReport(minimal());
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(false);
    expect(text).toContain('\n  "schema": "budgetgate/report@1",\n');
  });

  it('happy: the small fixture parses and re-serializes byte for byte', () => {
    const text = readFileSync(SMALL, 'utf8');
    const r = parseReport(text, 'small.json');
    expect(r.schema).toBe(REPORT_SCHEMA);
    expect(r.series.length).toBeGreaterThan(0);
    expect(serializeReport(r)).toBe(text);
  });

  it('property: any report of finite numbers and strings round-trips', () => {
    const num = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0); // JSON has no -0
    const counts = fc.record({ scheduled: fc.nat(), sent: fc.nat(), completed: fc.nat(), errors: fc.nat(), fallback: fc.nat(), late: fc.nat() });
    const verdict = fc.record({
      id: fc.string(),
      description: fc.string(),
      status: fc.constantFrom('pass' as const, 'fail' as const, 'inconclusive' as const),
      observed: fc.option(num, { nil: null }),
      limit: num,
      unit: fc.constantFrom('ms' as const, 'ratio' as const),
      samples: fc.nat(),
      reason: fc.string(),
    });
    const point = fc
      .tuple(fc.nat(1000), counts, fc.nat(), fc.option(num, { nil: null }), fc.option(num, { nil: null }))
      .map(([s, c, inFlight, p50, p99]) => ({ t: s * 1000, ...c, inFlight, p50, p99 }));
    fc.assert(
      fc.property(fc.array(verdict, { maxLength: 5 }), fc.array(point, { maxLength: 5 }), counts, fc.string(), (budgets, timeline, totals, profile) => {
        const r = minimal({ budgets, timeline, totals, profile });
        expect(parseReport(serializeReport(r), 'prop')).toEqual(r);
      }),
      { numRuns: 100 },
    );
  });
});

describe('parseReport rejects', () => {
  const good = JSON.parse(serializeReport(minimal())) as Record<string, unknown>;
  const without = (key: string): string => JSON.stringify({ ...good, [key]: undefined });

  it.each([
    ['sad: empty text', '', 'not JSON'],
    ['sad: truncated JSON', serializeReport(minimal()).slice(0, 40), 'not JSON'],
    ['sad: YAML, not JSON', 'schema: budgetgate/report@1\n', 'not JSON'],
    ['sad: JSON null', 'null', 'not a report object'],
    ['sad: JSON number', '42', 'not a report object'],
    ['sad: JSON string', '"budgetgate/report@1"', 'not a report object'],
    ['sad: no schema', JSON.stringify({ ...good, schema: undefined }), 'expected "budgetgate/report@1"'],
    ['sad: a future schema', JSON.stringify({ ...good, schema: 'budgetgate/report@2' }), 'schema is "budgetgate/report@2", expected "budgetgate/report@1"'],
    ['sad: another tool', JSON.stringify({ ...good, schema: 'k6/summary' }), '"k6/summary"'],
    ['sad: an array', '[]', 'expected "budgetgate/report@1"'],
    ['sad: missing budgets', without('budgets'), 'budgets: expected an array'],
    ['sad: missing series', without('series'), 'series: expected an array'],
    ['sad: missing phases', without('phases'), 'phases: expected an array'],
    ['sad: missing timeline', without('timeline'), 'timeline: expected an array'],
    ['sad: series is an object', JSON.stringify({ ...good, series: {} }), 'series: expected an array'],
  ])('%s', (_name, text, message) => {
    const e = reportError(text, 'runs/old.json');
    expect(e.kind).toBe('report');
    expect(e.message.startsWith('runs/old.json: ')).toBe(true);
    expect(e.message).toContain(message);
  });
});
