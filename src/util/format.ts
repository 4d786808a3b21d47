// Intl.NumberFormat is costly to build; toLocaleString builds one per call.
const usd = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** 1650 → "1,650"; the format every report and prompt uses for dollar amounts. */
export function formatNumber(n: number): string {
  return usd.format(n);
}

/** 3517.4 → "$3,517": whole dollars, as estimates are shown. */
export function formatUsd(n: number): string {
  return `$${formatNumber(Math.round(n))}`;
}

/** The text cut to `max` characters, an ellipsis marking the cut (platform limits on titles and fields). */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
