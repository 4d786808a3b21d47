import type { KnowledgeRepository } from '../ports/knowledge-repository.js';
import { DEFAULTS } from '../constants.js';
import { describeError, MovebotError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Embedder } from './embedder.js';
import { chunkText } from './knowledge.js';

export interface KnowledgeDocumentInput {
  /** The document's text (Markdown or plain). */
  text: string;
  /** Where it came from (a URL, or a file:// URL); shown with every passage retrieved from it. */
  sourceUrl: string;
  /** Defaults to the first Markdown heading. */
  title?: string;
  /** Null (the default) keeps it until it is loaded again or removed. */
  expiresAt?: Date | null;
}

export interface AddedKnowledgeDocument {
  cacheKey: string;
  title: string | undefined;
  chunks: number;
  /** False when embeddings were unavailable: the chunks are then found by full-text search only. */
  embedded: boolean;
}

/**
 * Splits Markdown into chunks that each carry their section's heading path ("Guide › Austin › Pets"),
 * so a passage retrieved on its own still says what it is about.
 */
export function chunkMarkdown(text: string, max = 900): string[] {
  const chunks: string[] = [];
  const headings: string[] = [];
  let body: string[] = [];
  const flush = () => {
    const section = body.join('\n').trim();
    body = [];
    if (!section) return;
    const path = headings.filter(Boolean).join(' › ');
    for (const piece of chunkText(section, max - path.length - 2)) chunks.push(path ? `${path}\n\n${piece}` : piece);
  };
  let inFence = false;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) {
      body.push(line);
      continue;
    }
    flush();
    const level = heading[1]!.length;
    headings.length = level - 1;
    headings[level - 1] = heading[2]!;
  }
  flush();
  return chunks;
}

/**
 * Loads one public document (a relocation guide, city notes) into the shared knowledge base. Loading
 * the same source again replaces its chunks. Embedding failures do not stop the load: the chunks are
 * stored without vectors and found through full-text search.
 */
export async function addKnowledgeDocument(
  deps: { repo: KnowledgeRepository; embedder?: Embedder; logger?: Logger },
  doc: KnowledgeDocumentInput,
): Promise<AddedKnowledgeDocument> {
  const pieces = chunkMarkdown(doc.text);
  if (pieces.length === 0) throw new MovebotError('bad_request', `nothing to load from ${doc.sourceUrl}: the text is empty`);
  if (pieces.length > DEFAULTS.maxDocumentChunks) {
    throw new MovebotError(
      'bad_request',
      `${doc.sourceUrl} is too large to load at once (${pieces.length} chunks, at most ${DEFAULTS.maxDocumentChunks}): split it into several files`,
    );
  }
  const title = doc.title ?? /^#\s+(.+)$/m.exec(doc.text)?.[1]?.trim();
  let vectors: (number[] | null)[] = pieces.map(() => null);
  let embedded = false;
  if (deps.embedder) {
    try {
      vectors = await deps.embedder.embed(pieces);
      embedded = true;
    } catch (err) {
      deps.logger?.warn({ err: describeError(err) }, 'embedding failed; the document is stored for full-text search only');
    }
  }
  const cacheKey = `document:${doc.sourceUrl}`;
  await deps.repo.indexDocument({
    cacheKey,
    sourceKind: 'document',
    sourceUrl: doc.sourceUrl,
    title,
    expiresAt: doc.expiresAt ?? null,
    chunks: pieces.map((content, i) => ({ content, embedding: vectors[i] ?? null })),
  });
  return { cacheKey, title, chunks: pieces.length, embedded };
}
