/** One piece of a document, embedded (or not, when embeddings failed: full-text search still finds it). */
export interface KnowledgeChunk {
  content: string;
  embedding: number[] | null;
  metadata?: Record<string, unknown>;
}

/** A chunk a search found, with where it came from. */
export interface KnowledgeHit {
  content: string;
  url: string;
  sourceKind: string;
  /** Cosine distance, or undefined for a full-text hit. */
  distance?: number;
}

/** The shared knowledge base's chunks: public data only, never anything about a user. */
export interface KnowledgeRepository {
  /** Replaces the chunks of the document under `cacheKey`, creating the document if needed. */
  indexDocument(doc: {
    cacheKey: string;
    sourceKind: string;
    sourceUrl: string;
    title?: string;
    expiresAt?: Date | null;
    chunks: KnowledgeChunk[];
  }): Promise<void>;
  /**
   * Nearest unexpired chunks to `embedding`, or full-text matches for `query` without one. With `about`
   * (city names), what a tool fetched counts only when its cache key names one of those cities:
   * Reddit threads about Denver are no answer in an Austin conversation. Loaded documents (guides,
   * source kind 'document') always count.
   */
  search(query: string, embedding: number[] | undefined, k: number, options?: { about?: string[] }): Promise<KnowledgeHit[]>;
  /** Deletes documents (and their chunks) that expired before `before`; returns how many. */
  pruneExpired(before: Date): Promise<number>;
}
