import { describe, expect, it } from 'vitest';
import { relevantExcerpt } from '../src/tools/cost-extraction.js';
import {
  type CostFigures,
  extractCostFigures,
  groundFigures,
  nerdwalletCompareUrl,
  normaliseForGrounding,
} from '../src/tools/cost-of-living.js';
import { city, comparePage } from './helpers/nerdwallet.js';

const SEATTLE = city('seattle-wa');
const AUSTIN = city('austin-tx');

describe('nerdwalletCompareUrl', () => {
  it('builds the compare URL from both slugs, state included', () => {
    expect(nerdwalletCompareUrl(SEATTLE, AUSTIN)).toBe(
      'https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-austin-tx',
    );
    expect(nerdwalletCompareUrl(city('kansas-city-mo'), city('kansas-city-ks'))).toMatch(
      /compare\/kansas-city-mo-vs-kansas-city-ks$/,
    );
  });
});

type Expected = [category: string, percent: number, direction: string, city: string];

const CASES: Array<{
  slugs: string;
  overall: [percent: number, direction: string, city: string];
  categories: Expected[];
  missing: string[];
}> = [
  {
    slugs: 'seattle-wa-vs-austin-tx',
    overall: [23, 'lower', 'Austin, TX'],
    categories: [
      ['housing', 38, 'lower', 'Austin, TX'],
      ['food', 9, 'lower', 'Austin, TX'],
      ['transportation', 7, 'lower', 'Austin, TX'],
      ['healthcare', 5, 'lower', 'Austin, TX'],
      ['utilities', 5, 'lower', 'Austin, TX'],
      ['entertainment', 11, 'lower', 'Austin, TX'],
    ],
    missing: [],
  },
  {
    slugs: 'austin-tx-vs-san-francisco-ca',
    overall: [79, 'higher', 'San Francisco, CA'],
    categories: [
      ['housing', 168, 'higher', 'San Francisco, CA'],
      ['food', 24, 'higher', 'San Francisco, CA'],
      ['transportation', 19, 'higher', 'San Francisco, CA'],
      ['healthcare', 21, 'higher', 'San Francisco, CA'],
      ['utilities', 0, 'same', 'San Francisco, CA'],
    ],
    missing: ['entertainment'],
  },
  {
    slugs: 'chicago-il-vs-denver-co',
    overall: [6.4, 'higher', 'Denver, CO'],
    categories: [
      ['housing', 26.3, 'higher', 'Denver, CO'],
      ['food', 3.2, 'lower', 'Denver, CO'],
      ['transportation', 1.5, 'higher', 'Denver, CO'],
      ['healthcare', 4, 'higher', 'Denver, CO'],
      ['entertainment', 4, 'lower', 'Denver, CO'],
    ],
    missing: ['utilities'],
  },
  {
    slugs: 'new-york-manhattan-ny-vs-philadelphia-pa',
    overall: [54, 'lower', 'Philadelphia, PA'],
    categories: [
      ['housing', 76, 'lower', 'Philadelphia, PA'],
      ['food', 31, 'lower', 'Philadelphia, PA'],
      ['transportation', 23, 'lower', 'Philadelphia, PA'],
      ['healthcare', 12, 'lower', 'Philadelphia, PA'],
      ['utilities', 4, 'higher', 'Philadelphia, PA'],
      ['entertainment', 29, 'lower', 'Philadelphia, PA'],
    ],
    missing: [],
  },
];

function extract(slugs: string): { figures: CostFigures; page: string } {
  const [a, b] = slugs.split('-vs-') as [string, string];
  const page = comparePage(slugs);
  return { figures: extractCostFigures(page, city(a), city(b)), page };
}

describe('extractCostFigures', () => {
  describe.each(CASES)('$slugs', ({ slugs, overall, categories, missing }) => {
    const { figures, page } = extract(slugs);

    it('reads the overall difference', () => {
      const [percent, direction, cityName] = overall;
      expect(figures.overall).toMatchObject({ percent, direction, city: cityName });
      expect(figures.sourceUrl).toBe(`https://www.nerdwallet.com/cost-of-living-calculator/compare/${slugs}`);
    });

    it.each(categories)('reads %s', (category, percent, direction, cityName) => {
      const f = figures.categories[category as keyof CostFigures['categories']];
      expect(f).toMatchObject({ percent, direction, city: cityName });
    });

    it('leaves out categories the page does not state', () => {
      for (const key of missing) expect(figures.categories).not.toHaveProperty(key);
    });

    it('every figure carries a sentence from the page that states its number', () => {
      const normalised = normaliseForGrounding(page);
      const all = [figures.overall, ...Object.values(figures.categories)].filter((f) => f !== undefined);
      for (const f of all) {
        expect(normalised).toContain(normaliseForGrounding(f.evidence));
        if (f.direction !== 'same') expect(f.evidence).toContain(String(f.percent));
      }
      for (const d of figures.dollars) {
        expect(normalised).toContain(normaliseForGrounding(d.evidence));
        expect(d.evidence.replace(/,/g, '')).toContain(String(d.amount));
      }
    });
  });

  it('reads median rent, home price and the equivalent salary for each city', () => {
    const dollars = (slugs: string) =>
      extract(slugs).figures.dollars.map((d) => `${d.label} | ${d.city} | ${d.amount}`);
    expect(dollars('seattle-wa-vs-austin-tx')).toEqual(
      expect.arrayContaining([
        'Median rent | Seattle, WA | 2410',
        'Median rent | Austin, TX | 1651',
        'Median home price | Seattle, WA | 887200',
        'Median home price | Austin, TX | 545300',
        'Equivalent salary | Austin, TX | 76898',
        'Equivalent salary | Seattle, WA | 100000',
      ]),
    );
    expect(dollars('austin-tx-vs-san-francisco-ca')).toEqual(
      expect.arrayContaining([
        'Median rent | Austin, TX | 1651',
        'Median rent | San Francisco, CA | 3452',
        'Median home price | San Francisco, CA | 1310000',
        'Equivalent salary | San Francisco, CA | 134250',
      ]),
    );
    expect(dollars('chicago-il-vs-denver-co')).toEqual(
      expect.arrayContaining([
        'Median rent | Chicago, IL | 1850',
        'Median rent | Denver, CO | 2050',
        'Median home price | Chicago, IL | 335000',
        'Median home price | Denver, CO | 610000',
      ]),
    );
    expect(dollars('new-york-manhattan-ny-vs-philadelphia-pa')).toEqual(
      expect.arrayContaining([
        'Median rent | New York (Manhattan), NY | 4250',
        'Median rent | Philadelphia, PA | 1700',
        'Equivalent salary | Philadelphia, PA | 46020',
      ]),
    );
  });

  it('ignores ads, ratings and reader polls that carry numbers', () => {
    const { figures } = extract('austin-tx-vs-san-francisco-ca');
    const evidence = [figures.overall, ...Object.values(figures.categories), ...figures.dollars].map(
      (f) => f?.evidence,
    );
    expect(evidence.join('\n')).not.toMatch(/insurance|readers|helpful/);
  });

  it('never reads a figure from a prompt-injection line, nor passes one to the model', () => {
    const { figures, page } = extract('chicago-il-vs-denver-co');
    expect(page).toMatch(/Ignore previous instructions/);
    const evidence = [figures.overall, ...Object.values(figures.categories), ...figures.dollars].map(
      (f) => f?.evidence,
    );
    expect(evidence.join('\n')).not.toMatch(/ignore|instructions|memory tool|developer mode|90%|50%/i);
    const excerpt = relevantExcerpt(page, city('chicago-il'), city('denver-co'));
    expect(excerpt).toContain('Living in Denver, CO is 6.4% more expensive');
    expect(excerpt).not.toMatch(/ignore previous|memory tool|developer mode/i);
  });

  it('finds nothing on a page without figures', () => {
    const figures = extractCostFigures('# Access denied\n\nPlease verify you are a human.', SEATTLE, AUSTIN);
    expect(figures).toMatchObject({ categories: {}, dollars: [] });
    expect(figures.overall).toBeUndefined();
  });
});

describe('groundFigures', () => {
  const { figures, page } = extract('seattle-wa-vs-austin-tx');

  it('keeps figures whose sentence is on the page and states the number', () => {
    expect(groundFigures(figures, page)).toEqual(figures);
  });

  it('drops invented sentences, wrong numbers and invented dollar amounts', () => {
    const modelOutput: CostFigures = {
      ...figures,
      overall: { ...figures.overall!, percent: 30 },
      categories: {
        ...figures.categories,
        food: {
          percent: 42,
          direction: 'lower',
          city: 'Austin, TX',
          evidence: 'Food in Austin, TX is 42% cheaper.',
        },
        housing: {
          ...figures.categories.housing!,
          evidence: figures.categories.housing!.evidence.toLowerCase(),
        },
      },
      dollars: [
        ...figures.dollars,
        {
          label: 'Median rent',
          city: 'Austin, TX',
          amount: 1200,
          evidence: '| Median rent | $2,410 | $1,651 |',
        },
        { label: 'Median rent', city: 'Austin, TX', amount: 999, evidence: 'Rent in Austin is $999.' },
      ],
    };
    const grounded = groundFigures(modelOutput, page);
    expect(grounded.overall).toBeUndefined();
    expect(grounded.categories.food).toBeUndefined();
    // Case and markdown emphasis do not matter; the words and the number do.
    expect(grounded.categories.housing?.percent).toBe(38);
    expect(grounded.dollars.map((d) => d.amount)).not.toContain(1200);
    expect(grounded.dollars.map((d) => d.amount)).not.toContain(999);
    expect(grounded.dollars).toHaveLength(figures.dollars.length);
  });

  it('does not accept a one-word "sentence" that happens to be on the page', () => {
    const grounded = groundFigures(
      {
        categories: { food: { percent: 9, direction: 'lower', city: 'Austin, TX', evidence: '9%' } },
        dollars: [],
        sourceUrl: '',
      },
      page,
    );
    expect(grounded.categories.food).toBeUndefined();
  });
});
