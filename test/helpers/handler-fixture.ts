import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { EC2Client, CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { AGENT_CONTAINER_NAME, HANDLER_ENV } from '../../lambda-src/contract.js';
import type { ProxyEvent } from '../../lambda-src/request.js';
import type { MotoServer } from './moto.js';

const execFileAsync = promisify(execFile);

/** Secrets and header values used by handler tests; none of them may ever show up in a log. */
export const SECRETS = {
  token: 'agent-token-Zq81xQ7v',
  apiKey: 'api-key-Pw0LmR4t',
  url: 'https://acme.scalr.io',
  userAgent: 'Scalr-Webhook/ua-Hq2c',
} as const;

/** Options for one webhook delivery as API Gateway hands it to the function. */
export interface DeliveryOptions {
  /** Extra or replaced headers; `undefined` removes one. */
  headers?: Record<string, string | undefined>;
  /** Rewrites every header name, as senders and proxies do. */
  nameCase?: (name: string) => string;
  /** Put the headers only into multiValueHeaders, or only into headers (real events carry both). */
  multiValueOnly?: boolean;
  singleValueOnly?: boolean;
  body?: unknown;
  base64?: boolean;
  idempotencyKey?: string | null;
}

/** A REST proxy event for a delivery with valid Scalr headers, unless `options` override them. */
export function proxyEvent(options: DeliveryOptions = {}): ProxyEvent {
  const given: Record<string, string | undefined> = {
    'Content-Type': 'application/json',
    'User-Agent': SECRETS.userAgent,
    'X-Api-Key': SECRETS.apiKey,
    'X-Scalr-Token': SECRETS.token,
    'X-Scalr-Url': SECRETS.url,
    ...(options.idempotencyKey === null ? {} : { 'Idempotency-Key': options.idempotencyKey ?? `key-${randomUUID()}` }),
    ...options.headers,
  };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined) headers[options.nameCase ? options.nameCase(name) : name] = value;
  }
  const raw = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const body = raw !== undefined && options.base64 ? Buffer.from(raw, 'utf8').toString('base64') : raw;
  const multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
  return {
    headers: options.multiValueOnly ? null : headers,
    multiValueHeaders: options.singleValueOnly ? null : multiValueHeaders,
    body: body ?? null,
    isBase64Encoded: options.base64 ?? false,
  };
}

/** A Scalr webhook body (FACTS §1). */
export function webhookBody(taskId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_id: taskId,
    action: 'plan',
    run_id: `run-${taskId}`,
    workspace_id: 'ws-v0abc123',
    environment_id: 'env-v0def456',
    created_at: '2026-11-02T10:15:00+0000',
    ...overrides,
  };
}

/** The minimal stack the handler runs tasks in, made with plain SDK calls. */
export interface HandlerStack {
  cluster: string;
  clusterArn: string;
  taskDefinitionArn: string;
  subnets: string[];
  securityGroup: string;
  /** The function's environment for this stack (HANDLER_ENV names). */
  env: Record<string, string>;
}

/**
 * Creates in moto: a VPC with DNS hostnames (moto's RunTask needs them for the ENI's DNS name), two
 * subnets in two AZs, a security group, a cluster and a Fargate task definition whose container
 * has memoryReservation (moto's RunTask 500s without it) and the contract's container name.
 */
export async function createHandlerStack(moto: MotoServer, stack = 'handler-test'): Promise<HandlerStack> {
  const config = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const ec2 = new EC2Client(config);
  const ecs = new ECSClient(config);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } }));
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
  const subnets: string[] = [];
  for (const [index, zone] of ['us-east-1a', 'us-east-1b'].entries()) {
    const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${index + 1}.0/24`, AvailabilityZone: zone }));
    subnets.push(subnet.Subnet!.SubnetId!);
  }
  const sg = await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `${stack}-agents`, Description: 'agent tasks' }));
  const cluster = `${stack}-cluster`;
  const created = await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const taskDefinition = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${stack}-agent`,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '1024',
      memory: '2048',
      containerDefinitions: [
        {
          name: AGENT_CONTAINER_NAME,
          image: 'scalr/agent:latest',
          essential: true,
          memoryReservation: 1024,
          environment: [
            { name: 'SCALR_SINGLE', value: 'true' },
            { name: 'SCALR_DRIVER', value: 'local' },
          ],
        },
      ],
    }),
  );
  ec2.destroy();
  ecs.destroy();
  const taskDefinitionArn = taskDefinition.taskDefinition!.taskDefinitionArn!;
  const securityGroup = sg.GroupId!;
  return {
    cluster,
    clusterArn: created.cluster!.clusterArn!,
    taskDefinitionArn,
    subnets,
    securityGroup,
    env: {
      [HANDLER_ENV.cluster]: cluster,
      [HANDLER_ENV.taskDefinition]: taskDefinitionArn,
      [HANDLER_ENV.container]: AGENT_CONTAINER_NAME,
      [HANDLER_ENV.subnets]: subnets.join(','),
      [HANDLER_ENV.securityGroups]: securityGroup,
      [HANDLER_ENV.stack]: stack,
    },
  };
}

/** The built package, as `up` uploads it. */
export const LAMBDA_ZIP = fileURLToPath(new URL('../../dist/lambda.zip', import.meta.url));

/**
 * Unzips dist/lambda.zip into a fresh folder outside the repo (no node_modules anywhere above it),
 * as Lambda does. Fails with the fix when the package was not built.
 */
export async function unpackLambdaZip(): Promise<string> {
  if (!existsSync(LAMBDA_ZIP)) throw new Error(`${LAMBDA_ZIP} is missing: run npm run build first`);
  const dir = await mkdtemp(join(tmpdir(), 'scalr-lambda-'));
  execFileSync('unzip', ['-q', LAMBDA_ZIP, '-d', dir]);
  return dir;
}

/**
 * Imports the unpacked handler as a fresh module instance: it reads its env at load, so each env
 * configuration needs its own instance, which the query string gives.
 */
export async function importHandler(dir: string, instance: string): Promise<(event: ProxyEvent, context?: unknown) => Promise<{ statusCode: number; body: string }>> {
  const url = `${pathToFileURL(join(dir, 'index.mjs')).href}?instance=${instance}`;
  const module = (await import(/* @vite-ignore */ url)) as { handler: never };
  return module.handler;
}

/** What a handler run in its own Node process answered, and how long its module took to load. */
export interface ChildRun {
  /** Wall time of the import. */
  importMs: number;
  /** CPU time of the import (user + system): the work of loading, whatever else runs on the machine. */
  importCpuMs: number;
  statusCode: number;
  body: Record<string, unknown>;
}

const CHILD_SCRIPT = `
const cpu = process.cpuUsage();
const started = performance.now();
const { handler } = await import('./index.mjs');
const importMs = performance.now() - started;
const used = process.cpuUsage(cpu);
const importCpuMs = (used.user + used.system) / 1000;
const response = await handler(JSON.parse(process.argv[1]), { getRemainingTimeInMillis: () => 30000 });
process.stdout.write('\\n@@RESULT ' + JSON.stringify({ importMs, importCpuMs, statusCode: response.statusCode, body: JSON.parse(response.body) }) + '\\n');
`;

/**
 * Runs the unpacked handler in a fresh `node` whose working directory is the unpacked folder and
 * whose environment is only `env` (plus PATH): no node_modules, no loader, nothing from the repo,
 * as on Lambda. Returns the answer to `event` and the cold import time.
 */
export async function runHandlerInChild(dir: string, env: Record<string, string>, event: ProxyEvent): Promise<ChildRun> {
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT, JSON.stringify(event)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) throw new Error(`the handler process printed no result: ${stdout}`);
  return JSON.parse(line.slice('@@RESULT '.length)) as ChildRun;
}
