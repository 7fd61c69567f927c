/** Options for a bounded retry while AWS catches up (propagation, ENIs released, updates in progress). */
export interface RetryOptions {
  /** Gives up after this long, then rethrows the last error. */
  timeoutMs: number;
  /** First delay; doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each wait with the attempt number, so the caller can report progress. */
  onRetry?: (attempt: number, error: unknown) => void;
  signal?: AbortSignal;
}

/** Tests shrink every retry delay with this factor (SCALR_SERVERLESS_RETRY_SCALE=0.01). */
function delayScale(): number {
  const scale = Number(process.env.SCALR_SERVERLESS_RETRY_SCALE);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** Runs `fn`, retrying while `shouldRetry(error)` holds, with exponential backoff, within `timeoutMs`. */
export async function retryWhile<T>(
  fn: () => Promise<T>,
  shouldRetry: (error: unknown) => boolean,
  options: RetryOptions,
): Promise<T> {
  const scale = delayScale();
  const deadline = Date.now() + options.timeoutMs * scale;
  let delay = (options.initialDelayMs ?? 1000) * scale;
  const maxDelay = (options.maxDelayMs ?? 10_000) * scale;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!shouldRetry(error) || Date.now() + delay > deadline) throw error;
      options.onRetry?.(attempt, error);
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

/** Polls `check` until it returns a value other than undefined, within `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  options: RetryOptions,
): Promise<T> {
  const scale = delayScale();
  const deadline = Date.now() + options.timeoutMs * scale;
  let delay = (options.initialDelayMs ?? 1000) * scale;
  const maxDelay = (options.maxDelayMs ?? 5000) * scale;
  for (let attempt = 1; ; attempt++) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() + delay > deadline) throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s`);
    options.onRetry?.(attempt, undefined);
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, maxDelay);
  }
}
