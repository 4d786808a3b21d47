import type { RecalledMemory } from '../team/types.js';
import type { Message, Session, User } from './session-store.js';

/** A durable fact about one user, learned from that user's own words. */
export interface Memory {
  id: string;
  userId: string;
  content: string;
  /** e.g. 'preference', 'household', 'budget', 'income', 'work', 'location', 'general'. */
  topic: string;
  /** The user message it was learned from, when known. */
  sourceMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewMemory {
  content: string;
  topic: string;
  embedding?: number[] | null;
  sourceMessageId?: string | null;
}

export interface TextSearchOptions {
  /** 'any' (default) matches a memory sharing one significant word; 'all' needs every one of them. */
  match?: 'any' | 'all';
  /** Only memories stored without a vector: the ones a similarity search skips. */
  withoutEmbedding?: boolean;
}

/**
 * The persistence port for user memories. Every method takes the owning user's id and touches only
 * that user's rows: there is no call that reads across users.
 */
export interface MemoryStore {
  /**
   * Stores a new memory for `userId`. Undefined when it was learned from a message written before
   * the user's last "forget everything" (the forget watermark, checked in the same statement): a
   * forget is final even while learning from an earlier message is still under way.
   */
  add(userId: string, memory: NewMemory): Promise<Memory | undefined>;
  /**
   * Replaces a memory's content (and embedding, and the message it now comes from); false when it is
   * not this user's or does not exist.
   */
  update(
    userId: string,
    memoryId: string,
    change: { content: string; topic?: string; embedding?: number[] | null; sourceMessageId?: string | null },
  ): Promise<boolean>;
  /** The user's memories, newest first. */
  list(userId: string, options?: { limit?: number; offset?: number; topic?: string }): Promise<{ memories: Memory[]; total: number }>;
  /** One memory, only if it belongs to `userId`. */
  get(userId: string, memoryId: string): Promise<Memory | undefined>;
  /** The k memories most similar to `embedding` (cosine), with their distance. */
  nearest(userId: string, embedding: number[], k: number): Promise<Array<Memory & { distance: number }>>;
  /**
   * Full-text search: the fallback when embeddings are unavailable, and the only way to find memories
   * stored without a vector (which `nearest` cannot see), best match first.
   */
  searchText(userId: string, query: string, k: number, options?: TextSearchOptions): Promise<Memory[]>;
  /** Deletes the given memories of this user; returns how many were deleted. */
  remove(userId: string, memoryIds: string[]): Promise<number>;
  /**
   * "Forget everything": sets the user's forget watermark to now, then deletes all their memories;
   * returns how many were deleted. Nothing learned from an earlier message is stored afterwards.
   */
  removeAll(userId: string): Promise<number>;
}

/** Memory hooks (per-user recall before a run, learning after it); optional so the team runs without. */
export interface MemoryHooks {
  /** The asking user's memories relevant to this message (never anyone else's). */
  recall(user: User, text: string): Promise<RecalledMemory[]>;
  /** Learns durable facts from the user's own message after the turn. */
  learn(args: { user: User; message: Message; session: Session }): Promise<void>;
  /** Answers a memory command ("what do you remember about me?", "forget …") without a team run. */
  command?(user: User, text: string): Promise<string | undefined>;
}
