import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLlmClient, createUsageMeter } from '../src/llm/llm-client.js';
import { decideCities, runIntake } from '../src/team/intake.js';
import type { UserProfile } from '../src/team/schemas.js';
import type { RecalledMemory } from '../src/team/types.js';
import { createCityResolver } from '../src/tools/city-resolver.js';
import { createOpenAIFake, type OpenAIFake } from './fakes/openai-fake.js';

const resolver = createCityResolver();
let openai: OpenAIFake;

beforeAll(async () => {
  openai = await createOpenAIFake();
});
afterAll(async () => {
  await openai?.close();
});
beforeEach(() => openai.reset());

/** The intake as the coordinator runs it, with the "model" reading the cities as `model` says. */
async function intake(
  message: string,
  model: { current_city?: string | null; desired_city?: string | null },
  extra: { memories?: RecalledMemory[]; previousProfile?: UserProfile } = {},
) {
  openai.route(
    { system: 'intake step' },
    { json: { current_city: null, desired_city: null, intent: 'compare', ...model } },
  );
  return runIntake({
    llm: createLlmClient({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-4o-mini', maxRetries: 0 }),
    meter: createUsageMeter(),
    message,
    history: [],
    memories: extra.memories ?? [],
    previousProfile: extra.previousProfile,
  });
}

/** What the user is told about the two cities after the intake. */
async function decided(...args: Parameters<typeof intake>) {
  const value = await intake(...args);
  const decision = decideCities(resolver, value);
  return decision.kind === 'ready' ? `${decision.from.display} → ${decision.to.display}` : decision.text;
}

const memory = (content: string, topic = 'location'): RecalledMemory => ({ id: content, content, topic });

describe('intake: which reading of a city wins', () => {
  it("takes the model's state-qualified city over the message's ambiguous bare name", async () => {
    expect(
      await decided('Should I move from Columbus to Austin? I live in Ohio.', {
        current_city: 'Columbus, OH',
        desired_city: 'Austin',
      }),
    ).toBe('Columbus, OH → Austin, TX');
  });

  it('keeps a literal city that names one listed city over a model that misread it', async () => {
    const value = await intake('Should I move from Denver to Austin?', {
      current_city: 'Seattle',
      desired_city: 'Austin',
    });
    expect(value).toMatchObject({ current_city: 'Denver', desired_city: 'Austin', intent: 'compare' });
  });

  it('takes the model reading when the literal one names no listed city', async () => {
    // "Gotham" is what the regex reads; the model understood the user's nickname for New York.
    const value = await intake('Should I move from Gotham to Austin?', {
      current_city: 'New York City',
      desired_city: 'Austin',
    });
    expect(value.current_city).toBe('New York City');
  });

  it('takes a state the model added to a listed name ("Portland" said, Maine meant)', async () => {
    const value = await intake('Should I move from Portland to Austin? We have lived in Maine for years.', {
      current_city: 'Portland, ME',
      desired_city: 'Austin',
    });
    expect(value.current_city).toBe('Portland, ME');
  });
});

describe('intake: context settles a name listed in several states', () => {
  it('uses a state the message says the user lives in', async () => {
    expect(
      await decided('Should I move from Columbus to Austin? I live in Ohio.', { current_city: 'Columbus' }),
    ).toBe('Columbus, OH → Austin, TX');
  });

  it('uses a remembered "Lives in Columbus, Ohio"', async () => {
    expect(
      await decided(
        'Should I move from Columbus to Denver?',
        {},
        { memories: [memory('Lives in Columbus, Ohio')] },
      ),
    ).toBe('Columbus, OH → Denver, CO');
  });

  it('uses a remembered home state for the current city only', async () => {
    const memories = [memory('You live in Georgia')];
    expect(await decided('Should I move from Columbus to Denver?', {}, { memories })).toBe(
      'Columbus, GA → Denver, CO',
    );
    // Where the user lives says nothing about which Springfield they would move to.
    expect(await decided('Should I move from Denver to Springfield?', {}, { memories })).toBe(
      'Which Springfield do you mean: Springfield, IL, Springfield, MA or Springfield, MO?',
    );
  });

  it('uses the state of the same city in the profile so far', async () => {
    const previousProfile: UserProfile = {
      current_city: 'Kansas City, Kansas',
      desired_city: 'Denver',
      annual_income: null,
      monthly_expenses: null,
      city_preferences: [],
      current_city_likes: [],
      current_city_dislikes: [],
    };
    expect(await decided('Actually, compare Kansas City with Boise', {}, { previousProfile })).toBe(
      'Kansas City, KS → Boise, ID',
    );
  });

  it('still asks when nothing in the context names a state', async () => {
    expect(
      await decided(
        'Should I move from Aurora to Boise?',
        {},
        { memories: [memory('You have a dog', 'household')] },
      ),
    ).toBe('Which Aurora do you mean: Aurora, CO or Aurora, IL?');
  });
});

describe('decideCities: a city NerdWallet does not list', () => {
  const profile = (current_city: string, desired_city: string): UserProfile => ({
    current_city,
    desired_city,
    annual_income: null,
    monthly_expenses: null,
    city_preferences: [],
    current_city_likes: [],
    current_city_dislikes: [],
  });

  it('says plainly which Portland it does list instead of calling it the nearest', () => {
    const decision = decideCities(resolver, profile('Portland, Maine', 'Austin'));
    expect(decision).toMatchObject({ kind: 'ready', to: { display: 'Austin, TX' } });
    expect(decision.kind === 'ready' && decision.unlistedReason).toBe(
      `NerdWallet's calculator does not list "Portland, Maine". It lists no city in Maine; by that name it lists only Portland, OR. Ask about Portland, OR if that is the one you meant.`,
    );
  });

  it('offers only cities of the state the user named', () => {
    const decision = decideCities(resolver, profile('Springfield, Ohio', 'Austin'));
    const reason = decision.kind === 'ready' ? (decision.unlistedReason ?? '') : '';
    expect(reason).toMatch(
      /^NerdWallet's calculator does not list "Springfield, Ohio"\. Cities it lists in Ohio include \w+, OH, \w+, OH and \w+, OH\.$/,
    );
  });
});
