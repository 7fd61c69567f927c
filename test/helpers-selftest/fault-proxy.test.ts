import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateVpcCommand, DeleteVpcCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateClusterCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, GetFunctionCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { APIGatewayClient, CreateRestApiCommand, GetResourcesCommand } from '@aws-sdk/client-api-gateway';
import yazl from 'yazl';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const config = (endpoint: string, maxAttempts = 3) => ({ region: 'us-east-1', endpoint, credentials, maxAttempts });

let moto: MotoServer;
let proxy: FaultProxy;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint });
}, 40_000);

afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

beforeEach(() => proxy.reset());

const names = () => proxy.calls().map((c) => `${c.service}:${c.action}:${c.write ? 'w' : 'r'}`);

async function zipOf(content: Buffer): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(content, 'index.mjs', { compress: false });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('fault proxy: identification', () => {
  it('names query-protocol calls (EC2, IAM, STS) from the form body', async () => {
    const ec2 = new EC2Client(config(proxy.url));
    const iam = new IAMClient(config(proxy.url));
    await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }));
    await ec2.send(new DescribeVpcsCommand({}));
    await iam.send(new CreateRoleCommand({ RoleName: 'proxy-role', AssumeRolePolicyDocument: '{}' }));
    await iam.send(new GetRoleCommand({ RoleName: 'proxy-role' }));
    await new STSClient(config(proxy.url)).send(new GetCallerIdentityCommand({}));
    expect(names()).toEqual([
      'ec2:CreateVpc:w',
      'ec2:DescribeVpcs:r',
      'iam:CreateRole:w',
      'iam:GetRole:r',
      'sts:GetCallerIdentity:r',
    ]);
  });

  it('names JSON-protocol calls (ECS, CloudWatch Logs) from X-Amz-Target', async () => {
    await new ECSClient(config(proxy.url)).send(new CreateClusterCommand({ clusterName: 'proxy-cluster' }));
    await new ECSClient(config(proxy.url)).send(new ListClustersCommand({}));
    await new CloudWatchLogsClient(config(proxy.url)).send(new CreateLogGroupCommand({ logGroupName: '/proxy/a' }));
    expect(names()).toEqual(['ecs:CreateCluster:w', 'ecs:ListClusters:r', 'logs:CreateLogGroup:w']);
  });

  it('names REST calls (Lambda, API Gateway) and relays a ~100 KiB CreateFunction body intact', async () => {
    const role = await new IAMClient(config(moto.endpoint)).send(
      new CreateRoleCommand({ RoleName: 'proxy-fn-role', AssumeRolePolicyDocument: '{}' }),
    );
    const zip = await zipOf(randomBytes(100 * 1024));
    const lambda = new LambdaClient(config(proxy.url));
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'proxy-fn',
        Role: role.Role!.Arn!,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Code: { ZipFile: zip },
      }),
    );
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'proxy-fn' }));
    const api = new APIGatewayClient(config(proxy.url));
    const rest = await api.send(new CreateRestApiCommand({ name: 'proxy-api' }));
    await api.send(new GetResourcesCommand({ restApiId: rest.id! }));

    expect(fn.Configuration?.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(names()).toEqual([
      'lambda:CreateFunction:w',
      'lambda:GetFunction:r',
      'apigateway:CreateRestApi:w',
      'apigateway:GetResources:r',
    ]);
  });
});

describe('fault proxy: injected faults', () => {
  it('throttles in each protocol shape, and the SDK retry then succeeds', async () => {
    proxy.throttle({ service: 'ec2', action: 'DescribeVpcs' }, 2);
    proxy.throttle({ service: 'ecs', action: 'ListClusters' }, 1);
    proxy.throttle({ service: 'lambda', action: 'ListFunctions' }, 1);
    await new EC2Client(config(proxy.url)).send(new DescribeVpcsCommand({}));
    await new ECSClient(config(proxy.url)).send(new ListClustersCommand({}));
    await new LambdaClient(config(proxy.url)).send(new ListFunctionsCommand({}));

    const statuses = (action: string) => proxy.calls().filter((c) => c.action === action).map((c) => c.status);
    expect(statuses('DescribeVpcs')).toEqual([503, 503, 200]);
    expect(statuses('ListClusters')).toEqual([400, 200]);
    expect(statuses('ListFunctions')).toEqual([429, 200]);
  }, 20_000);

  it('surfaces the throttling error names the SDK parses from each protocol', async () => {
    proxy.throttle({ action: /^(DescribeVpcs|GetRole|ListClusters|GetResources)$/ });
    const errorName = (promise: Promise<unknown>) => promise.then(() => 'no error', (e: Error) => e.name);
    const once = (endpoint: string) => config(endpoint, 1);
    expect(await errorName(new EC2Client(once(proxy.url)).send(new DescribeVpcsCommand({})))).toBe('RequestLimitExceeded');
    expect(await errorName(new IAMClient(once(proxy.url)).send(new GetRoleCommand({ RoleName: 'x' })))).toBe('Throttling');
    expect(await errorName(new ECSClient(once(proxy.url)).send(new ListClustersCommand({})))).toBe('ThrottlingException');
    expect(
      await errorName(new APIGatewayClient(once(proxy.url)).send(new GetResourcesCommand({ restApiId: 'x' }))),
    ).toBe('TooManyRequestsException');
  });

  it('answers DependencyViolation as EC2 does, without forwarding the delete', async () => {
    const ec2 = new EC2Client(config(proxy.url));
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16' }));
    proxy.dependencyViolation({ service: 'ec2', action: 'DeleteVpc' }, 1);
    const error = await ec2.send(new DeleteVpcCommand({ VpcId: vpc.Vpc!.VpcId! })).catch((e: Error) => e);
    expect((error as Error).name).toBe('DependencyViolation');
    const direct = await new EC2Client(config(moto.endpoint)).send(new DescribeVpcsCommand({ VpcIds: [vpc.Vpc!.VpcId!] }));
    expect(direct.Vpcs).toHaveLength(1);
  });

  it('answers a 5xx for serverError', async () => {
    proxy.serverError({ service: 'sts' }, 1);
    const error = await new STSClient(config(proxy.url, 1)).send(new GetCallerIdentityCommand({})).catch((e) => e);
    expect(error.$metadata.httpStatusCode).toBe(500);
    await new STSClient(config(proxy.url, 1)).send(new GetCallerIdentityCommand({}));
    expect(proxy.calls().map((c) => c.status)).toEqual([500, 200]);
  });

  it('adds at least latencyMs to every call', async () => {
    const LATENCY_MS = 150;
    proxy.latencyMs = LATENCY_MS;
    const sts = new STSClient(config(proxy.url));
    const started = Date.now();
    for (let i = 0; i < 3; i += 1) await sts.send(new GetCallerIdentityCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * LATENCY_MS);
    expect(proxy.calls().every((c) => c.durationMs >= LATENCY_MS)).toBe(true);
  });
});

describe('fault proxy: killAfterWrite', () => {
  it('kills the caller after exactly n writes, with the n-th done in moto', async () => {
    // The child writes five log groups one by one and prints each one it saw answered.
    const script = `
      import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
      const logs = new CloudWatchLogsClient({ region: 'us-east-1' });
      for (let i = 1; i <= 5; i += 1) {
        await logs.send(new CreateLogGroupCommand({ logGroupName: '/kill/' + i }));
        console.log('answered ' + i);
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: process.cwd(),
      env: { ...process.env, ...moto.env, AWS_ENDPOINT_URL: proxy.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const killed = proxy.killAfterWrite(3, child.pid!);

    const call = await killed;
    expect(await exited).toBe('SIGKILL');
    expect(call.action).toBe('CreateLogGroup');
    expect(stdout.trim().split('\n')).toEqual(['answered 1', 'answered 2']);
    const groups = await new CloudWatchLogsClient(config(moto.endpoint)).send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: '/kill/' }),
    );
    expect(groups.logGroups?.map((g) => g.logGroupName).sort()).toEqual(['/kill/1', '/kill/2', '/kill/3']);
  }, 20_000);
});
