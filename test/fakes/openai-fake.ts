/**
 * A local fake of the OpenAI API for tests and benchmarks: real HTTP on 127.0.0.1, the real wire format,
 * so the real `openai` SDK can be pointed at it.
 *
 *   const fake = await createOpenAIFake({ responder: () => ({ content: 'default answer' }) });
 *   const client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.baseURL, maxRetries: 0 });
 *   fake.route({ system: 'Cost Analyst' }, { json: { monthly_cost: 4200 } });
 *   fake.route({ afterToolResult: false, hasTools: true }, { toolCalls: [{ name: 'search', arguments: { q: 'x' } }] });
 *   ...
 *   fake.chatRequests[0].system;   // what reached the "model"
 *   await fake.close();
 *
 * Endpoints: POST /v1/chat/completions (JSON or SSE when `stream: true`), POST /v1/embeddings
 * (float or base64), GET /v1/models, GET /v1/models/:id.
 *
 * Scripting chat replies — first match wins:
 *   1. routes, in the order added: `route(when, script, { times })`. `when` is a predicate over a
 *      `ChatRequest` or a `ChatMatcher` object (all given fields must match). `times` limits how often
 *      the route answers; the returned handle counts `calls` and can `remove()` the route.
 *   2. the `responder` (option or `setResponder`); returning undefined passes.
 *   3. otherwise HTTP 500 whose message says the fake had no script for the request (and shows its
 *      system prompt and last user message), so a missing script fails loudly.
 * A script is a `ChatReply` or a function `(req) => ChatReply | undefined | Promise<…>`. A reply is any
 * combination of: `content`, `json` (serialised as content), `toolCalls` [{ name, arguments }],
 * `delayMs`, `usage`, `finishReason`, or `status` (>= 400) + `error` for an OpenAI-style error.
 *
 * Streaming: content and tool-call arguments arrive as deltas of `streamChunkChars` characters,
 * `streamChunkDelayMs` apart; usage arrives in a final `choices: []` chunk when
 * `stream_options.include_usage` is set; the stream ends with `data: [DONE]`.
 *
 * Embeddings: `fakeEmbedding(text, dims)` (exported) hashes lower-cased words and bigrams into `dims`
 * signed buckets and L2-normalises, so texts sharing words have a higher cosine similarity. Values are
 * float32-rounded, so base64 and float responses decode to exactly `fakeEmbedding(text, dims)`.
 *
 * Recording: `requests` holds every request (chat, embeddings, other) with `receivedAt`/`repliedAt`
 * (epoch ms, sub-ms precision; overlapping intervals prove concurrency), `status`, `clientAborted`, and
 * `hasAuthorization` (the key itself is not kept). `waitForRequests(n)` awaits arrivals without sleeping;
 * `maxInFlight` is the peak of concurrent requests.
 *
 * Failures: `latencyMs` delays every reply (benchmarks); `failNext(429 | 500 | 'reset', { count, body,
 * headers, endpoint })` fails the next requests before any script runs. Mind the SDK's own retries:
 * tests should construct the client with `maxRetries: 0`.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createFakeRecorder, type FailNextOptions } from './fake-bookkeeping.js';
import { bearerToken, delay, type FakeExchange, preciseNow, startHttpFake } from './fake-http.js';
import { embeddingResponse } from './openai-fake-embeddings.js';
import {
  buildChatResponse,
  type ChatReply,
  errorBody,
  recordRequest,
  streamChatResponse,
} from './openai-fake-wire.js';

export { cosineSimilarity, fakeEmbedding } from './openai-fake-embeddings.js';
export { approxTokens, type ChatReply, messageText } from './openai-fake-wire.js';

/** One message as sent by the client (content may be a string or an array of parts). */
export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  name?: string;
}

interface RecordedBase {
  method: string;
  path: string;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  /** Whether an `Authorization: Bearer …` header was sent (the key itself is not recorded). */
  hasAuthorization: boolean;
  headers: IncomingHttpHeaders;
  /** Epoch ms (sub-ms precision) when the request arrived. */
  receivedAt: number;
  /** Epoch ms when the reply was fully written; undefined while in flight or when the client left. */
  repliedAt?: number;
  /** The HTTP status sent (undefined until replied). */
  status?: number;
  /** True when the client disconnected before the reply was complete (e.g. an SDK timeout). */
  clientAborted?: boolean;
}

export interface ChatRequest extends RecordedBase {
  endpoint: 'chat';
  model: string;
  messages: ChatMessage[];
  tools: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  toolChoice?: unknown;
  /** e.g. `{ type: 'json_schema', json_schema: { name, schema, strict } }`. */
  responseFormat?: { type: string; json_schema?: { name: string; schema?: unknown; strict?: boolean } };
  stream: boolean;
  includeUsage: boolean;
  /** Text of all system and developer messages, joined by newlines. */
  system: string;
  /** Text of the last user message ('' when none). */
  lastUser: string;
  /** Results of tool calls present in the conversation (role 'tool'), oldest first. */
  toolResults: Array<{ toolCallId: string; content: string }>;
  /** Text of every message, joined by newlines: handy for `includes` checks. */
  text: string;
}

export interface EmbeddingRequest extends RecordedBase {
  endpoint: 'embeddings';
  model: string;
  inputs: string[];
  dimensions: number;
  encodingFormat: 'float' | 'base64';
}

export interface OtherRequest extends RecordedBase {
  endpoint: 'other';
}

export type OpenAIRecordedRequest = ChatRequest | EmbeddingRequest | OtherRequest;

/** Declarative match on a chat request; every given field must match. Strings match as substrings. */
export interface ChatMatcher {
  system?: string | RegExp;
  lastUser?: string | RegExp;
  /** Matches anywhere in the conversation text. */
  text?: string | RegExp;
  model?: string;
  /** Whether the request offers tools. */
  hasTools?: boolean;
  /** Whether the conversation already contains a tool result (the model's second turn). */
  afterToolResult?: boolean;
  /** The json_schema name of `response_format`. */
  schemaName?: string;
  stream?: boolean;
}

export type ChatScript =
  | ChatReply
  | ((req: ChatRequest) => ChatReply | undefined | Promise<ChatReply | undefined>);

export interface RouteHandle {
  /** How many requests this route has answered. */
  readonly calls: number;
  remove(): void;
}

export interface OpenAIFakeOptions {
  /** The fallback script after routes; without it unmatched requests get a 500 naming the miss. */
  responder?: ChatScript;
  /** Fixed delay before every reply, in ms. */
  latencyMs?: number;
  /** When set, any other Bearer token gets a 401 `invalid_api_key`; a missing one always does. */
  apiKey?: string;
  /** Ids listed by GET /v1/models (default gpt-4o-mini, text-embedding-3-small). */
  models?: string[];
  /** Embedding size when the request has no `dimensions` (default 1536). */
  embeddingDimensions?: number;
  /** Characters per streamed delta (default 8). */
  streamChunkChars?: number;
  /** Pause between streamed chunks, in ms (default 0). */
  streamChunkDelayMs?: number;
  /** Called as each streamed content chunk is written (benchmarks time what the client makes of it). */
  onStreamChunk?: (req: ChatRequest, content: string) => void;
}

export interface OpenAIFake {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** What to pass as the SDK's `baseURL`: `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  requests: OpenAIRecordedRequest[];
  readonly chatRequests: ChatRequest[];
  readonly embeddingRequests: EmbeddingRequest[];
  /** Peak number of requests handled at once. */
  readonly maxInFlight: number;
  route(
    when: ChatMatcher | ((req: ChatRequest) => boolean),
    script: ChatScript,
    options?: { times?: number },
  ): RouteHandle;
  setResponder(script: ChatScript | undefined): void;
  setLatency(ms: number): void;
  /** Paces streamed replies: `chars` per delta, `delayMs` apart (tests that act mid-stream). */
  setStreamPacing(chars: number, delayMs: number): void;
  failNext(status: number | 'reset', options?: FailNextOptions & { endpoint?: 'chat' | 'embeddings' }): void;
  waitForRequests(count: number, timeoutMs?: number): Promise<OpenAIRecordedRequest[]>;
  /** Forgets recorded requests, routes, queued failures and the in-flight peak (keeps the responder). */
  reset(): void;
  close(): Promise<void>;
}

interface Route {
  matches: (req: ChatRequest) => boolean;
  script: ChatScript;
  remaining: number;
  calls: number;
}

export async function createOpenAIFake(options: OpenAIFakeOptions = {}): Promise<OpenAIFake> {
  let latencyMs = options.latencyMs ?? 0;
  let responder = options.responder;
  let routes: Route[] = [];
  const recorder = createFakeRecorder<OpenAIRecordedRequest>('openai-fake');
  const log = recorder.log;
  const models = options.models ?? ['gpt-4o-mini', 'text-embedding-3-small'];
  const wire = {
    chunkChars: options.streamChunkChars ?? 8,
    chunkDelayMs: options.streamChunkDelayMs ?? 0,
    onChunk: options.onStreamChunk,
  };

  async function handle(ex: FakeExchange): Promise<void> {
    const { req, res, url } = ex;
    const record = recordRequest(
      req.method ?? 'GET',
      url.pathname,
      ex.body,
      req.headers,
      options.embeddingDimensions,
    );
    const reply = recorder.track(record, res);
    res.once('close', () => {
      if (!res.writableFinished) record.clientAborted = true;
    });

    const token = bearerToken(req);
    if (!token || (options.apiKey !== undefined && token !== options.apiKey)) {
      return reply(401, errorBody(401, 'Incorrect API key provided.'));
    }
    const failure = recorder.failures.take(record.endpoint);
    if (failure) {
      await delay(latencyMs, ex.signal);
      return recorder.serveFailure(record, res, failure, (status) => errorBody(status));
    }

    if (record.endpoint === 'chat') return answerChat(record, res, ex.signal, reply);
    if (record.endpoint === 'embeddings') {
      await delay(latencyMs, ex.signal);
      return reply(200, embeddingResponse(record));
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return reply(200, { object: 'list', data: models.map(modelEntry) });
    }
    const modelId = /^\/v1\/models\/(.+)$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && modelId && models.includes(decodeURIComponent(modelId))) {
      return reply(200, modelEntry(decodeURIComponent(modelId)));
    }
    return reply(404, errorBody(404, `openai-fake: no endpoint ${req.method} ${url.pathname}`));
  }

  async function answerChat(
    request: ChatRequest,
    res: ServerResponse,
    signal: AbortSignal,
    reply: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): Promise<void> {
    const script = await pickScript(request);
    if (!script) {
      await delay(latencyMs, signal);
      return reply(500, errorBody(500, describeMiss(request)));
    }
    await delay(latencyMs + (script.delayMs ?? 0), signal);
    if (signal.aborted) return;
    if (script.status !== undefined && script.status >= 400) {
      return reply(script.status, errorBody(script.status, script.error), script.headers);
    }
    if (!request.stream) return reply(200, buildChatResponse(request, script), script.headers);
    request.status = 200;
    if (await streamChatResponse(res, request, script, wire, signal)) request.repliedAt = preciseNow();
  }

  async function pickScript(request: ChatRequest): Promise<ChatReply | undefined> {
    for (const route of routes) {
      if (route.remaining <= 0 || !route.matches(request)) continue;
      const reply = await runScript(route.script, request);
      if (reply === undefined) continue;
      route.remaining--;
      route.calls++;
      return reply;
    }
    return responder === undefined ? undefined : runScript(responder, request);
  }

  const server = await startHttpFake('openai-fake', handle);
  return {
    url: server.url,
    baseURL: `${server.url}/v1`,
    requests: log.entries,
    get chatRequests() {
      return log.entries.filter((r): r is ChatRequest => r.endpoint === 'chat');
    },
    get embeddingRequests() {
      return log.entries.filter((r): r is EmbeddingRequest => r.endpoint === 'embeddings');
    },
    get maxInFlight() {
      return recorder.inFlight.peak;
    },
    route(when, script, routeOptions = {}) {
      const route: Route = {
        matches: typeof when === 'function' ? when : (req) => matchChat(when, req),
        script,
        remaining: routeOptions.times ?? Number.POSITIVE_INFINITY,
        calls: 0,
      };
      routes.push(route);
      return {
        get calls() {
          return route.calls;
        },
        remove() {
          routes = routes.filter((r) => r !== route);
        },
      };
    },
    setResponder(script) {
      responder = script;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    setStreamPacing(chars, delayMs) {
      wire.chunkChars = chars;
      wire.chunkDelayMs = delayMs;
    },
    failNext(status, failOptions = {}) {
      const { endpoint, ...rest } = failOptions;
      recorder.failNext(status, { ...rest, only: endpoint });
    },
    waitForRequests: (count, timeoutMs) => log.waitFor(count, timeoutMs),
    reset() {
      recorder.reset();
      routes = [];
    },
    close: () => server.close(),
  };
}

async function runScript(script: ChatScript, req: ChatRequest): Promise<ChatReply | undefined> {
  return typeof script === 'function' ? script(req) : script;
}

function matchChat(m: ChatMatcher, req: ChatRequest): boolean {
  const like = (pattern: string | RegExp | undefined, value: string) =>
    pattern === undefined || (typeof pattern === 'string' ? value.includes(pattern) : pattern.test(value));
  return (
    like(m.system, req.system) &&
    like(m.lastUser, req.lastUser) &&
    like(m.text, req.text) &&
    (m.model === undefined || m.model === req.model) &&
    (m.hasTools === undefined || m.hasTools === req.tools.length > 0) &&
    (m.afterToolResult === undefined || m.afterToolResult === req.toolResults.length > 0) &&
    (m.schemaName === undefined || m.schemaName === req.responseFormat?.json_schema?.name) &&
    (m.stream === undefined || m.stream === req.stream)
  );
}

function describeMiss(req: ChatRequest): string {
  const cut = (s: string) => (s.length > 120 ? `${s.slice(0, 120)}…` : s);
  return (
    `openai-fake: no script matched this chat request (model=${req.model}, system="${cut(req.system)}", ` +
    `lastUser="${cut(req.lastUser)}"). Add fake.route(...) or a responder.`
  );
}

function modelEntry(id: string) {
  return { id, object: 'model', created: 1_700_000_000, owned_by: 'openai-fake' };
}
