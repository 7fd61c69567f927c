import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  PutClusterCapacityProvidersCommand,
  StopTaskCommand,
  type Cluster,
  type DesiredStatus,
} from '@aws-sdk/client-ecs';
import { CreateServiceLinkedRoleCommand } from '@aws-sdk/client-iam';
import { awsErrorName, isNotFound } from '../aws/not-found.js';
import { retryWhile, waitFor } from '../aws/retry.js';
import type { Created, Observed, Props, ResourceContext, ResourceKind } from './contract.js';
import { patientEcs } from './aws-helpers.js';

/** Props of the Fargate cluster the agent tasks run in. */
export interface EcsClusterProps extends Props {
  name: string;
  capacityProviders: string[];
}

/** How long CreateCluster is retried while a just-created ECS service-linked role propagates. */
export const SERVICE_LINKED_ROLE_TIMEOUT_MS = 2 * 60_000;
/** How long teardown waits for stopped tasks to reach STOPPED (Fargate takes up to a couple of minutes). */
export const TASK_STOP_TIMEOUT_MS = 5 * 60_000;
/** How long a capacity provider change waits out a cluster update already in progress. */
const CLUSTER_UPDATE_TIMEOUT_MS = 2 * 60_000;
const STOP_REASON = 'scalr-serverless down';
const DESCRIBE_TASKS_BATCH = 100;

const DEFAULT_STRATEGY = [{ capacityProvider: 'FARGATE', weight: 1 }];

function created(cluster: Cluster): Created {
  return { id: cluster.clusterArn!, outputs: { id: cluster.clusterArn!, arn: cluster.clusterArn!, name: cluster.clusterName! } };
}

/** The cluster unless AWS says it is missing or INACTIVE (a deleted cluster stays visible as INACTIVE). */
async function describeCluster(ctx: ResourceContext, nameOrArn: string): Promise<Cluster | undefined> {
  try {
    const { clusters } = await patientEcs(ctx).send(new DescribeClustersCommand({ clusters: [nameOrArn] }));
    const cluster = clusters?.[0];
    return cluster && cluster.status !== 'INACTIVE' ? cluster : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** ECS's answer when the account has never used ECS and its service-linked role does not exist yet. */
function isMissingServiceLinkedRole(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return awsErrorName(error) === 'InvalidParameterException' && /service[- ]linked role/i.test(message);
}

async function ensureServiceLinkedRole(ctx: ResourceContext): Promise<void> {
  try {
    await ctx.clients.iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: 'ecs.amazonaws.com' }));
  } catch (error) {
    // "Service role name AWSServiceRoleForECS has been taken in this account": it exists, good.
    if (awsErrorName(error) !== 'InvalidInputException' && awsErrorName(error) !== 'EntityAlreadyExistsException') throw error;
  }
}

/**
 * CreateCluster, creating the account-wide ECS service-linked role on first use (FACTS §5) and
 * retrying while it propagates. The role is shared by every ECS user in the account: never deleted by us.
 */
async function createCluster(ctx: ResourceContext, props: EcsClusterProps): Promise<Cluster> {
  const send = () =>
    patientEcs(ctx).send(
      new CreateClusterCommand({
        clusterName: props.name,
        capacityProviders: props.capacityProviders,
        defaultCapacityProviderStrategy: DEFAULT_STRATEGY,
        tags: Object.entries(ctx.tags).map(([key, value]) => ({ key, value })),
      }),
    );
  try {
    return (await send()).cluster!;
  } catch (error) {
    if (!isMissingServiceLinkedRole(error)) throw error;
  }
  ctx.waiting('creating the ECS service-linked role (first use of ECS in this account)');
  await ensureServiceLinkedRole(ctx);
  const { cluster } = await retryWhile(send, isMissingServiceLinkedRole, {
    timeoutMs: SERVICE_LINKED_ROLE_TIMEOUT_MS,
    initialDelayMs: 2000,
    signal: ctx.signal,
    onRetry: (attempt) => ctx.waiting(`waiting for the ECS service-linked role to propagate (attempt ${attempt})`),
  });
  return cluster!;
}

function sameProviders(cluster: Cluster, wanted: string[]): boolean {
  const have = [...(cluster.capacityProviders ?? [])].sort();
  const strategy = cluster.defaultCapacityProviderStrategy ?? [];
  const strategyOk = strategy.length === 1 && strategy[0].capacityProvider === 'FARGATE' && (strategy[0].weight ?? 0) === 1;
  return strategyOk && JSON.stringify(have) === JSON.stringify([...wanted].sort());
}

async function converge(ctx: ResourceContext, cluster: Cluster, props: EcsClusterProps): Promise<void> {
  if (sameProviders(cluster, props.capacityProviders)) return;
  await retryWhile(
    () =>
      patientEcs(ctx).send(
        new PutClusterCapacityProvidersCommand({
          cluster: cluster.clusterArn,
          capacityProviders: props.capacityProviders,
          defaultCapacityProviderStrategy: DEFAULT_STRATEGY,
        }),
      ),
    (error) => awsErrorName(error) === 'UpdateInProgressException',
    { timeoutMs: CLUSTER_UPDATE_TIMEOUT_MS, signal: ctx.signal, onRetry: () => ctx.waiting(`waiting for ${props.name} to finish updating`) },
  );
}

async function listTasks(ctx: ResourceContext, cluster: string, desiredStatus: DesiredStatus): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await patientEcs(ctx).send(new ListTasksCommand({ cluster, desiredStatus, nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

/**
 * Stops every RUNNING or PENDING task in the cluster and waits until all are STOPPED, since
 * DeleteCluster fails while tasks run. Returns how many it stopped; a missing cluster stops 0.
 */
export async function stopClusterTasks(ctx: ResourceContext, clusterName: string): Promise<number> {
  let arns: string[];
  try {
    arns = [...new Set([...(await listTasks(ctx, clusterName, 'RUNNING')), ...(await listTasks(ctx, clusterName, 'PENDING'))])];
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
  for (const task of arns) {
    await patientEcs(ctx).send(new StopTaskCommand({ cluster: clusterName, task, reason: STOP_REASON }));
  }
  if (arns.length === 0) return 0;
  let running = arns.length;
  await waitFor(
    async () => {
      running = 0;
      for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_BATCH) {
        const { tasks } = await patientEcs(ctx).send(
          new DescribeTasksCommand({ cluster: clusterName, tasks: arns.slice(i, i + DESCRIBE_TASKS_BATCH) }),
        );
        running += (tasks ?? []).filter((t) => t.lastStatus !== 'STOPPED').length;
      }
      return running === 0 ? true : undefined;
    },
    {
      timeoutMs: TASK_STOP_TIMEOUT_MS,
      initialDelayMs: 2000,
      signal: ctx.signal,
      onRetry: () => ctx.waiting(`waiting for ${running} task${running === 1 ? '' : 's'} in ${clusterName} to stop`),
    },
  );
  return arns.length;
}

/** The ECS cluster, Fargate and Fargate Spot, defaulting to Fargate. */
export const ecsClusterKind: ResourceKind<EcsClusterProps> = {
  kind: 'ecs.cluster',
  label: 'ECS Cluster',
  replaceOn: ['name'],

  async find(ctx, props) {
    const cluster = await describeCluster(ctx, props.name);
    return cluster ? created(cluster) : undefined;
  },

  async create(ctx, props) {
    const cluster = await createCluster(ctx, props);
    // CreateCluster of an existing ACTIVE name returns that cluster unchanged, so converge after.
    await converge(ctx, cluster, props);
    return created(cluster);
  },

  async read(ctx, id): Promise<Observed | undefined> {
    const cluster = await describeCluster(ctx, id);
    if (!cluster) return undefined;
    return { outputs: created(cluster).outputs, props: { name: cluster.clusterName ?? '', capacityProviders: cluster.capacityProviders ?? [] } };
  },

  async update(ctx, id, props) {
    const cluster = await describeCluster(ctx, id);
    if (!cluster) throw new Error(`cluster ${id} disappeared`);
    await converge(ctx, cluster, props);
    return created(cluster);
  },

  async delete(ctx, id) {
    // A webhook can start a task between our stop and the delete: stop again and retry, bounded.
    try {
      await retryWhile(
        async () => {
          await stopClusterTasks(ctx, id);
          await patientEcs(ctx).send(new DeleteClusterCommand({ cluster: id }));
        },
        (error) => awsErrorName(error) === 'ClusterContainsTasksException',
        { timeoutMs: TASK_STOP_TIMEOUT_MS, signal: ctx.signal, onRetry: () => ctx.waiting(`waiting for the tasks in ${id} to stop`) },
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
};
