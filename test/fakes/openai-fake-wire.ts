/**
 * The OpenAI chat-completions wire format used by openai-fake.ts: a scripted `ChatReply` becomes a
 * `chat.completion` JSON body or a `chat.completion.chunk` SSE stream, and error statuses become
 * OpenAI-style `{ error: { message, type, param, code } }` bodies. Tests import from openai-fake.ts.
 */
import { randomUUID } from 'node:crypto';
import { delay, preciseNow } from './fake-http.js';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { ChatMessage, ChatRequest, OpenAIRecordedRequest } from './openai-fake.js';

/** Roughly what a tokenizer would count: about 4/3 tokens per word. */
export function approxTokens(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.ceil((words * 4) / 3);
}

/** What a script answers for one chat request. Fields combine; `status` >= 400 wins over the rest. */
export interface ChatReply {
  /** The assistant's text. */
  content?: string;
  /** Serialised with JSON.stringify as the content (for `response_format` json_schema replies). */
  json?: unknown;
  /** Tool calls; `arguments` objects are serialised, strings are sent as they are. */
  toolCalls?: Array<{ name: string; arguments: unknown; id?: string }>;
  /** Defaults to 'tool_calls' when there are tool calls, else 'stop'. */
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** Extra delay for this reply, on top of the fake's `latencyMs`. */
  delayMs?: number;
  /** Overrides the words-based token estimate. */
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  /** An HTTP error status instead of a completion (e.g. 429, 500, 400). */
  status?: number;
  /** The error message for `status`. */
  error?: string;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
}

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function replyParts(req: ChatRequest, reply: ChatReply) {
  const content = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.content ?? null);
  const toolCalls: WireToolCall[] = (reply.toolCalls ?? []).map((call) => ({
    id: call.id ?? `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    type: 'function',
    function: {
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
    },
  }));
  const finishReason = reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
  const promptTokens =
    reply.usage?.prompt_tokens ??
    approxTokens(req.text) + (req.tools.length > 0 ? approxTokens(JSON.stringify(req.tools)) : 0);
  const completionTokens =
    reply.usage?.completion_tokens ??
    approxTokens(content ?? '') +
      toolCalls.reduce((n, c) => n + approxTokens(c.function.arguments.replace(/[{}",:]/g, ' ')), 0);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  return { content, toolCalls, finishReason, usage };
}

function envelope(req: ChatRequest, object: string) {
  return {
    id: `chatcmpl-fake-${randomUUID()}`,
    object,
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    system_fingerprint: 'fp_openai_fake',
  };
}

/** The non-streaming `chat.completion` body. */
export function buildChatResponse(req: ChatRequest, reply: ChatReply) {
  const { content, toolCalls, finishReason, usage } = replyParts(req, reply);
  return {
    ...envelope(req, 'chat.completion'),
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          refusal: null,
          annotations: [],
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage,
  };
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += Math.max(1, size)) out.push(text.slice(i, i + size));
  return out;
}

/**
 * Writes the reply as an SSE stream of `chat.completion.chunk`s, ending with `data: [DONE]`.
 * Resolves false when the client went away mid-stream.
 */
export async function streamChatResponse(
  res: ServerResponse,
  req: ChatRequest,
  reply: ChatReply,
  wire: { chunkChars: number; chunkDelayMs: number; onChunk?: (req: ChatRequest, content: string) => void },
  signal: AbortSignal,
): Promise<boolean> {
  const { content, toolCalls, finishReason, usage } = replyParts(req, reply);
  const base = envelope(req, 'chat.completion.chunk');
  const deltas: Array<Record<string, unknown>> = [{ role: 'assistant', content: '', refusal: null }];
  for (const piece of pieces(content ?? '', wire.chunkChars)) deltas.push({ content: piece });
  toolCalls.forEach((call, index) => {
    deltas.push({
      tool_calls: [
        { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
      ],
    });
    for (const piece of pieces(call.function.arguments, wire.chunkChars)) {
      deltas.push({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  });

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...reply.headers,
  });
  const extra = req.includeUsage ? { usage: null } : {};
  const send = (chunk: unknown) => res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  for (const [i, delta] of deltas.entries()) {
    if (i > 0) await delay(wire.chunkDelayMs, signal);
    if (signal.aborted) return false;
    send({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], ...extra });
    if (typeof delta.content === 'string') wire.onChunk?.(req, delta.content);
  }
  send({
    ...base,
    choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }],
    ...extra,
  });
  if (req.includeUsage) send({ ...base, choices: [], usage });
  res.end('data: [DONE]\n\n');
  return true;
}

const ERROR_DEFAULTS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  404: { type: 'invalid_request_error', code: null, message: 'Not found.' },
  429: {
    type: 'requests',
    code: 'rate_limit_exceeded',
    message: 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.',
  },
  500: {
    type: 'server_error',
    code: null,
    message: 'The server had an error while processing your request.',
  },
  503: {
    type: 'server_error',
    code: null,
    message: 'The engine is currently overloaded, please try again later.',
  },
};

/** An OpenAI-style error body for `status`, with a realistic default message. */
export function errorBody(status: number, message?: string) {
  const known = ERROR_DEFAULTS[status] ?? { type: 'api_error', code: null, message: `HTTP ${status}` };
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } };
}

/** Plain text of a message's content, whether a string or an array of `{type:'text', text}` parts. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  }
  return '';
}

/** Parses a request into its recorded form (chat, embeddings or other). */
export function recordRequest(
  method: string,
  path: string,
  rawBody: unknown,
  headers: IncomingHttpHeaders,
  defaultDimensions = 1536,
): OpenAIRecordedRequest {
  const body = (rawBody && typeof rawBody === 'object' ? rawBody : {}) as Record<string, unknown>;
  const base = {
    method,
    path,
    body,
    headers: { ...headers, authorization: headers.authorization ? '[present]' : undefined },
    hasAuthorization: typeof headers.authorization === 'string',
    receivedAt: preciseNow(),
  };
  if (method === 'POST' && path === '/v1/chat/completions') {
    const messages = (Array.isArray(body.messages) ? body.messages : []) as ChatMessage[];
    const textOf = (roles: string[]) =>
      messages
        .filter((m) => roles.includes(m.role))
        .map((m) => messageText(m.content))
        .join('\n');
    const users = messages.filter((m) => m.role === 'user');
    const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
    return {
      ...base,
      endpoint: 'chat',
      model: String(body.model ?? ''),
      messages,
      tools: (Array.isArray(body.tools) ? body.tools : []) as ChatRequest['tools'],
      toolChoice: body.tool_choice,
      responseFormat: body.response_format as ChatRequest['responseFormat'],
      stream: body.stream === true,
      includeUsage: streamOptions?.include_usage === true,
      system: textOf(['system', 'developer']),
      lastUser: messageText(users.at(-1)?.content),
      toolResults: messages
        .filter((m) => m.role === 'tool')
        .map((m) => ({ toolCallId: m.tool_call_id ?? '', content: messageText(m.content) })),
      text: messages.map((m) => messageText(m.content)).join('\n'),
    };
  }
  if (method === 'POST' && path === '/v1/embeddings') {
    const input = body.input;
    const inputs = Array.isArray(input)
      ? input.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
      : [String(input ?? '')];
    return {
      ...base,
      endpoint: 'embeddings',
      model: String(body.model ?? ''),
      inputs,
      dimensions: typeof body.dimensions === 'number' ? body.dimensions : defaultDimensions,
      encodingFormat: body.encoding_format === 'base64' ? 'base64' : 'float',
    };
  }
  return { ...base, endpoint: 'other' };
}
