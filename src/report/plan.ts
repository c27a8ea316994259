/** `budgetgate validate`: the plan a profile describes, before anything is sent. */
import { describeBudget } from '../core/profile-types.js';
import type { Profile } from '../core/profile-types.js';
import type { Plan, PlannedPhase } from '../core/schedule.js';
import { formatDuration } from '../core/units.js';
import { table } from './table.js';

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

/** Closed phases have no requests planned: how many they send is up to the server. */
function loadCell(p: PlannedPhase): string {
  if (p.model === 'closed') {
    return p.concurrency === p.concurrencyTo
      ? `${p.concurrency} users (closed)`
      : `${p.concurrency}→${p.concurrencyTo} users (closed, linear ramp)`;
  }
  return p.rate === p.to ? `${p.rate}/s` : `${p.rate}→${p.to}/s (linear ramp)`;
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
        p.warmup ? 'warmup: not budgeted' : '',
      ]),
    ),
  );
  const closed = plan.phases.some((p) => p.model === 'closed');
  out.push(`  total ${plan.requests} requests over ${formatDuration(plan.durationMs)}${closed ? ', plus whatever the closed phases send' : ''}`);
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
  out.push('');
  out.push('Budgets');
  if (profile.budgets.length === 0) out.push('  (none: the run passes when the load is delivered)');
  // expanded sugar names make long ids (total{phase=spike-recover} p50): widen rather than run together
  const idWidth = Math.max(28, ...profile.budgets.map((b) => b.id.length + 1));
  for (const b of profile.budgets) out.push(`  ${b.id.padEnd(idWidth)} ${describeBudget(b)}`);
  out.push(`  ${'load delivered'.padEnd(idWidth)} at least 95% of scheduled requests sent on time (always)`);
  return `${out.join('\n')}\n`;
}
