import type { Redis } from 'ioredis';
import { PLATFORM_LIMITS } from '../../src/ports/chat-adapter.js';

/**
 * Interaction tokens are credentials (anyone holding one can post as the bot for 15 minutes), and
 * BullMQ keeps job data in clear text: so the receiver stores them here, apart from the job, with
 * Discord's own lifetime as TTL, and the worker's adapter reads them back.
 */
export interface InteractionCredentials {
  token: string;
  applicationId: string;
  /** Epoch ms after which Discord rejects the token (50027). */
  expiresAt: number;
}

export const interactionKey = (interactionId: string) => `movebot:discord:interaction:${interactionId}`;

/** Stores an interaction's token until it expires. */
export async function saveInteraction(
  redis: Redis,
  interactionId: string,
  credentials: Omit<InteractionCredentials, 'expiresAt'>,
  now: number,
): Promise<void> {
  const ttlMs = PLATFORM_LIMITS.discord.interactionTokenMs;
  const value: InteractionCredentials = { ...credentials, expiresAt: now + ttlMs };
  await redis.set(interactionKey(interactionId), JSON.stringify(value), 'PX', ttlMs);
}

/** The interaction's credentials, or undefined once gone or (by `now`) expired. */
export async function loadInteraction(
  redis: Redis,
  interactionId: string,
  now: number,
): Promise<InteractionCredentials | undefined> {
  const raw = await redis.get(interactionKey(interactionId));
  if (!raw) return undefined;
  const value = JSON.parse(raw) as InteractionCredentials;
  // A few seconds of margin: a request sent just before expiry may arrive just after it.
  return value.expiresAt - 5_000 > now ? value : undefined;
}

/** Forgets a token that Discord no longer accepts. */
export async function dropInteraction(redis: Redis, interactionId: string): Promise<void> {
  await redis.del(interactionKey(interactionId));
}
