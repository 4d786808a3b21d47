import type OpenAI from 'openai';
import { MovebotError } from '../errors.js';

/** Turns text into vectors of the database's dimension. */
export interface Embedder {
  readonly dimensions: number;
  /** One vector per text, in order; throws `embedding_failed` on any problem. */
  embed(texts: string[]): Promise<number[][]>;
}

export function createEmbedder(options: { client: OpenAI; model: string; dimensions: number }): Embedder {
  const { client, model, dimensions } = options;
  // Only OpenAI's text-embedding-3 models can shorten their vectors; other servers may reject the field.
  const canShorten = model.startsWith('text-embedding-3');
  return {
    dimensions,
    async embed(texts) {
      if (texts.length === 0) return [];
      let vectors: number[][];
      try {
        const res = await client.embeddings.create({
          model,
          input: texts.map((t) => t.slice(0, 8_000)),
          ...(canShorten ? { dimensions } : {}),
        });
        vectors = [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      } catch (err) {
        throw new MovebotError('embedding_failed', `embeddings failed: ${(err as Error).message}`, {
          cause: err,
          transient: true,
        });
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
