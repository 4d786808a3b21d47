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
): Promise<FakeUrls & { pid: number; stop(): void }> {
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
  return { ...(JSON.parse(line) as FakeUrls), pid: child.pid!, stop: () => child.stdin?.end() };
}
