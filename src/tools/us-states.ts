/**
 * US states as people write them: postal codes, full names and the older informal abbreviations
 * ("Mass.", "Calif.", "N.Y."). Shared by the city-pair parser and the city resolver.
 */

/** Postal code → state name, including DC. */
export const STATES: Record<string, string> = Object.fromEntries(
  (
    'AL Alabama|AK Alaska|AZ Arizona|AR Arkansas|CA California|CO Colorado|CT Connecticut|' +
    'DE Delaware|DC District of Columbia|FL Florida|GA Georgia|HI Hawaii|ID Idaho|IL Illinois|' +
    'IN Indiana|IA Iowa|KS Kansas|KY Kentucky|LA Louisiana|ME Maine|MD Maryland|MA Massachusetts|' +
    'MI Michigan|MN Minnesota|MS Mississippi|MO Missouri|MT Montana|NE Nebraska|NV Nevada|' +
    'NH New Hampshire|NJ New Jersey|NM New Mexico|NY New York|NC North Carolina|ND North Dakota|' +
    'OH Ohio|OK Oklahoma|OR Oregon|PA Pennsylvania|RI Rhode Island|SC South Carolina|SD South Dakota|' +
    'TN Tennessee|TX Texas|UT Utah|VT Vermont|VA Virginia|WA Washington|WV West Virginia|' +
    'WI Wisconsin|WY Wyoming'
  )
    .split('|')
    .map((entry) => [entry.slice(0, 2), entry.slice(3)]),
);

/**
 * Traditional (AP-style and older) abbreviations, written here without their dots. Two-letter ones
 * that are also postal codes ("Ga.", "Va.") need no entry; "N.Y." loses its dots to become "NY".
 */
const INFORMAL: Record<string, string> = {
  ala: 'AL',
  ariz: 'AZ',
  ark: 'AR',
  cal: 'CA',
  calif: 'CA',
  colo: 'CO',
  conn: 'CT',
  fla: 'FL',
  ill: 'IL',
  ind: 'IN',
  kan: 'KS',
  kans: 'KS',
  mass: 'MA',
  mich: 'MI',
  minn: 'MN',
  miss: 'MS',
  mont: 'MT',
  neb: 'NE',
  nebr: 'NE',
  nev: 'NV',
  okla: 'OK',
  ore: 'OR',
  oreg: 'OR',
  penn: 'PA',
  penna: 'PA',
  tenn: 'TN',
  tex: 'TX',
  wash: 'WA',
  'w va': 'WV',
  wva: 'WV',
  wis: 'WI',
  wisc: 'WI',
  wyo: 'WY',
};

/** Lower-case, dot-free form: "N.Y." → "ny", "Calif." → "calif", "West  Virginia" → "west virginia". */
function key(text: string): string {
  return text
    .toLowerCase()
    .replace(/[.'’`]/g, '')
    .replace(/[^a-z]+/g, ' ')
    .trim();
}

/** Every written form → postal code, longest first so "west virginia" is tried before "virginia". */
export const STATE_FORMS: ReadonlyArray<readonly [string, string]> = [
  ...Object.entries(STATES).flatMap(([abbr, name]) => [
    [key(name), abbr] as const,
    [abbr.toLowerCase(), abbr] as const,
  ]),
  ...Object.entries(INFORMAL),
].sort((a, b) => b[0].length - a[0].length);

const BY_FORM = new Map(STATE_FORMS);

/** The state's postal code for an abbreviation (formal or informal) or full name, or undefined. */
export function stateCode(text: string): string | undefined {
  return BY_FORM.get(key(text));
}
