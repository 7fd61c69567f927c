import { expect } from 'vitest';
import { ScalrClient } from '../../src/scalr/client.js';
import type { FakeScalr } from '../fake-scalr/server.js';

/** A client pointed at the fake, recording retry delays and log lines instead of waiting. */
export function clientFor(fake: FakeScalr, overrides: { token?: string; timeoutMs?: number; maxAttempts?: number } = {}) {
  const delays: number[] = [];
  const logs: string[] = [];
  const client = new ScalrClient({
    scalrUrl: fake.url,
    token: overrides.token ?? fake.token,
    timeoutMs: overrides.timeoutMs,
    maxAttempts: overrides.maxAttempts,
    sleep: async (ms) => {
      delays.push(ms);
    },
    log: (line) => logs.push(line),
  });
  return { client, delays, logs };
}

/** Empties the fake between tests. */
export function resetFake(fake: FakeScalr): void {
  fake.reset();
}

/** Runs `fn`, expecting it to reject; returns the error. */
export async function caught(fn: () => Promise<unknown>): Promise<Error & { status?: number; hint?: string }> {
  try {
    await fn();
  } catch (error) {
    return error as Error & { status?: number; hint?: string };
  }
  throw new Error('expected a rejection');
}

/** Asserts that no secret shows in the error (message, hint, stack, own properties) or in any log line. */
export function expectNoSecrets(error: unknown, logs: string[], secrets: string[]): void {
  const e = error as Error & { hint?: string };
  const surfaces = [e.message, e.hint ?? '', e.stack ?? '', String(e), JSON.stringify(e), ...logs];
  for (const secret of secrets) {
    for (const text of surfaces) expect(text).not.toContain(secret);
  }
}
