import {
  DescribeNetworkInterfacesCommand,
  type Filter,
  type NetworkInterface,
  type ResourceType,
  type Tag,
  type TagSpecification,
} from '@aws-sdk/client-ec2';
import { awsErrorName } from '../aws/not-found.js';
import { retryWhile } from '../aws/retry.js';
import type { ResourceContext } from './contract.js';

/** How long teardown waits for Fargate ENIs to let go of a subnet, group or public IP (they linger for minutes). */
export const NETWORK_INTERFACE_RELEASE_TIMEOUT_MS = 15 * 60_000;

/** The stack tag key every resource carries; `find` filters on it. */
export const STACK_TAG_KEY = 'scalr-serverless:stack';

/** The stack's tags plus `Name`, as EC2 wants them. */
export function ec2Tags(ctx: ResourceContext, name: string): Tag[] {
  return [...Object.entries(ctx.tags).map(([Key, Value]) => ({ Key, Value })), { Key: 'Name', Value: name }];
}

/** TagSpecifications so the resource is tagged by the create call itself: a crash right after it stays findable. */
export function tagSpecifications(ctx: ResourceContext, resourceType: ResourceType, name: string): TagSpecification[] {
  return [{ ResourceType: resourceType, Tags: ec2Tags(ctx, name) }];
}

/** Filters that match what this stack created under `name`. */
export function stackNameFilters(ctx: ResourceContext, name: string): Filter[] {
  return [
    { Name: `tag:${STACK_TAG_KEY}`, Values: [ctx.stack] },
    { Name: 'tag:Name', Values: [name] },
  ];
}

/** EC2's "something still uses this" error, which clears once ENIs and attachments are released. */
export function isDependencyViolation(error: unknown): boolean {
  return awsErrorName(error) === 'DependencyViolation';
}

/** The network interfaces matching `filters` (all pages). */
export async function listNetworkInterfaces(ctx: ResourceContext, filters: Filter[]): Promise<NetworkInterface[]> {
  const found: NetworkInterface[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ctx.clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters, NextToken }));
    found.push(...(page.NetworkInterfaces ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

/** What a teardown call waits on: how many things still hold it, and how to say so. */
export interface Holders {
  count(): Promise<number>;
  describe(count: number): string;
}

/**
 * Runs `action` (a delete or detach), retrying while EC2 answers DependencyViolation, which it does
 * until the ENIs of stopped tasks are released. Each retry reports how many holders remain; after
 * `timeoutMs` the last DependencyViolation is rethrown.
 */
export async function retryWhileInUse(
  ctx: ResourceContext,
  action: () => Promise<unknown>,
  holders: Holders,
  timeoutMs = NETWORK_INTERFACE_RELEASE_TIMEOUT_MS,
): Promise<void> {
  let remaining = 0;
  await retryWhile(
    async () => {
      try {
        await action();
      } catch (error) {
        if (isDependencyViolation(error)) remaining = await holders.count().catch(() => remaining);
        throw error;
      }
    },
    isDependencyViolation,
    {
      timeoutMs,
      initialDelayMs: 2000,
      maxDelayMs: 15_000,
      signal: ctx.signal,
      onRetry: (attempt) => ctx.waiting(`${holders.describe(remaining)} (attempt ${attempt})`),
    },
  );
}

/** Holders = ENIs matching `filters`, reported as "waiting for N network interfaces <where> to be released". */
export function eniHolders(ctx: ResourceContext, filters: Filter[], where: string, keep?: (eni: NetworkInterface) => boolean): Holders {
  return {
    count: async () => (await listNetworkInterfaces(ctx, filters)).filter(keep ?? (() => true)).length,
    describe: (count) => `waiting for ${count} network interface${count === 1 ? '' : 's'} ${where} to be released`,
  };
}
