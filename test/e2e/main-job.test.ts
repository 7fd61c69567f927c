import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeVpcsCommand, DescribeVpcAttributeCommand, DescribeSubnetsCommand, DescribeInternetGatewaysCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DescribeClustersCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetRoleCommand, ListAttachedRolePoliciesCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetPolicyCommand } from '@aws-sdk/client-lambda';
import { GetResourcesCommand, GetMethodCommand, GetIntegrationCommand, GetStageCommand, GetUsagePlansCommand, GetUsagePlanKeysCommand } from '@aws-sdk/client-api-gateway';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startMoto, MOTO_ACCOUNT_ID, type MotoServer } from '../helpers/moto.js';
import { runCli } from '../helpers/cli.js';
import { inspectorClients, remainingStackResources } from '../helpers/inspect-stack.js';
import { startLocalGateway, type LocalGateway } from '../helpers/local-gateway.js';

const ZIP_PATH = fileURLToPath(new URL('../../dist/lambda.zip', import.meta.url));
const STACK = 'e2e';
const PREFIX = `scalr-serverless-${STACK}`;

describe('the main job: up, a webhook delivery, up again, down', () => {
  let moto: MotoServer;
  let cwd: string;
  let gateway: LocalGateway | undefined;
  let c: ReturnType<typeof inspectorClients>;
  const cli = (args: string[]) => runCli([...args, '--stack', STACK], { cwd, env: moto.env });

  beforeAll(async () => {
    moto = await startMoto();
    cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-e2e-'));
    c = inspectorClients(moto.endpoint);
  });
  afterAll(async () => {
    await gateway?.close();
    await moto?.stop();
  });

  it('up --json creates the whole stack and prints the outputs with the key masked', async () => {
    const run = await cli(['up', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = run.json();
    expect(doc.outputs.webhook_url).toMatch(/^https:\/\/[a-z0-9]+\.execute-api\.us-east-1\.amazonaws\.com\/prod\/webhook$/);
    expect(doc.outputs.api_key).toMatch(/^.{4}\*{8,}$/);
    expect(doc.summary.create).toBeGreaterThanOrEqual(20);
  });

  it('the network is as specified: VPC with DNS, two public subnets in two AZs, IGW, routes, closed security group', async () => {
    const tag = [{ Name: 'tag:scalr-serverless:stack', Values: [STACK] }];
    const [vpc] = (await c.ec2.send(new DescribeVpcsCommand({ Filters: tag }))).Vpcs!;
    expect(vpc.CidrBlock).toBe('10.0.0.0/16');
    expect(vpc.Tags).toEqual(expect.arrayContaining([{ Key: 'managed-by', Value: 'scalr-serverless' }]));
    for (const Attribute of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
      const attr = await c.ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute }));
      expect(attr.EnableDnsSupport?.Value ?? attr.EnableDnsHostnames?.Value).toBe(true);
    }
    const subnets = (await c.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).Subnets!;
    expect(subnets.map((s) => s.CidrBlock).sort()).toEqual(['10.0.1.0/24', '10.0.2.0/24']);
    expect(new Set(subnets.map((s) => s.AvailabilityZone)).size).toBe(2);
    const [igw] = (await c.ec2.send(new DescribeInternetGatewaysCommand({ Filters: tag }))).InternetGateways!;
    expect(igw.Attachments?.[0]?.VpcId).toBe(vpc.VpcId);
    const [table] = (await c.ec2.send(new DescribeRouteTablesCommand({ Filters: tag }))).RouteTables!;
    expect(table.Routes).toEqual(expect.arrayContaining([expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGatewayId })]));
    expect(table.Associations!.map((a) => a.SubnetId).sort()).toEqual(subnets.map((s) => s.SubnetId).sort());
    const [group] = (await c.ec2.send(new DescribeSecurityGroupsCommand({ Filters: tag }))).SecurityGroups!;
    expect(group.IpPermissions ?? []).toEqual([]);
    expect(group.IpPermissionsEgress).toEqual(expect.arrayContaining([expect.objectContaining({ IpProtocol: '-1' })]));
  });

  it('ECS, IAM and logs are as specified', async () => {
    const [cluster] = (await c.ecs.send(new DescribeClustersCommand({ clusters: [PREFIX], include: ['TAGS'] }))).clusters!;
    expect(cluster.status).toBe('ACTIVE');
    expect(cluster.capacityProviders?.sort()).toEqual(['FARGATE', 'FARGATE_SPOT']);
    const { taskDefinition: td } = await c.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${PREFIX}-agent` }));
    expect(td!.requiresCompatibilities).toEqual(['FARGATE']);
    expect(td!.networkMode).toBe('awsvpc');
    expect([td!.cpu, td!.memory]).toEqual(['1024', '2048']);
    const [container] = td!.containerDefinitions!;
    expect(container.name).toBe('scalr-agent');
    expect(container.essential).toBe(true);
    expect(container.image).toBe('scalr/agent:latest');
    expect(container.memoryReservation).toBeGreaterThan(0);
    expect(container.logConfiguration?.logDriver).toBe('awslogs');
    expect(container.environment).toEqual(expect.arrayContaining([{ name: 'SCALR_SINGLE', value: 'true' }, { name: 'SCALR_DRIVER', value: 'local' }]));

    const execution = await c.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: `${PREFIX}-execution` }));
    expect(execution.AttachedPolicies!.map((p) => p.PolicyName)).toContain('AmazonECSTaskExecutionRolePolicy');
    const taskRole = await c.iam.send(new GetRoleCommand({ RoleName: `${PREFIX}-task` }));
    expect(td!.taskRoleArn).toBe(taskRole.Role!.Arn);
    const inline = await c.iam.send(new GetRolePolicyCommand({ RoleName: `${PREFIX}-webhook`, PolicyName: 'scalr-serverless' }));
    const policy = JSON.parse(decodeURIComponent(inline.PolicyDocument!));
    const passRole = policy.Statement.find((s: any) => [s.Action].flat().includes('iam:PassRole'));
    expect([passRole.Resource].flat().sort()).toEqual([td!.executionRoleArn, td!.taskRoleArn].sort());

    for (const name of [`/ecs/${PREFIX}`, `/aws/lambda/${PREFIX}-webhook`]) {
      const groups = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      expect(groups.logGroups?.find((g) => g.logGroupName === name)?.retentionInDays).toBe(30);
    }
  });

  it('the Lambda runs the exact bytes of dist/lambda.zip and the API is wired to it with a key', async () => {
    const fn = await c.lambda.send(new GetFunctionCommand({ FunctionName: `${PREFIX}-webhook` }));
    const zip = await readFile(ZIP_PATH);
    expect(fn.Configuration!.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(fn.Configuration!.Runtime).toBe('nodejs22.x');
    expect(fn.Configuration!.Timeout).toBe(30);
    const state = JSON.parse(await readFile(join(cwd, '.scalr-serverless', `${STACK}.json`), 'utf8'));
    const apiId = state.resources.restApi.id;
    const resources = await c.apigateway.send(new GetResourcesCommand({ restApiId: apiId }));
    const webhook = resources.items!.find((r) => r.path === '/webhook')!;
    const method = await c.apigateway.send(new GetMethodCommand({ restApiId: apiId, resourceId: webhook.id, httpMethod: 'POST' }));
    expect(method.apiKeyRequired).toBe(true);
    const integration = await c.apigateway.send(new GetIntegrationCommand({ restApiId: apiId, resourceId: webhook.id, httpMethod: 'POST' }));
    expect(integration.type).toBe('AWS_PROXY');
    expect(integration.uri).toContain(fn.Configuration!.FunctionArn);
    await c.apigateway.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }));
    const plan = (await c.apigateway.send(new GetUsagePlansCommand({}))).items!.find((p) => p.name === PREFIX)!;
    expect(plan.apiStages).toEqual([expect.objectContaining({ apiId, stage: 'prod' })]);
    const keys = await c.apigateway.send(new GetUsagePlanKeysCommand({ usagePlanId: plan.id }));
    expect(keys.items!.map((k) => k.id)).toEqual([state.resources.apiKey.id]);
    const permission = JSON.parse((await c.lambda.send(new GetPolicyCommand({ FunctionName: `${PREFIX}-webhook` }))).Policy!);
    expect(JSON.stringify(permission)).toContain(`arn:aws:execute-api:us-east-1:${MOTO_ACCOUNT_ID}:${apiId}/prod/POST/webhook`);
    expect(JSON.stringify(state)).not.toContain((await cli(['status', '--json', '--show-secrets'])).json().outputs.api_key);
  });

  it('a webhook delivery through the gateway starts one agent task with the token and URL from its headers', async () => {
    const status = (await cli(['status', '--json', '--show-secrets'])).json();
    const apiKey: string = status.outputs.api_key;
    const state = JSON.parse(await readFile(join(cwd, '.scalr-serverless', `${STACK}.json`), 'utf8'));
    gateway = await startLocalGateway({ motoEndpoint: moto.endpoint, restApiId: state.resources.restApi.id, zipPath: ZIP_PATH });
    const url = gateway.webhookUrlFor('prod', 'webhook');
    const body = JSON.stringify({ task_id: 'atask-e2e1', action: 'plan', run_id: 'run-e2e1', workspace_id: 'ws-1', environment_id: 'env-1' });
    const headers = { 'content-type': 'application/json', 'Idempotency-Key': 'atask-e2e1', 'x-scalr-token': 'pool-token-e2e', 'X-Scalr-Url': 'https://acme.scalr.io' };

    const refused = await fetch(url, { method: 'POST', body, headers: { ...headers, 'X-Api-Key': 'not-the-key' } });
    expect(refused.status).toBe(403);

    const response = await fetch(url, { method: 'POST', body, headers: { ...headers, 'X-Api-Key': apiKey } });
    const answer = await response.json();
    expect(response.status, JSON.stringify(answer)).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
    const { taskArns } = await c.ecs.send(new ListTasksCommand({ cluster: PREFIX }));
    expect(taskArns).toEqual([answer.taskArn]);
    const { tasks } = await c.ecs.send(new DescribeTasksCommand({ cluster: PREFIX, tasks: taskArns }));
    const override = tasks![0].overrides!.containerOverrides![0];
    expect(override.name).toBe('scalr-agent');
    expect(override.environment).toEqual(expect.arrayContaining([
      { name: 'SCALR_TOKEN', value: 'pool-token-e2e' },
      { name: 'SCALR_URL', value: 'https://acme.scalr.io' },
    ]));
    expect(gateway.logs().join('\n')).not.toContain('pool-token-e2e');
  });

  it('through the gateway, a retried delivery in other header case gets the same task, and bad headers get 400', async () => {
    const status = (await cli(['status', '--json', '--show-secrets'])).json();
    const url = gateway!.webhookUrlFor('prod', 'webhook');
    const body = JSON.stringify({ task_id: 'atask-e2e1', action: 'plan', run_id: 'run-e2e1' });
    const retry = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'X-API-KEY': status.outputs.api_key, 'IDEMPOTENCY-KEY': 'atask-e2e1', 'X-SCALR-TOKEN': 'pool-token-e2e', 'x-scalr-url': 'https://acme.scalr.io' },
    });
    const first = (await c.ecs.send(new ListTasksCommand({ cluster: PREFIX }))).taskArns!;
    expect(retry.status).toBe(200);
    expect((await retry.json()).taskArn).toBe(first[0]);
    expect(first).toHaveLength(1);

    for (const headers of <Record<string, string>[]>[
      { 'X-Scalr-Url': 'https://acme.scalr.io' },
      { 'X-Scalr-Token': 'pool-token-e2e' },
      { 'X-Scalr-Token': 'pool-token-e2e', 'X-Scalr-Url': 'http://acme.scalr.io' },
    ]) {
      const refused = await fetch(url, { method: 'POST', body: '{}', headers: { ...headers, 'X-Api-Key': status.outputs.api_key } });
      expect(refused.status).toBe(400);
      expect((await refused.json()).error).toMatch(/X-Scalr-(Token|Url)/);
    }
    expect((await c.ecs.send(new ListTasksCommand({ cluster: PREFIX }))).taskArns).toHaveLength(1);
  });

  it('up again changes nothing and does not rewrite the state file', async () => {
    const statePath = join(cwd, '.scalr-serverless', `${STACK}.json`);
    const before = await stat(statePath);
    const run = await cli(['up', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = run.json();
    expect(doc.plan.filter((step: any) => step.action !== 'noop')).toEqual([]);
    expect((await stat(statePath)).mtimeMs).toBe(before.mtimeMs);
  });

  it('down --yes stops the agent task and leaves nothing of the stack', async () => {
    await gateway?.close();
    gateway = undefined;
    const run = await cli(['down', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().stoppedTasks).toBe(1);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
  });
});
