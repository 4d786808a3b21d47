/**
 * Message components in the Discord fake: Discord's validation of action rows and buttons (the
 * `errors` tree of a 50035 Invalid Form Body), and the MESSAGE_COMPONENT interaction a button click
 * delivers over the gateway.
 */
import {
  type DiscordUser,
  memberObject,
  type MessageRecord,
  messageObject,
  userObject,
} from './discord-payloads.js';

/** Component types (Discord's numbers). */
export const ComponentType = { ActionRow: 1, Button: 2 } as const;
/** Select menus: string, user, role, mentionable, channel. Each fills a whole action row. */
const SELECT_TYPES = new Set([3, 5, 6, 7, 8]);
const LINK_STYLE = 5;
/** `flags` bit of a message that uses the newer layout components (not validated by the fake). */
const IS_COMPONENTS_V2 = 1 << 15;

type Issue = { code: string; message: string };
type Path = Array<string | number>;

/**
 * Discord's `errors` object for invalid `components` (`{ components: { 0: { components: { 1: {
 * custom_id: { _errors: [...] } } } } } }`), or undefined when they are valid: at most 5 action rows
 * of 1-5 buttons (or one select menu); button style 1-5; a link button (5) has a `url` and no
 * `custom_id`, the others a `custom_id` of 1-100 chars, unique in the message; label ≤ 80 chars.
 */
export function componentErrors(components: unknown, flags = 0): Record<string, unknown> | undefined {
  if (components === undefined || components === null || flags & IS_COMPONENTS_V2) return undefined;
  const errors: Record<string, unknown> = {};
  const add = (path: Path, code: string, message: string) => addError(errors, path, { code, message });
  if (!Array.isArray(components)) {
    add(['components'], 'LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType.');
    return errors;
  }
  if (components.length > 5) add(['components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  const seen = new Set<string>();
  components.forEach((row: unknown, r) => {
    const at: Path = ['components', r];
    if (!isObject(row) || row.type !== ComponentType.ActionRow) {
      add([...at, 'type'], 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
      return;
    }
    const children = Array.isArray(row.components) ? (row.components as unknown[]) : [];
    if (children.length < 1 || children.length > 5) {
      add([...at, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
    }
    children.forEach((child: unknown, c) => {
      const path: Path = [...at, 'components', c];
      if (
        !isObject(child) ||
        (child.type !== ComponentType.Button && !SELECT_TYPES.has(Number(child.type)))
      ) {
        add(
          [...path, 'type'],
          'UNION_TYPE_CHOICES',
          'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).',
        );
        return;
      }
      if (SELECT_TYPES.has(Number(child.type)) && children.length > 1) {
        add(path, 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'The specified component exceeds the maximum width');
      }
      for (const issue of childIssues(child, seen)) add([...path, issue.field], issue.code, issue.message);
    });
  });
  return Object.keys(errors).length > 0 ? errors : undefined;
}

function childIssues(child: Record<string, unknown>, seen: Set<string>): Array<Issue & { field: string }> {
  const issues: Array<Issue & { field: string }> = [];
  const issue = (field: string, code: string, message: string) => issues.push({ field, code, message });
  const isLink = child.type === ComponentType.Button && child.style === LINK_STYLE;
  if (child.type === ComponentType.Button) {
    if (!Number.isInteger(child.style) || Number(child.style) < 1 || Number(child.style) > 5) {
      issue('style', 'BASE_TYPE_CHOICES', 'Value must be one of (1, 2, 3, 4, 5).');
    }
    const label = child.label;
    if (label !== undefined && label !== null && String(label).length > 80) {
      issue('label', 'BASE_TYPE_MAX_LENGTH', 'Must be 80 or fewer in length.');
    }
    if (!label && !child.emoji) {
      issue('label', 'BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED', 'A label or an emoji is required');
    }
    if (isLink) {
      if (typeof child.url !== 'string' || child.url === '') {
        issue('url', 'BASE_TYPE_REQUIRED', 'This field is required');
      }
      if (child.custom_id !== undefined) {
        issue('custom_id', 'BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED', 'A link button cannot have a custom id');
      }
      return issues;
    }
    if (child.url !== undefined)
      issue('url', 'BUTTON_COMPONENT_URL_NOT_ALLOWED', 'Only link buttons can have a url');
  }
  const customId = child.custom_id;
  if (typeof customId !== 'string' || customId === '') {
    issue('custom_id', 'BASE_TYPE_REQUIRED', 'This field is required');
  } else if (customId.length > 100) {
    issue('custom_id', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  } else if (seen.has(customId)) {
    issue('custom_id', 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id was already specified');
  } else seen.add(customId);
  return issues;
}

function addError(errors: Record<string, unknown>, path: Path, issue: Issue): void {
  let node = errors;
  for (const key of path) {
    const next = (node[String(key)] ?? {}) as Record<string, unknown>;
    node[String(key)] = next;
    node = next;
  }
  const list = (node._errors ?? []) as Issue[];
  list.push(issue);
  node._errors = list;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The button with this custom_id on a message (not link buttons: clicking those opens the URL). */
export function findButton(message: MessageRecord, customId: string): Record<string, unknown> | undefined {
  for (const row of message.components) {
    const children = isObject(row) && Array.isArray(row.components) ? (row.components as unknown[]) : [];
    for (const child of children) {
      if (isObject(child) && child.type === ComponentType.Button && child.custom_id === customId)
        return child;
    }
  }
  return undefined;
}

/** A MESSAGE_COMPONENT (type 3) interaction for a button click, as the gateway delivers it. */
export function componentInteractionObject(input: {
  id: string;
  token: string;
  applicationId: string;
  /** Undefined in a DM. */
  guildId?: string;
  channelId: string;
  channel: Record<string, unknown>;
  user: DiscordUser;
  message: MessageRecord;
  customId: string;
}): Record<string, unknown> {
  const inGuild = input.guildId !== undefined;
  return {
    id: input.id,
    application_id: input.applicationId,
    type: 3,
    token: input.token,
    version: 1,
    ...(inGuild
      ? {
          guild_id: input.guildId,
          guild: { id: input.guildId, locale: 'en-US', features: [] },
          member: memberObject(input.user),
          guild_locale: 'en-US',
        }
      : { user: userObject(input.user) }),
    channel_id: input.channelId,
    channel: input.channel,
    message: messageObject(input.message),
    data: { custom_id: input.customId, component_type: ComponentType.Button },
    app_permissions: '2251799813685247',
    locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { 0: input.guildId ?? '0' },
    context: inGuild ? 0 : 1,
    attachment_size_limit: 10_485_760,
  };
}

/** A DM channel object for interactions outside a guild. */
export function dmChannelObject(channelId: string, user: DiscordUser): Record<string, unknown> {
  return { id: channelId, type: 1, last_message_id: null, flags: 0, recipients: [userObject(user)] };
}
