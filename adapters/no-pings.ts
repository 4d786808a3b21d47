/**
 * Text from models and scraped pages must never notify anyone: `@everyone`, `@here` and `@channel`
 * get an invisible word joiner after the `@`, so no platform reads them as mentions (Slack's
 * `<!channel>` and `<@U…>` forms are escaped by the Slack renderer; Discord bodies also carry
 * `allowed_mentions: { parse: [] }`).
 */
export function noPings(text: string): string {
  return text.replace(/@(everyone|here|channel)\b/gi, '@\u2060$1');
}
