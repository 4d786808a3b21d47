import type { ChatAnswer } from '../ports/chat-adapter.js';
import type { Place } from '../ports/memory-store.js';
import { renderComparisonReport, renderComparisonSummary } from '../team/comparison-report.js';
import type { Comparison } from '../team/comparison-schema.js';
import { renderReport, renderSummary } from '../team/report.js';
import type { Recommendation } from '../team/types.js';

export type { Place } from '../ports/memory-store.js';

/*
 * Memory is private by place. The rules, in one file:
 * - Place of a turn (`placeOf`): who can read the thread. Slack channel ids starting with `D` are
 *   direct messages, `G` private channels (and group DMs), anything else a public channel; Discord's
 *   '@dm' workspace is a DM, every guild channel counts as public; the CLI and the HTTP API are the
 *   person alone ('dm'). A thread key we cannot read counts as public: the safe side for what is shown.
 * - Learning: each memory keeps the place of the message it was learned from (`learned_place`).
 * - Recall (`recallablePlaces`): a memory is used only in places at least as private as the one it was
 *   learned in: in a DM all of the user's memories; in a private channel those learned in public or
 *   private places; in a public channel only those learned in public. A DM-told income cannot even
 *   shape the prose of a public answer. Learning in a place sees only those memories too, so a fact
 *   learned in public is never merged with one told in a DM.
 * - Showing (`shownIn`): in a shared place (a channel, or a thread in one) an answer never quotes
 *   memory text. A recommendation says "Personalised with N of your saved details." and gets a
 *   "Which ones?" button that lists them to the asker alone (src/run/answer-actions.ts); its report
 *   carries no memory text, and its state taxes show the rates but no estimate on the asker's income. A memory command's reply ("what do you remember about me?", "forget …")
 *   goes to the asker alone (`askerOnly`: a Slack ephemeral message, or the ephemeral reply of
 *   Discord's /memories and /forget); where that is impossible (a Discord mention) the thread gets
 *   only a pointer to the private ways. Applied once, where a turn's answer becomes a chat answer
 *   (queue/chat-delivery.ts `chatAnswerOf`): the only way an answer reaches a Slack or Discord thread.
 *   In a DM, the CLI and the API everything may show. Stored history keeps the text; it is not read
 *   back into anyone else's turn, nor into the asker's own turn in a shared place
 *   (src/conversation/conversation-service.ts).
 */

/** Who can read a turn's thread: from its platform and thread key (`slack:{team}:{channel}:{ts}`, `discord:{guild}:{root}`). */
export function placeOf(platform: string, threadKey: string): Place {
  if (platform === 'cli' || platform === 'api') return 'dm';
  const [prefix, workspace, channel] = threadKey.split(':');
  if (prefix !== platform) return 'public';
  if (platform === 'slack') {
    if (channel?.startsWith('D')) return 'dm';
    if (channel?.startsWith('G')) return 'private';
    return 'public';
  }
  if (platform === 'discord' && workspace === '@dm') return 'dm';
  return 'public';
}

/** A place others can read: a channel, or a thread in one. */
export function isShared(place: Place): boolean {
  return place !== 'dm';
}

const RANK: Record<Place, number> = { public: 0, private: 1, dm: 2 };

/** Where the memories usable in `place` were learned; undefined: anywhere (a DM, the CLI, the API). */
export function recallablePlaces(place: Place): readonly Place[] | undefined {
  if (place === 'dm') return undefined;
  return (Object.keys(RANK) as Place[]).filter((p) => RANK[p] <= RANK[place]);
}

/** What a shared thread is told instead of a memory command's reply it cannot be sent privately. */
export function memoryReplyPointer(platform: string): string {
  const privately = platform === 'discord' ? 'Use /memories or /forget (only you see the answer), or ask me in a DM.' : 'Ask me in a direct message.';
  return `I don't show what I remember about you in a channel. ${privately}`;
}

/**
 * The chat answer as `place` may show it (the rules above). `memoryReply`: the answer is a memory
 * command's reply; `platform` words the pointer to the private ways.
 */
export function shownIn(place: Place, answer: ChatAnswer, options: { memoryReply: boolean; platform: string }): ChatAnswer {
  if (!isShared(place)) return answer;
  const { outcome } = answer;
  if (options.memoryReply && outcome.kind !== 'error') {
    return { ...answer, outcome: { kind: 'answer', text: memoryReplyPointer(options.platform) }, askerOnly: outcome.text, report: undefined };
  }
  if (outcome.kind !== 'recommendation') return answer;
  // Rendered as a shared place may show it: no estimate on the asker's income, memories counted.
  const r = withoutIncome(outcome.recommendation);
  const c = outcome.comparison && { ...outcome.comparison, destinations: outcome.comparison.destinations.map((d) => ({ ...d, recommendation: withoutIncome(d.recommendation) })) };
  const count = c ? c.destinations.reduce((n, d) => n + d.recommendation.memoriesUsed.length, 0) : r.memoriesUsed.length;
  const markdown = c ? renderComparisonReport(c, { shared: true }) : renderReport(r, { shared: true });
  const text = c ? renderComparisonSummary(c) : renderSummary(r, { shared: true });
  return {
    ...answer,
    outcome: { ...outcome, recommendation: withoutMemories(r), text, markdown, ...(c && { comparison: withoutMemoriesAll(c) }) },
    ...(answer.report && { report: { ...answer.report, markdown } }),
    ...(count > 0 && {
      savedDetails: count,
      ...(answer.controls && { controls: { ...answer.controls, savedDetails: true } }),
    }),
  };
}

/** The taxes section without the asker's income, so no estimate on it is shown. */
function withoutIncome(r: Recommendation): Recommendation {
  if (r.taxes?.status !== 'ok') return r;
  return { ...r, taxes: { ...r.taxes, data: { ...r.taxes.data, annualIncome: null } } };
}

const withoutMemories = (r: Recommendation): Recommendation => ({ ...r, memoriesUsed: [] });
const withoutMemoriesAll = (c: Comparison): Comparison => ({ ...c, destinations: c.destinations.map((d) => ({ ...d, recommendation: withoutMemories(d.recommendation) })) });
