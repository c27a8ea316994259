/** Bytes as a socket might deliver them, for the parser tests (header-block, response-head). */

/** `bytes` cut at the given points (each taken modulo its length + 1) into reads, in order */
export function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const reads: Buffer[] = [];
  let from = 0;
  for (const p of [...at, bytes.length]) {
    if (p > from) reads.push(bytes.subarray(from, p));
    from = p;
  }
  return reads;
}
