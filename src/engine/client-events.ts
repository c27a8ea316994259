/**
 * What comes off one connection's socket into its request's slot: the headers (and whether the
 * connection must close after this response), the body (metered when it is a stream being timed,
 * kept up to MAX_BODY_BYTES when a rule reads it, else ignored), the trailers, and the end.
 */
import { createStreamMeter, type StreamKind, type StreamMeter } from '../core/stream.js';
import type { HookedClient } from './autocannon-hook.js';
import { keepAliveValueMs, wantsClose, type Connection, type Slot } from './connection-pool.js';
import { contentEncodings, decodeBody } from './body-decode.js';
import { bodyUsageTokens } from '../core/tokens.js';

/** Bodies are kept only when a rule reads them, and only this much: bounded memory per request. */
export const MAX_BODY_BYTES = 1 << 20;

export interface ClientEventSink {
  /** run time, ms */
  now(): number;
  /** the request asks for a stream: time its content events */
  stream: { kind: StreamKind } | undefined;
  /** keep non-streamed bodies (a timing or fallback rule reads them) */
  readBody: boolean;
  /** a header (by name, any case) the response's handling reads (TimingExtractor.reads); Content-Encoding is kept besides */
  readsHeader(name: string): boolean;
  /** keep this slot's body whatever it is, streams too (a session turn's reply goes into its next turn) */
  keepsReply?(slot: Slot): boolean;
  /** the slot's response ended with this status; the slot is already detached from `s` */
  responded(s: Connection, slot: Slot, status: number): void;
  /** the socket failed (refused, reset, …) */
  connError(s: Connection, err: NodeJS.ErrnoException): void;
}

export function listen(client: HookedClient, s: Connection, sink: ClientEventSink): void {
  client.on('headers', (info) => {
    const slot = s.slot;
    s.closing = wantsClose(info);
    const { keepAlive, type, length, encoded, kept } = scanHeaders(info.headers, sink, seen);
    // a server sends the same Keep-Alive on every response: its regex runs when the text changes
    if (keepAlive !== s.keepAliveText) {
      s.keepAliveText = keepAlive;
      s.keepAliveMs = keepAlive === undefined ? undefined : keepAliveValueMs(keepAlive);
    }
    // only the headers read later stay (scanHeaders); autocannon holds `info` until the end too
    info.headers = kept;
    if (!slot) return;
    slot.headers = kept;
    // a JSON body is kept (bounded) for its `usage` too: token accounting (core/tokens.ts)
    if (sink.stream && type.includes('text/event-stream')) slot.meter = freshMeter(s, sink.stream.kind);
    const json = !slot.meter && type.includes('json');
    const keeps = sink.keepsReply?.(slot) === true;
    if ((!slot.meter && sink.readBody) || json || keeps) {
      slot.bodyBytes = 0;
      // for its usage alone (no rule, no session reads its text): read where it lies if it comes in one
      // read; its chunk list is made only if it does not
      if (json && !sink.readBody && !keeps && !encoded && length !== undefined && length <= MAX_BODY_BYTES) slot.usageBytes = length;
      else slot.body = [];
    }
  });
  client.on('response', (status: number) => {
    s.afterResponse = true;
    s.onSocket++;
    const slot = s.slot;
    if (!slot) return;
    s.slot = undefined;
    if (slot.usageChunk) {
      // still the read that carried it: the parser emits 'response' in the call that read the body's last byte
      slot.bodyTokens = bodyUsageTokens(slot.usageChunk) ?? null;
      slot.usageChunk = undefined;
    }
    sink.responded(s, slot, status);
  });
  client.on('body', (chunk: Buffer) => {
    const slot = s.slot;
    if (!slot) return;
    if (slot.meter) slot.meter.push(chunk, sink.now());
    if (slot.usageBytes === chunk.length && slot.bodyBytes === 0) {
      // the whole body in this read: no copy; its usage is read at 'response', before the next read
      slot.usageChunk = chunk;
      slot.bodyBytes = chunk.length;
      return;
    }
    // a stream's body is kept beside its meter only when a session needs the reply (keepsReply)
    if ((slot.body !== undefined || slot.usageBytes !== undefined) && (slot.bodyBytes ?? 0) + chunk.length <= MAX_BODY_BYTES) {
      // a copy: the chunk is a view of the read buffer the next read overwrites (autocannon-hook.ts)
      (slot.body ??= []).push(Buffer.from(chunk));
      slot.bodyBytes = (slot.bodyBytes ?? 0) + chunk.length;
    }
  });
  client.on('trailers', (raw: string[]) => {
    if (s.slot) s.slot.trailers = raw;
  });
  client.on('connError', (err) => sink.connError(s, err));
}

/**
 * A header name equals `lower` (letters and "-", lower case, of the same length) in any case, without
 * the string toLowerCase would make: c | 0x20 maps each upper-case letter to its lower case, and only
 * a letter's two cases map to it; "-" is matched by "-" and by CR, which no header name holds (the
 * parser refuses a header line with a CR in it).
 */
function isName(name: string, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) if ((name.charCodeAt(k) | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

interface SeenHeaders {
  keepAlive: string | undefined;
  type: string;
  length: number | undefined;
  encoded: boolean;
  /**
   * The name/value pairs the response's handling reads (sink.readsHeader, and Content-Encoding for
   * decoding a kept body), in order, in a new list. A streamed response lives seconds: what it holds
   * survives the young generation's collections and each one copies it, so the rest of the
   * parser's list (and the header block its strings are cut from) is let go.
   */
  kept: string[];
}

const seen: SeenHeaders = { keepAlive: undefined, type: '', length: undefined, encoded: false, kept: [] };

/** The connection's meter, reset: the previous stream on it was finished with its response (responses on a connection are sequential). */
function freshMeter(s: Connection, kind: StreamKind): StreamMeter {
  if (s.meter) s.meter.reset();
  else s.meter = createStreamMeter(kind);
  return s.meter;
}

/** The kept body as text (content-encoding undone, body-decode.ts), for interpretResponse; undefined when none was kept or it cannot be decoded. */
export function bodyText(slot: Slot): string | undefined {
  return slot.body && slot.body.length > 0 ? decodeBody(slot.headers ?? [], slot.body) : undefined;
}

/**
 * The kept body for `usage` alone (no rule reads it): its bytes as they came when they need no
 * decoding (interpretResponse then parses nothing but the usage), else its decoded text.
 */
export function bodyForUsage(slot: Slot): string | Uint8Array | undefined {
  const body = slot.body;
  if (!body || body.length === 0) return undefined;
  if (contentEncodings(slot.headers ?? []).length > 0) return bodyText(slot);
  return body.length === 1 ? body[0] : Buffer.concat(body);
}

/**
 * The headers every response's handling reads, in one pass (this runs for every response): the first
 * Content-Type (lower-cased, '' when absent), Keep-Alive, the Content-Length when there is one valid
 * one, whether any Content-Encoding is named, and the headers kept for later (SeenHeaders.kept). A
 * name is compared (in any case, in place: isName) only when its length matches.
 * Written into `out` (one object for the thread, read at once by the caller), not a new object per
 * response.
 */
function scanHeaders(h: string[], sink: Pick<ClientEventSink, 'readsHeader'>, out: SeenHeaders): SeenHeaders {
  let keepAlive: string | undefined;
  let type: string | undefined;
  let length: number | undefined;
  let lengths = 0;
  let encoded = false;
  const kept: string[] = [];
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i] as string;
    const n = name.length;
    let keep = false;
    if (n === 12 && type === undefined && isName(name, 'content-type')) type = (h[i + 1] as string).toLowerCase();
    else if (n === 10 && keepAlive === undefined && isName(name, 'keep-alive')) keepAlive = h[i + 1] as string;
    else if (n === 14 && isName(name, 'content-length')) {
      lengths++;
      const v = h[i + 1] as string;
      length = /^\d{1,15}$/.test(v) ? Number(v) : undefined;
    } else if (n === 16 && isName(name, 'content-encoding')) encoded = keep = true;
    if (keep || sink.readsHeader(name)) kept.push(name, h[i + 1] as string);
  }
  out.keepAlive = keepAlive;
  out.type = type ?? '';
  out.length = lengths === 1 ? length : undefined;
  out.encoded = encoded;
  out.kept = kept;
  return out;
}
