import { vi } from 'vitest';

/** The commands a client sent while `fn` ran, by command class name (to prove a no-op writes nothing). */
export async function commandsDuring(client: { send: (...args: never[]) => unknown }, fn: () => Promise<unknown>): Promise<string[]> {
  const spy = vi.spyOn(client, 'send');
  try {
    await fn();
    return spy.mock.calls.map((call) => (call[0] as object).constructor.name);
  } finally {
    spy.mockRestore();
  }
}
