import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../src/conversation/conversation-service.js';
import { mayTellAboutThemselves } from '../src/memory/memory-service.js';
import { messageText } from './fakes/openai-fake.js';
import { useTeamRuntime } from './helpers/team-runtime.js';

const team = useTeamRuntime();
const keeperCalls = () =>
  team.fakes.openai.chatRequests.filter((r) => messageText(r.messages[0]?.content).includes('memory keeper')).length;
const say = (text: string, threadKey: string) => {
  const message: IncomingMessage = { platform: 'cli', workspace: 'local', threadKey, user: { platformUserId: 'u1' }, text };
  return team.runtime.conversation.handle(message);
};

describe('learning only from messages that say something about the person', () => {
  it('tells questions apart from statements', () => {
    expect(mayTellAboutThemselves('Should I move from Seattle to Austin?')).toBe(false);
    expect(mayTellAboutThemselves('What about taxes?')).toBe(false);
    expect(mayTellAboutThemselves('Should I move from Seattle to Austin? I love live music.')).toBe(true);
    expect(mayTellAboutThemselves('Walkable streets matter to me')).toBe(true);
    expect(mayTellAboutThemselves('My partner works remotely')).toBe(true);
  });

  it('makes no memory-keeper model call for a question, and one for a message that tells something', async () => {
    await say('Should I move from Seattle to Austin?', 'cli:cheap:1');
    await say('What about taxes?', 'cli:cheap:1');
    await team.runtime.conversation.idle();
    expect(keeperCalls()).toBe(0);

    await say('Should I move from Seattle to Denver? I love walkable neighbourhoods.', 'cli:cheap:2');
    await team.runtime.conversation.idle();
    expect(keeperCalls()).toBe(1);
    const user = await team.runtime.store.upsertUser({ platform: 'cli', workspace: 'local', platformUserId: 'u1' });
    expect((await team.runtime.memoryStore.list(user.id)).memories.map((m) => m.content)).toContain('You prefer walkable neighbourhoods');
  });
});
