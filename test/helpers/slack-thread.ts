import { waitFor } from '../fakes/fake-http.js';
import type { SlackFake, SlackFakeMessage } from '../fakes/slack-fake.js';

/** What a person sees of a Slack message: its blocks' text, fields and context, or its plain text. */
export function shownText(m: SlackFakeMessage | undefined): string {
  if (!m) return '';
  const blocks = (m.blocks ?? []) as Array<{
    text?: { text?: string } | string;
    fields?: Array<{ text: string }>;
    elements?: Array<{ text?: string }>;
  }>;
  if (blocks.length === 0) return m.text;
  return blocks
    .map((b) =>
      [
        typeof b.text === 'string' ? b.text : (b.text?.text ?? ''),
        ...(b.fields ?? []).map((f) => f.text),
        ...(b.elements ?? []).map((e) => e.text ?? ''),
      ].join('\n'),
    )
    .join('\n');
}

/** True once the bot has replaced its "Looking into…" placeholder with the finished text. */
export function isAnswered(m: SlackFakeMessage): boolean {
  return Boolean(m.edited) && !/^(Looking into|Thinking|Reading|Writing)/.test(m.text);
}

/** The bot's messages in a thread, once `done` holds for them (bounded: 30 s). */
export function waitForBotReplies(
  slack: SlackFake,
  channel: string,
  rootTs: string,
  done: (replies: SlackFakeMessage[]) => boolean,
): Promise<SlackFakeMessage[]> {
  return waitFor(
    () => {
      const replies = slack.threadMessages(channel, rootTs).filter((m) => m.user === slack.botUserId);
      return done(replies) && replies;
    },
    { timeoutMs: 30_000, what: `the bot's replies in ${channel}` },
  );
}

/** A mention with a bad signature and one signed ten minutes ago; returns both HTTP statuses. */
export async function sendForgedMentions(slack: SlackFake, eventsUrl: string): Promise<number[]> {
  const bad = await slack.sendEvent(eventsUrl, slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'x' }), {
    badSignature: true,
  });
  const stale = await slack.sendEvent(eventsUrl, slack.mentionEvent({ channel: 'C1', user: 'U1', text: 'y' }), {
    timestampOffsetSec: -600,
  });
  return [bad.status, stale.status];
}
