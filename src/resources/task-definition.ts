import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type TaskDefinition,
  type TaskDefinitionStatus,
} from '@aws-sdk/client-ecs';
import { isNotFound } from '../aws/not-found.js';
import type { Created, Observed, Props, ResourceContext, ResourceKind } from './contract.js';
import { patientEcs } from './aws-helpers.js';

/** Props of the agent's Fargate task definition. */
export interface TaskDefinitionProps extends Props {
  family: string;
  cpu: string;
  memory: string;
  image: string;
  containerName: string;
  executionRoleArn: string;
  taskRoleArn: string;
  logGroupName: string;
  memoryReservation: number;
  environment: { name: string; value: string }[];
}

/** DeleteTaskDefinitions takes at most 10 ARNs per call. */
const DELETE_BATCH = 10;

function created(definition: TaskDefinition): Created {
  const arn = definition.taskDefinitionArn!;
  return {
    id: arn,
    outputs: { id: arn, arn, family: definition.family ?? '', revision: String(definition.revision ?? '') },
  };
}

/** The definition unless AWS says it is missing or INACTIVE (deregistered revisions stay describable). */
async function describe(ctx: ResourceContext, idOrFamily: string): Promise<TaskDefinition | undefined> {
  try {
    const { taskDefinition } = await patientEcs(ctx).send(new DescribeTaskDefinitionCommand({ taskDefinition: idOrFamily }));
    return taskDefinition && taskDefinition.status === 'ACTIVE' ? taskDefinition : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function register(ctx: ResourceContext, props: TaskDefinitionProps): Promise<TaskDefinition> {
  const { taskDefinition } = await patientEcs(ctx).send(
    new RegisterTaskDefinitionCommand({
      family: props.family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: props.cpu,
      memory: props.memory,
      executionRoleArn: props.executionRoleArn,
      taskRoleArn: props.taskRoleArn,
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
      containerDefinitions: [
        {
          name: props.containerName,
          image: props.image,
          essential: true,
          // Fargate needs only task-level memory, but moto's RunTask 500s without a container-level value.
          memoryReservation: props.memoryReservation,
          environment: props.environment,
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': props.logGroupName,
              'awslogs-region': ctx.region,
              'awslogs-stream-prefix': 'agent',
            },
          },
        },
      ],
      tags: Object.entries(ctx.tags).map(([key, value]) => ({ key, value })),
    }),
  );
  return taskDefinition!;
}

/** The family of a revision ARN `arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>`. */
function familyOf(arn: string): string {
  return arn.split('/').pop()!.replace(/:\d+$/, '');
}

function revisionOf(arn: string): number {
  return Number(arn.split(':').pop());
}

async function listRevisions(ctx: ResourceContext, family: string, status: TaskDefinitionStatus): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await patientEcs(ctx).send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken }));
    arns.push(...(page.taskDefinitionArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  // familyPrefix is a prefix: `agent` also lists `agent-old`; keep the exact family only.
  return arns.filter((arn) => familyOf(arn) === family);
}

async function deregister(ctx: ResourceContext, arn: string): Promise<void> {
  try {
    await patientEcs(ctx).send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** The agent's task definition; every change is a new revision (ECS revisions are immutable). */
export const taskDefinitionKind: ResourceKind<TaskDefinitionProps> = {
  kind: 'ecs.task-definition',
  label: 'Task Definition',
  replaceOn: ['family'],
  findsByName: true,
  updateChangesId: true,

  async find(ctx, props) {
    // Describing by family alone gives the latest ACTIVE revision on AWS; moto gives the latest
    // revision whatever its status, so when that one is INACTIVE look through the ACTIVE list.
    const latest = await describe(ctx, props.family);
    if (latest) return created(latest);
    const active = await listRevisions(ctx, props.family, 'ACTIVE');
    const newest = active.sort((a, b) => revisionOf(b) - revisionOf(a))[0];
    const definition = newest ? await describe(ctx, newest) : undefined;
    return definition ? created(definition) : undefined;
  },

  async create(ctx, props) {
    return created(await register(ctx, props));
  },

  async read(ctx, id): Promise<Observed | undefined> {
    const definition = await describe(ctx, id);
    if (!definition) return undefined;
    const container = definition.containerDefinitions?.[0];
    return {
      outputs: created(definition).outputs,
      props: {
        family: definition.family ?? '',
        logGroupName: container?.logConfiguration?.options?.['awslogs-group'] ?? '',
        cpu: definition.cpu ?? '',
        memory: definition.memory ?? '',
        image: container?.image ?? '',
        containerName: container?.name ?? '',
        executionRoleArn: definition.executionRoleArn ?? '',
        taskRoleArn: definition.taskRoleArn ?? '',
        memoryReservation: container?.memoryReservation ?? 0,
        environment: (container?.environment ?? []).map((e) => ({ name: e.name ?? '', value: e.value ?? '' })),
      },
    };
  },

  async update(ctx, id, props) {
    // Register first, so a crash in between leaves a usable (newer) revision rather than none.
    const next = await register(ctx, props);
    if (next.taskDefinitionArn !== id) await deregister(ctx, id);
    return created(next);
  },

  async delete(ctx, id, props) {
    const family = props.family || familyOf(id);
    for (const arn of await listRevisions(ctx, family, 'ACTIVE')) await deregister(ctx, arn);
    // Deregistered revisions stay in the account forever unless deleted; DeleteTaskDefinitions
    // (which moto 5.2.1 implements) removes INACTIVE ones, including those left by earlier updates.
    const inactive = await listRevisions(ctx, family, 'INACTIVE');
    for (let i = 0; i < inactive.length; i += DELETE_BATCH) {
      await patientEcs(ctx).send(new DeleteTaskDefinitionsCommand({ taskDefinitions: inactive.slice(i, i + DELETE_BATCH) }));
    }
  },
};
