/**
 * A kept response body → its text, undoing `content-encoding` (gzip, deflate, br, possibly stacked:
 * "gzip, br" was gzipped first), so a body timing rule reads a compressed response's JSON instead of
 * counting it garbled. The decoded text is bounded like the kept body (MAX_DECODED_BYTES): a small
 * compressed body can expand a thousandfold. An unknown or broken encoding yields undefined, and the
 * body's stages are then unmeasured, as for any body that is not JSON.
 */
import { brotliDecompressSync, gunzipSync, inflateSync, type ZlibOptions } from 'node:zlib';

/** Decoded bodies larger than this are not read (the rules' fields are in the first few KiB). */
export const MAX_DECODED_BYTES = 8 << 20;

const DECODERS: Record<string, (b: Buffer, o: ZlibOptions) => Buffer> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/** headers: autocannon's flat [name, value, name, value, …] list */
export function contentEncodings(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() !== 'content-encoding') continue;
    for (const e of (headers[i + 1] as string).split(',')) {
      const name = e.trim().toLowerCase();
      if (name !== '' && name !== 'identity') out.push(name);
    }
  }
  return out;
}

export function decodeBody(headers: readonly string[], chunks: readonly Buffer[]): string | undefined {
  let body: Buffer = Buffer.concat(chunks);
  // the last encoding named was applied last, so it is undone first
  for (const enc of contentEncodings(headers).reverse()) {
    const decode = DECODERS[enc];
    if (decode === undefined) return undefined;
    try {
      body = decode(body, { maxOutputLength: MAX_DECODED_BYTES });
    } catch {
      return undefined; // truncated (over MAX_BODY_BYTES), corrupt or too large once decoded
    }
  }
  return body.toString('utf8');
}
