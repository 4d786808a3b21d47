import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface FakeUrls {
  openai: string;
  firecrawl: string;
  brave: string;
  /** `braveIntervalMs`: the Brave fake's minimum spacing (429 below it), 0 for none. */
  latency: { llm: number; firecrawl: number; brave: number; braveIntervalMs: number };
}

/** One request the Brave fake received (epoch ms, sub-ms precision). */
export interface BraveRequestSummary {
  q: string;
  count?: number;
  status?: number;
  receivedAt: number;
  repliedAt?: number;
}

/** Runs bench/fake-services.ts in a child process and returns its URLs. */
export async function startFakeServices(
  env: Record<string, string> = {},
): Promise<
  FakeUrls & {
    env: Record<string, string>;
    pid: number;
    stop(): void;
    /** The Brave requests the fake received since the previous call. */
    braveRequests(): Promise<BraveRequestSummary[]>;
  }
> {
  // node itself (not npx), so its pid is the process that serves: benchmarks read its CPU time.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/fake-services.ts'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // Lines from the child, in order: the URLs first, then one answer per `brave-requests` command.
  const rl = createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  rl.on('line', (line) => waiting.shift()?.(line));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const line = await new Promise<string>((resolve, reject) => {
    nextLine().then(resolve);
    child.once('exit', (code) => reject(new Error(`fake services exited with ${code}`)));
  });
  const urls = JSON.parse(line) as FakeUrls;
  return {
    ...urls,
    env: fakeServiceEnv(urls),
    pid: child.pid!,
    stop: () => child.stdin?.end(),
    async braveRequests() {
      const answer = nextLine();
      child.stdin?.write('brave-requests\n');
      return JSON.parse(await answer) as BraveRequestSummary[];
    },
  };
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
    // The service keeps to the pace the Brave fake enforces (none unless BENCH_BRAVE_INTERVAL_MS).
    BRAVE_MIN_INTERVAL_MS: String(urls.latency.braveIntervalMs ?? 0),
    EMBEDDING_DIMENSIONS: '64',
  };
}
