import type { ChatJob } from '../../src/ports/turn-job.js';

/**
 * Turns Slack `app_mention` and `message` events into ChatJobs, or says why an event is ignored.
 * Pure: the receiver adds the one thing this cannot know, whether the bot already answers in a thread.
 *
 * Conversation model: a conversation is a Slack thread, keyed `slack:{team}:{channel}:{thread_ts}`.
 * A mention at the top level of a channel starts one under the mention (`thread_ts ?? ts`); in a DM
 * every top-level message starts one the same way, and replies in its thread continue it.
 */

/** What the bot knows about itself, from auth.test. */
export interface BotIdentity {
  userId: string;
  botId?: string;
}

/** The event as Bolt hands it over, with the envelope fields the job needs. */
export interface SlackEventInput {
  event: Record<string, unknown>;
  /** The workspace that installed the app (the envelope's `team_id`). */
  teamId: string;
  bot: BotIdentity;
  receivedAt: Date;
}

export type SlackDecision =
  /** `needsKnownThread`: enqueue only if the bot already holds a conversation in this thread. */
  { action: 'enqueue'; job: ChatJob; needsKnownThread: boolean } | { action: 'ignore'; reason: string };

/** Sent to the team when someone mentions the bot with no words: it answers by asking what they need. */
export const BARE_MENTION_TEXT = '(mentioned the bot without a question)';

/** The ChatJob text limit (queue/chat-job.ts). */
const MAX_TEXT = 8_000;

/**
 * Subtypes that are still a person writing to us: a thread reply also sent to the channel, and a
 * message with a file attached. Every other subtype (edits, deletions, joins, bot messages…) is not.
 */
const HUMAN_SUBTYPES = new Set(['thread_broadcast', 'file_share']);

/** The session key of a Slack conversation (see the module comment). */
export const slackThreadKey = (team: string, channel: string, threadTs: string) =>
  `slack:${team}:${channel}:${threadTs}`;

export function normalizeSlackEvent(input: SlackEventInput): SlackDecision {
  const { event, bot } = input;
  const type = str(event.type);
  if (type !== 'app_mention' && type !== 'message') return ignore(`event type ${type}`);
  const subtype = str(event.subtype);
  if (subtype && !HUMAN_SUBTYPES.has(subtype)) return ignore(`subtype ${subtype}`);
  if (event.bot_id !== undefined || event.bot_profile !== undefined) return ignore('posted by a bot');
  const user = str(event.user);
  if (!user) return ignore('no author');
  if (user === bot.userId) return ignore('our own message');
  const channel = str(event.channel);
  const ts = str(event.ts);
  if (!channel || !ts) return ignore('no channel or ts');

  const rawText = str(event.text) ?? '';
  const mentioned = type === 'app_mention' || mentionsBot(rawText, bot.userId);
  const direct = str(event.channel_type) === 'im';
  const threadTs = str(event.thread_ts);
  const isReply = threadTs !== undefined && threadTs !== ts;
  // A top-level channel message without a mention cannot belong to a conversation of ours.
  if (!mentioned && !direct && !isReply) return ignore('not addressed to the bot');

  const text = stripBotMention(rawText, bot.userId) || BARE_MENTION_TEXT;
  const thread = threadTs ?? ts;
  const profile = event.user_profile as { display_name?: unknown; real_name?: unknown } | undefined;
  const userName = str(profile?.display_name) || str(profile?.real_name);
  const job: ChatJob = {
    platform: 'slack',
    workspace: input.teamId,
    channel,
    thread,
    // The message's own ts: the app_mention and message events of one mention share it, and so
    // share the job id that de-duplicates them (queue/chat-job.ts chatJobId).
    messageId: ts,
    userId: user,
    ...(userName && { userName }),
    text: text.slice(0, MAX_TEXT),
    threadKey: slackThreadKey(input.teamId, channel, thread),
    receivedAt: input.receivedAt.toISOString(),
  };
  return { action: 'enqueue', job, needsKnownThread: !mentioned && !direct };
}

/** True when the text contains `<@UBOT>` (or `<@UBOT|name>`). */
export function mentionsBot(text: string, botUserId: string): boolean {
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

/** Removes the bot's mentions and tidies the whitespace they leave. */
export function stripBotMention(text: string, botUserId: string): string {
  return text
    .replace(new RegExp(`<@${escapeRegExp(botUserId)}(\\|[^>]*)?>`, 'g'), ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

function ignore(reason: string): SlackDecision {
  return { action: 'ignore', reason };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
