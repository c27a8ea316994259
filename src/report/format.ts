/** Number formatting shared by the renderers. */
export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}s`;
  if (x >= 1000) return `${(x / 1000).toFixed(2)}s`;
  if (x >= 100) return `${x.toFixed(0)}ms`;
  if (x >= 10) return `${x.toFixed(1)}ms`;
  return `${x.toFixed(2)}ms`;
}

export function percent(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${Number((x * 100).toFixed(2))}%`;
}

export function observedText(v: { observed: number | null; unit: 'ms' | 'ratio' }): string {
  return v.unit === 'ms' ? ms(v.observed) : percent(v.observed);
}

export function limitText(v: { limit: number; unit: 'ms' | 'ratio' }): string {
  return v.unit === 'ms' ? ms(v.limit) : percent(v.limit);
}
