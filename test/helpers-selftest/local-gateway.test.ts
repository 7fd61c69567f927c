import { request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as apigw from '@aws-sdk/client-api-gateway';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import yazl from 'yazl';
import { MOTO_ACCOUNT_ID, startMoto, type MotoServer } from '../helpers/moto.js';
import { startLocalGateway, type LocalGateway } from '../helpers/local-gateway.js';

// A handler that reads its environment at module load, as the real one does, and echoes what it got.
const HANDLER_SOURCE = `
const greeting = process.env.GREETING;
export const handler = async (event, context) => {
  console.log('handling ' + event.httpMethod + ' ' + event.path);
  if (event.body === 'boom') throw new Error('handler exploded');
  return {
    statusCode: 202,
    headers: { 'Content-Type': 'application/json', 'X-Greeting': greeting },
    body: JSON.stringify({ event, pid: process.pid, functionName: context.functionName,
      requestId: context.awsRequestId, remainingMs: context.getRemainingTimeInMillis() }),
  };
};`;

const region = 'us-east-1';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let moto: MotoServer;
let api: apigw.APIGatewayClient;
let lambda: LambdaClient;
let roleArn: string;
let workDir: string;
let zipPath: string;
let otherZipPath: string;
let gateway: LocalGateway | undefined;
let counter = 0;

async function zipOf(source: string): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(source), 'index.mjs', { mtime: new Date(0) });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  moto = await startMoto();
  const config = { region, endpoint: moto.endpoint, credentials };
  api = new apigw.APIGatewayClient(config);
  lambda = new LambdaClient(config);
  const role = await new IAMClient(config).send(
    new CreateRoleCommand({ RoleName: 'gateway-fn-role', AssumeRolePolicyDocument: '{}' }),
  );
  roleArn = role.Role!.Arn!;
  workDir = await mkdtemp(join(tmpdir(), 'gateway-selftest-'));
  zipPath = join(workDir, 'lambda.zip');
  otherZipPath = join(workDir, 'other.zip');
  await writeFile(zipPath, await zipOf(HANDLER_SOURCE));
  await writeFile(otherZipPath, await zipOf(`${HANDLER_SOURCE}\n// another build`));
}, 40_000);

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

afterAll(async () => {
  await moto?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

type WiringOptions = { planStage?: string; integrationArn?: (fnArn: string) => string; permissionApiId?: string };

/** The stack's webhook wiring made with plain SDK calls, one variation at a time. */
async function wire(options: WiringOptions = {}) {
  const n = (counter += 1);
  const zip = await readFile(zipPath);
  const fn = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: `gw-fn-${n}`,
      Role: roleArn,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 30,
      Code: { ZipFile: zip },
      Environment: { Variables: { GREETING: 'hello' } },
    }),
  );
  const fnArn = fn.FunctionArn!;
  const rest = await api.send(new apigw.CreateRestApiCommand({ name: `gw-api-${n}` }));
  const restApiId = rest.id!;
  const root = (await api.send(new apigw.GetResourcesCommand({ restApiId }))).items!.find((r) => r.path === '/')!;
  const resource = await api.send(new apigw.CreateResourceCommand({ restApiId, parentId: root.id!, pathPart: 'webhook' }));
  const resourceId = resource.id!;
  await api.send(new apigw.PutMethodCommand({ restApiId, resourceId, httpMethod: 'POST', authorizationType: 'NONE', apiKeyRequired: true }));
  const uri = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${options.integrationArn?.(fnArn) ?? fnArn}/invocations`;
  await api.send(new apigw.PutIntegrationCommand({ restApiId, resourceId, httpMethod: 'POST', type: 'AWS_PROXY', integrationHttpMethod: 'POST', uri }));
  await api.send(new apigw.CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
  const key = await api.send(new apigw.CreateApiKeyCommand({ name: `gw-key-${n}`, enabled: true }));
  const plan = await api.send(
    new apigw.CreateUsagePlanCommand({ name: `gw-plan-${n}`, apiStages: [{ apiId: restApiId, stage: options.planStage ?? 'prod' }] }),
  );
  await api.send(new apigw.CreateUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId: key.id!, keyType: 'API_KEY' }));
  const sourceApi = options.permissionApiId ?? restApiId;
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: fnArn,
      StatementId: 'apigateway-invoke',
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      SourceArn: `arn:aws:execute-api:${region}:${MOTO_ACCOUNT_ID}:${sourceApi}/*/POST/webhook`,
    }),
  );
  return { restApiId, fnArn, apiKey: key.value!, keyId: key.id!, usagePlanId: plan.id! };
}

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** Sends with node:http so header names keep their case on the wire (fetch lowercases them). */
function send(url: string, method: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function gatewayFor(restApiId: string, zip = zipPath): Promise<LocalGateway> {
  gateway = await startLocalGateway({ motoEndpoint: moto.endpoint, restApiId, zipPath: zip });
  return gateway;
}

const lastReason = (g: LocalGateway) => g.refusals().at(-1)?.reason ?? '';

describe('local gateway: the happy path', () => {
  it('runs the deployed handler with a REST proxy event and relays its answer', async () => {
    const { restApiId, apiKey } = await wire();
    const g = await gatewayFor(restApiId);
    const payload = JSON.stringify({ task_id: 'task-1' });
    const answer = await send(`${g.webhookUrlFor('prod', 'webhook')}?a=1`, 'POST', { 'X-Api-Key': apiKey, 'Idempotency-Key': 'task-1' }, payload);

    expect(answer.status).toBe(202);
    expect(answer.headers['x-greeting']).toBe('hello');
    const echoed = JSON.parse(answer.body);
    expect(echoed.event).toMatchObject({
      resource: '/webhook',
      path: '/webhook',
      httpMethod: 'POST',
      body: payload,
      isBase64Encoded: false,
      queryStringParameters: { a: '1' },
      requestContext: { stage: 'prod', apiId: restApiId, resourcePath: '/webhook', httpMethod: 'POST', identity: { sourceIp: '127.0.0.1' } },
    });
    expect(echoed.event.headers['Idempotency-Key']).toBe('task-1');
    expect(echoed.event.multiValueHeaders['X-Api-Key']).toEqual([apiKey]);
    expect(echoed.functionName).toMatch(/^gw-fn-/);
    expect(echoed.remainingMs).toBeGreaterThan(25_000);
    expect(g.logs()).toContain('handling POST /webhook');
  });

  it('keeps the handler warm, restarts it on a configuration change, and re-reads the wiring each request', async () => {
    const { restApiId, apiKey, fnArn, keyId, usagePlanId } = await wire();
    const g = await gatewayFor(restApiId);
    const post = () => send(g.webhookUrlFor('prod', '/webhook'), 'POST', { 'x-api-key': apiKey }, '{}');
    const first = JSON.parse((await post()).body);
    const second = JSON.parse((await post()).body);
    expect(second.pid).toBe(first.pid);

    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fnArn, Environment: { Variables: { GREETING: 'bonjour' } } }));
    const third = await post();
    expect(third.headers['x-greeting']).toBe('bonjour');
    expect(JSON.parse(third.body).pid).not.toBe(first.pid);

    await api.send(new apigw.DeleteUsagePlanKeyCommand({ usagePlanId, keyId }));
    expect((await post()).status).toBe(403);
  });

  it('answers 502 when the handler throws, and the error is in its log', async () => {
    const { restApiId, apiKey } = await wire();
    const g = await gatewayFor(restApiId);
    const answer = await send(g.webhookUrlFor('prod', 'webhook'), 'POST', { 'x-api-key': apiKey }, 'boom');
    expect(answer.status).toBe(502);
    expect(g.logs().join('\n')).toContain('handler exploded');
  });
});

describe('local gateway: refusals as API Gateway answers them', () => {
  it.each([
    ['no x-api-key header', {}, /no x-api-key/],
    ['a wrong x-api-key', { 'X-API-KEY': 'not-the-key' }, /matches no enabled API key/],
  ])('refuses %s with 403 Forbidden', async (_name, headers, reason) => {
    const { restApiId } = await wire();
    const g = await gatewayFor(restApiId);
    const answer = await send(g.webhookUrlFor('prod', 'webhook'), 'POST', headers as Record<string, string>, '{}');
    expect([answer.status, JSON.parse(answer.body)]).toEqual([403, { message: 'Forbidden' }]);
    expect(lastReason(g)).toMatch(reason);
  });

  it('refuses a key whose usage plan is for another stage', async () => {
    const { restApiId, apiKey } = await wire({ planStage: 'dev' });
    const g = await gatewayFor(restApiId);
    const answer = await send(g.webhookUrlFor('prod', 'webhook'), 'POST', { 'x-api-key': apiKey }, '{}');
    expect([answer.status, JSON.parse(answer.body)]).toEqual([403, { message: 'Forbidden' }]);
    expect(lastReason(g)).toMatch(/no usage plan/);
  });

  it('refuses an unknown stage with 403 Forbidden, and an unknown method or path with Missing Authentication Token', async () => {
    const { restApiId, apiKey } = await wire();
    const g = await gatewayFor(restApiId);
    const stage = await send(g.webhookUrlFor('staging', 'webhook'), 'POST', { 'x-api-key': apiKey }, '{}');
    const method = await send(g.webhookUrlFor('prod', 'webhook'), 'GET', { 'x-api-key': apiKey });
    const path = await send(g.webhookUrlFor('prod', 'trigger'), 'POST', { 'x-api-key': apiKey }, '{}');
    expect([stage.status, JSON.parse(stage.body)]).toEqual([403, { message: 'Forbidden' }]);
    expect([method.status, JSON.parse(method.body)]).toEqual([403, { message: 'Missing Authentication Token' }]);
    expect([path.status, JSON.parse(path.body)]).toEqual([403, { message: 'Missing Authentication Token' }]);
    expect(g.refusals().map((r) => r.reason)).toEqual([
      expect.stringMatching(/stage "staging"/),
      expect.stringMatching(/no GET method/),
      expect.stringMatching(/no resource \/trigger/),
    ]);
  });

  it.each([
    ['the integration names another function', { integrationArn: (arn: string) => `${arn}-gone` }, /does not exist/],
    ['the permission names another API id', { permissionApiId: 'oldapi1234' }, /Invalid permissions on Lambda function/],
  ])('answers 500 when %s', async (_name, options: WiringOptions, reason) => {
    const { restApiId, apiKey } = await wire(options);
    const g = await gatewayFor(restApiId);
    const answer = await send(g.webhookUrlFor('prod', 'webhook'), 'POST', { 'x-api-key': apiKey }, '{}');
    expect([answer.status, JSON.parse(answer.body)]).toEqual([500, { message: 'Internal server error' }]);
    expect(lastReason(g)).toMatch(reason);
    expect(g.logs()).toEqual([]);
  });

  it('answers 500 when the deployed code is not the package under test', async () => {
    const { restApiId, apiKey } = await wire();
    const g = await gatewayFor(restApiId, otherZipPath);
    const answer = await send(g.webhookUrlFor('prod', 'webhook'), 'POST', { 'x-api-key': apiKey }, '{}');
    expect(answer.status).toBe(500);
    expect(lastReason(g)).toMatch(/deployed code differs from the package/);
  });
});
