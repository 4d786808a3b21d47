import type { ChatAdapter, ChatAnswer, PostedRef, ReplyTarget } from '../../src/ports/chat-adapter.js';

export interface ThreadMessage {
  id: string;
  text: string;
  /** Every text this message showed, oldest first (placeholder, progress…, answer). */
  history: string[];
}

/**
 * An in-memory chat platform implementing the ChatAdapter port, for worker tests that are about the
 * queue (ordering, retries, shutdown) rather than a platform's wire format. What a user would see is
 * `thread(channel, thread)`: the bot's messages in the order they were posted, with edits applied.
 */
export function createMemoryChatAdapter(platform: 'slack' | 'discord' = 'slack') {
  const threads = new Map<string, ThreadMessage[]>();
  const byId = new Map<string, ThreadMessage>();
  const calls: { op: string; at: number; id?: string }[] = [];
  let next = 0;
  let failPlaceholder = 0;

  const key = (t: ReplyTarget) => `${t.channel}/${t.thread ?? t.messageId}`;
  const post = (t: ReplyTarget, text: string) => {
    const m: ThreadMessage = { id: `m${++next}`, text, history: [text] };
    threads.set(key(t), [...(threads.get(key(t)) ?? []), m]);
    byId.set(m.id, m);
    return m;
  };

  const adapter: ChatAdapter = {
    platform,
    async postPlaceholder(target, text) {
      if (failPlaceholder > 0) {
        failPlaceholder--;
        throw new Error('platform unavailable');
      }
      const m = post(target, text);
      calls.push({ op: 'placeholder', at: Date.now(), id: m.id });
      return { id: m.id, channel: target.channel };
    },
    async updateProgress(_target, ref: PostedRef, text) {
      const m = byId.get(ref.id);
      if (!m) throw new Error(`no message ${ref.id}`);
      m.text = text;
      m.history.push(text);
      calls.push({ op: 'progress', at: Date.now(), id: ref.id });
    },
    async deleteMessage(target, ref) {
      threads.set(
        key(target),
        (threads.get(key(target)) ?? []).filter((m) => m.id !== ref.id),
      );
      calls.push({ op: 'delete', at: Date.now(), id: ref.id });
    },
    async deliverAnswer(target, ref, answer: ChatAnswer, progress) {
      const m = byId.get(ref.id)!;
      m.text = answer.outcome.text;
      m.history.push(answer.outcome.text);
      calls.push({ op: 'answer', at: Date.now(), id: ref.id });
      if (answer.report && !progress.alreadyPosted.includes('report')) {
        const file = post(target, `[file] ${answer.report.fileName}`);
        await progress.onPosted('report', file.id);
      }
    },
  };
  return {
    adapter,
    calls,
    thread: (channel: string, thread: string) => threads.get(`${channel}/${thread}`) ?? [],
    failNextPlaceholder(count = 1) {
      failPlaceholder = count;
    },
  };
}
