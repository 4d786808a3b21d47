// Intl.NumberFormat is costly to build; toLocaleString builds one per call.
const usd = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** 1650 → "1,650"; the format every report and prompt uses for dollar amounts. */
export function formatNumber(n: number): string {
  return usd.format(n);
}
