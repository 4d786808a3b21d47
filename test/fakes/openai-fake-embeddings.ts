/**
 * Deterministic fake embeddings for openai-fake.ts (tests import them from there): similar texts get
 * similar vectors, so retrieval code can be tested for ranking, not just plumbing.
 */
import type { EmbeddingRequest } from './openai-fake.js';
import { approxTokens } from './openai-fake-wire.js';

/** The `/v1/embeddings` response body for a recorded request. */
export function embeddingResponse(req: EmbeddingRequest) {
  const data = req.inputs.map((text, index) => {
    const vector = fakeEmbedding(text, req.dimensions);
    return {
      object: 'embedding',
      index,
      embedding: req.encodingFormat === 'base64' ? toBase64(vector) : vector,
    };
  });
  const tokens = req.inputs.reduce((sum, text) => sum + approxTokens(text), 0);
  return { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function toBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [i, x] of vector.entries()) bytes.writeFloatLE(x, i * 4);
  return bytes.toString('base64');
}

/**
 * A deterministic unit vector for `text`: signed feature hashing of lower-cased word tokens (weight 1)
 * and adjacent-word bigrams (weight 0.5). Texts sharing words point in similar directions. Values are
 * float32-rounded, exactly what the SDK decodes from a base64 response.
 */
export function fakeEmbedding(text: string, dims = 1536): number[] {
  const v = new Float64Array(dims);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const add = (feature: string, weight: number) => {
    const bucket = fnv1a(feature, 0x811c9dc5) % dims;
    const sign = fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1;
    v[bucket] = (v[bucket] ?? 0) + sign * weight;
  };
  words.forEach((word, i) => {
    add(`w:${word}`, 1);
    if (i > 0) add(`b:${words[i - 1]} ${word}`, 0.5);
  });
  const norm = Math.hypot(...v);
  if (norm === 0) return Array.from(v, (_, i) => (i === 0 ? 1 : 0));
  return Array.from(v, (x) => Math.fround(x / norm));
}

/** Cosine similarity of two equal-length vectors. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function fnv1a(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
