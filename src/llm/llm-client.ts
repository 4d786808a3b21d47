import OpenAI from 'openai';
import { z } from 'zod';
import type { Config } from '../config.js';
import { DEFAULTS } from '../constants.js';
import { MovebotError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createHttpFetch } from '../net/http-fetch.js';
import type { TokenUsage } from '../ports/session-store.js';
import { addUsage, emptyUsage, estimateCostUsd } from './pricing.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmCall {
  /** Which agent or step is calling, for logs and per-agent accounting. */
  label: string;
  messages: ChatMessage[];
  model?: string;
  temperature?: number;
  signal?: AbortSignal;
  /** Receives token usage and cost of this call (and of a repair attempt). */
  meter?: UsageMeter;
}

export interface LlmResult {
  content: string;
  usage: TokenUsage;
  model: string;
}

/** The model port every agent uses: plain, streamed and schema-validated completions, and embeddings. */
export interface LlmClient {
  /** The default model name. */
  readonly model: string;
  /** One chat completion. */
  complete(call: LlmCall): Promise<LlmResult>;
  /** A streamed chat completion; `onDelta` receives text as it arrives. */
  stream(call: LlmCall, onDelta: (text: string) => void): Promise<LlmResult>;
  /**
   * A completion whose JSON must satisfy `schema`. Invalid output gets one repair attempt (the
   * validation errors are sent back); a second failure throws `llm_bad_output`. With `onPartial`, the
   * first attempt is streamed and `onPartial` receives the JSON text written so far after each delta.
   */
  structured<T>(
    call: LlmCall & { schema: z.ZodType<T>; schemaName: string; onPartial?: (jsonSoFar: string) => void },
  ): Promise<LlmResult & { value: T }>;
}

/** Adds up tokens and estimated cost across the calls of one run. */
export interface UsageMeter {
  record(model: string, usage: TokenUsage, label: string): void;
  readonly usage: TokenUsage;
  readonly costUsd: number;
  readonly byLabel: Record<string, TokenUsage>;
}

export function createUsageMeter(): UsageMeter {
  let usage = emptyUsage();
  let costUsd = 0;
  const byLabel: Record<string, TokenUsage> = {};
  return {
    record(model, u, label) {
      usage = addUsage(usage, u);
      costUsd += estimateCostUsd(model, u);
      byLabel[label] = addUsage(byLabel[label] ?? emptyUsage(), u);
    },
    get usage() {
      return usage;
    },
    get costUsd() {
      return costUsd;
    },
    byLabel,
  };
}

export interface LlmClientOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  timeoutMs?: number;
  maxRetries?: number;
  logger?: Logger;
  /** A prebuilt SDK client (tests may pass one with custom fetch); normally built from the options. */
  client?: OpenAI;
}

export function createLlmClientFromConfig(config: Config, logger?: Logger): LlmClient {
  return createLlmClient({
    apiKey: config.openai.apiKey,
    baseURL: config.openai.baseURL,
    model: config.openai.model,
    logger,
  });
}

export function createOpenAiSdk(options: Pick<LlmClientOptions, 'apiKey' | 'baseURL' | 'timeoutMs' | 'maxRetries'>) {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    // Our own deadline: the SDK's 10-minute default would outlive every chat platform's patience.
    timeout: options.timeoutMs ?? DEFAULTS.llmTimeoutMs,
    // SDK retries multiply with queue attempts, so keep them few.
    maxRetries: options.maxRetries ?? DEFAULTS.llmMaxRetries,
    // Node's global fetch costs about twice the client CPU per call (src/net/http-fetch.ts).
    fetch: createHttpFetch(),
  });
}

export function createLlmClient(options: LlmClientOptions): LlmClient {
  const client = options.client ?? createOpenAiSdk(options);
  const toUsage = (u: OpenAI.CompletionUsage | null | undefined): TokenUsage => ({
    promptTokens: u?.prompt_tokens ?? 0,
    completionTokens: u?.completion_tokens ?? 0,
    totalTokens: u?.total_tokens ?? 0,
  });

  async function complete(call: LlmCall, responseFormat?: OpenAI.ResponseFormatJSONSchema): Promise<LlmResult> {
    const model = call.model ?? options.model;
    const started = Date.now();
    try {
      const res = await client.chat.completions.create(
        {
          model,
          messages: call.messages,
          temperature: call.temperature ?? 0.2,
          ...(responseFormat ? { response_format: responseFormat } : {}),
        },
        { signal: call.signal },
      );
      const usage = toUsage(res.usage);
      call.meter?.record(model, usage, call.label);
      options.logger?.debug({ label: call.label, model, ms: Date.now() - started, usage }, 'llm call');
      return { content: res.choices[0]?.message?.content ?? '', usage, model };
    } catch (err) {
      throw toLlmError(err, call.label);
    }
  }

  async function stream(call: LlmCall, onDelta: (text: string) => void, responseFormat?: OpenAI.ResponseFormatJSONSchema): Promise<LlmResult> {
    const model = call.model ?? options.model;
    try {
      const chunks = await client.chat.completions.create(
        {
          model,
          messages: call.messages,
          temperature: call.temperature ?? 0.3,
          stream: true,
          stream_options: { include_usage: true },
          ...(responseFormat ? { response_format: responseFormat } : {}),
        },
        { signal: call.signal },
      );
      let content = '';
      let usage = emptyUsage();
      for await (const chunk of chunks) {
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) {
          content += delta;
          onDelta(delta);
        }
        if (chunk.usage) usage = toUsage(chunk.usage);
      }
      call.meter?.record(model, usage, call.label);
      return { content, usage, model };
    } catch (err) {
      throw toLlmError(err, call.label);
    }
  }

  return {
    model: options.model,
    complete: (call) => complete(call),

    stream: (call, onDelta) => stream(call, onDelta),

    async structured<T>(call: LlmCall & { schema: z.ZodType<T>; schemaName: string; onPartial?: (jsonSoFar: string) => void }) {
      const jsonSchema = jsonSchemaFor(call.schema);
      const format: OpenAI.ResponseFormatJSONSchema = {
        type: 'json_schema',
        json_schema: { name: call.schemaName, schema: jsonSchema, strict: false },
      };
      let soFar = '';
      const onPartial = call.onPartial;
      const first = onPartial
        ? await stream(
            { temperature: 0.2, ...call },
            (delta) => {
              soFar += delta;
              onPartial(soFar);
            },
            format,
          )
        : await complete(call, format);
      const attempt = parseJson(first.content, call.schema);
      if (attempt.ok) return { ...first, value: attempt.value };

      options.logger?.warn({ label: call.label, problem: attempt.problem }, 'model output failed validation; repairing');
      const repaired = await complete(
        {
          ...call,
          messages: [
            ...call.messages,
            { role: 'assistant', content: first.content.slice(0, 8_000) },
            {
              role: 'user',
              content:
                `That reply was not valid: ${attempt.problem}. Reply again with only the corrected JSON object ` +
                `matching the ${call.schemaName} schema.`,
            },
          ],
        },
        format,
      );
      const second = parseJson(repaired.content, call.schema);
      if (second.ok) return { ...repaired, usage: addUsage(first.usage, repaired.usage), value: second.value };
      throw new MovebotError('llm_bad_output', `${call.label} returned invalid ${call.schemaName}: ${second.problem}`);
    },
  };
}

const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

/** Converting a zod schema is not free and the schemas never change: convert each once. */
function jsonSchemaFor(schema: z.ZodType): Record<string, unknown> {
  let cached = jsonSchemas.get(schema);
  if (!cached) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
    cached = rest;
    jsonSchemas.set(schema, cached);
  }
  return cached;
}

/** Extracts a JSON object from model text (tolerating code fences and chatter) and validates it. */
export function parseJson<T>(
  text: string,
  schema: z.ZodType<T>,
): { ok: true; value: T } | { ok: false; problem: string } {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text)?.[1];
  const candidate = fenced ?? text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  let data: unknown;
  try {
    data = JSON.parse(candidate);
  } catch {
    return { ok: false, problem: 'the reply is not a JSON object' };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const problem = result.error.issues
    .slice(0, 6)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, problem };
}

function toLlmError(err: unknown, label: string): MovebotError {
  if (err instanceof MovebotError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new MovebotError('llm_timeout', `${label}: the model did not answer in time`, { cause: err, transient: true });
  }
  if (err instanceof OpenAI.APIUserAbortError) {
    return new MovebotError('llm_timeout', `${label}: the call was cancelled`, { cause: err, transient: true });
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status;
    const transient = status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
    const what = status === 429 ? 'is rate limiting us' : status ? `answered HTTP ${status}` : 'could not be reached';
    return new MovebotError(status === 429 ? 'rate_limited' : 'llm_error', `${label}: the model service ${what}`, {
      cause: err,
      transient,
    });
  }
  return new MovebotError('llm_error', `${label}: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    transient: true,
  });
}
