import type { ProxyCall } from '../helpers/fault-proxy.js';

/** `service:action`, the unit calls are matched by. */
export function callName(call: Pick<ProxyCall, 'service' | 'action'>): string {
  return `${call.service}:${call.action}`;
}

/**
 * The sequential depth of a set of calls: the longest chain in which each call starts only after the
 * previous one was answered (greedy interval scheduling by end time is optimal for this). Calls made one
 * after another give their count; calls made concurrently count once per overlapping batch.
 */
export function sequentialDepth(calls: Pick<ProxyCall, 'startedAt' | 'durationMs'>[]): number {
  const byEnd = [...calls].sort((a, b) => a.startedAt + a.durationMs - (b.startedAt + b.durationMs));
  let depth = 0;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const call of byEnd) {
    if (call.startedAt >= lastEnd) {
      depth += 1;
      lastEnd = call.startedAt + call.durationMs;
    }
  }
  return depth;
}

/** Sum of the calls' durations: what the run would take if every call waited for the one before. */
export function durationSum(calls: Pick<ProxyCall, 'durationMs'>[]): number {
  return calls.reduce((sum, call) => sum + call.durationMs, 0);
}

/**
 * Removes from `calls` one call per name in `attributed` (a multiset difference), returning what is
 * left: the calls the command made outside the resource steps (credentials, AZs, outputs, task stops).
 */
export function unattributed(calls: ProxyCall[], attributed: string[]): ProxyCall[] {
  const budget = new Map<string, number>();
  for (const name of attributed) budget.set(name, (budget.get(name) ?? 0) + 1);
  return calls.filter((call) => {
    const left = budget.get(callName(call)) ?? 0;
    if (left === 0) return true;
    budget.set(callName(call), left - 1);
    return false;
  });
}

/**
 * The longest path through a dependency graph whose nodes weigh `weight(key)` calls: the fewest
 * sequential calls any scheduler could need, given unlimited parallelism.
 */
export function longestPath(keys: string[], dependencies: (key: string) => string[], weight: (key: string) => number): { length: number; path: string[] } {
  const memo = new Map<string, { length: number; path: string[] }>();
  const visit = (key: string): { length: number; path: string[] } => {
    const known = memo.get(key);
    if (known) return known;
    let best = { length: 0, path: [] as string[] };
    for (const dep of dependencies(key)) {
      if (!keys.includes(dep)) continue;
      const candidate = visit(dep);
      if (candidate.length > best.length) best = candidate;
    }
    const result = { length: best.length + weight(key), path: [...best.path, key] };
    memo.set(key, result);
    return result;
  };
  return keys.map(visit).reduce((a, b) => (b.length > a.length ? b : a), { length: 0, path: [] });
}

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
