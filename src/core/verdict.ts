/**
 * The one verdict policy: every budget verdict plus how the run ended → pass or fail, the reason,
 * and the headline every renderer prints. run, check, merge, capacity, --strict and the renderers
 * all call `decide`; nothing else decides whether a run passed.
 *
 *   pass ⇔ ¬aborted ∧ ¬interrupted ∧ ∀ v ∈ verdicts: ¬failsRun(v) ∧ ∀ h ∈ hooks: ¬failsRunHook(h)
 *   failsRun(v) ⇔ v = fail ∨ (v = inconclusive ∧ ¬allowInconclusive) ∨ (strict ∧ v = pass ∧ v borderline)
 *
 * A run stopped by an early-abort budget fails by its window verdict, whatever the whole run's data
 * says: a gate never passes a run it stopped. An interrupted run fails: it measured part of its
 * schedule. A run that finished is also judged on the implicit load-delivered verdict (budgets.ts),
 * added here from `totals` when the caller's verdicts do not already hold it. A fault hook that
 * failed (non-zero exit, HTTP ≥ 400, timeout, spawn error) fails the run unless it is optional
 * (hooks.ts): a fault that was not injected, or a cleanup that did not run, leaves the run unknown.
 */
import { LOAD_DELIVERED_ID, evaluateBudgets, loadDeliveredVerdict, measurementsFromReport } from './budgets.js';
import type { Budget } from './profile-types.js';
import type { Counts, RunResult, Verdict } from './report.js';
import { failsRunHook, type HookReport } from './hooks.js';

export interface RunState {
  interrupted: boolean;
  /** the early-abort window verdict that stopped the run */
  aborted?: Verdict | undefined;
  /** the run's totals, for the load-delivered verdict of a run that finished */
  totals?: Counts | undefined;
  /** what the run itself said when it stopped (a checkpoint, a merged shard's name); used only when it stopped */
  reason?: string | undefined;
  /** the fault hooks that were due (hooks.ts) */
  hooks?: readonly HookReport[] | undefined;
}

export interface PolicyOptions {
  /** an inconclusive budget (too few samples) does not fail the run */
  allowInconclusive: boolean;
  /** a borderline pass (its 95% interval contains the limit) fails the run */
  strict?: boolean | undefined;
}

export interface Decision {
  verdict: 'pass' | 'fail';
  /** why the run failed when no single budget says it (aborted, interrupted, load, --strict) */
  reason?: string;
  /** one line for a report's title: "all 3 budgets hold", "2 of 3 budgets not passed", the abort reason… */
  headline: string;
  /** the run stopped before its schedule ended (renderers mark it) */
  stopped: 'aborted' | 'interrupted' | undefined;
  /** the verdicts judged: the caller's, plus load delivered when it was due and missing */
  verdicts: Verdict[];
}

export const INTERRUPTED_REASON = 'interrupted: the run was stopped before its schedule ended';

/** Whether one verdict fails the run under the options (see the module comment). */
export function failsRun(v: Pick<Verdict, 'status' | 'borderline'>, o: PolicyOptions): boolean {
  if (v.status === 'fail') return true;
  if (v.status === 'inconclusive') return !o.allowInconclusive;
  return o.strict === true && v.borderline === true;
}

/** A borderline pass that fails only because of --strict. */
const strictOnly = (v: Verdict, o: PolicyOptions): boolean => o.strict === true && v.status === 'pass' && v.borderline === true;

export function decide(verdicts: readonly Verdict[], s: RunState, o: PolicyOptions): Decision {
  const all = [...verdicts];
  const stopped = s.aborted ? 'aborted' : s.interrupted ? 'interrupted' : undefined;
  if (stopped === undefined && s.totals !== undefined && !all.some((v) => v.id === LOAD_DELIVERED_ID)) all.push(loadDeliveredVerdict(s.totals));
  const failing = all.filter((v) => failsRun(v, o));
  const badHooks = (s.hooks ?? []).filter(failsRunHook);
  const verdict = stopped === undefined && failing.length === 0 && badHooks.length === 0 ? 'pass' : 'fail';
  const hookReason = badHooks.length > 0 ? `hook ${badHooks.map((h) => `${h.id} failed (${h.error ?? h.status})`).join(', ')}` : undefined;
  const delivered = all.find((v) => v.id === LOAD_DELIVERED_ID);
  const borderline = failing.filter((v) => strictOnly(v, o)).map((v) => v.id);
  const reason =
    s.aborted ? (s.reason ?? s.aborted.reason)
    : s.interrupted ? (s.reason ?? INTERRUPTED_REASON)
    : delivered?.status === 'fail' ? delivered.reason
    : borderline.length > 0 ? `--strict: borderline pass of ${borderline.join(', ')} (the 95% interval contains the limit)`
    : hookReason;
  const notPassed = all.filter((v) => v.status !== 'pass').length;
  const headline =
    s.aborted ? (reason ?? 'aborted')
    : s.interrupted ? 'interrupted'
    : verdict === 'pass' ? `all ${all.length} budgets hold`
    : failing.length === 0 && hookReason !== undefined ? hookReason
    : `${notPassed} of ${all.length} budgets not passed${borderline.length > 0 ? `, ${borderline.length} borderline under --strict` : ''}${badHooks.length > 0 ? `, ${badHooks.length} hook${badHooks.length > 1 ? 's' : ''} failed` : ''}`;
  return { verdict, ...(reason !== undefined ? { reason } : {}), headline, stopped, verdicts: all };
}

/** A saved report's decision on the verdicts it holds (no load-delivered verdict is added to them). */
export function decideReport(r: Pick<RunResult, 'budgets' | 'interrupted' | 'aborted' | 'reason' | 'hooks'>, o: PolicyOptions): Decision {
  return decide(r.budgets, { interrupted: r.interrupted, aborted: r.aborted, reason: r.reason, hooks: r.hooks }, o);
}

/**
 * The options a saved report was judged under, when the caller does not know them: those that
 * reproduce its recorded verdict. A passing report with an inconclusive budget allowed it; a failing
 * one that passes without --strict and fails with it was strict.
 */
export function policyOf(r: Pick<RunResult, 'budgets' | 'interrupted' | 'aborted' | 'reason' | 'verdict' | 'hooks'>, known: Partial<PolicyOptions> = {}): PolicyOptions {
  const allowInconclusive = known.allowInconclusive ?? (r.verdict === 'pass' && r.budgets.some((v) => v.status === 'inconclusive'));
  if (known.strict !== undefined) return { allowInconclusive, strict: known.strict };
  const lax = decideReport(r, { allowInconclusive, strict: false }).verdict;
  const strict = r.verdict === 'fail' && lax === 'pass' && decideReport(r, { allowInconclusive, strict: true }).verdict === 'fail';
  return { allowInconclusive, strict };
}

/**
 * Budgets re-evaluated on a saved report, as the run itself does: the profile's budgets, then the
 * load-delivered verdict from the totals unless the run stopped early, all judged by `decide`.
 */
export function reevaluate(r: RunResult, budgets: readonly Budget[], o: PolicyOptions): { budgets: Verdict[]; verdict: 'pass' | 'fail'; reason?: string } {
  const d = decide(evaluateBudgets(budgets, measurementsFromReport(r)), r, o);
  return { budgets: d.verdicts, verdict: d.verdict, ...(d.reason !== undefined ? { reason: d.reason } : {}) };
}
