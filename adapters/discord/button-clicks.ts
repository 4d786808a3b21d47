import { type ButtonInteraction, MessageFlags } from 'discord.js';
import type { Clock } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import { type AnswerActions, decodeAction } from '../../src/run/answer-actions.js';

/** What a click on a button we no longer recognise gets (an old message, a changed id format). */
export const STALE_BUTTON = 'That button no longer works. Mention me or use /move to ask again.';

/**
 * A click on one of our answer buttons (Stop, feedback, follow-ups). Discord allows 3 s for the first
 * response, so the click is acknowledged at once as a deferred update (the message stays as it is),
 * then carried out; anything to tell the clicking user goes in an ephemeral follow-up.
 */
export async function onButtonClick(
  interaction: ButtonInteraction,
  deps: { actions: AnswerActions; clock: Clock; logger: Logger; threadKey(workspace: string, root: string): string },
): Promise<void> {
  const action = decodeAction(interaction.customId);
  if (!action) {
    await interaction.reply({ content: STALE_BUTTON, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferUpdate();
  const workspace = interaction.guildId ?? '@dm';
  const channel = interaction.channelId;
  // The conversation's thread: the channel itself in a DM or a thread; else the thread opened on the answer.
  const root = !interaction.inGuild() || interaction.channel?.isThread() ? channel : interaction.message.id;
  const user = interaction.user;
  const userName = interaction.member && 'displayName' in interaction.member ? interaction.member.displayName : (user.globalName ?? user.username);
  const result = await deps.actions.handle(action, {
    user: { platform: 'discord', workspace, platformUserId: user.id, displayName: userName },
    followUpJob: (question, messageId) => ({
      platform: 'discord',
      workspace,
      // Answered in the conversation's thread (opened on the answer's message when there is none yet).
      channel,
      ...(interaction.inGuild() && { thread: root }),
      messageId,
      userId: user.id,
      userName,
      text: question,
      threadKey: deps.threadKey(workspace, root),
      receivedAt: new Date(deps.clock.now()).toISOString(),
    }),
  });
  deps.logger.info({ interactionId: interaction.id, action: action.kind, runId: action.runId }, 'discord button clicked');
  if (result.ephemeral) await interaction.followUp({ content: result.ephemeral, flags: MessageFlags.Ephemeral });
}
