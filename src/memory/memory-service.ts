import type { MemoryHooks } from '../conversation/conversation-service.js';
import { describeError } from '../errors.js';
import type { LlmClient } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import type { Memory, MemoryStore } from '../ports/memory-store.js';
import type { User } from '../ports/session-store.js';
import type { RecalledMemory } from '../team/types.js';
import type { Embedder } from './embedder.js';
import { extractMemoryCandidates } from './extractor.js';

/**
 * Topics that hold one current value: a newer fact replaces the older one even when the model does
 * not flag it. Household, work and preferences accumulate (a dog and two kids are both true); a
 * contradiction there is replaced only when the model points at the memory it contradicts.
 */
const SINGLE_VALUED = new Set(['income', 'budget', 'location']);
/** Below this cosine distance two memories say the same thing, and the newer wording wins. */
const NEAR_DUPLICATE = 0.15;
/** How many of the newest memories every run sees, whatever the question. */
const ALWAYS_ON = 8;
/** Recall keeps memories closer than this to the question. */
const RELEVANT = 0.75;

export interface MemoryServiceOptions {
  store: MemoryStore;
  llm: LlmClient;
  /** Absent or failing: recall falls back to full-text search and memories are stored without vectors. */
  embedder?: Embedder;
  logger?: Logger;
  model?: string;
  /** How many relevant memories to recall, besides the always-on profile facts. */
  k?: number;
}

export interface MemoryService extends MemoryHooks {
  /** Answers "what do you remember about me?", "forget that …", "forget everything"; undefined otherwise. */
  command(user: User, text: string): Promise<string | undefined>;
}

export function createMemoryService(options: MemoryServiceOptions): MemoryService {
  const { store, embedder, logger } = options;
  const k = options.k ?? 5;

  async function embedOne(text: string): Promise<number[] | undefined> {
    if (!embedder) return undefined;
    try {
      return (await embedder.embed([text]))[0];
    } catch (err) {
      logger?.warn({ err: describeError(err) }, 'embedding failed; using full-text search');
      return undefined;
    }
  }

  async function relevant(user: User, text: string, limit: number): Promise<Memory[]> {
    const vector = await embedOne(text);
    if (vector) return (await store.nearest(user.id, vector, limit)).filter((m) => m.distance < RELEVANT);
    return store.searchText(user.id, text, limit);
  }

  return {
    async recall(user, text) {
      // Every question here is about a move, so the person's profile (where they live, budget,
      // household, what they like) always matters: the latest facts are always on, similar ones added.
      const { memories: recent, total } = await store.list(user.id, { limit: ALWAYS_ON });
      // With no more memories than that, similarity cannot add any: skip the embedding round trip.
      const matches = total > ALWAYS_ON ? await relevant(user, text, k) : [];
      const seen = new Set<string>();
      const out: RecalledMemory[] = [];
      for (const m of [...recent, ...matches]) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        out.push({ id: m.id, content: m.content, topic: m.topic });
      }
      return out;
    },

    async learn({ user, message }) {
      // Only what the asking user wrote: `message` is their own message, never the bot's or a tool's.
      if (message.role !== 'user' || message.authorUserId !== user.id) return;
      const existing = (await store.list(user.id, { limit: 30 })).memories;
      const candidates = await extractMemoryCandidates(options.llm, message.content, existing, { model: options.model });
      for (const c of candidates) {
        const vector = await embedOne(c.content);
        const replaced = c.replaces != null ? existing[c.replaces - 1] : undefined;
        const sameTopic = SINGLE_VALUED.has(c.topic) ? existing.find((m) => m.topic === c.topic) : undefined;
        const duplicate = vector ? (await store.nearest(user.id, vector, 1)).find((m) => m.distance < NEAR_DUPLICATE) : undefined;
        // Without vectors (embeddings down) a fact repeated word for word must still not be stored twice.
        const repeated = existing.find((m) => m.content.toLowerCase() === c.content.toLowerCase());
        const target = replaced ?? sameTopic ?? duplicate ?? repeated;
        if (target) {
          await store.update(user.id, target.id, {
            content: c.content,
            topic: c.topic,
            embedding: vector ?? null,
            sourceMessageId: message.id,
          });
        } else {
          const added = await store.add(user.id, {
            content: c.content,
            topic: c.topic,
            embedding: vector ?? null,
            sourceMessageId: message.id,
          });
          existing.push(added);
        }
      }
    },

    async command(user, text) {
      const t = text.trim().replace(/^[@<][^\s>]*>?\s*/, '');
      if (/^(what|wat)\s+do\s+you\s+(remember|know)\s+about\s+me\b/i.test(t) || /^\/?memories\b/i.test(t)) {
        const { memories, total } = await store.list(user.id, { limit: 50 });
        if (total === 0) return "I don't remember anything about you yet. Tell me what matters to you in a city and I'll keep it in mind.";
        return [
          `Here is what I remember about you (${total}):`,
          ...memories.map((m) => `• ${m.content}`),
          'Say "forget that …" to remove one, or "forget everything".',
        ].join('\n');
      }
      if (/^forget\s+(everything|all)\b/i.test(t)) {
        const n = await store.removeAll(user.id);
        return n ? `Done: I forgot everything I knew about you (${n} ${n === 1 ? 'memory' : 'memories'}).` : 'I had nothing stored about you.';
      }
      const forget = /^forget\s+(?:that\s+|about\s+)?(.+)$/i.exec(t);
      if (forget) {
        const about = forget[1]!.trim();
        const vector = await embedOne(about);
        // With vectors, only clear matches go; without, the full-text hits are specific already.
        const chosen = vector
          ? (await store.nearest(user.id, vector, 3)).filter((m) => m.distance < 0.5)
          : await store.searchText(user.id, about, 3);
        if (chosen.length === 0) return `I couldn't find a memory about "${about}". Ask "what do you remember about me?" to see them all.`;
        await store.remove(
          user.id,
          chosen.map((m) => m.id),
        );
        return [`Forgotten:`, ...chosen.map((m) => `• ${m.content}`)].join('\n');
      }
      return undefined;
    },
  };
}
