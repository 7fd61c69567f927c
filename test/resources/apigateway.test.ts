import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GetApiKeyCommand,
  GetDeploymentsCommand,
  GetIntegrationCommand,
  GetMethodCommand,
  GetResourcesCommand,
  GetRestApiCommand,
  GetStageCommand,
  GetUsagePlanCommand,
  GetUsagePlanKeysCommand,
} from '@aws-sdk/client-api-gateway';
import { GetPolicyCommand } from '@aws-sdk/client-lambda';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { motoResourceContext } from '../helpers/resource-context.js';
import type { Created, ResourceContext } from '../../src/resources/contract.js';
import { iamRole } from '../../src/resources/iam-role.js';
import { lambdaFunction } from '../../src/resources/lambda-function.js';
import { lambdaPermission, type LambdaPermissionProps } from '../../src/resources/lambda-permission.js';
import { restApi, type RestApiProps } from '../../src/resources/rest-api.js';
import { apiRoute, type ApiRouteProps } from '../../src/resources/api-route.js';
import { apiDeployment, type ApiDeploymentProps } from '../../src/resources/api-deployment.js';
import { apiStage, type ApiStageProps } from '../../src/resources/api-stage.js';
import { apiKey, readApiKeyValue, type ApiKeyProps } from '../../src/resources/api-key.js';
import { usagePlan, type UsagePlanProps } from '../../src/resources/usage-plan.js';

let moto: MotoServer;
let ctx: ResourceContext & { waits: string[] };
let dir: string;
let invokeArn: string;
let functionName: string;

beforeAll(async () => {
  moto = await startMoto();
  ctx = await motoResourceContext(moto);
  dir = await mkdtemp(join(tmpdir(), 'apigw-test-'));
  // The webhook function the route proxies to (the permission needs it to exist).
  const role = await iamRole.create(ctx, {
    name: 'scalr-serverless-test-webhook',
    description: '',
    assumeRoleService: 'lambda.amazonaws.com',
    managedPolicyArns: [],
    inlinePolicy: null,
  });
  const zipPath = join(dir, 'fn.zip');
  const bytes = Buffer.from('PK not really a zip, moto does not care');
  await writeFile(zipPath, bytes);
  const fn = await lambdaFunction.create(ctx, {
    name: 'scalr-serverless-test-webhook',
    roleArn: role.outputs.arn as string,
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    timeout: 30,
    memorySize: 128,
    environment: {},
    zipPath,
    codeSha256: createHash('sha256').update(bytes).digest('base64'),
    logGroupName: '/aws/lambda/scalr-serverless-test-webhook',
  });
  invokeArn = fn.outputs.invokeArn as string;
  functionName = fn.id;
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const gw = () => ctx.clients.apigateway;

describe('apigateway.rest-api against moto', () => {
  it('creates a regional API, finds it by name, updates it, and deletes idempotently', async () => {
    const props: RestApiProps = { name: 'scalr-serverless-test-lifecycle', description: 'v1' };

    const created = await restApi.create(ctx, props);

    const api = await gw().send(new GetRestApiCommand({ restApiId: created.id }));
    expect(api.endpointConfiguration?.types).toEqual(['REGIONAL']);
    expect(created.outputs).toEqual({ id: api.id, rootResourceId: api.rootResourceId, name: props.name });
    expect(api.rootResourceId).toBeTruthy();
    expect(await restApi.read(ctx, created.id, props)).toEqual({
      outputs: created.outputs,
      props: { name: props.name, description: 'v1' },
    });
    expect((await restApi.find(ctx, props))?.id).toBe(created.id);
    expect(await restApi.find(ctx, { ...props, name: 'scalr-serverless-test' })).toBeUndefined();

    await restApi.update!(ctx, created.id, { ...props, description: 'v2' }, props);
    expect((await gw().send(new GetRestApiCommand({ restApiId: created.id }))).description).toBe('v2');

    await restApi.delete(ctx, created.id, props);
    expect(await restApi.read(ctx, created.id, props)).toBeUndefined();
    await expect(restApi.delete(ctx, created.id, props)).resolves.toBeUndefined();
  });
});

describe('a whole webhook API against moto', () => {
  // Built by the first test, converged by the second, torn down by the third.
  const made: Record<string, Created> = {};
  const p: {
    api: RestApiProps;
    route: ApiRouteProps;
    deployment: ApiDeploymentProps;
    stage: ApiStageProps;
    key: ApiKeyProps;
    plan: UsagePlanProps;
    permission: LambdaPermissionProps;
  } = {} as never;

  it('wires rest api, route, deployment, stage, key, usage plan and permission as API Gateway reads them', async () => {
    // given / when: each resource created from the outputs of those it references
    p.api = { name: 'scalr-serverless-test', description: 'Scalr agent webhook' };
    made.api = await restApi.create(ctx, p.api);
    const apiId = made.api.id;
    p.route = {
      restApiId: apiId,
      parentId: made.api.outputs.rootResourceId as string,
      pathPart: 'trigger',
      httpMethod: 'POST',
      apiKeyRequired: true,
      integrationUri: invokeArn,
    };
    made.route = await apiRoute.create(ctx, p.route);
    p.deployment = { restApiId: apiId, description: 'scalr-serverless', trigger: made.route.outputs.integrationUri as string };
    made.deployment = await apiDeployment.create(ctx, p.deployment);
    p.stage = { restApiId: apiId, stageName: 'prod', deploymentId: made.deployment.id };
    made.stage = await apiStage.create(ctx, p.stage);
    p.key = { name: 'scalr-serverless-test', description: 'sent by Scalr as X-Api-Key' };
    made.key = await apiKey.create(ctx, p.key);
    p.plan = {
      name: 'scalr-serverless-test',
      apiStages: [{ apiId, stage: made.stage.outputs.stageName as string }],
      apiKeyIds: [made.key.id],
      throttle: { burstLimit: 10, rateLimit: 5 },
      quota: { limit: 1000, period: 'DAY' },
    };
    made.plan = await usagePlan.create(ctx, p.plan);
    p.permission = {
      functionName,
      statementId: 'apigateway-trigger',
      restApiId: apiId,
      stage: 'prod',
      httpMethod: 'POST',
      path: 'trigger',
    };
    made.permission = await lambdaPermission.create(ctx, p.permission);

    // then: POST /trigger requires a key and proxies to the function
    const resources = await gw().send(new GetResourcesCommand({ restApiId: apiId }));
    expect(resources.items?.find((r) => r.id === made.route.id)?.path).toBe('/trigger');
    expect(made.route.outputs).toEqual({ id: made.route.id, path: '/trigger', integrationUri: invokeArn });
    const ids = { restApiId: apiId, resourceId: made.route.id, httpMethod: 'POST' };
    const method = await gw().send(new GetMethodCommand(ids));
    expect(method).toMatchObject({ apiKeyRequired: true, authorizationType: 'NONE' });
    const integration = await gw().send(new GetIntegrationCommand(ids));
    expect(integration).toMatchObject({ type: 'AWS_PROXY', httpMethod: 'POST', uri: invokeArn });

    // the stage serves the deployment, at the URL Scalr will call, and carries the stack's tags
    const stage = await gw().send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }));
    expect(stage.deploymentId).toBe(made.deployment.id);
    expect(made.stage.outputs.invokeUrl).toBe(`https://${apiId}.execute-api.us-east-1.amazonaws.com/prod`);
    // (moto 5.2.1 has no GetTags; the Get calls carry the tags given at creation)
    expect(stage.tags).toMatchObject(ctx.tags);
    expect((await gw().send(new GetRestApiCommand({ restApiId: apiId }))).tags).toMatchObject(ctx.tags);

    // the key is enabled, in a plan that covers the stage (else API Gateway answers 403)
    const key = await gw().send(new GetApiKeyCommand({ apiKey: made.key.id }));
    expect(key.enabled).toBe(true);
    expect(key.tags).toMatchObject(ctx.tags);
    const plan = await gw().send(new GetUsagePlanCommand({ usagePlanId: made.plan.id }));
    expect(plan.apiStages).toContainEqual(expect.objectContaining({ apiId, stage: 'prod' }));
    expect(plan).toMatchObject({ throttle: { burstLimit: 10, rateLimit: 5 }, quota: { limit: 1000, period: 'DAY' } });
    const planKeys = await gw().send(new GetUsagePlanKeysCommand({ usagePlanId: made.plan.id }));
    expect(planKeys.items?.map((k) => k.id)).toEqual([made.key.id]);

    // the key's value reaches the CLI but never the outputs (they go to the state file)
    const value = await readApiKeyValue(ctx.clients, made.key.id);
    expect(value.length).toBeGreaterThanOrEqual(20);
    expect(JSON.stringify(made)).not.toContain(value);

    // the function lets this API's stage and route invoke it
    const policy = JSON.parse(
      (await ctx.clients.lambda.send(new GetPolicyCommand({ FunctionName: functionName }))).Policy ?? '{}',
    );
    expect(policy.Statement[0].Condition.ArnLike['AWS:SourceArn']).toBe(
      `arn:aws:execute-api:us-east-1:123456789012:${apiId}/prod/POST/trigger`,
    );
  });

  it('reads, finds and converges every kind', async () => {
    const apiId = made.api.id;
    // read observes what was asked for
    expect((await apiRoute.read(ctx, made.route.id, p.route))?.props).toMatchObject({
      apiKeyRequired: true,
      integrationUri: invokeArn,
    });
    expect(await apiDeployment.read(ctx, made.deployment.id, p.deployment)).toEqual({ outputs: { id: made.deployment.id } });
    expect((await apiStage.read(ctx, made.stage.id, p.stage))?.props).toEqual({ deploymentId: made.deployment.id });
    expect((await apiKey.read(ctx, made.key.id, p.key))?.outputs).toEqual({ id: made.key.id, name: p.key.name });
    expect((await usagePlan.read(ctx, made.plan.id, p.plan))?.props).toEqual({
      name: p.plan.name,
      apiStages: p.plan.apiStages,
      apiKeyIds: p.plan.apiKeyIds,
      throttle: p.plan.throttle,
      quota: p.plan.quota,
    });

    // find adopts each by its deterministic name or path
    expect((await apiRoute.find(ctx, p.route))?.id).toBe(made.route.id);
    expect((await apiDeployment.find(ctx, p.deployment))?.id).toBe(made.deployment.id);
    expect(await apiDeployment.find(ctx, { ...p.deployment, trigger: 'something else' })).toBeUndefined();
    expect((await apiStage.find(ctx, p.stage))?.id).toBe(made.stage.id);
    expect((await apiKey.find(ctx, p.key))?.id).toBe(made.key.id);
    expect(await apiKey.find(ctx, { ...p.key, name: 'scalr-serverless' })).toBeUndefined();
    expect((await usagePlan.find(ctx, p.plan))?.id).toBe(made.plan.id);

    // route: the method loses its key requirement and points at another function
    const otherUri = invokeArn.replace('scalr-serverless-test-webhook', 'other-fn');
    const route2 = { ...p.route, apiKeyRequired: false, integrationUri: otherUri };
    await apiRoute.update!(ctx, made.route.id, route2, p.route);
    const ids = { restApiId: apiId, resourceId: made.route.id, httpMethod: 'POST' };
    expect((await gw().send(new GetMethodCommand(ids))).apiKeyRequired).toBe(false);
    expect((await gw().send(new GetIntegrationCommand(ids))).uri).toBe(otherUri);
    await apiRoute.update!(ctx, made.route.id, p.route, route2);
    expect((await gw().send(new GetMethodCommand(ids))).apiKeyRequired).toBe(true);
    expect((await gw().send(new GetIntegrationCommand(ids))).uri).toBe(invokeArn);

    // deployment: adopting the one found (update with unchanged props) keeps it
    expect((await apiDeployment.update!(ctx, made.deployment.id, p.deployment, p.deployment)).id).toBe(made.deployment.id);
    expect((await gw().send(new GetDeploymentsCommand({ restApiId: apiId }))).items).toHaveLength(1);

    // deployment: a new trigger makes a new deployment; the old one stays for the stage
    const deployment2 = { ...p.deployment, trigger: 'v2' };
    const redeployed = await apiDeployment.update!(ctx, made.deployment.id, deployment2, p.deployment);
    expect(redeployed.id).not.toBe(made.deployment.id);
    const deployments = await gw().send(new GetDeploymentsCommand({ restApiId: apiId }));
    expect(deployments.items?.map((d) => d.id).sort()).toEqual([made.deployment.id, redeployed.id].sort());

    // stage: moves to the new deployment
    const stage2 = { ...p.stage, deploymentId: redeployed.id };
    await apiStage.update!(ctx, made.stage.id, stage2, p.stage);
    expect((await gw().send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }))).deploymentId).toBe(redeployed.id);

    // the old deployment is no longer served, so it can go
    await apiDeployment.delete(ctx, made.deployment.id, p.deployment);
    expect(await apiDeployment.read(ctx, made.deployment.id, p.deployment)).toBeUndefined();
    await expect(apiDeployment.delete(ctx, made.deployment.id, p.deployment)).resolves.toBeUndefined();
    made.deployment = redeployed;
    p.deployment = deployment2;
    p.stage = stage2;

    // key: new description
    await apiKey.update!(ctx, made.key.id, { ...p.key, description: 'rotated' }, p.key);
    expect((await gw().send(new GetApiKeyCommand({ apiKey: made.key.id }))).description).toBe('rotated');

    // usage plan: new limits, a second key, then the first key dropped
    const key2 = await apiKey.create(ctx, { name: 'scalr-serverless-test-2', description: '' });
    const plan2 = { ...p.plan, apiKeyIds: [key2.id], throttle: { burstLimit: 20, rateLimit: 8 }, quota: { limit: 500, period: 'WEEK' } };
    await usagePlan.update!(ctx, made.plan.id, plan2, p.plan);
    const plan = await gw().send(new GetUsagePlanCommand({ usagePlanId: made.plan.id }));
    expect(Number(plan.throttle?.burstLimit)).toBe(20);
    expect(Number(plan.throttle?.rateLimit)).toBe(8);
    expect(Number(plan.quota?.limit)).toBe(500);
    expect(plan.quota?.period).toBe('WEEK');
    const keys = await gw().send(new GetUsagePlanKeysCommand({ usagePlanId: made.plan.id }));
    expect(keys.items?.map((k) => k.id)).toEqual([key2.id]);
    expect((await usagePlan.read(ctx, made.plan.id, plan2))?.props).toMatchObject({
      apiKeyIds: [key2.id],
      throttle: plan2.throttle,
      quota: plan2.quota,
    });
    await apiKey.delete(ctx, key2.id, p.key);
    p.plan = plan2;
  });

  it('tears everything down in reverse order, and a second teardown succeeds', async () => {
    const teardown = async () => {
      await lambdaPermission.delete(ctx, made.permission.id, p.permission);
      await usagePlan.delete(ctx, made.plan.id, p.plan);
      await apiKey.delete(ctx, made.key.id, p.key);
      await apiStage.delete(ctx, made.stage.id, p.stage);
      await apiDeployment.delete(ctx, made.deployment.id, p.deployment);
      await apiRoute.delete(ctx, made.route.id, p.route);
      await restApi.delete(ctx, made.api.id, p.api);
    };

    await teardown();

    expect(await lambdaPermission.read(ctx, made.permission.id, p.permission)).toBeUndefined();
    expect(await usagePlan.read(ctx, made.plan.id, p.plan)).toBeUndefined();
    expect(await apiKey.read(ctx, made.key.id, p.key)).toBeUndefined();
    expect(await restApi.read(ctx, made.api.id, p.api)).toBeUndefined();
    await expect(gw().send(new GetRestApiCommand({ restApiId: made.api.id }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
    await expect(teardown()).resolves.toBeUndefined();
  });

  it('deletes a stage and route of a live API, each idempotently', async () => {
    // given
    const api = await restApi.create(ctx, { name: 'scalr-serverless-test-parts', description: '' });
    const route: ApiRouteProps = {
      restApiId: api.id,
      parentId: api.outputs.rootResourceId as string,
      pathPart: 'trigger',
      httpMethod: 'POST',
      apiKeyRequired: true,
      integrationUri: invokeArn,
    };
    const madeRoute = await apiRoute.create(ctx, route);
    const deployment = await apiDeployment.create(ctx, { restApiId: api.id, description: 'x', trigger: 't' });
    const stageProps = { restApiId: api.id, stageName: 'prod', deploymentId: deployment.id };
    const stage = await apiStage.create(ctx, stageProps);

    // when / then
    await apiStage.delete(ctx, stage.id, stageProps);
    expect(await apiStage.read(ctx, stage.id, stageProps)).toBeUndefined();
    await expect(apiStage.delete(ctx, stage.id, stageProps)).resolves.toBeUndefined();
    await apiRoute.delete(ctx, madeRoute.id, route);
    expect(await apiRoute.read(ctx, madeRoute.id, route)).toBeUndefined();
    await expect(apiRoute.delete(ctx, madeRoute.id, route)).resolves.toBeUndefined();
    await restApi.delete(ctx, api.id, { name: '', description: '' });
  });
});
