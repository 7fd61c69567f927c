import type { ECSClient } from '@aws-sdk/client-ecs';
import { awsErrorName, isNotFound, isThrottle } from '../aws/not-found.js';
import { retryWhile } from '../aws/retry.js';
import type { PlainValue, ResourceContext } from './contract.js';

/**
 * How long one call is retried when AWS throttles in a shape the SDK's retry strategy does not know:
 * ECS wraps EC2's throttling as InvalidParameterException "Rate exceeded" (FACTS.md §5), so the
 * SDK gives up at once on what is only a busy account.
 */
export const DISGUISED_THROTTLE_TIMEOUT_MS = 60_000;

/** Runs an AWS call, retrying with backoff (and saying so) while AWS reports throttling in any shape. */
export function retryingThrottles<T>(ctx: ResourceContext, call: () => Promise<T>): Promise<T> {
  return retryWhile(call, isThrottle, {
    timeoutMs: DISGUISED_THROTTLE_TIMEOUT_MS,
    initialDelayMs: 500,
    maxDelayMs: 5000,
    signal: ctx.signal,
    onRetry: (attempt) => ctx.waiting(`AWS is throttling requests; retrying (attempt ${attempt})`),
  });
}

/** The ECS client with every call retried while throttled, whatever shape the throttling takes. */
export function patientEcs(ctx: ResourceContext): Pick<ECSClient, 'send'> {
  const send = (command: never) => retryingThrottles(ctx, () => ctx.clients.ecs.send(command));
  return { send: send as unknown as ECSClient['send'] };
}

/** Awaits an AWS read, turning "not found" into undefined (every other error propagates). */
export async function unlessNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Runs an AWS delete where "already gone" counts as success. */
export async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  await unlessNotFound(call);
}

/** True when the error has the given AWS error name (SDK v3 `name`, or EC2's `Code`). */
export function hasErrorName(error: unknown, ...names: string[]): boolean {
  const name = awsErrorName(error);
  return name !== undefined && names.includes(name);
}

/** Structural equality of JSON values, ignoring object key order (policy documents come back reordered). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * An observed list, sorted; but in the desired order when it holds the same members, so that a
 * list AWS returns in its own order is never reported as drift because of the order alone.
 */
export function orderLike<T extends PlainValue>(observed: T[], desired: readonly T[] | undefined): T[] {
  const key = (value: T) => canonicalJson(value);
  const sorted = [...observed].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  if (!desired || desired.length !== observed.length) return sorted;
  const desiredKeys = desired.map(key).sort();
  const observedKeys = sorted.map(key);
  return desiredKeys.every((k, i) => k === observedKeys[i]) ? [...desired] : sorted;
}

/** Members of `a` that `b` does not hold, compared structurally. */
export function missingFrom<T>(a: readonly T[], b: readonly T[]): T[] {
  const present = new Set(b.map(canonicalJson));
  return a.filter((value) => !present.has(canonicalJson(value)));
}
