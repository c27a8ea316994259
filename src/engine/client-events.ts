/**
 * What comes off one connection's socket into its request's slot: the headers (and whether the
 * connection must close after this response), the body (metered when it is a stream being timed,
 * kept up to MAX_BODY_BYTES when a rule reads it, else ignored), the trailers, and the end.
 */
import { createStreamMeter, type StreamKind, type StreamMeter } from '../core/stream.js';
import type { HookedClient } from './autocannon-hook.js';
import { keepAliveValueMs, wantsClose, type Connection, type Slot } from './connection-pool.js';
import { contentEncodings, decodeBody } from './body-decode.js';

/** Bodies are kept only when a rule reads them, and only this much: bounded memory per request. */
export const MAX_BODY_BYTES = 1 << 20;

export interface ClientEventSink {
  /** run time, ms */
  now(): number;
  /** the request asks for a stream: time its content events */
  stream: { kind: StreamKind } | undefined;
  /** keep non-streamed bodies (a timing or fallback rule reads them) */
  readBody: boolean;
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
    const { keepAlive, type } = scanHeaders(info.headers);
    s.keepAliveMs = keepAlive === undefined ? undefined : keepAliveValueMs(keepAlive);
    if (!slot) return;
    slot.headers = info.headers;
    // a JSON body is kept (bounded) for its `usage` too: token accounting (core/tokens.ts)
    if (sink.stream && type.includes('text/event-stream')) slot.meter = freshMeter(s, sink.stream.kind);
    if ((!slot.meter && (sink.readBody || type.includes('json'))) || sink.keepsReply?.(slot) === true) {
      slot.body = [];
      slot.bodyBytes = 0;
    }
  });
  client.on('response', (status: number) => {
    s.afterResponse = true;
    s.onSocket++;
    const slot = s.slot;
    if (!slot) return;
    s.slot = undefined;
    sink.responded(s, slot, status);
  });
  client.on('body', (chunk: Buffer) => {
    const slot = s.slot;
    if (!slot) return;
    if (slot.meter) slot.meter.push(chunk, sink.now());
    // a stream's body is kept beside its meter only when a session needs the reply (keepsReply)
    if (slot.body && (slot.bodyBytes ?? 0) + chunk.length <= MAX_BODY_BYTES) {
      // a copy: the chunk is a view of the read buffer the next read overwrites (autocannon-hook.ts)
      slot.body.push(Buffer.from(chunk));
      slot.bodyBytes = (slot.bodyBytes ?? 0) + chunk.length;
    }
  });
  client.on('trailers', (raw: string[]) => {
    if (s.slot) s.slot.trailers = raw;
  });
  client.on('connError', (err) => sink.connError(s, err));
}

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
 * The two headers every response's handling reads, in one pass (this runs for every response): the
 * first Content-Type (lower-cased, '' when absent) and Keep-Alive. A name is lower-cased only when
 * its length matches.
 */
function scanHeaders(h: string[]): { keepAlive: string | undefined; type: string } {
  let keepAlive: string | undefined;
  let type: string | undefined;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i] as string;
    if (name.length === 12 && type === undefined && name.toLowerCase() === 'content-type') type = (h[i + 1] as string).toLowerCase();
    else if (name.length === 10 && keepAlive === undefined && name.toLowerCase() === 'keep-alive') keepAlive = h[i + 1] as string;
  }
  return { keepAlive, type: type ?? '' };
}
