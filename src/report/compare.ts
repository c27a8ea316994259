/** The terminal view of a comparison: one row per stage × path × phase × percentile. Comparison → string. */
import { Chalk } from 'chalk';
import type { Comparison } from '../core/compare.js';
import { ms } from './format.js';
import { baselineWords, changeText, changeWords, compareHeadline, compareNotes, compareRule } from './markdown.js';
import { table } from './table.js';

export function renderCompareTerminal(c: Comparison, o: { color: boolean }): string {
  const k = new Chalk({ level: o.color ? 1 : 0 });
  const iv = (i: [number, number] | null): string => (i === null ? '—' : `${ms(i[0])}–${ms(i[1])}`);
  const out: string[] = [];
  if (c.outcome === 'no-baseline' || (c.outcome === 'incomparable' && c.series.length === 0)) {
    out.push(k.bold(`budgetgate compare: → ${c.current.profile} (${c.current.startedAt})`));
    for (const n of compareNotes(c)) out.push(k.dim(`  ${n.replace(/`/g, '')}`));
    out.push(k.yellow.bold(compareHeadline(c)));
    return `${out.join('\n')}\n`;
  }
  out.push(k.bold(`budgetgate compare: ${baselineWords(c).replace(/`/g, '')} → ${c.current.profile} (${c.current.startedAt})`));
  out.push(k.dim(`  ${compareRule(c)}`));
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
  for (const n of compareNotes(c)) out.push(k.dim(`  ${n.replace(/`/g, '')}`));
  const head = compareHeadline(c);
  out.push(c.outcome === 'regression' ? k.red.bold(head) : c.outcome === 'pass' ? k.green.bold(head) : k.yellow.bold(head));
  return `${out.join('\n')}\n`;
}
