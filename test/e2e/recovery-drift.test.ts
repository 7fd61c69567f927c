import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import { DeleteRouteCommand, DescribeRouteTablesCommand, DisassociateRouteTableCommand } from '@aws-sdk/client-ec2';
import { DeleteUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { DetachRolePolicyCommand } from '@aws-sdk/client-iam';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { inspectorClients, remainingStackResources } from '../helpers/inspect-stack.js';
import { stackProblems, type StackIds } from '../helpers/stack-checks.js';

/**
 * Resources deleted or unwired by hand, two stacks sharing an account (one named as a prefix of the
 * other, so any lookup by name prefix would cross over), and AWS pushing back with throttling and 5xx.
 */
const STACK = 'a';
const NEIGHBOUR = 'a-b';
const CASE_TIMEOUT_MS = 60_000;

describe('drift repair and neighbouring stacks', () => {
  let moto: MotoServer;
  let cwd: string;
  let c: ReturnType<typeof inspectorClients>;
  let neighbourIds: Partial<StackIds>;
  const cli = (stack: string, args: string[]): Promise<CliRun> => runCli([...args, '--stack', stack], { cwd, env: moto.env });
  const problemsOf = async (stack: string) => (await stackProblems(moto.endpoint, stack)).problems;

  beforeAll(async () => {
    moto = await startMoto();
    c = inspectorClients(moto.endpoint);
    cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-drift-'));
    for (const stack of [STACK, NEIGHBOUR]) {
      const run = await cli(stack, ['up']);
      if (run.code !== 0) throw new Error(`up --stack ${stack} failed:\n${run.stderr}`);
    }
    neighbourIds = (await stackProblems(moto.endpoint, NEIGHBOUR)).ids;
  }, CASE_TIMEOUT_MS);
  afterAll(async () => {
    await moto?.stop();
  });

  it('a Lambda function deleted by hand shows in status, and up recreates it with its permission and integration', async () => {
    // given: the function is deleted out of band (its resource policy goes with it)
    await c.lambda.send(new DeleteFunctionCommand({ FunctionName: `scalr-serverless-${STACK}-webhook` }));
    expect(await problemsOf(STACK)).toEqual(expect.arrayContaining(['Lambda function is missing']));

    // when: status looks, then up runs
    const status = await cli(STACK, ['status', '--json']);
    const up = await cli(STACK, ['up', '--json']);

    // then: status said it is gone; up recreated it, and the permission and the API point at it again
    const handler = status.json().resources.find((r: { key: string }) => r.key === 'handler');
    expect(handler).toMatchObject({ exists: false, drift: expect.stringMatching(/deleted outside/) });
    expect(up.code, up.stderr).toBe(0);
    const steps = up.json().plan as { key: string; action: string }[];
    expect(steps.filter((s) => s.action !== 'noop').map((s) => `${s.key}:${s.action}`)).toEqual(
      expect.arrayContaining(['handler:create', 'invokePermission:create']),
    );
    expect(await problemsOf(STACK)).toEqual([]);
  }, CASE_TIMEOUT_MS);

  it('wiring removed by hand (route, association, usage plan key, role policy) is put back by up', async () => {
    // given: four links cut out of band
    const prefix = `scalr-serverless-${STACK}`;
    const { ids } = await stackProblems(moto.endpoint, STACK);
    const [table] = (await c.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [ids.routeTableId!] }))).RouteTables!;
    const association = table.Associations!.find((a) => a.SubnetId)!;
    await c.ec2.send(new DisassociateRouteTableCommand({ AssociationId: association.RouteTableAssociationId }));
    await c.ec2.send(new DeleteRouteCommand({ RouteTableId: ids.routeTableId, DestinationCidrBlock: '0.0.0.0/0' }));
    await c.apigateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId: ids.usagePlanId, keyId: ids.apiKeyId }));
    await c.iam.send(new DetachRolePolicyCommand({
      RoleName: `${prefix}-execution`,
      PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
    }));
    expect(await problemsOf(STACK)).toHaveLength(4);

    // when: up runs
    const up = await cli(STACK, ['up']);

    // then: every link is back, nothing was duplicated
    expect(up.code, up.stderr).toBe(0);
    expect(await problemsOf(STACK)).toEqual([]);
  }, CASE_TIMEOUT_MS);

  it('the neighbouring stack was never touched, and down of one leaves the other complete', async () => {
    expect((await stackProblems(moto.endpoint, NEIGHBOUR)).ids).toEqual(neighbourIds);
    const down = await cli(STACK, ['down', '--yes']);
    expect(down.code, down.stderr).toBe(0);
    // Names of the neighbour start with this stack's prefix; those are the neighbour's, not leftovers.
    const left = await remainingStackResources(moto.endpoint, STACK);
    expect(left.filter((entry) => !entry.includes(`scalr-serverless-${NEIGHBOUR}`))).toEqual([]);
    expect(await problemsOf(NEIGHBOUR)).toEqual([]);
    expect((await stackProblems(moto.endpoint, NEIGHBOUR)).ids).toEqual(neighbourIds);
    expect((await cli(NEIGHBOUR, ['down', '--yes'])).code).toBe(0);
    expect(await remainingStackResources(moto.endpoint, NEIGHBOUR)).toEqual([]);
  }, CASE_TIMEOUT_MS);
});

describe('AWS pushing back: throttling, 5xx, and ECS throttling in other clothes', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy({ target: moto.endpoint });
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });

  it('up succeeds through throttled and failing calls in every service, and down through them too', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-throttle-'));
    const cli = (args: string[]) => runCli([...args, '--stack', 'busy'], { cwd, env: { ...moto.env, AWS_ENDPOINT_URL: proxy.url } });
    // given: each service throttles or fails some of its calls, as a busy account does
    proxy.throttle({ service: 'ec2', action: /^Create/ }, 2);
    proxy.throttle({ service: 'iam' }, 2);
    proxy.throttle({ service: 'lambda', action: 'CreateFunction' }, 2);
    proxy.throttle({ service: 'apigateway' }, 2);
    proxy.serverError({ service: 'apigateway', action: /^(Put|Create)/ }, 2);
    proxy.serverError({ service: 'logs' }, 2);
    // ECS wraps EC2's throttling as InvalidParameterException "Rate exceeded" (FACTS.md §5).
    proxy.fail({ service: 'ecs', action: /^(CreateCluster|RegisterTaskDefinition)$/, times: 2 }, { status: 400, code: 'InvalidParameterException', message: 'Rate exceeded' });

    const up = await cli(['up']);
    expect(up.code, up.stderr).toBe(0);
    expect(injectedByService(proxy)).toEqual({ ec2: 2, iam: 2, lambda: 2, apigateway: 4, logs: 2, ecs: 2 });
    expect(await problemsIn(moto, 'busy')).toEqual([]);

    proxy.reset();
    proxy.throttle({ service: 'ec2', action: /^(Delete|Detach|Disassociate)/ }, 2);
    proxy.serverError({ service: 'apigateway', action: /^Delete/ }, 2);
    proxy.fail({ service: 'ecs', action: /^(DeleteCluster|DeregisterTaskDefinition)$/, times: 2 }, { status: 400, code: 'InvalidParameterException', message: 'Rate exceeded' });
    const down = await cli(['down', '--yes']);
    expect(down.code, down.stderr).toBe(0);
    expect(injectedByService(proxy)).toEqual({ ec2: 2, apigateway: 2, ecs: 2 });
    expect(await remainingStackResources(moto.endpoint, 'busy')).toEqual([]);
  }, CASE_TIMEOUT_MS);
});

/** How many answers the proxy made up, per service: proof that every fault was really served. */
function injectedByService(proxy: FaultProxy): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of proxy.calls()) if (call.injected) counts[call.service] = (counts[call.service] ?? 0) + 1;
  return counts;
}

async function problemsIn(moto: MotoServer, stack: string): Promise<string[]> {
  return (await stackProblems(moto.endpoint, stack)).problems;
}
