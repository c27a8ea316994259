/** `budgetgate validate`: the plan a profile describes, before anything is sent. */
import { describeBudget } from '../core/profile.js';
import type { Profile } from '../core/profile-types.js';
import type { Plan } from '../core/schedule.js';
import { formatDuration } from '../core/units.js';
import { table } from './table.js';

export function renderPlan(profile: Profile, plan: Plan, target: string): string {
  const out: string[] = [];
  out.push(`profile ${profile.name}: valid`);
  out.push(`target  ${profile.target.method} ${target} (timeout ${formatDuration(profile.target.timeoutMs)}, at most ${profile.maxInFlight} in flight)`);
  out.push(`arrivals ${profile.arrivals}${profile.arrivals === 'poisson' ? ` (seed ${profile.seed})` : ''}`);
  out.push('');
  out.push('Phases');
  out.push(
    table(
      [{ header: 'phase' }, { header: 'start', align: 'right' }, { header: 'end', align: 'right' }, { header: 'rate' }, { header: 'requests', align: 'right' }, { header: '' }],
      plan.phases.map((p) => [
        p.name,
        formatDuration(p.startMs),
        formatDuration(p.endMs),
        p.rate === p.to ? `${p.rate}/s` : `${p.rate}→${p.to}/s (linear ramp)`,
        String(p.requests),
        p.warmup ? 'warmup: not budgeted' : '',
      ]),
    ),
  );
  out.push(`  total ${plan.requests} requests over ${formatDuration(plan.durationMs)}`);
  out.push('');
  out.push('Budgets');
  if (profile.budgets.length === 0) out.push('  (none: the run passes when the load is delivered)');
  for (const b of profile.budgets) out.push(`  ${b.id.padEnd(28)} ${describeBudget(b)}`);
  out.push(`  ${'load delivered'.padEnd(28)} at least 95% of scheduled requests sent on time (always)`);
  return `${out.join('\n')}\n`;
}
