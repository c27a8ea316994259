/** `budgetgate validate`: the plan a profile describes, before anything is sent. */
import { describeBudget } from '../core/profile-types.js';
import type { Profile, Sessions } from '../core/profile-types.js';
import type { Plan, PlannedPhase } from '../core/schedule.js';
import { formatDuration } from '../core/units.js';
import { table } from './table.js';
import { describeInstant, hookPlan, needsAllowHooks } from '../core/hooks.js';

function arrivalsLine(profile: Profile): string {
  switch (profile.arrivals) {
    case 'uniform':
      return 'arrivals uniform';
    case 'poisson':
      return `arrivals poisson (seed ${profile.seed})`;
    case 'gamma':
      return `arrivals gamma (burstiness ${profile.burstiness}, seed ${profile.seed})`;
  }
}

/** A trace phase: its format, file, time scale and mean rate (records and span are the row's requests, start and end). */
function traceCell(p: PlannedPhase): string | undefined {
  const t = p.trace;
  if (!t) return undefined;
  const scale = t.rate !== undefined ? `rescaled to ${t.rate}/s` : t.speed !== 1 ? `speed ${t.speed}` : 'as recorded';
  const mean = Math.round(p.rate * 1000) / 1000;
  return `trace ${t.format} ${t.file} (${scale}): mean ${mean}/s over ${formatDuration(p.endMs - p.startMs)}`;
}

/** Closed phases have no requests planned: how many they send is up to the server. */
function loadCell(p: PlannedPhase): string {
  const trace = traceCell(p);
  if (trace !== undefined) return trace;
  if (p.model === 'closed') {
    return p.concurrency === p.concurrencyTo
      ? `${p.concurrency} users (closed)`
      : `${p.concurrency}→${p.concurrencyTo} users (closed, linear ramp)`;
  }
  return p.rate === p.to ? `${p.rate}/s` : `${p.rate}→${p.to}/s (linear ramp)`;
}

/** "sessions: 3 generated turns, think 2s" / "sessions from c.jsonl (round-robin), think 1s" */
function sessionWords(s: Sessions | undefined): string {
  if (!s) return '';
  const think = `think ${formatDuration(s.thinkTimeMs)}`;
  return s.kind === 'generated' ? `sessions: ${s.turns} generated turns each, ${think}` : `sessions from ${s.file} (${s.order}), ${think}`;
}

export function renderPlan(profile: Profile, plan: Plan, target: string): string {
  const out: string[] = [];
  out.push(`profile ${profile.name}: valid`);
  out.push(`target  ${profile.target.method} ${target} (timeout ${formatDuration(profile.target.timeoutMs)}, at most ${profile.maxInFlight} in flight)`);
  out.push(arrivalsLine(profile));
  out.push('');
  out.push('Phases');
  out.push(
    table(
      [{ header: 'phase' }, { header: 'start', align: 'right' }, { header: 'end', align: 'right' }, { header: 'load' }, { header: 'requests', align: 'right' }, { header: '' }],
      plan.phases.map((p) => [
        p.name,
        formatDuration(p.startMs),
        formatDuration(p.endMs),
        loadCell(p),
        p.model === 'closed' ? '-' : String(p.requests),
        [p.warmup ? 'warmup: not budgeted' : '', sessionWords(profile.phases[p.index]?.sessions)].filter(Boolean).join('; '),
      ]),
    ),
  );
  const closed = plan.phases.some((p) => p.model === 'closed');
  const sessions = profile.phases.some((p) => p.sessions !== undefined);
  out.push(`  total ${plan.requests} ${sessions ? 'requests or session starts' : 'requests'} over ${formatDuration(plan.durationMs)}${closed ? ', plus whatever the closed phases send' : ''}`);
  if (profile.tokenizer !== undefined && profile.tokenizer.kind !== 'chars4') out.push(`tokenizer ${profile.tokenizer.kind === 'file' ? profile.tokenizer.file : profile.tokenizer.encoding}`);
  if (profile.paths.length > 0) {
    // in match order: the first path whose signals match takes the response
    out.push('');
    out.push('Paths (first match wins)');
    for (const r of profile.paths) out.push(`  ${r.name}: ${r.signals.map((x) => x.id).join(' or ')}${r.preset !== undefined ? ` (preset ${r.preset})` : ''}`);
    out.push('  primary: every other response');
  }
  if (profile.metrics.length > 0) {
    out.push('');
    out.push('Server metrics');
    for (const m of profile.metrics) {
      const what = [m.preset ? `preset ${m.preset}` : '', m.keep.length > 0 ? `keep ${m.keep.join(', ')}` : ''].filter(Boolean).join('; ');
      out.push(`  ${m.name}: ${m.url} every ${formatDuration(m.intervalMs)} (timeout ${formatDuration(m.timeoutMs)})${what ? `, ${what}` : ''}`);
    }
  }
  const hooks = hookPlan(profile.phases);
  if (hooks.length > 0) {
    out.push('');
    out.push('Hooks (not run by validate or --dry-run)');
    for (const h of hooks) out.push(`  ${describeInstant(h)}${needsAllowHooks(h.hook) !== undefined ? ', needs --allow-hooks' : ''}`);
  }
  out.push('');
  out.push('Budgets');
  if (profile.budgets.length === 0) out.push('  (none: the run passes when the load is delivered)');
  // expanded sugar names make long ids (total{phase=spike-recover} p50): widen rather than run together
  const idWidth = Math.max(28, ...profile.budgets.map((b) => b.id.length + 1));
  for (const b of profile.budgets) out.push(`  ${b.id.padEnd(idWidth)} ${describeBudget(b)}`);
  out.push(`  ${'load delivered'.padEnd(idWidth)} at least 95% of scheduled requests sent on time (always)`);
  return `${out.join('\n')}\n`;
}
