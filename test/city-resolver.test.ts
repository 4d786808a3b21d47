import { describe, expect, it } from 'vitest';
import {
  type CityResolution,
  clarifyingQuestion,
  createCityResolver,
  extractCityPair,
  loadNerdWalletCities,
  type NerdWalletCity,
  slugFor,
} from '../src/tools/city-resolver.js';

const cities = loadNerdWalletCities();
const resolver = createCityResolver();

function city(display: string): NerdWalletCity {
  const found = cities.find((c) => c.display_name === display);
  if (!found) throw new Error(`fixture city ${display} missing from data`);
  return found;
}

function foundName(res: CityResolution): string {
  return res.kind === 'found' ? res.city.display_name : `<${res.kind}>`;
}

describe('city data', () => {
  it('loads all 178 NerdWallet cities from data/', () => {
    expect(cities).toHaveLength(178);
    expect(slugFor(city('Seattle, WA'))).toBe('seattle-wa');
  });
});

describe('resolve: exact names', () => {
  it.each([
    ['seattle', 'Seattle, WA'],
    ['Seattle, WA', 'Seattle, WA'],
    ['Seattle WA', 'Seattle, WA'],
    ['  SEATTLE ,  wa ', 'Seattle, WA'],
    ['seattle, washington', 'Seattle, WA'],
    ['Austin, Texas, USA', 'Austin, TX'],
    ['St. Louis', 'St Louis, MO'],
    ['Saint Louis, Missouri', 'St Louis, MO'],
    ['Ft. Worth', 'Fort Worth, TX'],
    ['winston salem', 'Winston-Salem, NC'],
    ['Winston-Salem NC', 'Winston-Salem, NC'],
    ['the Seattle area', 'Seattle, WA'],
    ['downtown Denver', 'Denver, CO'],
    ['Baton Rouge, LA', 'Baton Rouge, LA'],
    ['Kansas City, Kansas', 'Kansas City, KS'],
    ['Virginia Beach', 'Virginia Beach, VA'],
    ['Frisco', 'Frisco, TX'],
    ['Portland', 'Portland, OR'],
    ['Portland, OR', 'Portland, OR'],
    ['Portland Oregon', 'Portland, OR'],
    ['Brooklyn', 'New York (Brooklyn), NY'],
    ['Queens, NY', 'New York (Queens), NY'],
    ['The Bronx', 'New York (Bronx), NY'],
    ['staten island', 'New York (Staten Island), NY'],
    ['seattle-wa', 'Seattle, WA'],
  ])('%j → %s', (input, expected) => {
    const res = resolver.resolve(input);
    expect(foundName(res)).toBe(expected);
  });

  it('reports a single-city name as exact and a state-picked one as state', () => {
    expect(resolver.resolve('Seattle, WA')).toMatchObject({ kind: 'found', matchedBy: 'exact' });
    expect(resolver.resolve('Aurora, CO')).toMatchObject({ kind: 'found', matchedBy: 'state' });
  });
});

describe('resolve: informal state abbreviations', () => {
  it.each([
    ['Boston, Mass.', 'Boston, MA'],
    ['Los Angeles, Calif.', 'Los Angeles, CA'],
    ['Miami, Fla.', 'Miami, FL'],
    ['Austin, Tex.', 'Austin, TX'],
    ['Pittsburgh, Penn.', 'Pittsburgh, PA'],
    ['Seattle, Wash.', 'Seattle, WA'],
    ['Phoenix, Ariz.', 'Phoenix, AZ'],
    ['Denver, Colo.', 'Denver, CO'],
    ['Atlanta, Ga.', 'Atlanta, GA'],
    ['Chicago, Ill.', 'Chicago, IL'],
    ['Detroit, Mich.', 'Detroit, MI'],
    ['St. Paul, Minn.', 'St Paul, MN'],
    ['Nashville, Tenn.', 'Nashville, TN'],
    ['Norfolk, Va.', 'Norfolk, VA'],
    ['Albany, N.Y.', 'Albany, NY'],
    ['Durham, N.C.', 'Durham, NC'],
    ['Springfield, Mass.', 'Springfield, MA'],
    ['Aurora, Ill.', 'Aurora, IL'],
  ])('%j → %s', (input, expected) => {
    expect(foundName(resolver.resolve(input))).toBe(expected);
  });

  it('reads them as context too', () => {
    expect(foundName(resolver.resolve('Rochester', { state: 'Minn.' }))).toBe('Rochester, MN');
  });
});

describe('resolve: aliases', () => {
  it.each([
    ['NYC', 'New York (Manhattan), NY'],
    ['New York City', 'New York (Manhattan), NY'],
    ['new york, ny', 'New York (Manhattan), NY'],
    ['Manhattan', 'New York (Manhattan), NY'],
    ['SF', 'San Francisco, CA'],
    ['San Fran', 'San Francisco, CA'],
    ['LA', 'Los Angeles, CA'],
    ['L.A.', 'Los Angeles, CA'],
    ['Philly', 'Philadelphia, PA'],
    ['Vegas', 'Las Vegas, NV'],
    ['NOLA', 'New Orleans, LA'],
    ['ATL', 'Atlanta, GA'],
    ['Chi-town', 'Chicago, IL'],
    ['Chicagoland', 'Chicago, IL'],
    ['Twin Cities', 'Minneapolis, MN'],
    ['Indy', 'Indianapolis, IN'],
    ['SLC', 'Salt Lake City, UT'],
    ['St Pete', 'St Petersburg, FL'],
    ['PDX', 'Portland, OR'],
  ])('%j → %s', (input, expected) => {
    const res = resolver.resolve(input);
    expect(foundName(res)).toBe(expected);
    if (res.kind === 'found' && !res.city.city.includes('Manhattan')) expect(res.matchedBy).toBe('alias');
  });

  it('says when New York was read as Manhattan', () => {
    const res = resolver.resolve('NYC');
    expect(res.kind === 'found' && res.note).toMatch(/Manhattan/);
  });

  it('keeps KC and the Bay Area ambiguous', () => {
    const kc = resolver.resolve('KC');
    expect(kc.kind).toBe('ambiguous');
    if (kc.kind === 'ambiguous') {
      expect(kc.candidates.map((c) => c.display_name).sort()).toEqual(['Kansas City, KS', 'Kansas City, MO']);
    }
    expect(resolver.resolve('bay area').kind).toBe('ambiguous');
  });

  it('does not pretend Washington, DC is listed and suggests a listed neighbour', () => {
    for (const input of ['DC', 'Washington DC', 'D.C.', 'Washington, D.C.']) {
      const res = resolver.resolve(input);
      expect(res.kind, input).toBe('unknown');
      if (res.kind === 'unknown')
        expect(res.suggestions.map((c) => c.display_name)).toContain('Arlington, VA');
    }
  });
});

describe('resolve: typos', () => {
  it.each([
    ['Seatle', 'Seattle, WA'],
    ['Austn', 'Austin, TX'],
    ['Pittsburg', 'Pittsburgh, PA'],
    ['Tuscon', 'Tucson, AZ'],
    ['Philadelpia', 'Philadelphia, PA'],
    ['Albuqerque, NM', 'Albuquerque, NM'],
    ['Seatle, WA', 'Seattle, WA'],
  ])('%j → %s', (input, expected) => {
    const res = resolver.resolve(input);
    expect(foundName(res)).toBe(expected);
    expect(res).toMatchObject({ matchedBy: 'fuzzy' });
  });

  it.each(['Atlantis', 'Gotham', 'xyz', 'Narnia', 'Texas', '', '   '])('%j is unknown', (input) => {
    expect(resolver.resolve(input).kind).toBe('unknown');
  });

  it('suggests at most three near names for unknown input', () => {
    const res = resolver.resolve('Atlantis');
    expect(res.kind).toBe('unknown');
    if (res.kind !== 'unknown') return;
    expect(res.suggestions.length).toBeLessThanOrEqual(3);
    expect(res.suggestions[0]?.display_name).toBe('Atlanta, GA');
    expect(resolver.resolve('xyz')).toMatchObject({ suggestions: [] });
  });

  it('a typo of a multi-state name stays ambiguous', () => {
    const res = resolver.resolve('Springfeld');
    expect(res.kind).toBe('ambiguous');
  });
});

// Computed from the data, so a new duplicate in the JSON is covered automatically.
const byName = new Map<string, NerdWalletCity[]>();
for (const c of cities) byName.set(c.city, [...(byName.get(c.city) ?? []), c]);
const multiState = [...byName.entries()].filter(([, list]) => list.length > 1);

const QUESTIONS: Record<string, string> = {
  Arlington: 'Which Arlington do you mean: Arlington, TX or Arlington, VA?',
  Aurora: 'Which Aurora do you mean: Aurora, CO or Aurora, IL?',
  Columbus: 'Which Columbus do you mean: Columbus, GA or Columbus, OH?',
  'Kansas City': 'Which Kansas City do you mean: Kansas City, KS or Kansas City, MO?',
  Rochester: 'Which Rochester do you mean: Rochester, MN or Rochester, NY?',
  Springfield: 'Which Springfield do you mean: Springfield, IL, Springfield, MA or Springfield, MO?',
};

describe('resolve: names in several states', () => {
  it('finds exactly the six known multi-state names', () => {
    expect(multiState.map(([name]) => name).sort()).toEqual([
      'Arlington',
      'Aurora',
      'Columbus',
      'Kansas City',
      'Rochester',
      'Springfield',
    ]);
  });

  describe.each(multiState)('%s', (name, list) => {
    it('is ambiguous on its own, listing every state', () => {
      const res = resolver.resolve(name);
      expect(res.kind).toBe('ambiguous');
      if (res.kind === 'ambiguous') expect(res.candidates).toHaveLength(list.length);
      expect(clarifyingQuestion(res)).toBe(QUESTIONS[name]);
    });

    it.each(list.map((c) => [c.display_name, c]))('a state in the input picks %s', (_display, c) => {
      expect(foundName(resolver.resolve(`${name}, ${c.state_abbr}`))).toBe(c.display_name);
      expect(foundName(resolver.resolve(`${name} ${c.state}`))).toBe(c.display_name);
      expect(resolver.resolve(name, { state: c.state })).toMatchObject({
        kind: 'found',
        city: c,
        matchedBy: 'context',
      });
      expect(resolver.resolve(name, { preferredStates: ['ZZ', c.state_abbr] })).toMatchObject({ city: c });
    });
  });

  it('uses the other city only when it shares a state with exactly one candidate', () => {
    expect(resolver.resolve('Columbus', { otherCity: city('Cincinnati, OH') })).toMatchObject({
      kind: 'found',
      city: city('Columbus, OH'),
      matchedBy: 'context',
    });
    expect(resolver.resolve('Aurora', { otherCity: city('Denver, CO') })).toMatchObject({
      city: city('Aurora, CO'),
    });
    expect(resolver.resolve('Springfield', { otherCity: city('Seattle, WA') }).kind).toBe('ambiguous');
  });

  it('an explicit state wins over context', () => {
    expect(foundName(resolver.resolve('Rochester, NY', { state: 'MN' }))).toBe('Rochester, NY');
  });

  it('a state without that city is unknown, suggests nothing from other states, and names the listed one plainly', () => {
    const res = resolver.resolve('Portland, ME');
    expect(res).toMatchObject({
      kind: 'unknown',
      state: 'ME',
      suggestions: [],
      sameName: [city('Portland, OR')],
    });
    expect(clarifyingQuestion(res)).toBe(
      "I couldn't find 'Portland, ME' in NerdWallet's list of 178 cities. It lists no city in Maine; by that name it lists only Portland, OR. Did you mean Portland, OR, or a larger city near you?",
    );
    expect(resolver.resolve('Portland', { state: 'ME' }).kind).toBe('found');
  });

  it('for an unlisted city in a listed state, suggests only cities of that state', () => {
    for (const input of ['Springfield, OH', 'Boulder City, Nevada', 'Portland, Texas']) {
      const res = resolver.resolve(input);
      expect(res.kind, input).toBe('unknown');
      if (res.kind !== 'unknown') continue;
      expect(res.suggestions.length, input).toBeGreaterThan(0);
      expect(
        res.suggestions.every((c) => c.state_abbr === res.state),
        input,
      ).toBe(true);
    }
    expect(clarifyingQuestion(resolver.resolve('Boulder City, NV'))).toBe(
      "I couldn't find 'Boulder City, NV' in NerdWallet's list of 178 cities. Cities it lists in Nevada include Henderson, NV, Las Vegas, NV and Reno, NV. Would one of those do for the comparison?",
    );
  });
});

describe('createCityResolver with its own list', () => {
  it('uses the aliases an entry carries and knows only the cities it was given', () => {
    const emerald: NerdWalletCity = { ...city('Seattle, WA'), aliases: ['Emerald City'] };
    const small = createCityResolver([emerald, city('Austin, TX')]);
    expect(small.resolve('emerald city')).toMatchObject({ kind: 'found', city: emerald, matchedBy: 'alias' });
    expect(small.resolve('Boston').kind).toBe('unknown');
    expect(clarifyingQuestion(small.resolve('Boston'), small.cities.length)).toMatch(/list of 2 cities/);
  });
});

describe('clarifyingQuestion', () => {
  it('asks nothing for a found city and offers nothing it cannot back up', () => {
    expect(clarifyingQuestion(resolver.resolve('Boston'))).toBeUndefined();
    expect(clarifyingQuestion(resolver.resolve('Gotham'))).toMatch(/couldn't find 'Gotham'/);
    expect(clarifyingQuestion(resolver.resolve('KC'))).toBe(
      'Which Kansas City do you mean: Kansas City, MO or Kansas City, KS?',
    );
  });
});

describe('extractCityPair', () => {
  it.each([
    ['Should I move from Seattle to Austin?', 'Seattle', 'Austin'],
    ['should i move from seattle to austin', 'seattle', 'austin'],
    ['Seattle -> Austin', 'Seattle', 'Austin'],
    ['Seattle → Austin, TX', 'Seattle', 'Austin, TX'],
    ['moving to Denver from Chicago', 'Chicago', 'Denver'],
    ['I want to move to Denver from Chicago next spring.', 'Chicago', 'Denver'],
    ['thinking about leaving NYC for Philly', 'NYC', 'Philly'],
    ['compare Boston and Raleigh', 'Boston', 'Raleigh'],
    ['Can you compare Boston with Raleigh, NC?', 'Boston', 'Raleigh, NC'],
    ['Seattle vs. Austin', 'Seattle', 'Austin'],
    ['Should I move from Seattle, WA to Austin, TX next year?', 'Seattle, WA', 'Austin, TX'],
    [
      'relocating from Kansas City, Missouri to Portland, Oregon because of work',
      'Kansas City, Missouri',
      'Portland, Oregon',
    ],
    ['We are moving from the Seattle area to Austin to be closer to family', 'Seattle area', 'Austin'],
    ["I'm considering a move from Boise, Idaho to Portland in 2026", 'Boise, Idaho', 'Portland'],
    ['going from the Bay Area to Austin', 'Bay Area', 'Austin'],
    ['move back to Chicago from LA', 'LA', 'Chicago'],
    ['I live in Seattle and I am thinking of moving to Austin.', 'Seattle', 'Austin'],
    ['Should I move to Austin or stay in Seattle?', 'Seattle', 'Austin'],
    ['from St. Louis to Washington D.C.', 'St Louis', 'Washington DC'],
    ['Seattle to Austin', 'Seattle', 'Austin'],
    // A capital "OR" after a comma is Oregon, not the word "or".
    ['Should I move from Portland, OR to Austin?', 'Portland, OR', 'Austin'],
    ['Should I move to Portland, OR or stay in Seattle?', 'Seattle', 'Portland, OR'],
    // A state in brackets or with dots stays with its city.
    ['Should I move from Columbus (Ohio) to Raleigh?', 'Columbus, Ohio', 'Raleigh'],
    ['moving from Albany, N.Y. to Raleigh, N.C. next year', 'Albany, NY', 'Raleigh, NC'],
    ['from Boston, Mass. to Austin (TX)', 'Boston, Mass', 'Austin, TX'],
    ['moving from Austin (my hometown) to Denver', 'Austin', 'Denver'],
    // Where in the city is not part of its name.
    ['Should I move from my apartment in Boston to Chicago?', 'Boston', 'Chicago'],
    ['from downtown Denver to Boise', 'Denver', 'Boise'],
    ["moving from my parents' place in Denver to the suburbs of Austin", 'Denver', 'Austin'],
  ])('%j', (text, from, to) => {
    expect(extractCityPair(text)).toEqual({ from, to });
  });

  it('returns only what is there', () => {
    expect(extractCityPair('Thinking about moving to Austin')).toEqual({ to: 'Austin' });
    expect(extractCityPair("I'm in Seattle, what do you think?")).toEqual({ from: 'Seattle' });
    expect(extractCityPair('What is the weather like today?')).toEqual({});
  });

  it('feeds the resolver', () => {
    const { from, to } = extractCityPair('thinking about leaving NYC for Philly');
    expect(foundName(resolver.resolve(from!))).toBe('New York (Manhattan), NY');
    expect(foundName(resolver.resolve(to!))).toBe('Philadelphia, PA');
  });
});
