/**
 * JUnit XML: one test case per budget, so CI test reporters (GitHub's test-report actions, GitLab's
 * `artifacts:reports:junit`, Jenkins' JUnit plugin) list each budget as a passing or failing test with
 * its reason as the failure message. RunResult → string; no I/O.
 *
 * Shape: the common subset every one of those readers accepts (and that the Jenkins xUnit schema
 * junit-10.xsd validates): testsuites > testsuite(name, tests, failures, errors, skipped, time,
 * timestamp) > properties, testcase(name, classname, time) > failure(message, type) | skipped,
 * system-out.
 */
import type { RunResult, Verdict } from '../core/report.js';
import { failsRun, type PolicyOptions } from '../core/verdict.js';
import { intervalText, limitText, observedText, percent } from './format.js';
import { asView, type ReportView } from './view.js';
import { failsRunHook } from '../core/hooks.js';
import { describeHookReport } from '../core/hooks.js';

export interface JunitOptions {
  /**
   * Whether inconclusive budgets were allowed (then they are reported as skipped, else as failures).
   * Default: inferred from the report, since a passing run with an inconclusive budget must have allowed it.
   */
  allowInconclusive?: boolean;
  /** a borderline pass failed the run (`--strict`) */
  strict?: boolean;
}

/** XML 1.0 escapes, and characters XML 1.0 cannot carry at all (C0 controls but tab/LF/CR) dropped. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const attrs = (a: Record<string, string | number>): string =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

/** seconds with millisecond precision, "36.500": the Surefire time format junit-10.xsd checks */
const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

function details(v: Verdict): string {
  return [
    `budget: ${v.description}`,
    `status: ${v.status}${v.borderline === true ? ' (borderline: the 95% interval contains the limit)' : ''}`,
    `observed: ${observedText(v)}`,
    `95% interval: ${intervalText(v)}`,
    `limit: ${limitText(v)}`,
    `samples: ${v.samples}`,
    `reason: ${v.reason}`,
  ].join('\n');
}

type Outcome = { kind: 'pass' } | { kind: 'failure'; type: string; message: string } | { kind: 'skipped'; message: string };

/** how each verdict reads in JUnit; whether it fails the run is core/verdict.ts's failsRun */
function outcome(v: Verdict, o: PolicyOptions): Outcome {
  if (!failsRun(v, o)) return v.status === 'inconclusive' ? { kind: 'skipped', message: `inconclusive: ${v.reason}` } : { kind: 'pass' };
  if (v.status === 'fail') return { kind: 'failure', type: v.borderline === true ? 'budget failed (borderline)' : 'budget failed', message: v.reason };
  if (v.status === 'inconclusive') return { kind: 'failure', type: 'budget inconclusive', message: v.reason };
  return { kind: 'failure', type: 'budget borderline', message: `borderline under --strict: the 95% interval ${intervalText(v)} contains the limit ${limitText(v)}; ${v.reason}` };
}

export function renderJunit(x: RunResult | ReportView, options: JunitOptions = {}): string {
  // JUnit's own default for strict is off: a reader asks for --strict explicitly
  const view = asView(x, { ...options, strict: options.strict ?? false });
  const r = view.report;
  const d = view.decision;
  const o = view.policy;
  const suite = `budgetgate.${r.profile}`;
  const cases = r.budgets.map((v) => ({ name: `${v.id}: ${v.description}`, v, out: outcome(v, o) }));
  // a run that stopped early is one more failed test: the schedule did not finish
  const interrupted = d.stopped ? [{ name: 'run finished', message: d.reason ?? d.headline, type: d.stopped }] : [];
  // each fault hook is a test case too: a failed one (not optional) failed the run
  const hooks = (r.hooks ?? []).map((h) => ({ name: `hook ${h.id}: ${h.what}`, failed: failsRunHook(h), skipped: h.status === 'skipped', text: `${describeHookReport(h)}${h.output ? `\noutput:\n${h.output}` : ''}`, message: h.error ?? h.status }));
  const failures = cases.filter((c) => c.out.kind === 'failure').length + interrupted.length + hooks.filter((h) => h.failed).length;
  const skipped = cases.filter((c) => c.out.kind === 'skipped').length + hooks.filter((h) => h.skipped).length;
  const tests = cases.length + interrupted.length + hooks.length;
  const time = seconds(r.durationMs);
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites${attrs({ name: 'budgetgate', tests, failures, errors: 0, time })}>`);
  // xs:dateTime without a zone (the Ant format); startedAt is UTC
  const timestamp = r.startedAt.replace(/(\.\d+)?Z$/, '');
  lines.push(`  <testsuite${attrs({ name: suite, tests, failures, errors: 0, skipped, time, timestamp })}>`);
  lines.push('    <properties>');
  for (const [name, value] of [['target', r.target], ['arrivals', r.arrivals], ['verdict', d.verdict], ['tool', `${r.tool.name} ${r.tool.version}`]] as const) {
    lines.push(`      <property${attrs({ name, value })}/>`);
  }
  // each path of each phase (view.ts paths): what the pathShare and promptCacheShare budgets read
  for (const f of view.paths) {
    const value = `ok ${f.completed}, errors ${f.errors}, share ${percent(f.share)}, cached share of prompt tokens ${percent(f.cacheShare)}`;
    lines.push(`      <property${attrs({ name: `path ${f.path} (${f.phase})`, value })}/>`);
  }
  lines.push('    </properties>');
  for (const c of cases) {
    lines.push(`    <testcase${attrs({ name: c.name, classname: suite, time: '0' })}>`);
    if (c.out.kind === 'failure') lines.push(`      <failure${attrs({ message: c.out.message, type: c.out.type })}>${xmlEscape(details(c.v))}</failure>`);
    if (c.out.kind === 'skipped') lines.push(`      <skipped${attrs({ message: c.out.message })}/>`);
    // a failure's body already carries the details; readers show one or the other
    if (c.out.kind !== 'failure') lines.push(`      <system-out>${xmlEscape(details(c.v))}</system-out>`);
    lines.push('    </testcase>');
  }
  for (const h of hooks) {
    lines.push(`    <testcase${attrs({ name: h.name, classname: suite, time: '0' })}>`);
    if (h.failed) lines.push(`      <failure${attrs({ message: h.message, type: 'hook failed' })}>${xmlEscape(h.text)}</failure>`);
    else {
      if (h.skipped) lines.push(`      <skipped${attrs({ message: 'the run stopped before the hook was due' })}/>`);
      lines.push(`      <system-out>${xmlEscape(h.text)}</system-out>`);
    }
    lines.push('    </testcase>');
  }
  for (const c of interrupted) {
    lines.push(`    <testcase${attrs({ name: c.name, classname: suite, time })}>`);
    lines.push(`      <failure${attrs({ message: c.message, type: c.type })}/>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>');
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
