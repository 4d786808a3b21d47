import type OpenAI from 'openai';
import { MovebotError } from '../errors.js';

/** Turns text into vectors of the database's dimension. */
export interface Embedder {
  readonly dimensions: number;
  /** One vector per text, in order; throws `embedding_failed` on any problem. */
  embed(texts: string[]): Promise<number[][]>;
}

/** Texts per embeddings request. */
const BATCH = 96;

export function createEmbedder(options: { client: OpenAI; model: string; dimensions: number }): Embedder {
  const { client, model, dimensions } = options;
  // EMBEDDING_DIMENSIONS is sent as `dimensions` so the model returns vectors the size of the
  // database's columns; ada-002 has a fixed size and rejects the field, so it is left out there only.
  const sendDimensions = !/ada-002/.test(model);
  return {
    dimensions,
    async embed(texts) {
      if (texts.length === 0) return [];
      const vectors: number[][] = [];
      // The API caps inputs per request (2,048, and tokens per request): long documents go in batches.
      for (let start = 0; start < texts.length; start += BATCH) {
        try {
          const res = await client.embeddings.create({
            model,
            input: texts.slice(start, start + BATCH).map((t) => t.slice(0, 8_000)),
            ...(sendDimensions ? { dimensions } : {}),
          });
          vectors.push(...[...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding));
        } catch (err) {
          throw new MovebotError('embedding_failed', `embeddings failed: ${(err as Error).message}`, {
            cause: err,
            transient: true,
          });
        }
      }
      const wrong = vectors.find((v) => v.length !== dimensions);
      if (wrong || vectors.length !== texts.length) {
        throw new MovebotError(
          'embedding_failed',
          `the embedding model returned ${wrong?.length ?? vectors.length} values where ${dimensions} were expected ` +
            '(EMBEDDING_DIMENSIONS must match the model)',
        );
      }
      return vectors;
    },
  };
}
