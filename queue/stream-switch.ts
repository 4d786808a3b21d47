import type { Redis } from 'ioredis';

/**
 * Remembers, per workspace and for a while, that native streaming is unavailable there (the app's
 * token or plan cannot stream, the method is unknown), so later answers go straight to the
 * post-and-edit way instead of failing on `startStream` every time. Shared by all workers via Redis;
 * when Redis cannot answer, streaming is tried (and falls back on its own if it fails).
 */
export interface StreamSwitch {
  isOff(platform: string, workspace: string): Promise<boolean>;
  turnOff(platform: string, workspace: string, reason: string): Promise<void>;
}

export function createStreamSwitch(options: { redis: Redis; keyPrefix: string; ttlMs: number }): StreamSwitch {
  const key = (platform: string, workspace: string) => `${options.keyPrefix}${platform}:${workspace}`;
  return {
    async isOff(platform, workspace) {
      return (await options.redis.exists(key(platform, workspace)).catch(() => 0)) === 1;
    },
    async turnOff(platform, workspace, reason) {
      await options.redis.set(key(platform, workspace), reason, 'PX', options.ttlMs).catch(() => undefined);
    },
  };
}
