/** The terminal view of a comparison: one row per stage × path × phase × percentile. Comparison → string. */
import { Chalk } from 'chalk';
import type { Comparison } from '../core/compare.js';
import { ms } from './format.js';
import { changeText, changeWords } from './markdown.js';
import { table } from './table.js';

export function renderCompareTerminal(c: Comparison, o: { color: boolean }): string {
  const k = new Chalk({ level: o.color ? 1 : 0 });
  const iv = (i: [number, number] | null): string => (i === null ? '—' : `${ms(i[0])}–${ms(i[1])}`);
  const out: string[] = [];
  out.push(k.bold(`budgetgate compare: ${c.baseline.profile} (${c.baseline.startedAt}) → ${c.current.profile} (${c.current.startedAt})`));
  out.push(k.dim('  regression: slower than the tolerance AND the current 95% interval lies wholly above the baseline\'s'));
  const rows = c.series.flatMap((s) =>
    s.changes.map((ch) => [
      s.stage,
      s.path,
      s.phase,
      ch.key,
      ms(ch.baseline),
      ms(ch.current),
      ch.status === 'regression' ? { text: changeText(ch), paint: k.red.bold } : changeText(ch),
      `${Number((ch.tolerance * 100).toFixed(2))}%`,
      iv(ch.baselineInterval),
      iv(ch.currentInterval),
      `${s.baselineCount}→${s.currentCount}`,
      { text: changeWords(ch).replace(/^❌ /, '').toUpperCase(), paint: ch.status === 'regression' ? k.red.bold : ch.status === 'faster' ? k.green : ch.status === 'insufficient' || ch.status === 'slower' ? k.yellow : k.dim },
    ]),
  );
  out.push(
    table(
      [
        { header: 'stage' },
        { header: 'path' },
        { header: 'phase' },
        { header: 'pct' },
        { header: 'baseline', align: 'right' },
        { header: 'current', align: 'right' },
        { header: 'change', align: 'right' },
        { header: 'tolerance', align: 'right' },
        { header: 'baseline 95%', align: 'right' },
        { header: 'current 95%', align: 'right' },
        { header: 'samples', align: 'right' },
        { header: 'verdict' },
      ],
      rows,
    ),
  );
  if (c.onlyInBaseline.length > 0) out.push(k.dim(`  only in the baseline (not compared): ${c.onlyInBaseline.join(', ')}`));
  if (c.onlyInCurrent.length > 0) out.push(k.dim(`  only in the current run (not compared): ${c.onlyInCurrent.join(', ')}`));
  out.push(c.regressions > 0 ? k.red.bold(`REGRESSION ${c.regressions} percentile${c.regressions === 1 ? '' : 's'} slower beyond tolerance and noise`) : k.green.bold('NO REGRESSION'));
  return `${out.join('\n')}\n`;
}
