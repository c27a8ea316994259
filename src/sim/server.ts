import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  clampMaxTokens,
  estimateTokens,
  meanService,
  resolveOptions,
  sampleService,
  stallRemaining,
  type FaultKind,
  type ResolvedOptions,
  type SimOptions,
} from './model.js';
import { TimerSet, WorkerPool } from './pool.js';
import { CACHE_REQUEST_HEADER, CACHE_RESPONSE_HEADER, Lru, PrefixCache } from './cache.js';
import { mulberry32 } from './prng.js';
import { parseFaultCommand } from './admin.js';

export interface SimStats {
  /** Successful (200) completions, either route. */
  served: number;
  /** Of those, served by the fallback model. */
  fallback: number;
  /** Injected faults the client saw (500/503/429 responses and resets). */
  errors: number;
  /** Longest the primary queue has been. */
  maxQueue: number;
  /** Of `served`, answered from the response cache. */
  cacheHits: number;
}

export interface SimServer {
  /** http://HOST:PORT */
  url: string;
  port: number;
  stats(): SimStats;
  close(): Promise<void>;
}

type Endpoint = 'chat' | 'text';

interface ParsedRequest {
  endpoint: Endpoint;
  model: string;
  promptTokens: number;
  maxTokens: number;
  /** `stream: true`: answer with text/event-stream chunks, one per token */
  stream: boolean;
  /** `stream_options.include_usage: true`: a final chunk with usage (and metrics) before [DONE] */
  includeUsage: boolean;
  /** the body as sent: the response cache's key */
  raw: string;
  /** the prompt's text (messages joined by newlines), for the prefix cache */
  text: () => string;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_TOKENS = 64;

// Sliced per response rather than generated, so a 2,000 req/s load spends its CPU on the client.
const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '
  .repeat(220)
  .slice(0, 4096 * 4);

class BadRequest extends Error {}

function promptChars(endpoint: Endpoint, body: Record<string, unknown>): number {
  if (endpoint === 'text') {
    const p = body.prompt;
    if (p === undefined) return 0;
    if (typeof p === 'string') return p.length;
    if (Array.isArray(p) && p.every((s) => typeof s === 'string')) {
      return (p as string[]).reduce((n, s) => n + s.length, 0);
    }
    throw new BadRequest('prompt must be a string or an array of strings');
  }
  const messages = body.messages;
  if (!Array.isArray(messages)) throw new BadRequest('messages must be an array');
  let chars = 0;
  for (const m of messages) {
    const content: unknown = typeof m === 'object' && m !== null ? (m as { content?: unknown }).content : undefined;
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      // The multi-part form: only text parts cost prompt tokens here.
      for (const part of content) {
        const text: unknown = typeof part === 'object' && part !== null ? (part as { text?: unknown }).text : undefined;
        if (typeof text === 'string') chars += text.length;
      }
    }
  }
  // Messages are joined with a newline between them.
  return chars + Math.max(0, messages.length - 1);
}

function parseRequest(endpoint: Endpoint, raw: string, defaultModel: string): ParsedRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new BadRequest('body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  let maxTokens = DEFAULT_MAX_TOKENS;
  if (b.max_tokens !== undefined && b.max_tokens !== null) {
    if (typeof b.max_tokens !== 'number' || !Number.isFinite(b.max_tokens)) {
      throw new BadRequest('max_tokens must be a number');
    }
    maxTokens = clampMaxTokens(b.max_tokens);
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw new BadRequest('stream must be a boolean');
  const so = b.stream_options;
  if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so))) throw new BadRequest('stream_options must be an object');
  const includeUsage = typeof so === 'object' && so !== null && (so as Record<string, unknown>).include_usage === true;
  return {
    endpoint,
    model: typeof b.model === 'string' && b.model !== '' ? b.model : defaultModel,
    promptTokens: estimateTokens(promptChars(endpoint, b)),
    maxTokens,
    stream: b.stream === true,
    includeUsage,
    raw,
    text: () => promptText(endpoint, b),
  };
}

function promptText(endpoint: Endpoint, body: Record<string, unknown>): string {
  if (endpoint === 'text') return typeof body.prompt === 'string' ? body.prompt : Array.isArray(body.prompt) ? body.prompt.join('') : '';
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return messages
    .map((m: unknown) => {
      const content: unknown = typeof m === 'object' && m !== null ? (m as { content?: unknown }).content : undefined;
      if (typeof content === 'string') return content;
      if (!Array.isArray(content)) return '';
      return content.map((part: unknown) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('');
    })
    .join('\n');
}

function sendJson(res: ServerResponse, status: number, payload: unknown, extra?: Record<string, string>): void {
  if (res.destroyed) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, type: string, message: string, extra?: Record<string, string>): void {
  sendJson(res, status, { error: { message, type, code: status } }, extra);
}

const ms3 = (x: number): number => Math.round(x * 1000) / 1000;

/** vLLM's per-request metrics for a request whose tokens came `tokenMs` apart after prefill. */
function requestMetrics(queueMs: number, prefillMs: number, decodeMs: number, tokenMs: number): Record<string, number> {
  return {
    queue_time_ms: ms3(queueMs),
    time_to_first_token_ms: ms3(queueMs + prefillMs + tokenMs),
    generation_time_ms: ms3(decodeMs),
    mean_itl_ms: ms3(tokenMs),
  };
}

function serverTiming(queueMs: number, prefillMs: number, decodeMs: number): string {
  return `queue;dur=${queueMs.toFixed(3)}, prefill;dur=${prefillMs.toFixed(3)}, decode;dur=${decodeMs.toFixed(3)}`;
}

const FAULT_STATUS: Record<Exclude<FaultKind, 'reset'>, [number, string, Record<string, string>]> = {
  '500': [500, 'server_error', {}],
  '503': [503, 'service_unavailable', { 'retry-after': '1' }],
  '429': [429, 'rate_limit_exceeded', { 'retry-after': '1' }],
};

/**
 * Streamed responses (`stream: true`). Headers go out when service starts (the queue wait is known
 * then): `x-route`, `x-queue-time` and `Trailer: Server-Timing`; chat streams open with the usual
 * role chunk (empty content). With D = max_tokens and d = decode / D, token i (1 … D) is due at
 *
 *   start + prefill + i·d
 *
 * so the first token comes after queue + prefill + d, tokens are d apart, and the last one at
 * start + prefill + decode: the same end as the non-streamed response, so streaming changes no
 * service time. The decode jitter is per request (the same two draws as a non-streamed request), so
 * within one request every gap is d: a seed replays the same runs streamed or not.
 *
 * Pacing: one chained timer per request, not one per token. Each tick writes every token already
 * due (one write) and sets the next timer for the next due time. Due times are absolute, so the
 * average rate is exact; but Node timers fire on a ~1 ms grid, so when d < 1 ms tokens arrive in
 * bursts of the ones due since the last tick, and single gaps are only accurate to about ±1 ms.
 * The end of service writes whatever is still due, the usage chunk (with `stream_options.include_usage`),
 * `data: [DONE]`, and the trailer `Server-Timing: queue;dur=…, prefill;dur=…, decode;dur=…`.
 */
type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number } };

/** What the response cache keeps of an answer: replayed as it was (cache.ts). */
interface CachedAnswer {
  onFallback: boolean;
  usage: Usage;
}

/** The caches' say for one request; NO_CACHE when both are off for it. */
interface CacheContext {
  /** the response cache is on for this request (its answer is stored, and marked HIT or MISS) */
  response: boolean;
  key: string;
  hit?: CachedAnswer;
  /** prefix caching is on: the tokens it already held */
  cachedTokens?: number;
}
const NO_CACHE: CacheContext = { response: false, key: '' };

const cacheHeader = (c: CacheContext): Record<string, string> => (c.response ? { [CACHE_RESPONSE_HEADER]: c.hit ? 'HIT' : 'MISS' } : {});

interface StreamJob {
  start(queueMs: number): void;
  finish(queueMs: number): void;
}

/**
 * Starts the simulated inference endpoint. Stall windows are timed from the moment this promise
 * resolves. The returned server keeps load-test connections alive (65 s idle) and never caps
 * requests per socket.
 */
export async function startSim(options?: SimOptions): Promise<SimServer> {
  const o: ResolvedOptions = resolveOptions(options);
  const jitterRng = mulberry32(o.seed);
  // A separate stream, so turning faults on does not reshuffle the service times.
  const faultRng = mulberry32((o.seed ^ 0x9e3779b9) >>> 0);
  const timers = new TimerSet();
  const now = (): number => performance.now();
  let t0 = now();
  const stalls = o.stalls.filter((s) => s.forMs > 0);
  // POST /admin/fault (admin.ts): an outage window in the sim's clock (ms since t0); stalls join `stalls`
  const outage = { fromMs: 0, untilMs: 0 };
  const primary = new WorkerPool(o.workers, timers, now, (t) => (stalls.length === 0 ? 0 : stallRemaining(stalls, t - t0)));
  const fallback = new WorkerPool(o.fallbackWorkers, timers, now);
  const counts = { served: 0, fallback: 0, errors: 0, cacheHits: 0 };
  let seq = 0;
  let closed = false;
  const responses = new Lru<CachedAnswer>(o.cacheEntries);
  const prefixes = new PrefixCache(o.cacheEntries);

  /** `cached`: the prefix cache's tokens (undefined: prefix caching is off for this request) */
  function usageOf(req: ParsedRequest, cached?: number): Usage {
    const u: Usage = { prompt_tokens: req.promptTokens, completion_tokens: req.maxTokens, total_tokens: req.promptTokens + req.maxTokens };
    if (cached !== undefined) u.prompt_tokens_details = { cached_tokens: cached };
    return u;
  }

  function complete(req: ParsedRequest, res: ServerResponse, onFallback: boolean, prefillMs: number, decodeMs: number, queueMs: number, c: CacheContext = NO_CACHE): void {
    if (res.destroyed || closed) return;
    counts.served++;
    if (onFallback) counts.fallback++;
    if (c.hit) counts.cacheHits++;
    const usage = c.hit?.usage ?? usageOf(req, c.cachedTokens);
    if (c.response && !c.hit) responses.set(c.key, { onFallback, usage });
    const text = FILLER.slice(0, req.maxTokens * 4);
    const choice =
      req.endpoint === 'chat'
        ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' }
        : { index: 0, text, logprobs: null, finish_reason: 'length' };
    const payload: Record<string, unknown> = {
      id: `${req.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-sim-${++seq}`,
      object: req.endpoint === 'chat' ? 'chat.completion' : 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: onFallback ? o.fallbackModel : req.model,
      choices: [choice],
      usage,
    };
    if (o.perRequestMetrics) payload.metrics = requestMetrics(queueMs, prefillMs, decodeMs, decodeMs / req.maxTokens);
    sendJson(res, 200, payload, {
      'x-route': onFallback ? 'fallback' : 'primary',
      'x-queue-time': queueMs.toFixed(3),
      'server-timing': serverTiming(queueMs, prefillMs, decodeMs),
      ...cacheHeader(c),
    });
  }

  function streamJob(req: ParsedRequest, res: ServerResponse, onFallback: boolean, prefillMs: number, decodeMs: number, c: CacheContext = NO_CACHE): StreamJob {
    const chat = req.endpoint === 'chat';
    const d = decodeMs / req.maxTokens;
    const model = onFallback ? o.fallbackModel : req.model;
    const head = `{"id":"${chat ? 'chatcmpl' : 'cmpl'}-sim-${++seq}","object":"${chat ? 'chat.completion.chunk' : 'text_completion'}","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)}`;
    // Built by concatenation, not JSON.stringify per token: thousands of tokens/s must stay cheap.
    const pre = chat ? `data: ${head},"choices":[{"index":0,"delta":{"content":` : `data: ${head},"choices":[{"index":0,"text":`;
    const post = chat ? '},"finish_reason":null}]}\n\n' : ',"logprobs":null,"finish_reason":null}]}\n\n';
    const postLast = chat ? '},"finish_reason":"length"}]}\n\n' : ',"logprobs":null,"finish_reason":"length"}]}\n\n';
    let startAt = 0;
    let firstTokenAt = Number.NaN; // when the first content token was actually written
    let sent = 0; // tokens written
    let live = false;

    const gone = (): boolean => res.destroyed || closed;
    const tokens = (upTo: number): string => {
      let out = '';
      for (; sent < upTo; ) {
        sent++;
        const tok = FILLER.slice((sent - 1) * 4, sent * 4);
        out += pre + JSON.stringify(tok) + (sent === req.maxTokens ? postLast : post);
      }
      return out;
    };
    const tick = (): void => {
      if (!live || gone()) return;
      // tokens due by now: i with start + prefill + i·d ≤ now
      const due = d > 0 ? Math.floor((now() - startAt - prefillMs) / d + 1e-9) : req.maxTokens;
      const upTo = Math.min(req.maxTokens, due);
      if (upTo > sent) {
        if (sent === 0) firstTokenAt = now();
        res.write(tokens(upTo));
      }
      if (sent < req.maxTokens) timers.set(tick, Math.max(0, startAt + prefillMs + (sent + 1) * d - now()));
    };

    return {
      start(queueMs) {
        if (gone()) return;
        startAt = now();
        live = true;
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          'x-route': onFallback ? 'fallback' : 'primary',
          'x-queue-time': queueMs.toFixed(3),
          ...cacheHeader(c),
          trailer: 'Server-Timing',
        });
        if (chat) res.write(`data: ${head},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`);
        else res.flushHeaders();
        timers.set(tick, Math.max(0, prefillMs + d));
      },
      finish(queueMs) {
        live = false;
        if (gone()) return;
        counts.served++;
        if (onFallback) counts.fallback++;
        if (c.hit) counts.cacheHits++;
        const usage = c.hit?.usage ?? usageOf(req, c.cachedTokens);
        if (c.response && !c.hit) responses.set(c.key, { onFallback, usage });
        let out = tokens(req.maxTokens);
        if (req.includeUsage) {
          const metrics = o.perRequestMetrics ? `,"metrics":${JSON.stringify(requestMetrics(queueMs, prefillMs, decodeMs, d))}` : '';
          out += `data: ${head},"choices":[],"usage":${JSON.stringify(usage)}${metrics}}\n\n`;
        }
        out += 'data: [DONE]\n\n';
        res.write(out);
        if (sent === 0) firstTokenAt = now();
        // first_token: measured, arrival → first content write, timer overshoot included (the
        // planned prefill and decode above are what the model "took"; this is what the client saw)
        const arrivedAt = startAt - queueMs;
        res.addTrailers({ 'Server-Timing': `${serverTiming(queueMs, prefillMs, decodeMs)}, first_token;dur=${(firstTokenAt - arrivedAt).toFixed(3)}` });
        res.end();
      },
    };
  }

  /** The caches' say for this request (cache.ts): off, a response-cache hit, or the prefix cache's tokens. */
  function cacheContext(req: ParsedRequest, httpReq: IncomingMessage): CacheContext {
    const asked = httpReq.headers[CACHE_REQUEST_HEADER] === 'true';
    const response = o.responseCache || asked;
    const prefix = o.prefixCache || asked;
    if (!response && !prefix) return NO_CACHE;
    const key = `${req.endpoint} ${req.raw}`;
    const hit = response ? responses.get(key) : undefined;
    return { response, key, ...(hit ? { hit } : {}), ...(prefix && !hit ? { cachedTokens: prefixes.lookup(req.text(), req.promptTokens) } : {}) };
  }

  /** A response-cache hit: the stored answer in cacheHitMs, no model, no faults, no queue. */
  function serveHit(req: ParsedRequest, res: ServerResponse, c: CacheContext, hit: CachedAnswer): void {
    if (req.stream) {
      const job = streamJob(req, res, hit.onFallback, 0, o.cacheHitMs, c);
      job.start(0);
      timers.set(() => job.finish(0), o.cacheHitMs);
      return;
    }
    timers.set(() => complete(req, res, hit.onFallback, 0, o.cacheHitMs, 0, c), o.cacheHitMs);
  }

  function handleCompletion(req: ParsedRequest, httpReq: IncomingMessage, res: ServerResponse): void {
    const arrivedAt = now();
    const c = cacheContext(req, httpReq);
    if (c.hit) {
      serveHit(req, res, c, c.hit);
      return;
    }
    // the prefix cache's tokens need no prefill: prefill costs the uncached tokens only
    const s = sampleService(o, jitterRng, req.promptTokens - (c.cachedTokens ?? 0), req.maxTokens);
    const fallbackEnabled = !o.fallbackOff;
    let fault: FaultKind | undefined;
    if (o.errorRate > 0 && faultRng() < o.errorRate) {
      fault = o.errorKinds[Math.floor(faultRng() * o.errorKinds.length)] ?? '500';
    }
    const since = arrivedAt - t0;
    if (since >= outage.fromMs && since < outage.untilMs) fault = '503';
    let onFallback: boolean;
    if (fault !== undefined) {
      if (!(fallbackEnabled && o.fallbackOnError)) {
        counts.errors++;
        if (fault === 'reset') {
          httpReq.socket.destroy();
        } else {
          const [status, type, extra] = FAULT_STATUS[fault];
          sendError(res, status, type, `injected ${fault} fault`, { 'x-route': 'primary', ...extra });
        }
        return;
      }
      onFallback = true;
    } else if (fallbackEnabled) {
      const m = meanService(o, req.promptTokens - (c.cachedTokens ?? 0), req.maxTokens);
      onFallback = primary.predictedWaitMs(m.prefillMs + m.decodeMs) > o.fallbackDeadlineMs;
    } else {
      onFallback = false;
    }
    const k = onFallback ? o.fallbackSpeedup : 1;
    const prefillMs = s.prefillMs * k;
    const decodeMs = s.decodeMs * k;
    const pool = onFallback ? fallback : primary;
    if (req.stream) {
      const job = streamJob(req, res, onFallback, prefillMs, decodeMs, c);
      pool.submit({
        arrivedAt,
        serviceMs: prefillMs + decodeMs,
        abandoned: () => res.destroyed,
        started: (queueMs) => job.start(queueMs),
        done: (queueMs) => job.finish(queueMs),
      });
      return;
    }
    pool.submit({
      arrivedAt,
      serviceMs: prefillMs + decodeMs,
      abandoned: () => res.destroyed,
      done: (queueMs) => complete(req, res, onFallback, prefillMs, decodeMs, queueMs, c),
    });
  }

  function readBody(httpReq: IncomingMessage, res: ServerResponse, then: (raw: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    httpReq.on('data', (chunk: Buffer) => {
      if (tooBig) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooBig = true;
        sendError(res, 413, 'invalid_request_error', `body exceeds ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
        return;
      }
      chunks.push(chunk);
    });
    httpReq.on('end', () => {
      if (!tooBig) then(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
  }

  const server = createServer({ noDelay: true, headersTimeout: 66_000, requestTimeout: 0 }, (httpReq, res) => {
    const url = httpReq.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/healthz') {
      if (httpReq.method !== 'GET' && httpReq.method !== 'HEAD') {
        sendError(res, 405, 'invalid_request_error', 'use GET', { allow: 'GET, HEAD' });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end(httpReq.method === 'HEAD' ? undefined : 'ok');
      return;
    }
    if (path === '/admin/fault') {
      if (httpReq.method !== 'POST') {
        sendError(res, 405, 'invalid_request_error', 'use POST', { allow: 'POST' });
        return;
      }
      readBody(httpReq, res, (raw) => {
        const c = parseFaultCommand(raw);
        if ('error' in c) return sendError(res, 400, 'invalid_request_error', c.error);
        const at = now() - t0;
        if (c.kind === 'clear') {
          // every window ends now (a window that began earlier is cut short, later ones dropped)
          for (const w of stalls) w.forMs = Math.max(0, Math.min(w.forMs, at - w.atMs));
          outage.untilMs = Math.min(outage.untilMs, at);
          return sendJson(res, 200, { kind: 'clear', atMs: at });
        }
        const untilMs = c.ms === null ? Number.POSITIVE_INFINITY : at + c.ms;
        if (c.kind === 'stall') stalls.push({ atMs: at, forMs: untilMs - at });
        else Object.assign(outage, { fromMs: at, untilMs });
        sendJson(res, 200, { kind: c.kind, fromMs: at, untilMs: Number.isFinite(untilMs) ? untilMs : null });
      });
      return;
    }
    const endpoint: Endpoint | undefined =
      path === '/v1/chat/completions' ? 'chat' : path === '/v1/completions' ? 'text' : undefined;
    if (endpoint === undefined) {
      sendError(res, 404, 'not_found', `no route for ${httpReq.method ?? '?'} ${path}`);
      return;
    }
    if (httpReq.method !== 'POST') {
      sendError(res, 405, 'invalid_request_error', 'use POST', { allow: 'POST' });
      return;
    }
    readBody(httpReq, res, (raw) => {
      let parsed: ParsedRequest;
      try {
        parsed = parseRequest(endpoint, raw, o.model);
      } catch (err) {
        if (!(err instanceof BadRequest)) throw err;
        sendError(res, 400, 'invalid_request_error', err.message);
        return;
      }
      handleCompletion(parsed, httpReq, res);
    });
  });
  // Longer than any load generator's idle pool, so the server never closes a socket the client is
  // about to reuse (the keep-alive race); the header timeout must outlast it or it would fire first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.maxRequestsPerSocket = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  t0 = now();

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => ({ ...counts, maxQueue: primary.maxQueued }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        timers.clearAll();
        primary.clear();
        fallback.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
