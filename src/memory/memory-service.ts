import type { MemoryHooks } from '../ports/memory-store.js';
import { describeError } from '../errors.js';
import type { LlmClient } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import type { Memory, MemoryStore, Place, TextSearchOptions } from '../ports/memory-store.js';
import type { User } from '../ports/session-store.js';
import type { RecalledMemory } from '../team/types.js';
import type { Embedder } from './embedder.js';
import { extractMemoryCandidates } from './extractor.js';
import { parseForget, withoutMention } from './forget.js';
import { placeOf, recallablePlaces } from './place.js';

/** Below this cosine distance two memories say the same thing, and the newer wording wins. */
const NEAR_DUPLICATE = 0.15;
/** How many of the newest memories every run sees, whatever the question. */
const ALWAYS_ON = 8;
/** Recall keeps memories closer than this to the question. */
const RELEVANT = 0.75;
/** Forget removes memories closer than this to what the user named: only clear matches go. */
const FORGET_MATCH = 0.5;

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

/**
 * "what do you remember (know) about me …" or "memories" / "/memories": the list command. `text` has no
 * leading bot mention. Both patterns are anchored and have no nested repetition, so they are linear
 * (bench/command-parse-bench.ts times them on 8,000-character messages).
 */
export function asksWhatIsRemembered(text: string): boolean {
  return /^(what|wat)\s+do\s+you\s+(remember|know)\s+about\s+me\b/i.test(text) || /^\/?memories[.!?]*$/i.test(text);
}

/**
 * True when `text` is one of the commands `command` answers (the list, or a forget), read exactly as
 * it reads them: the worker decides by it, before the turn runs, to answer in private.
 */
export function isMemoryCommand(text: string): boolean {
  const t = withoutMention(text);
  return asksWhatIsRemembered(t) || parseForget(t) !== undefined;
}

/** "Should I move…", "can we…": asking, not telling. */
const QUESTION_FORMS = /\b(?:should|could|would|can|do|will|shall|am|may)\s+(?:i|we)\b/gi;
/** Words with which people say something about themselves or their household ("She makes $80k"). */
const FIRST_PERSON =
  /\b(?:i|i'm|im|i've|i'd|i'll|me|my|mine|myself|we|we're|we've|our|ours|us|she|he|her|his|partner|wife|husband|kids?|children|family|son|daughter)\b/i;

/**
 * A cheap check before the memory keeper's model call: a message with no first-person (or household)
 * words outside its question ("Should I move from Seattle to Austin?", "what about taxes?") tells
 * nothing about the person. Linear-time regexes on at most 8,000 characters.
 */
export function mayTellAboutThemselves(text: string): boolean {
  return FIRST_PERSON.test(text.replace(QUESTION_FORMS, ' '));
}

export function createMemoryService(options: MemoryServiceOptions): MemoryService {
  const { store, embedder, logger } = options;
  const k = options.k ?? 5;

  async function embedOne(text: string): Promise<number[] | undefined> {
    return (await embedAll([text]))[0];
  }

  /** Vectors for `texts` in one request; none (full-text search only) when embeddings fail. */
  async function embedAll(texts: string[]): Promise<Array<number[] | undefined>> {
    if (!embedder || texts.length === 0) return [];
    try {
      return await embedder.embed(texts);
    } catch (err) {
      logger?.warn({ err: describeError(err) }, 'embedding failed; using full-text search');
      return [];
    }
  }

  /**
   * Memories close to `text`, so that none is out of reach, also those stored without a vector
   * (embeddings were down when they were learned, or they came through the HTTP API), which `nearest`
   * cannot see. Recall asks for any of the words, which is loose, so words speak only for the memories
   * similarity cannot judge. Forget asks for all of them, which is specific, so a memory holding every
   * word the user named goes with or without a vector. With no vector for `text`, words decide alone.
   */
  async function matching(
    user: User,
    text: string,
    limit: number,
    use: 'recall' | 'forget',
    places?: readonly Place[],
  ): Promise<Memory[]> {
    const words: TextSearchOptions = use === 'forget' ? { match: 'all' } : { match: 'any', withoutEmbedding: true };
    const vector = await embedOne(text);
    if (!vector) return store.searchText(user.id, text, limit, { match: words.match, places });
    const maxDistance = use === 'forget' ? FORGET_MATCH : RELEVANT;
    const [near, worded] = await Promise.all([
      store.nearest(user.id, vector, limit, { places }),
      store.searchText(user.id, text, limit, { ...words, places }),
    ]);
    const close = near.filter((m) => m.distance < maxDistance);
    return [...close, ...worded.filter((w) => !close.some((m) => m.id === w.id))];
  }

  return {
    async recall(user, text, place = 'dm') {
      // Only memories learned where everyone in this place could read them (src/memory/place.ts).
      const places = recallablePlaces(place);
      // Every question here is about a move, so the person's profile (where they live, budget,
      // household, what they like) always matters: the latest facts are always on, similar ones added.
      const { memories: recent, total } = await store.list(user.id, { limit: ALWAYS_ON, places });
      // With no more memories than that, similarity cannot add any: skip the embedding round trip.
      const matches = total > ALWAYS_ON ? await matching(user, text, k, 'recall', places) : [];
      const seen = new Set<string>();
      const out: RecalledMemory[] = [];
      for (const m of [...recent, ...matches]) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        out.push({ id: m.id, content: m.content, topic: m.topic });
      }
      return out;
    },

    async learn({ user, message, session }) {
      // Only what the asking user wrote: `message` is their own message, never the bot's or a tool's.
      if (message.role !== 'user' || message.authorUserId !== user.id) return;
      // Most follow-ups state nothing about the person ("what about taxes?"): no model call for them.
      if (!mayTellAboutThemselves(message.content)) return;
      // Where it was said: what is learned keeps that place, and learning sees only the memories that
      // may be used there, so nothing told in a DM is merged into a fact learned in a channel.
      const learnedPlace = placeOf(session.platform, session.threadKey);
      const learnedPlatform = session.platform;
      const places = recallablePlaces(learnedPlace);
      const existing = (await store.list(user.id, { limit: 30, places })).memories;
      const candidates = await extractMemoryCandidates(options.llm, message.content, existing, { model: options.model });
      // Only a fact that says the same thing (near-duplicate or word for word) or that the model says
      // updates or contradicts an existing memory replaces it; a topic alone is no reason, since
      // "$120k" and "my partner makes $80k" are both incomes. Two facts of one message never replace
      // each other: the message meant both.
      const fromThisMessage = (m: Memory) => m.sourceMessageId === message.id;
      // One embeddings request for every fact of the message.
      const vectors = await embedAll(candidates.map((c) => c.content));
      for (const [i, c] of candidates.entries()) {
        const vector = vectors[i];
        // Without vectors (embeddings down) a fact repeated word for word must still not be stored twice.
        const repeated = existing.find((m) => m.content.toLowerCase() === c.content.toLowerCase());
        // Said twice in this message, or this message learned again (a retried job): nothing new.
        if (repeated && fromThisMessage(repeated)) continue;
        const replaced = c.replaces != null ? existing[c.replaces - 1] : undefined;
        const duplicate = vector
          ? (await store.nearest(user.id, vector, 3, { places })).find((m) => m.distance < NEAR_DUPLICATE && !fromThisMessage(m))
          : undefined;
        const target = [replaced, duplicate, repeated].find((m) => m !== undefined && !fromThisMessage(m));
        if (target) {
          await store.update(user.id, target.id, {
            content: c.content,
            topic: c.topic,
            embedding: vector ?? null,
            sourceMessageId: message.id,
            // Its text now comes from this message (a memory from a place at most as private as this one).
            learnedPlatform,
            learnedPlace,
          });
          // It now comes from this message, so a later fact of the same message cannot replace it.
          existing[existing.indexOf(target)] = { ...target, content: c.content, topic: c.topic, sourceMessageId: message.id, learnedPlace };
        } else {
          const added = await store.add(user.id, {
            content: c.content,
            topic: c.topic,
            embedding: vector ?? null,
            sourceMessageId: message.id,
            learnedPlatform,
            learnedPlace,
          });
          if (added) existing.push(added);
        }
      }
    },

    async command(user, text) {
      const t = withoutMention(text);
      if (asksWhatIsRemembered(t)) {
        const { memories, total } = await store.list(user.id, { limit: 50 });
        if (total === 0) return "I don't remember anything about you yet. Tell me what matters to you in a city and I'll keep it in mind.";
        return [
          `Here is what I remember about you (${total}):`,
          ...memories.map((m) => `• ${m.content}`),
          'Say "forget that …" to remove one, or "forget everything".',
        ].join('\n');
      }
      const forget = parseForget(t);
      if (forget === 'everything') {
        const n = await store.removeAll(user.id);
        return n ? `Done: I forgot everything I knew about you (${n} ${n === 1 ? 'memory' : 'memories'}).` : 'I had nothing stored about you.';
      }
      if (forget) {
        const chosen = await matching(user, forget.about, 3, 'forget');
        if (chosen.length === 0) return `I couldn't find a memory about "${forget.about}". Ask "what do you remember about me?" to see them all.`;
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
