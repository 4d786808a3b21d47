import type { App, webApi } from '@slack/bolt';
import type { Clock } from '../../src/clock.js';
import { describeError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { MemoryStore } from '../../src/ports/memory-store.js';
import type { SessionStore } from '../../src/ports/session-store.js';
import { type AnswerActions, decodeAction } from '../../src/run/answer-actions.js';
import { slackThreadKey } from './slack-normalize.js';

/** What a click on a button we no longer recognise gets (an old message, a changed id format). */
export const STALE_BUTTON = 'That button no longer works. Mention me to ask again.';

export interface SlackInteractionDeps {
  actions: AnswerActions;
  /** For suggested prompts made from what the user told us (their current city). */
  memories?: Pick<MemoryStore, 'list'>;
  store: Pick<SessionStore, 'upsertUser' | 'getSessionByThreadKey' | 'listRuns'>;
  clock: Clock;
  logger: Logger;
}

/**
 * The Slack side of the buttons under answers (block_actions on the events endpoint or in Socket
 * Mode, verified by Bolt like events) and of assistant threads (suggested prompts when one opens).
 */
export function registerSlackInteractions(app: App, deps: SlackInteractionDeps): void {
  app.action(/.*/, async ({ ack, body, action, client }) => {
    await ack(); // Slack needs the ack within 3 s; what follows is quick (a store write, an enqueue)
    const click = clickOf(body as unknown as BlockActionBody, action as unknown as ClickedAction);
    if (!click) return;
    const decoded = decodeAction(click.id);
    if (!decoded) return tellUser(client, click, STALE_BUTTON);
    const result = await deps.actions.handle(decoded, {
      user: { platform: 'slack', workspace: click.team, platformUserId: click.user, displayName: click.userName },
      followUpJob: (question, messageId) => ({
        platform: 'slack',
        workspace: click.team,
        channel: click.channel,
        thread: click.thread,
        messageId,
        userId: click.user,
        ...(click.userName && { userName: click.userName }),
        text: question,
        threadKey: slackThreadKey(click.team, click.channel, click.thread),
        receivedAt: new Date(deps.clock.now()).toISOString(),
      }),
    });
    deps.logger.info({ action: decoded.kind, runId: decoded.runId, enqueued: result.enqueued }, 'slack button clicked');
    if (result.question && result.enqueued) {
      // The question shows in the thread, so everyone there sees what the next answer answers.
      await client.chat
        .postMessage({ channel: click.channel, thread_ts: click.thread, text: `<@${click.user}> asked: *${result.question}*` })
        .catch((err) => deps.logger.warn({ err: describeError(err) }, 'could not echo the follow-up question'));
    }
    if (result.ephemeral) await tellUser(client, click, result.ephemeral);
  });

  app.event('assistant_thread_started', async ({ event, body, client }) => {
    const thread = (event as unknown as { assistant_thread?: AssistantThread }).assistant_thread;
    if (!thread?.channel_id || !thread.thread_ts) return;
    const team = String((body as { team_id?: string }).team_id ?? '');
    const city = await currentCity(deps, team, thread.user_id).catch(() => undefined);
    await client.assistant.threads.setSuggestedPrompts({
      channel_id: thread.channel_id,
      thread_ts: thread.thread_ts,
      title: 'Thinking about a move? Try one of these:',
      prompts: suggestedPrompts(city),
    });
  });

  // Slack's own stop control in agent sessions: the app must stop the thread's running answer itself.
  app.event('agent_session_stopped', async ({ event, body }) => {
    const e = event as unknown as { channel?: string; channel_id?: string; thread_ts?: string; user?: string };
    const channel = e.channel ?? e.channel_id;
    const team = String((body as { team_id?: string }).team_id ?? '');
    if (!channel || !e.thread_ts || !team) return;
    const session = await deps.store.getSessionByThreadKey(slackThreadKey(team, channel, e.thread_ts));
    const running = session ? (await deps.store.listRuns(session.id)).filter((r) => r.status === 'running') : [];
    for (const run of running) {
      await deps.actions.handle(
        { kind: 'stop', runId: run.id },
        { user: { platform: 'slack', workspace: team, platformUserId: e.user ?? 'slack' }, followUpJob: noFollowUp },
      );
    }
    deps.logger.info({ channel, stopped: running.length }, 'slack agent session stopped');
  });

  async function tellUser(client: webApi.WebClient, click: Click, text: string): Promise<void> {
    await client.chat
      .postEphemeral({ channel: click.channel, user: click.user, text, ...(click.thread && { thread_ts: click.thread }) })
      .catch((err) => deps.logger.warn({ err: describeError(err) }, 'could not answer a click privately'));
  }
}

const noFollowUp = (): never => {
  throw new Error('a stop asks no follow-up');
};

/** Up to four prompts, made from the user's own city when they told us one. */
export function suggestedPrompts(city: string | undefined): Array<{ title: string; message: string }> {
  const from = city ?? 'Seattle';
  const prompts = [
    { title: `${from} → Austin?`, message: `Should I move from ${from} to Austin?` },
    { title: `${from} → Denver?`, message: `Should I move from ${from} to Denver? I love the outdoors.` },
    { title: 'Chicago → Raleigh?', message: 'Compare moving from Chicago to Raleigh for a family of four.' },
    { title: 'What do you remember?', message: 'What do you remember about me?' },
  ];
  return city ? prompts : prompts.map((p, i) => (i === 1 ? { title: 'NYC → Philadelphia?', message: 'Should I move from New York to Philadelphia?' } : p));
}

/** The city the user said they live in, from their memories ("You live in Seattle"). */
async function currentCity(deps: SlackInteractionDeps, team: string, userId: string): Promise<string | undefined> {
  if (!deps.memories || !team || !userId) return undefined;
  const user = await deps.store.upsertUser({ platform: 'slack', workspace: team, platformUserId: userId });
  const { memories } = await deps.memories.list(user.id, { limit: 30 });
  for (const m of memories) {
    const city = /\blive[sd]? in ([A-Z][\p{L}.' -]{1,40}?)(?:[,.;]|$| with| and| since| for)/u.exec(m.content)?.[1]?.trim();
    if (city) return city;
  }
  return undefined;
}

interface Click {
  id: string;
  user: string;
  userName?: string;
  team: string;
  channel: string;
  /** The thread the answer is in (its root ts). */
  thread: string;
}

interface AssistantThread {
  user_id: string;
  channel_id: string;
  thread_ts: string;
}

/** The parts of a block_actions payload we read (typed loosely: payloads are untrusted input). */
interface BlockActionBody {
  type?: string;
  user?: { id?: string; username?: string; name?: string; team_id?: string };
  team?: { id?: string } | null;
  channel?: { id?: string };
  container?: { message_ts?: string; thread_ts?: string; channel_id?: string };
  message?: { ts?: string; thread_ts?: string };
}
interface ClickedAction {
  type?: string;
  action_id?: string;
  value?: string;
}

function clickOf(body: BlockActionBody, action: ClickedAction): Click | undefined {
  const user = body.user?.id;
  const channel = body.channel?.id ?? body.container?.channel_id;
  const messageTs = body.container?.message_ts ?? body.message?.ts;
  const team = body.team?.id ?? body.user?.team_id;
  if (body.type !== 'block_actions' || !user || !channel || !messageTs || !team) return undefined;
  // Feedback buttons carry the rating in the clicked button's value; our buttons carry their id there too.
  const id = action.value ?? action.action_id ?? '';
  return {
    id,
    user,
    userName: body.user?.name ?? body.user?.username,
    team,
    channel,
    thread: body.message?.thread_ts ?? body.container?.thread_ts ?? messageTs,
  };
}
