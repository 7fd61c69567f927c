import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { motoResourceContext } from '../helpers/resource-context.js';
import { commandsDuring } from '../helpers/commands-during.js';
import { iamRole, INLINE_POLICY_NAME, trustPolicy, type IamRoleProps } from '../../src/resources/iam-role.js';
import type { ResourceContext } from '../../src/resources/contract.js';

const BASIC_EXECUTION = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
const ECS_EXECUTION = 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy';

const runTaskPolicy = (action: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: [action], Resource: '*' }],
});

let moto: MotoServer;
let ctx: ResourceContext & { waits: string[] };

beforeAll(async () => {
  moto = await startMoto();
  ctx = await motoResourceContext(moto);
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe('iam.role against moto', () => {
  it('creates, reads, finds, converges and deletes a role', async () => {
    // given
    const props: IamRoleProps = {
      name: 'scalr-serverless-test-lambda',
      description: 'webhook role',
      assumeRoleService: 'lambda.amazonaws.com',
      managedPolicyArns: [BASIC_EXECUTION],
      inlinePolicy: runTaskPolicy('ecs:RunTask'),
    };

    // when
    const created = await iamRole.create(ctx, props);

    // then: outputs, tags and trust policy as IAM reports them
    expect(created.id).toBe(props.name);
    expect(created.outputs).toEqual({ id: props.name, name: props.name, arn: expect.stringMatching(/^arn:aws:iam::123456789012:role\//) });
    const role = (await ctx.clients.iam.send(new GetRoleCommand({ RoleName: props.name }))).Role;
    expect(JSON.parse(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '')).Statement[0].Principal.Service).toBe(
      'lambda.amazonaws.com',
    );
    const tags = await ctx.clients.iam.send(new ListRoleTagsCommand({ RoleName: props.name }));
    expect(tags.Tags).toContainEqual({ Key: 'scalr-serverless:stack', Value: 'test' });

    const observed = await iamRole.read(ctx, created.id, props);
    expect(observed?.outputs).toEqual(created.outputs);
    expect(observed?.props).toMatchObject({ managedPolicyArns: [BASIC_EXECUTION], inlinePolicy: props.inlinePolicy });
    expect((await iamRole.find(ctx, props))?.id).toBe(created.id);

    // a converge with nothing to change writes nothing
    const noop = await commandsDuring(ctx.clients.iam, () => iamRole.update!(ctx, created.id, props, props));
    expect(noop.filter((name) => !/^(Get|List)/.test(name))).toEqual([]);

    // when: managed policies swapped and the inline policy changed
    const changed = { ...props, managedPolicyArns: [ECS_EXECUTION], inlinePolicy: runTaskPolicy('ecs:StopTask') };
    await iamRole.update!(ctx, created.id, changed, props);

    // then
    const attached = await ctx.clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: props.name }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([ECS_EXECUTION]);
    const inline = await ctx.clients.iam.send(
      new GetRolePolicyCommand({ RoleName: props.name, PolicyName: INLINE_POLICY_NAME }),
    );
    expect(JSON.parse(decodeURIComponent(inline.PolicyDocument ?? '')).Statement[0].Action).toEqual(['ecs:StopTask']);
    expect((await iamRole.read(ctx, created.id, changed))?.props?.inlinePolicy).toEqual(changed.inlinePolicy);

    // when: the inline policy is dropped
    await iamRole.update!(ctx, created.id, { ...changed, inlinePolicy: null }, changed);
    await expect(
      ctx.clients.iam.send(new GetRolePolicyCommand({ RoleName: props.name, PolicyName: INLINE_POLICY_NAME })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    expect((await iamRole.read(ctx, created.id, changed))?.props?.inlinePolicy).toBeNull();

    // when: deleted while a policy is still attached, then deleted again
    await iamRole.delete(ctx, created.id, changed);
    expect(await iamRole.read(ctx, created.id, changed)).toBeUndefined();
    expect(await iamRole.find(ctx, changed)).toBeUndefined();
    await expect(iamRole.delete(ctx, created.id, changed)).resolves.toBeUndefined();
  });

  it('adopts a role left behind by a crashed run and attaches its policies', async () => {
    // given: the role exists (CreateRole returned, then the process died)
    const props: IamRoleProps = {
      name: 'scalr-serverless-test-task',
      description: 'task role',
      assumeRoleService: 'ecs-tasks.amazonaws.com',
      managedPolicyArns: [ECS_EXECUTION],
      inlinePolicy: runTaskPolicy('s3:GetObject'),
    };
    await ctx.clients.iam.send(
      new CreateRoleCommand({ RoleName: props.name, AssumeRolePolicyDocument: trustPolicy(props.assumeRoleService) }),
    );

    // when
    const created = await iamRole.create(ctx, props);

    // then
    expect(created.id).toBe(props.name);
    const observed = await iamRole.read(ctx, created.id, props);
    expect(observed?.props).toEqual({
      description: 'task role',
      managedPolicyArns: [ECS_EXECUTION],
      inlinePolicy: props.inlinePolicy,
    });
    await iamRole.delete(ctx, created.id, props);
  });

  it('leaves no role behind when a policy cannot be attached', async () => {
    const props: IamRoleProps = {
      name: 'scalr-serverless-test-bad',
      description: '',
      assumeRoleService: 'lambda.amazonaws.com',
      managedPolicyArns: ['arn:aws:iam::123456789012:policy/does-not-exist'],
      inlinePolicy: null,
    };

    await expect(iamRole.create(ctx, props)).rejects.toMatchObject({ name: 'NoSuchEntityException' });

    await expect(ctx.clients.iam.send(new GetRoleCommand({ RoleName: props.name }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
  });
});
