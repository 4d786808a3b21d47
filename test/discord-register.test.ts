import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordFake, type DiscordFake } from './fakes/discord-fake.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const GUILD = '930000000000000001';
const TOKEN = 'fake-bot-token';

let discord: DiscordFake;
beforeAll(async () => {
  discord = await createDiscordFake({
    token: TOKEN,
    guilds: [{ id: GUILD, name: 'Movers', channels: [{ id: '930000000000000002', name: 'general' }] }],
  });
});
afterAll(async () => {
  await discord?.close();
});

/** Runs scripts/discord-register.ts as `npm run discord:register` does, with only the variables given. */
function register(env: Record<string, string>) {
  return run(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/discord-register.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
}

const ENV = () => ({
  DISCORD_TOKEN: TOKEN,
  DISCORD_APPLICATION_ID: discord.applicationId,
  DISCORD_API_URL: discord.restUrl,
});

describe('npm run discord:register', () => {
  it('registers the four commands globally, and to one guild with DISCORD_GUILD_ID', async () => {
    const global = await register(ENV());
    expect(global.stdout).toContain('registered /move, /ask, /memories, /forget globally');
    expect(discord.commands().map((c) => c.name)).toEqual(['move', 'ask', 'memories', 'forget']);
    const move = discord.commands().find((c) => c.name === 'move') as {
      options: Array<{ name: string; required?: boolean }>;
    };
    expect(move.options.map((o) => [o.name, o.required ?? false])).toEqual([
      ['from', true],
      ['to', true],
      ['details', false],
    ]);

    const guild = await register({ ...ENV(), DISCORD_GUILD_ID: GUILD });
    expect(guild.stdout).toContain(`guild ${GUILD}`);
    expect(discord.commands(GUILD).map((c) => c.name)).toEqual(['move', 'ask', 'memories', 'forget']);
    expect(discord.callsTo('putGuildCommands')).toHaveLength(1);
  });

  it('names the missing variables and exits 2', async () => {
    const failed = await register({ DISCORD_API_URL: discord.restUrl }).catch((err) => err);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/DISCORD_TOKEN/);
    expect(failed.stderr).toMatch(/DISCORD_APPLICATION_ID/);
  });

  it('reports a rejected token without printing it', async () => {
    const wrong = 'wrong-token-123456';
    const failed = await register({ ...ENV(), DISCORD_TOKEN: wrong }).catch((err) => err);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/registering Discord commands failed: 401/);
    expect(failed.stderr).not.toContain(wrong);
  });
});
