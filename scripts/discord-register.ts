/**
 * `npm run discord:register`: registers /move, /ask, /memories and /forget for the application.
 * Globally by default (may take a while to show up everywhere), or to one guild at once with
 * DISCORD_GUILD_ID. DISCORD_API_URL points it at another Discord API (a local fake).
 */
import 'dotenv/config';
import { registerDiscordCommands } from '../adapters/discord/commands.js';
import { loadConfigOrExit } from '../src/config.js';

const config = loadConfigOrExit('discord-register');
const { token, applicationId, guildId, apiUrl } = config.discord;
try {
  const names = await registerDiscordCommands({
    token: token ?? '',
    applicationId: applicationId ?? '',
    ...(guildId && { guildId }),
    ...(apiUrl && { apiUrl }),
  });
  const scope = guildId ? `guild ${guildId}` : 'globally';
  process.stdout.write(`registered ${names.map((n) => `/${n}`).join(', ')} ${scope}\n`);
} catch (err) {
  // Discord's message only (never the request, whose headers hold the token).
  const e = err as { status?: number; code?: number | string; message?: string };
  process.stderr.write(
    `movebot: registering Discord commands failed: ${e.status ?? ''} ${e.code ?? ''} ${e.message}\n`,
  );
  process.exitCode = 1;
}
