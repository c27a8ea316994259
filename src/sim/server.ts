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
import { mulberry32 } from './prng.js';

export interface SimStats {
  /** Successful (200) completions, either route. */
  served: number;
  /** Of those, served by the fallback model. */
  fallback: number;
  /** Injected faults the client saw (500/503/429 responses and resets). */
  errors: number;
  /** Longest the primary queue has been. */
  maxQueue: number;
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
  return {
    endpoint,
    model: typeof b.model === 'string' && b.model !== '' ? b.model : defaultModel,
    promptTokens: estimateTokens(promptChars(endpoint, b)),
    maxTokens,
  };
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

const FAULT_STATUS: Record<Exclude<FaultKind, 'reset'>, [number, string, Record<string, string>]> = {
  '500': [500, 'server_error', {}],
  '503': [503, 'service_unavailable', { 'retry-after': '1' }],
  '429': [429, 'rate_limit_exceeded', { 'retry-after': '1' }],
};

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
  const primary = new WorkerPool(o.workers, timers, now, (t) => (stalls.length === 0 ? 0 : stallRemaining(stalls, t - t0)));
  const fallback = new WorkerPool(o.fallbackWorkers, timers, now);
  const counts = { served: 0, fallback: 0, errors: 0 };
  let seq = 0;
  let closed = false;

  function complete(req: ParsedRequest, res: ServerResponse, onFallback: boolean, prefillMs: number, decodeMs: number, queueMs: number): void {
    if (res.destroyed || closed) return;
    counts.served++;
    if (onFallback) counts.fallback++;
    const text = FILLER.slice(0, req.maxTokens * 4);
    const choice =
      req.endpoint === 'chat'
        ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' }
        : { index: 0, text, logprobs: null, finish_reason: 'length' };
    const q = queueMs.toFixed(3);
    sendJson(
      res,
      200,
      {
        id: `${req.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-sim-${++seq}`,
        object: req.endpoint === 'chat' ? 'chat.completion' : 'text_completion',
        created: Math.floor(Date.now() / 1000),
        model: onFallback ? o.fallbackModel : req.model,
        choices: [choice],
        usage: {
          prompt_tokens: req.promptTokens,
          completion_tokens: req.maxTokens,
          total_tokens: req.promptTokens + req.maxTokens,
        },
      },
      {
        'x-route': onFallback ? 'fallback' : 'primary',
        'x-queue-time': q,
        'server-timing': `queue;dur=${q}, prefill;dur=${prefillMs.toFixed(3)}, decode;dur=${decodeMs.toFixed(3)}`,
      },
    );
  }

  function handleCompletion(req: ParsedRequest, httpReq: IncomingMessage, res: ServerResponse): void {
    const arrivedAt = now();
    const s = sampleService(o, jitterRng, req.promptTokens, req.maxTokens);
    const fallbackEnabled = !o.fallbackOff;
    let fault: FaultKind | undefined;
    if (o.errorRate > 0 && faultRng() < o.errorRate) {
      fault = o.errorKinds[Math.floor(faultRng() * o.errorKinds.length)] ?? '500';
    }
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
      const m = meanService(o, req.promptTokens, req.maxTokens);
      onFallback = primary.predictedWaitMs(m.prefillMs + m.decodeMs) > o.fallbackDeadlineMs;
    } else {
      onFallback = false;
    }
    const k = onFallback ? o.fallbackSpeedup : 1;
    const prefillMs = s.prefillMs * k;
    const decodeMs = s.decodeMs * k;
    (onFallback ? fallback : primary).submit({
      arrivedAt,
      serviceMs: prefillMs + decodeMs,
      abandoned: () => res.destroyed,
      done: (queueMs) => complete(req, res, onFallback, prefillMs, decodeMs, queueMs),
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
