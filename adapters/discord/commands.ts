import {
  type ChatInputCommandInteraction,
  REST,
  type RESTPutAPIApplicationCommandsJSONBody,
  Routes,
  SlashCommandBuilder,
} from 'discord.js';

/**
 * The four slash commands. `/memories` and `/forget` become ordinary chat messages with fixed
 * wording, so the team's memory commands handle them like the same words typed in Slack.
 */
export const DISCORD_COMMANDS: RESTPutAPIApplicationCommandsJSONBody = [
  new SlashCommandBuilder()
    .setName('move')
    .setDescription('Should I move from one city to another? Ask the team of analysts.')
    .addStringOption((o) =>
      o.setName('from').setDescription('The city you live in now').setRequired(true).setMaxLength(100),
    )
    .addStringOption((o) =>
      o.setName('to').setDescription('The city you are thinking of').setRequired(true).setMaxLength(100),
    )
    .addStringOption((o) =>
      o
        .setName('details')
        .setDescription('Anything that matters: budget, job, family, climate…')
        .setMaxLength(1_500),
    )
    .toJSON(),
  new SlashCommandBuilder()
    .setName('ask')
    .setDescription('Ask the team anything about moving between cities.')
    .addStringOption((o) =>
      o.setName('question').setDescription('Your question').setRequired(true).setMaxLength(2_000),
    )
    .toJSON(),
  new SlashCommandBuilder()
    .setName('memories')
    .setDescription('What does movebot remember about you?')
    .toJSON(),
  new SlashCommandBuilder()
    .setName('forget')
    .setDescription('Make movebot forget one thing, or everything it remembers about you.')
    .addStringOption((o) =>
      o
        .setName('what')
        .setDescription('What to forget, or "everything"')
        .setRequired(true)
        .setMaxLength(500),
    )
    .toJSON(),
];

/** Commands whose replies only the asker sees: what movebot remembers about someone is theirs. */
export const PRIVATE_COMMANDS = new Set(['memories', 'forget']);

/** Names of our commands, for telling ours apart from other apps' in a shared client. */
export const COMMAND_NAMES = new Set(DISCORD_COMMANDS.map((c) => c.name));

/** The option reader both discord.js interactions and tests satisfy. */
export interface CommandOptions {
  getString(name: string): string | null;
}

/**
 * The chat message a slash command stands for, or undefined when the command is not ours.
 * The result is what the team would receive had the user typed it.
 */
export function commandText(commandName: string, options: CommandOptions): string | undefined {
  const get = (name: string) => options.getString(name)?.trim() || undefined;
  switch (commandName) {
    case 'move': {
      const details = get('details');
      return `Should I move from ${get('from') ?? '?'} to ${get('to') ?? '?'}?${details ? ` ${details}` : ''}`;
    }
    case 'ask':
      return get('question');
    case 'memories':
      return 'what do you remember about me?';
    case 'forget': {
      // Everything only when asked for in words: an empty option must not wipe a user's memories.
      // The command is explicit: a trailing "?" must not turn it into a question for the team.
      const what = get('what')?.replace(/[\s?!.]+$/, '');
      if (!what) return undefined;
      return /^(everything|all|all of it)$/i.test(what) ? 'forget everything' : `forget that ${what}`;
    }
    default:
      return undefined;
  }
}

/** Reads a slash command's text from a discord.js interaction (see commandText). */
export function interactionText(interaction: ChatInputCommandInteraction): string | undefined {
  return commandText(interaction.commandName, interaction.options);
}

export interface RegisterOptions {
  token: string;
  applicationId: string;
  /** Registers to this guild only (instant, for development) instead of globally. */
  guildId?: string;
  /** Discord API base (e.g. a local fake), without the version. */
  apiUrl?: string;
}

/**
 * Overwrites the application's commands with ours (a bulk PUT, so renamed or removed commands go
 * away too). Returns the registered command names.
 */
export async function registerDiscordCommands(options: RegisterOptions): Promise<string[]> {
  const rest = new REST({ ...(options.apiUrl && { api: options.apiUrl }) }).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  const registered = (await rest.put(route, { body: DISCORD_COMMANDS })) as Array<{ name: string }>;
  return registered.map((c) => c.name);
}
