/** The headline figures in words, for the end of the terminal summary and the HTML header. */
import type { Headline } from '../core/headline.js';

function rate(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** "throughput: 119.6 req/s achieved, 119.2 ok/s, 2,340 output tokens/s (over 35.0s of budgeted load)" */
export function throughputText(h: Headline): string {
  if (h.requestsPerSec === null || h.okPerSec === null) return 'throughput: — (no load window)';
  const tokens = h.outputTokensPerSec !== null ? `, ${rate(h.outputTokensPerSec)} output tokens/s` : '';
  return `throughput: ${rate(h.requestsPerSec)} req/s achieved, ${rate(h.okPerSec)} ok/s${tokens} (over ${(h.windowMs / 1000).toFixed(1)}s of budgeted load)`;
}
