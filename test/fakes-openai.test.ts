import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cosineSimilarity, createOpenAIFake, fakeEmbedding, type OpenAIFake } from './fakes/openai-fake.js';

let fake: OpenAIFake;
let client: OpenAI;

beforeEach(async () => {
  fake = await createOpenAIFake();
  client = new OpenAI({ apiKey: 'sk-test-key', baseURL: fake.baseURL, maxRetries: 0 });
});

afterEach(async () => {
  await fake.close();
});

const ask = (system: string, user: string) =>
  client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
  });

describe('openai fake: chat completions', () => {
  it('answers through routes and records what the SDK sent', async () => {
    fake.route({ system: 'Cost Analyst' }, { content: 'Austin is cheaper.' });
    fake.route({ system: 'Sentiment Analyst' }, { content: 'Austin feels lively.' });

    const cost = await ask('You are the Cost Analyst.', 'Compare Boston and Austin');
    const vibe = await ask('You are the Sentiment Analyst.', 'How does Austin feel?');

    expect(cost.choices[0]?.message.content).toBe('Austin is cheaper.');
    expect(vibe.choices[0]?.message.content).toBe('Austin feels lively.');
    expect(cost.choices[0]?.finish_reason).toBe('stop');
    expect(cost.usage?.total_tokens).toBeGreaterThan(0);
    expect(cost.usage?.total_tokens).toBe(
      (cost.usage?.prompt_tokens ?? 0) + (cost.usage?.completion_tokens ?? 0),
    );
    const [first] = fake.chatRequests;
    expect(first?.model).toBe('gpt-4o-mini');
    expect(first?.lastUser).toBe('Compare Boston and Austin');
    expect(first?.hasAuthorization).toBe(true);
    expect(JSON.stringify(fake.requests)).not.toContain('sk-test-key');
    expect(first?.repliedAt).toBeGreaterThanOrEqual(first?.receivedAt ?? Number.POSITIVE_INFINITY);
  });

  it('fails loudly with a 500 naming the miss when no script matches', async () => {
    const error = await ask('You are the Cost Analyst.', 'hello').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect(String((error as Error).message)).toContain('no script matched');
    expect(String((error as Error).message)).toContain('Cost Analyst');
  });

  it('honours route `times` and falls through to the responder', async () => {
    const once = fake.route({ lastUser: 'ping' }, { content: 'first' }, { times: 1 });
    fake.setResponder(() => ({ content: 'fallback' }));
    expect((await ask('s', 'ping')).choices[0]?.message.content).toBe('first');
    expect((await ask('s', 'ping')).choices[0]?.message.content).toBe('fallback');
    expect(once.calls).toBe(1);
  });

  it('returns tool calls, then a final answer once the tool result is in the conversation', async () => {
    fake.route(
      { afterToolResult: false },
      { toolCalls: [{ name: 'get_weather', arguments: { city: 'Austin' } }] },
    );
    fake.route({ afterToolResult: true }, (req) => ({
      content: `Weather said: ${req.toolResults[0]?.content}`,
    }));
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather?' },
    ];

    const first = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Austin' });

    messages.push(choice!.message, { role: 'tool', tool_call_id: call!.id, content: 'sunny, 31C' });
    const second = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
    expect(second.choices[0]?.message.content).toBe('Weather said: sunny, 31C');
    expect(fake.chatRequests[1]?.toolResults).toEqual([{ toolCallId: call!.id, content: 'sunny, 31C' }]);
    expect(fake.chatRequests[0]?.tools[0]?.function.name).toBe('get_weather');
  });

  it('runs a full runTools loop with the SDK helper', async () => {
    fake.route({ afterToolResult: false }, { toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] });
    fake.route({ afterToolResult: true }, (req) => ({ content: `sum=${req.toolResults[0]?.content}` }));
    const runner = client.chat.completions.runTools({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'add 2 and 3' }],
      tools: [
        zodFunction({
          name: 'add',
          parameters: z.object({ a: z.number(), b: z.number() }),
          function: (args) => String(args.a + args.b),
        }),
      ],
    });
    expect(await runner.finalContent()).toBe('sum=5');
    expect(fake.chatRequests).toHaveLength(2);
  });

  it('parses json_schema replies with chat.completions.parse and zodResponseFormat', async () => {
    const Verdict = z.object({ recommendation: z.enum(['move', 'stay']), confidence: z.number() });
    fake.route({ schemaName: 'verdict' }, { json: { recommendation: 'move', confidence: 0.8 } });

    const completion = await client.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Should I move?' }],
      response_format: zodResponseFormat(Verdict, 'verdict'),
    });

    expect(completion.choices[0]?.message.parsed).toEqual({ recommendation: 'move', confidence: 0.8 });
    expect(fake.chatRequests[0]?.responseFormat?.type).toBe('json_schema');
    expect(fake.chatRequests[0]?.responseFormat?.json_schema?.schema).toMatchObject({ type: 'object' });
  });

  it('streams content deltas and usage that the SDK reassembles', async () => {
    const text = 'Austin has lower housing costs but higher summer temperatures.';
    fake.route({ stream: true }, { content: text });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Tell me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content;
      if (piece) deltas.push(piece);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(text);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(fake.chatRequests[0]?.includeUsage).toBe(true);
  });

  it('streams tool-call arguments as deltas through chat.completions.stream', async () => {
    const args = { city: 'San Francisco', radius_km: 25, tags: ['parks', 'transit'] };
    fake.setResponder({ toolCalls: [{ name: 'search_places', arguments: args }] });
    const stream = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Find places' }],
      tools: [{ type: 'function', function: { name: 'search_places', parameters: { type: 'object' } } }],
    });
    const argumentDeltas: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (e) => argumentDeltas.push(e.arguments_delta));
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];

    expect(argumentDeltas.length).toBeGreaterThan(3);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual(args);
  });

  it('injects 429 and 500 errors that the SDK surfaces with their status', async () => {
    fake.setResponder({ content: 'ok' });
    fake.failNext(429, { headers: { 'retry-after': '7' } });
    fake.failNext(500);
    const rateLimited = await ask('s', 'u').catch((e: unknown) => e);
    const serverError = await ask('s', 'u').catch((e: unknown) => e);
    expect(rateLimited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((rateLimited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7');
    expect(serverError).toBeInstanceOf(OpenAI.InternalServerError);
    expect((await ask('s', 'u')).choices[0]?.message.content).toBe('ok');
  });

  it('scripts an error status from a route', async () => {
    fake.route({ lastUser: 'bad' }, { status: 400, error: 'context too long' });
    const error = await ask('s', 'bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('context too long');
  });

  it('rejects a wrong API key when one is configured', async () => {
    const strict = await createOpenAIFake({ apiKey: 'sk-right', responder: { content: 'ok' } });
    try {
      const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: strict.baseURL, maxRetries: 0 });
      await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      const right = new OpenAI({ apiKey: 'sk-right', baseURL: strict.baseURL, maxRetries: 0 });
      const ids: string[] = [];
      for await (const model of right.models.list()) ids.push(model.id);
      expect(ids).toContain('gpt-4o-mini');
    } finally {
      await strict.close();
    }
  });

  it('records overlapping intervals for concurrent requests and the in-flight peak', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.setResponder(async () => {
      await gate;
      return { content: 'done' };
    });
    const all = Promise.all([ask('s', 'a'), ask('s', 'b'), ask('s', 'c')]);
    await fake.waitForRequests(3);
    release();
    await all;
    const [a, b, c] = fake.chatRequests;
    const starts = [a, b, c].map((r) => r?.receivedAt ?? 0);
    const ends = [a, b, c].map((r) => r?.repliedAt ?? 0);
    expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
    expect(fake.maxInFlight).toBe(3);
  });

  it('closes promptly while a reply is still pending', async () => {
    fake.setLatency(60_000);
    fake.setResponder({ content: 'never' });
    const pending = ask('s', 'u').catch((e: unknown) => e);
    await fake.waitForRequests(1);
    await fake.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});

describe('openai fake: embeddings', () => {
  it('serves deterministic base64 vectors that the SDK decodes by default', async () => {
    const response = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['cheap rent and good transit', 'good transit and cheap rent downtown'],
    });
    const [a, b] = response.data.map((d) => Array.from(d.embedding));
    expect(fake.embeddingRequests[0]?.encodingFormat).toBe('base64');
    expect(a).toHaveLength(1536);
    expect(a).toEqual(fakeEmbedding('cheap rent and good transit', 1536));
    expect(cosineSimilarity(a!, b!)).toBeGreaterThan(0.6);
    expect(response.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('serves float vectors of the requested dimensions', async () => {
    const response = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'Austin tacos',
      dimensions: 64,
      encoding_format: 'float',
    });
    expect(response.data[0]?.embedding).toEqual(fakeEmbedding('Austin tacos', 64));
    expect(fake.embeddingRequests[0]?.encodingFormat).toBe('float');
  });

  it('makes related texts closer than unrelated ones', () => {
    const base = fakeEmbedding('moving from Boston to Austin for lower cost of living');
    const related = fakeEmbedding('cost of living in Austin compared with Boston');
    const unrelated = fakeEmbedding('recipe for sourdough bread with rye flour');
    expect(cosineSimilarity(base, related)).toBeGreaterThan(cosineSimilarity(base, unrelated) + 0.2);
    expect(cosineSimilarity(base, base)).toBeCloseTo(1, 5);
  });

  it('fails only the endpoint a failure was injected for', async () => {
    fake.setResponder({ content: 'chat ok' });
    fake.failNext(503, { endpoint: 'embeddings' });
    expect((await ask('s', 'u')).choices[0]?.message.content).toBe('chat ok');
    await expect(
      client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }),
    ).rejects.toMatchObject({
      status: 503,
    });
  });
});
