import type { RecalledMemory } from '../team/types.js';
import type { Message, Session, User } from './session-store.js';

/**
 * Who could read a message, and so who may see what was learned from it: 'dm' the person alone (a
 * direct message, the CLI, the HTTP API), 'private' the members of a private channel, 'public' anyone
 * in the workspace (a public channel or a thread in one). The rules: src/memory/place.ts.
 */
export type Place = 'dm' | 'private' | 'public';

/** A durable fact about one user, learned from that user's own words. */
export interface Memory {
  id: string;
  userId: string;
  content: string;
  /** e.g. 'preference', 'household', 'budget', 'income', 'work', 'location', 'general'. */
  topic: string;
  /** The user message it was learned from, when known. */
  sourceMessageId: string | null;
  /** The platform of the message it was learned from ('slack', 'discord', 'cli', 'api'), when known. */
  learnedPlatform: string | null;
  /**
   * Where it was learned: recall in a shared place uses only memories learned where everyone there
   * could read them (src/memory/place.ts). Memories stored before this was kept count as 'dm'.
   */
  learnedPlace: Place;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewMemory {
  content: string;
  topic: string;
  embedding?: number[] | null;
  sourceMessageId?: string | null;
  learnedPlatform?: string | null;
  /** Default 'dm': a memory of unknown origin (the HTTP API's) is never used in a shared place. */
  learnedPlace?: Place;
}

export interface TextSearchOptions {
  /** 'any' (default) matches a memory sharing one significant word; 'all' needs every one of them. */
  match?: 'any' | 'all';
  /** Only memories stored without a vector: the ones a similarity search skips. */
  withoutEmbedding?: boolean;
  /** Only memories learned in one of these places (all when absent). */
  places?: readonly Place[];
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
    change: {
      content: string;
      topic?: string;
      embedding?: number[] | null;
      sourceMessageId?: string | null;
      learnedPlatform?: string | null;
      learnedPlace?: Place;
    },
  ): Promise<boolean>;
  /** The user's memories, newest first; with `places`, only those learned in one of them. */
  list(
    userId: string,
    options?: { limit?: number; offset?: number; topic?: string; places?: readonly Place[] },
  ): Promise<{ memories: Memory[]; total: number }>;
  /** One memory, only if it belongs to `userId`. */
  get(userId: string, memoryId: string): Promise<Memory | undefined>;
  /** The k memories most similar to `embedding` (cosine), with their distance; with `places`, only those learned there. */
  nearest(
    userId: string,
    embedding: number[],
    k: number,
    options?: { places?: readonly Place[] },
  ): Promise<Array<Memory & { distance: number }>>;
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
  /**
   * The asking user's memories relevant to this message (never anyone else's). `place` is where the
   * turn is read: in a shared place only memories learned where everyone there could read them
   * (src/memory/place.ts); absent, all of the user's.
   */
  recall(user: User, text: string, place?: Place): Promise<RecalledMemory[]>;
  /** Learns durable facts from the user's own message after the turn, noting where it was said (the session's place). */
  learn(args: { user: User; message: Message; session: Session }): Promise<void>;
  /** Answers a memory command ("what do you remember about me?", "forget …") without a team run. */
  command?(user: User, text: string): Promise<string | undefined>;
}
