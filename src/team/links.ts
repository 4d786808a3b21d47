import { normalizeUrl } from './grounding.js';

/**
 * Links in answers point only to pages the tools fetched this turn (the NerdWallet page, the Reddit
 * threads and search results, knowledge-base documents). Any other link a model writes, for instance
 * one a forum post talked it into ("[Claim your relocation grant](https://…)"), is shown as plain text:
 * a Markdown or Slack link keeps its label only, a bare address is put in code so no chat app makes it
 * clickable.
 */
export type LinkPolicy = (text: string) => string;

const MARKDOWN_LINK = /\[([^\]\n]{0,500})\]\(\s*<?([^()\s<>]{1,2000})>?(?:\s+"[^"\n]{0,200}")?\s*\)/g;
const SLACK_LINK = /<(https?:\/\/[^|>\s]{1,2000})(?:\|([^>\n]{0,500}))?>/g;
const BARE_URL = /(?<![`(<|\w])(https?:\/\/[^\s<>()`"']{1,2000}[^\s<>()`"'.,;:!?])/g;

export function createLinkPolicy(fetched: Iterable<string>): LinkPolicy {
  const allowed = new Set([...fetched].map(normalizeUrl));
  const known = (url: string) => allowed.has(normalizeUrl(url));
  return (text) =>
    text
      .replace(MARKDOWN_LINK, (link, label: string, url: string) => (known(url) ? link : label.trim() || '(link removed)'))
      .replace(SLACK_LINK, (link, url: string, label?: string) => (known(url) ? link : label?.trim() || `\`${url}\``))
      .replace(BARE_URL, (url: string) => (known(url) ? url : `\`${url}\``));
}

/** Applies `policy` to every string and list of strings of `value` (a model's structured output). */
export function withLinkPolicy<T extends object>(value: T, policy: LinkPolicy): T {
  const out = { ...value } as Record<string, unknown>;
  for (const [key, v] of Object.entries(out)) {
    if (typeof v === 'string') out[key] = policy(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[key] = v.map(policy);
  }
  return out as T;
}
