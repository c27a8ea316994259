/** Bench output: named sections, each a table on the terminal and an entry in the JSON results. */

export type Cell = number | string | null;
export type Row = Record<string, Cell>;

export interface Column {
  key: string;
  label: string;
  format?: (v: Cell, row: Row) => string;
}

export interface Section {
  /** stable id for the JSON (e.g. "paced-driver") */
  name: string;
  title: string;
  columns: Column[];
  rows: Row[];
  notes?: string[];
}

export function renderSection(s: Section): string {
  const cells = s.rows.map((r) => s.columns.map((c) => (c.format ? c.format(r[c.key] ?? null, r) : String(r[c.key] ?? '—'))));
  const widths = s.columns.map((c, i) => Math.max(c.label.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (parts: string[]): string => parts.map((p, i) => p.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [s.title, line(s.columns.map((c) => c.label)), ...cells.map(line)];
  for (const n of s.notes ?? []) out.push(`  ${n}`);
  return out.join('\n');
}

export const fmt = {
  ms(v: Cell): string {
    if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
    return v < 1 ? `${v.toFixed(3)}ms` : v < 100 ? `${v.toFixed(2)}ms` : `${v.toFixed(0)}ms`;
  },
  fixed(digits: number) {
    return (v: Cell): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
  },
  rate(v: Cell): string {
    return typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(1)}/s` : '—';
  },
  pct(v: Cell): string {
    return typeof v === 'number' && Number.isFinite(v) ? `±${(v * 100).toFixed(1)}%` : '—';
  },
};
