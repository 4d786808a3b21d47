import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBraveFake, type BraveFake } from '../fakes/brave-fake.js';
import { createFirecrawlFake, type FirecrawlFake } from '../fakes/firecrawl-fake.js';
import { TAX_FOUNDATION_PAGES } from '../fakes/tax-foundation-pages.js';
import { createOpenAIFake, type OpenAIFake, type OpenAIFakeOptions } from '../fakes/openai-fake.js';
import { scriptTeam } from './team-script.js';
import { TEST_DIMENSIONS } from './test-db.js';

export const SEATTLE_AUSTIN_URL =
  'https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-austin-tx';

export const SEATTLE_DENVER_URL = 'https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-denver-co';
export const SEATTLE_RALEIGH_URL = 'https://www.nerdwallet.com/cost-of-living-calculator/compare/seattle-wa-vs-raleigh-nc';

export function fixture(name: string): string {
  return readFileSync(join(import.meta.dirname, '..', 'fixtures', name), 'utf8');
}

export interface TeamFakes {
  openai: OpenAIFake;
  firecrawl: FirecrawlFake;
  brave: BraveFake;
  /** Environment that points the real SDKs at the fakes (merge with DATABASE_URL etc.). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The three outside services the team talks to, as local fakes with a scripted happy path. */
export async function startTeamFakes(options: { latencyMs?: number; openai?: OpenAIFakeOptions } = {}): Promise<TeamFakes> {
  const openai = await createOpenAIFake({ latencyMs: options.latencyMs, embeddingDimensions: TEST_DIMENSIONS, ...options.openai });
  scriptTeam(openai);
  const firecrawl = await createFirecrawlFake({
    latencyMs: options.latencyMs,
    pages: {
      [SEATTLE_AUSTIN_URL]: fixture('nerdwallet-seattle-wa-vs-austin-tx.md'),
      'https://www.nerdwallet.com/cost-of-living-calculator/compare/chicago-il-vs-denver-co': fixture(
        'nerdwallet-chicago-il-vs-denver-co.md',
      ),
      ...TAX_FOUNDATION_PAGES,
      // Several-destination questions from Seattle (test/several-destinations.test.ts).
      [SEATTLE_DENVER_URL]: fixture('nerdwallet-seattle-wa-vs-denver-co.md'),
      [SEATTLE_RALEIGH_URL]: fixture('nerdwallet-seattle-wa-vs-raleigh-nc.md'),
    },
  });
  const brave = await createBraveFake({ latencyMs: options.latencyMs });
  return {
    openai,
    firecrawl,
    brave,
    env: {
      OPENAI_API_KEY: 'sk-test-fake-key',
      OPENAI_BASE_URL: openai.baseURL,
      EMBEDDING_DIMENSIONS: String(TEST_DIMENSIONS),
      FIRECRAWL_API_KEY: 'fc-test-fake-key',
      FIRECRAWL_API_URL: firecrawl.apiUrl,
      BRAVE_API_KEY: 'brave-test-fake-key',
      BRAVE_API_URL: brave.apiUrl,
      BRAVE_MIN_INTERVAL_MS: '0',
      LOG_LEVEL: 'silent',
    },
    async close() {
      await Promise.all([openai.close(), firecrawl.close(), brave.close()]);
    },
  };
}
