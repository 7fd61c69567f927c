import {
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  RegisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceContext } from '../../src/resources/contract.js';
import { ecsClusterKind, stopClusterTasks } from '../../src/resources/ecs-cluster.js';
import { taskDefinitionKind, type TaskDefinitionProps } from '../../src/resources/task-definition.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { motoResourceContext } from '../helpers/resource-context.js';

let moto: MotoServer;
let ctx: ResourceContext & { waits: string[] };

beforeAll(async () => {
  moto = await startMoto();
  ctx = await motoResourceContext(moto, 'ecstest');
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

const taskProps: TaskDefinitionProps = {
  family: 'ecstest-agent',
  cpu: '512',
  memory: '1024',
  image: 'scalr/agent:latest',
  containerName: 'agent',
  executionRoleArn: 'arn:aws:iam::123456789012:role/ecstest-execution',
  taskRoleArn: 'arn:aws:iam::123456789012:role/ecstest-task',
  logGroupName: '/ecs/ecstest',
  memoryReservation: 512,
  environment: [{ name: 'SCALR_SINGLE', value: 'true' }],
};

async function describeDefinition(arn: string) {
  return ctx.clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }));
}

describe('ecs.task-definition', () => {
  it('registers a Fargate revision, adopts the latest, replaces it on update and removes the family on delete', async () => {
    const made = await taskDefinitionKind.create(ctx, taskProps);
    expect(made.outputs).toMatchObject({ id: made.id, arn: made.id, family: 'ecstest-agent', revision: '1' });

    const { taskDefinition, tags } = await describeDefinition(made.id);
    expect(taskDefinition?.requiresCompatibilities).toEqual(['FARGATE']);
    expect(taskDefinition?.networkMode).toBe('awsvpc');
    const container = taskDefinition!.containerDefinitions![0];
    expect(container).toMatchObject({ name: 'agent', essential: true, memoryReservation: 512 });
    expect(container.logConfiguration).toEqual({
      logDriver: 'awslogs',
      options: { 'awslogs-group': '/ecs/ecstest', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'agent' },
    });
    expect(tags).toContainEqual({ key: 'scalr-serverless:stack', value: 'ecstest' });

    const observed = await taskDefinitionKind.read(ctx, made.id, taskProps);
    expect(observed?.props).toEqual(taskProps);
    expect((await taskDefinitionKind.find(ctx, taskProps))?.id).toBe(made.id);

    const changed = { ...taskProps, image: 'scalr/agent:0.99' };
    const next = await taskDefinitionKind.update!(ctx, made.id, changed, taskProps);
    expect(next.id).not.toBe(made.id);
    expect(next.outputs.revision).toBe('2');
    expect((await describeDefinition(next.id)).taskDefinition?.containerDefinitions?.[0].image).toBe('scalr/agent:0.99');
    expect((await describeDefinition(made.id)).taskDefinition?.status).toBe('INACTIVE');
    expect(await taskDefinitionKind.read(ctx, made.id, taskProps)).toBeUndefined();
    expect((await taskDefinitionKind.find(ctx, changed))?.id).toBe(next.id);

    // A newer revision deregistered by hand does not hide the ACTIVE one from adoption.
    const stray = await ctx.clients.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'ecstest-agent',
      containerDefinitions: [{ name: 'agent', image: 'x', memoryReservation: 128 }],
    }));
    await ctx.clients.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: stray.taskDefinition!.taskDefinitionArn }));
    expect((await taskDefinitionKind.find(ctx, changed))?.id).toBe(next.id);

    await taskDefinitionKind.delete(ctx, next.id, changed);
    const { taskDefinitionArns } = await ctx.clients.ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'ecstest-agent', status: 'ACTIVE' }),
    );
    expect(taskDefinitionArns).toEqual([]);
    // Both revisions (the one update deregistered and the last one) were deleted, not left INACTIVE.
    const inactive = await ctx.clients.ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'ecstest-agent', status: 'INACTIVE' }),
    );
    expect(inactive.taskDefinitionArns).toEqual([]);
    expect(await taskDefinitionKind.read(ctx, next.id, changed)).toBeUndefined();
    await taskDefinitionKind.delete(ctx, next.id, changed);
  });
});

/** A network a Fargate task can run in under moto (DNS hostnames on, a security group). */
async function sdkNetwork(): Promise<{ subnet: string; group: string }> {
  const ec2 = ctx.clients.ec2;
  const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16' }));
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: Vpc!.VpcId, EnableDnsHostnames: { Value: true } }));
  const { Subnet } = await ec2.send(new CreateSubnetCommand({ VpcId: Vpc!.VpcId, CidrBlock: '10.60.1.0/24' }));
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'ecstest', Description: 'x', VpcId: Vpc!.VpcId }));
  return { subnet: Subnet!.SubnetId!, group: GroupId! };
}

describe('ecs.cluster', () => {
  it('creates a tagged Fargate cluster, adopts it, updates capacity providers, stops tasks on delete', async () => {
    const props = { name: 'ecstest-cluster', capacityProviders: ['FARGATE', 'FARGATE_SPOT'] };
    const made = await ecsClusterKind.create(ctx, props);
    expect(made.outputs).toEqual({ id: made.id, arn: made.id, name: 'ecstest-cluster' });

    const describeCluster = async () =>
      (await ctx.clients.ecs.send(new DescribeClustersCommand({ clusters: [made.id], include: ['TAGS'] }))).clusters![0];
    let cluster = await describeCluster();
    expect(cluster.capacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
    expect(cluster.defaultCapacityProviderStrategy).toEqual([expect.objectContaining({ capacityProvider: 'FARGATE', weight: 1 })]);
    expect(cluster.tags).toContainEqual({ key: 'scalr-serverless:stack', value: 'ecstest' });
    expect((await ecsClusterKind.read(ctx, made.id, props))?.props).toEqual(props);
    expect((await ecsClusterKind.find(ctx, props))?.id).toBe(made.id);

    const fargateOnly = { ...props, capacityProviders: ['FARGATE'] };
    await ecsClusterKind.update!(ctx, made.id, fargateOnly, props);
    cluster = await describeCluster();
    expect(cluster.capacityProviders).toEqual(['FARGATE']);

    // Given a running agent task,
    const definition = await taskDefinitionKind.create(ctx, { ...taskProps, family: 'ecstest-run' });
    const network = await sdkNetwork();
    const { tasks } = await ctx.clients.ecs.send(
      new RunTaskCommand({
        cluster: made.id,
        taskDefinition: definition.id,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: [network.subnet], securityGroups: [network.group] } },
      }),
    );
    const taskArn = tasks![0].taskArn!;
    const status = async () =>
      (await ctx.clients.ecs.send(new DescribeTasksCommand({ cluster: made.id, tasks: [taskArn] }))).tasks![0];
    expect((await status()).lastStatus).toBe('RUNNING');

    // when the cluster is deleted, then the task was stopped first, with our reason.
    await ecsClusterKind.delete(ctx, made.id, fargateOnly);
    const stopped = await status();
    expect(stopped.lastStatus).toBe('STOPPED');
    expect(stopped.stoppedReason).toBe('scalr-serverless down');
    expect((await describeCluster()).status).toBe('INACTIVE');
    expect(await ecsClusterKind.read(ctx, made.id, fargateOnly)).toBeUndefined();
    expect(await ecsClusterKind.find(ctx, fargateOnly)).toBeUndefined();
    await ecsClusterKind.delete(ctx, made.id, fargateOnly);
  });

  it('stopClusterTasks reports how many it stopped, and 0 for a missing cluster', async () => {
    expect(await stopClusterTasks(ctx, 'ecstest-no-such-cluster')).toBe(0);
    const made = await ecsClusterKind.create(ctx, { name: 'ecstest-stop', capacityProviders: ['FARGATE'] });
    expect(await stopClusterTasks(ctx, made.id)).toBe(0);
    const definition = await taskDefinitionKind.create(ctx, { ...taskProps, family: 'ecstest-stop' });
    const network = await sdkNetwork();
    await ctx.clients.ecs.send(
      new RunTaskCommand({
        cluster: made.id,
        taskDefinition: definition.id,
        launchType: 'FARGATE',
        count: 2,
        networkConfiguration: { awsvpcConfiguration: { subnets: [network.subnet], securityGroups: [network.group] } },
      }),
    );
    expect(await stopClusterTasks(ctx, 'ecstest-stop')).toBe(2);
    expect(await stopClusterTasks(ctx, 'ecstest-stop')).toBe(0);
  });
});
