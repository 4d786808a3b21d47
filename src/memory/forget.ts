import type { Message, SessionState } from '../ports/session-store.js';

/*
 * The forget policy in one place. What the user can say, and what each form does:
 * - "forget that <what>": the memories that clearly match <what> are deleted (memory-service.ts).
 * - "forget everything" (or "forget me", "forget all"):
 *   1. every memory of theirs is deleted (MemoryStore.removeAll);
 *   2. in every session they took part in, their profile and a latest recommendation made for them
 *      are dropped, and the session records a watermark: its last message seq at that moment
 *      (SessionStore.forgetUserState → `state.forgotten[userId]`);
 *   3. from then on, their messages up to the watermark, and the answers made from them, are not read
 *      back into any turn (`forgottenFilter` below): the model would learn again what they asked us to
 *      forget. Other people's messages in the same thread stay.
 */

/** The whole message is the command: "forget everything", "forget all", "forget me" (or "… about me"). */
const FORGET_ALL = /^forget\s+(?:everything|all|me)(?:\s+(?:about\s+me|you\s+know(?:\s+about\s+me)?))?$/i;
/** "forget that …", "forget about my …", "forget what I said (told you) about …": the rest names the memory. */
const FORGET_ONE = /^forget\s+(?:that\s+|about\s+(?=my\s)|what\s+i\s+(?:said|told\s+you)\s+about\s+)(.+)$/is;
/** A question, another sentence, or a further request after the forget clause. */
const GOES_ON =
  /\?|[.!;]\s+\S|\n|(?:,|\band\b|\bthen\b)\s*(?:and\s+|but\s+|then\s+|so\s+)?(?:what|how|why|where|which|should|could|would|can|is|are|do|does|tell|show|give|compare|please)\b/i;

export type ForgetCommand = 'everything' | { about: string };

/**
 * Reads a forget command, only in the forms above and only when the message is nothing else: "Forget
 * Austin, what about Denver?" is a question that starts with "forget", and taking it for a command
 * would delete memories and leave the question unanswered. Discord's `/forget` arrives in these same
 * words ("forget that <what>" or "forget everything", see commandText in adapters/discord).
 * `text` has no leading bot mention (see `withoutMention`).
 */
export function parseForget(text: string): ForgetCommand | undefined {
  const t = withoutTrailingPlease(text.trim().replace(/^please\s+/i, ''));
  if (FORGET_ALL.test(t)) return 'everything';
  const about = FORGET_ONE.exec(t)?.[1]?.trim();
  // "forget that , , ," names nothing: without a letter or digit there is no memory to look for.
  if (!about || !/[\p{L}\p{N}]/u.test(about) || GOES_ON.test(about)) return undefined;
  return { about };
}

/**
 * The text without its closing punctuation and a closing ", please": what
 * `.replace(/(?:[,\s]+please)?[.!\s]*$/i, '')` removes, in one backward pass. That regex is tried at
 * every start position and rescans the run of spaces and commas from each, so 8,000 of them blocked
 * the event loop for over 100 ms; this is linear in the length of the text.
 */
export function withoutTrailingPlease(text: string): string {
  let end = text.length;
  while (end > 0 && isClosing(text[end - 1]!)) end--;
  const please = end - 'please'.length;
  if (please > 0 && text.slice(please, end).toLowerCase() === 'please' && isSeparator(text[please - 1]!)) {
    let start = please - 1;
    while (start > 0 && isSeparator(text[start - 1]!)) start--;
    return text.slice(0, start);
  }
  return text.slice(0, end);
}

const isSpace = (ch: string) => /\s/.test(ch);
/** `[.!\s]` */
const isClosing = (ch: string) => ch === '.' || ch === '!' || isSpace(ch);
/** `[,\s]` */
const isSeparator = (ch: string) => ch === ',' || isSpace(ch);

/** A leading bot mention (`<@U123>`, `@movebot`) is not part of what the user said. */
export function withoutMention(text: string): string {
  return text.trim().replace(/^[@<][^\s>]*>?\s*/, '');
}

/** True when the message is "forget everything" in one of its forms, read exactly as the memory command reads it. */
export function isForgetEverything(text: string): boolean {
  return parseForget(withoutMention(text)) === 'everything';
}

/**
 * Which of a thread's messages may be read back into `userId`'s turn after their last "forget
 * everything": everyone else's, and theirs written after it (with the answers to those).
 */
export function forgottenFilter(state: SessionState, userId: string, messages: Message[]): (m: Message) => boolean {
  const watermark = state.forgotten?.[userId] ?? 0;
  const authorOf = new Map(messages.map((m) => [m.id, m.authorUserId]));
  const theirs = (m: Message) =>
    m.authorUserId === userId || (m.role === 'assistant' && m.replyTo !== null && authorOf.get(m.replyTo) === userId);
  return (m) => m.seq > watermark || !theirs(m);
}
