import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { TestSystem } from './system.js';

/** Worker roles in child processes on a test system's queue, which a test can kill or pause. */
export interface WorkerProcesses {
  /** Starts one; resolves once it takes jobs. `env` adds to the system's (e.g. TEST_THREAD_LOCK_MS). */
  start(env?: Record<string, string>): Promise<ChildProcess>;
  /** SIGKILL, no warning, as a crash or an OOM kill would; resolves once it has exited. */
  kill(child: ChildProcess): Promise<void>;
  /** Kills every child still running (stopped ones too). */
  killAll(): Promise<void>;
}

export function workerProcesses(system: () => TestSystem): WorkerProcesses {
  const running = new Set<ChildProcess>();

  async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    running.delete(child);
  }

  return {
    async start(env = {}) {
      const { env: systemEnv, queueName } = system();
      // node itself, not npx: signals must hit the process that runs the worker, not a wrapper.
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-process.ts'], {
        env: { ...process.env, ...systemEnv, TEST_QUEUE_NAME: queueName, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      running.add(child);
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      if (line !== 'ready') throw new Error(`worker process said ${JSON.stringify(line)} instead of ready`);
      return child;
    },
    kill,
    async killAll() {
      await Promise.all([...running].map(kill));
    },
  };
}
