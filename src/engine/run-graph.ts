/** How many AWS steps run at once: enough to overlap independent calls, few enough to avoid throttling. */
export const DEFAULT_CONCURRENCY = 8;

/**
 * Runs `work(key)` for every key once all its dependencies have finished, at most `concurrency` at a
 * time. When a step fails, nothing new starts; steps already running finish; the first error is thrown
 * once they have. An aborted `signal` acts like a failure. Keys whose dependencies failed or were never reached are not run.
 */
export async function runGraph(
  keys: string[],
  dependencies: (key: string) => string[],
  work: (key: string) => Promise<void>,
  concurrency = DEFAULT_CONCURRENCY,
  signal?: AbortSignal,
): Promise<void> {
  const pending = new Set(keys);
  const done = new Set<string>();
  const running = new Map<string, Promise<void>>();
  let firstError: unknown;

  const ready = (key: string) => dependencies(key).every((dep) => done.has(dep) || !keys.includes(dep));
  while (pending.size > 0 || running.size > 0) {
    // An interrupt (Ctrl-C) starts nothing new; steps under way finish and are saved.
    if (signal?.aborted) firstError ??= signal.reason;
    if (firstError === undefined) {
      for (const key of pending) {
        if (running.size >= concurrency) break;
        if (!ready(key)) continue;
        pending.delete(key);
        running.set(
          key,
          work(key).then(
            () => {
              done.add(key);
            },
            (error) => {
              firstError ??= error;
            },
          ).finally(() => running.delete(key)),
        );
      }
    }
    if (running.size === 0) break; // either failed, or the remaining keys can never become ready
    await Promise.race(running.values());
  }
  if (firstError !== undefined) throw firstError;
}
