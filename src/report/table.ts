/** Fixed-width text tables. Cells are padded before colouring, so ANSI codes never skew the widths. */
export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

export interface Cell {
  text: string;
  paint?: (s: string) => string;
}

export function table(columns: readonly Column[], rows: readonly (readonly (Cell | string)[])[], indent = '  '): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'string' ? { text: c } : c)));
  const widths = columns.map((col, i) => Math.max(col.header.length, ...cells.map((r) => r[i]?.text.length ?? 0)));
  const last = columns.length - 1;
  const pad = (text: string, i: number): string => {
    const w = widths[i] ?? 0;
    if (columns[i]?.align === 'right') return text.padStart(w);
    return i === last ? text : text.padEnd(w); // no trailing padding hidden inside a painted last cell
  };
  const lines = [columns.map((c, i) => pad(c.header, i)).join('  ')];
  for (const r of cells) lines.push(r.map((c, i) => (c.paint ?? ((s: string) => s))(pad(c.text, i))).join('  '));
  return lines.map((l) => indent + l.trimEnd()).join('\n');
}
