import type { ChatAdapter, ReplyTarget } from '../src/ports/chat-adapter.js';
import type { ReplyStateStore } from '../src/ports/reply-state.js';
import { describeError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { ChatJob } from '../src/ports/turn-job.js';

/**
 * Says in the thread, once per job, that it failed for good: a user must never be left with a
 * "Looking into…" placeholder that never changes. Plain text (the status path every platform
 * renders without blocks or embeds), so whatever made the rich answer fail cannot fail this too.
 * Edits the placeholder when there is one, and posts the notice when there is none or it cannot be
 * edited. False when an answer or a notice was delivered (or claimed) already.
 */
export async function postFailureNotice(
  deps: { adapter: ChatAdapter; replies: ReplyStateStore; logger: Logger },
  jobId: string,
  data: ChatJob,
  text: string,
): Promise<boolean> {
  const { adapter, replies, logger } = deps;
  const claim = await replies.claimFailureNotice(jobId, data.platform, data.channel);
  if (!claim) return false;
  const target: ReplyTarget = data;
  if (claim.placeholder) {
    try {
      await adapter.updateProgress(target, claim.placeholder, text);
      return true;
    } catch (err) {
      logger.warn(
        { jobId, err: describeError(err) },
        'could not edit the placeholder; posting the notice instead',
      );
    }
  }
  const ref = await adapter.postPlaceholder(target, text);
  // Recorded as the placeholder, so an operator's retry of the job turns the notice into the answer.
  await replies.savePlaceholder(jobId, data.platform, data.channel, ref);
  await replies.markAnswered(jobId, 'failed');
  return true;
}
