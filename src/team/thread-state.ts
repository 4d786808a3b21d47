import { z } from 'zod';
import { ComparisonSchema, PendingDestinationsSchema } from './comparison-schema.js';
import { RecommendationSchema, type UserProfile, UserProfileSchema } from './schemas.js';

/**
 * What the team keeps in a thread's session between turns. Several people may ask in one thread: the
 * question (which cities) belongs to the thread, but what someone told us, or their memories filled in,
 * is theirs alone. It is kept under their user id and never reaches anyone else's analysts or answers.
 */
export const TeamStateSchema = z.object({
  /** The cities the thread is comparing. */
  cities: z.object({ current_city: z.string().nullable(), desired_city: z.string().nullable() }).optional(),
  /** Each person's situation (income, expenses, preferences) by user id; cities live in `cities`. */
  profiles: z.record(z.string(), UserProfileSchema).optional(),
  /** The thread's latest recommendation… */
  last: RecommendationSchema.optional(),
  /** …and whom it was made for: its verdict, prose and memories come from that person's situation. */
  lastFor: z.string().optional(),
  /** The thread's latest several-destination answer; `last` is then its top-ranked pair. */
  comparison: ComparisonSchema.optional(),
  /** Destinations asked about together, one of them unclear: the answer about it resumes the comparison. */
  pendingDestinations: PendingDestinationsSchema.optional(),
  /** State saved before profiles were kept per person: whose facts it holds is unknown, so only its cities are read. */
  profile: UserProfileSchema.optional(),
});
export type TeamState = z.infer<typeof TeamStateSchema>;

/** The asking user's own profile with the thread's cities; undefined when nothing is known yet. */
export function profileFor(state: TeamState, userId: string): UserProfile | undefined {
  const own = state.profiles?.[userId];
  const legacy = state.profile;
  const cities = state.cities ?? (legacy && { current_city: legacy.current_city, desired_city: legacy.desired_city });
  if (!own && !cities) return undefined;
  return { ...(own ?? UserProfileSchema.parse({})), ...cities };
}

/** The state after `userId`'s turn: the cities of `profile` for the thread, the rest of it for them. */
export function withProfile(state: TeamState, userId: string, profile: UserProfile): TeamState {
  const { profile: _unowned, ...rest } = state;
  const { current_city, desired_city } = profile;
  return {
    ...rest,
    cities: { current_city, desired_city },
    profiles: { ...state.profiles, [userId]: { ...profile, current_city: null, desired_city: null } },
  };
}
