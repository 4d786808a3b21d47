import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface FakeUrls {
  openai: string;
  firecrawl: string;
  brave: string;
  latency: { llm: number; firecrawl: number; brave: number };
}

/** Runs bench/fake-services.ts in a child process and returns its URLs. */
export async function startFakeServices(
  env: Record<string, string> = {},
): Promise<FakeUrls & { env: Record<string, string>; pid: number; stop(): void }> {
  // node itself (not npx), so its pid is the process that serves: benchmarks read its CPU time.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/fake-services.ts'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fake services exited with ${code}`)));
  });
  const urls = JSON.parse(line) as FakeUrls;
  return { ...urls, env: fakeServiceEnv(urls), pid: child.pid!, stop: () => child.stdin?.end() };
}

/** The environment that points the service's SDKs at the fakes (merge with DATABASE_URL etc.). */
export function fakeServiceEnv(urls: FakeUrls): Record<string, string> {
  return {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: urls.openai,
    FIRECRAWL_API_KEY: 'fc-bench',
    FIRECRAWL_API_URL: urls.firecrawl,
    BRAVE_API_KEY: 'brave-bench',
    BRAVE_API_URL: urls.brave,
    BRAVE_MIN_INTERVAL_MS: '0',
    EMBEDDING_DIMENSIONS: '64',
  };
}
