import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { contentEncodings, decodeBody } from '../../src/engine/body-decode.js';

const text = JSON.stringify({ metrics: { queue_time_ms: 12 } });
const raw = Buffer.from(text);

describe('decodeBody', () => {
  it.each([
    ['happy', [], [raw]],
    ['happy', ['content-encoding', 'identity'], [raw]],
    ['happy', ['Content-Encoding', 'gzip'], [gzipSync(raw)]],
    ['happy', ['content-encoding', 'deflate'], [deflateSync(raw)]],
    ['happy', ['content-encoding', 'br'], [brotliCompressSync(raw)]],
    // gzip applied first, then br: undone in reverse
    ['happy', ['content-encoding', 'gzip, br'], [brotliCompressSync(gzipSync(raw))]],
    // split across chunks, as bodies arrive
    ['happy', ['content-encoding', 'gzip'], (() => { const z = gzipSync(raw); return [z.subarray(0, 5), z.subarray(5)]; })()],
  ] as const)('%s: %j decodes to the JSON text', (_l, headers, chunks) => {
    expect(decodeBody(headers, chunks)).toBe(text);
  });

  it.each([
    ['sad', ['content-encoding', 'zstd'], [raw]],
    ['sad', ['content-encoding', 'gzip'], [raw]],
    ['sad', ['content-encoding', 'gzip'], [gzipSync(raw).subarray(0, 10)]],
  ] as const)('%s: %j (unknown, corrupt, truncated) is undefined, so the stages count unmeasured', (_l, headers, chunks) => {
    expect(decodeBody(headers, chunks)).toBeUndefined();
  });

  it('sad: a bomb (a small body that decodes past the bound) is refused, not expanded', () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20));
    expect(bomb.length).toBeLessThan(1 << 20);
    expect(decodeBody(['content-encoding', 'gzip'], [bomb])).toBeUndefined();
  });

  it('happy: encodings are read from every content-encoding header, lower-cased, identity dropped', () => {
    expect(contentEncodings(['x', 'y', 'Content-Encoding', 'GZIP, identity', 'content-encoding', 'br'])).toEqual(['gzip', 'br']);
  });
});
