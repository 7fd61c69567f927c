import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { GetFunctionCommand, GetPolicyCommand, ListTagsCommand } from '@aws-sdk/client-lambda';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { motoResourceContext } from '../helpers/resource-context.js';
import { commandsDuring } from '../helpers/commands-during.js';
import { iamRole } from '../../src/resources/iam-role.js';
import { lambdaFunction, type LambdaFunctionProps } from '../../src/resources/lambda-function.js';
import { lambdaPermission, type LambdaPermissionProps } from '../../src/resources/lambda-permission.js';
import type { ResourceContext } from '../../src/resources/contract.js';

let moto: MotoServer;
let ctx: ResourceContext & { waits: string[] };
let dir: string;
let roleArn: string;

/** A zip holding one handler file, built the way the CLI packages the webhook. */
async function buildZip(path: string, source: string): Promise<string> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(source), 'index.mjs', { mtime: new Date(0) });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  await writeFile(path, bytes);
  return createHash('sha256').update(bytes).digest('base64');
}

beforeAll(async () => {
  moto = await startMoto();
  ctx = await motoResourceContext(moto);
  dir = await mkdtemp(join(tmpdir(), 'lambda-test-'));
  const role = await iamRole.create(ctx, {
    name: 'scalr-serverless-test-webhook',
    description: '',
    assumeRoleService: 'lambda.amazonaws.com',
    managedPolicyArns: [],
    inlinePolicy: null,
  });
  roleArn = role.outputs.arn as string;
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function functionProps(name: string): Promise<LambdaFunctionProps> {
  const zipPath = join(dir, `${name}-v1.zip`);
  const codeSha256 = await buildZip(zipPath, 'export const handler = async () => ({ statusCode: 200 });\n');
  return {
    name,
    roleArn,
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    timeout: 30,
    memorySize: 128,
    environment: { CLUSTER: 'scalr-agents' },
    zipPath,
    codeSha256,
    logGroupName: `/aws/lambda/${name}`,
  };
}

describe('lambda.function against moto', () => {
  it('deploys the zip, updates only what changed, and deletes idempotently', async () => {
    // given
    const props = await functionProps('scalr-serverless-test-fn');

    // when
    const created = await lambdaFunction.create(ctx, props);

    // then: Lambda holds exactly these bytes and this configuration
    const deployed = (await ctx.clients.lambda.send(new GetFunctionCommand({ FunctionName: props.name }))).Configuration;
    expect(deployed?.CodeSha256).toBe(props.codeSha256);
    expect(deployed).toMatchObject({ Runtime: 'nodejs22.x', Timeout: 30, MemorySize: 128, Role: roleArn });
    const tags = await ctx.clients.lambda.send(new ListTagsCommand({ Resource: deployed?.FunctionArn }));
    expect(tags.Tags).toMatchObject({ 'scalr-serverless:stack': 'test' });
    expect(created.outputs).toEqual({
      id: props.name,
      name: props.name,
      arn: deployed?.FunctionArn,
      invokeArn: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${deployed?.FunctionArn}/invocations`,
    });

    const observed = await lambdaFunction.read(ctx, created.id, props);
    expect(observed?.outputs).toEqual(created.outputs);
    expect(observed?.props).toEqual({
      codeSha256: props.codeSha256,
      roleArn,
      runtime: props.runtime,
      handler: props.handler,
      timeout: 30,
      memorySize: 128,
      environment: { CLUSTER: 'scalr-agents' },
    });
    expect((await lambdaFunction.find(ctx, props))?.id).toBe(created.id);

    // a no-op update makes no write call
    const noop = await commandsDuring(ctx.clients.lambda, () => lambdaFunction.update!(ctx, created.id, props, props));
    expect(noop.filter((name) => !name.startsWith('Get'))).toEqual([]);

    // when: only the configuration changes
    const longer = { ...props, timeout: 60, environment: { CLUSTER: 'other' } };
    const configOnly = await commandsDuring(ctx.clients.lambda, () =>
      lambdaFunction.update!(ctx, created.id, longer, props),
    );
    expect(configOnly.filter((name) => !name.startsWith('Get'))).toEqual(['UpdateFunctionConfigurationCommand']);

    // when: only the code changes
    const zipPath = join(dir, 'v2.zip');
    const codeSha256 = await buildZip(zipPath, 'export const handler = async () => ({ statusCode: 202 });\n');
    const newCode = { ...longer, zipPath, codeSha256 };
    const codeOnly = await commandsDuring(ctx.clients.lambda, () =>
      lambdaFunction.update!(ctx, created.id, newCode, longer),
    );
    expect(codeOnly.filter((name) => !name.startsWith('Get'))).toEqual(['UpdateFunctionCodeCommand']);

    // then
    const after = (await ctx.clients.lambda.send(new GetFunctionCommand({ FunctionName: props.name }))).Configuration;
    expect(after?.CodeSha256).toBe(codeSha256);
    expect(after?.CodeSha256).not.toBe(props.codeSha256);
    expect(after?.Timeout).toBe(60);
    expect(after?.Environment?.Variables).toEqual({ CLUSTER: 'other' });

    // when: deleted, then deleted again
    await lambdaFunction.delete(ctx, created.id, newCode);
    expect(await lambdaFunction.read(ctx, created.id, newCode)).toBeUndefined();
    expect(await lambdaFunction.find(ctx, newCode)).toBeUndefined();
    await expect(lambdaFunction.delete(ctx, created.id, newCode)).resolves.toBeUndefined();
  });

  it('refuses a zip that no longer matches the planned codeSha256', async () => {
    const props = await functionProps('scalr-serverless-test-stale');
    await buildZip(props.zipPath, 'export const handler = async () => ({ statusCode: 500 });\n');

    await expect(lambdaFunction.create(ctx, props)).rejects.toMatchObject({ code: 'LAMBDA_ZIP_CHANGED' });
    expect(await lambdaFunction.find(ctx, props)).toBeUndefined();
  });
});

describe('lambda.permission against moto', () => {
  it('grants API Gateway, shows an old api id as drift, replaces the statement and deletes idempotently', async () => {
    // given
    const fn = await lambdaFunction.create(ctx, await functionProps('scalr-serverless-test-perm'));
    const props: LambdaPermissionProps = {
      functionName: fn.id,
      statementId: 'apigateway-trigger',
      restApiId: 'oldapi1234',
      stage: 'prod',
      httpMethod: 'POST',
      path: 'trigger',
    };
    const statements = async () =>
      JSON.parse((await ctx.clients.lambda.send(new GetPolicyCommand({ FunctionName: fn.id }))).Policy ?? '{}')
        .Statement as Array<{ Sid: string; Principal: unknown; Action: string; Condition: unknown }>;

    // when
    const created = await lambdaPermission.create(ctx, props);

    // then
    const sourceArn = 'arn:aws:execute-api:us-east-1:123456789012:oldapi1234/prod/POST/trigger';
    expect(created).toEqual({ id: `${fn.id}/apigateway-trigger`, outputs: { id: created.id, sourceArn } });
    expect(await statements()).toEqual([
      expect.objectContaining({
        Sid: 'apigateway-trigger',
        Principal: { Service: 'apigateway.amazonaws.com' },
        Action: 'lambda:InvokeFunction',
        Condition: { ArnLike: { 'AWS:SourceArn': sourceArn } },
      }),
    ]);
    const observed = await lambdaPermission.read(ctx, created.id, props);
    expect(observed?.props).toEqual({ restApiId: 'oldapi1234', stage: 'prod', httpMethod: 'POST', path: 'trigger' });
    expect((await lambdaPermission.find(ctx, props))?.id).toBe(created.id);

    // when: the API was replaced; the recorded permission names the old id, read shows it
    const current = { ...props, restApiId: 'newapi5678' };
    expect((await lambdaPermission.read(ctx, created.id, current))?.props?.restApiId).toBe('oldapi1234');
    await lambdaPermission.update!(ctx, created.id, current, props);

    // then: one statement, for the new API
    const after = await statements();
    expect(after).toHaveLength(1);
    expect(after[0].Condition).toEqual({
      ArnLike: { 'AWS:SourceArn': 'arn:aws:execute-api:us-east-1:123456789012:newapi5678/prod/POST/trigger' },
    });

    // when: a re-run creates it again (state lost): still one statement, and nothing written
    const rerun = await commandsDuring(ctx.clients.lambda, () => lambdaPermission.create(ctx, current));
    expect(rerun.filter((name) => !name.startsWith('Get'))).toEqual([]);
    expect(await statements()).toHaveLength(1);

    // when: deleted, deleted again, and deleted after the function is gone
    await lambdaPermission.delete(ctx, created.id, current);
    expect(await lambdaPermission.read(ctx, created.id, current)).toBeUndefined();
    await expect(lambdaPermission.delete(ctx, created.id, current)).resolves.toBeUndefined();
    await lambdaFunction.delete(ctx, fn.id, await functionProps('scalr-serverless-test-perm'));
    expect(await lambdaPermission.read(ctx, created.id, current)).toBeUndefined();
    await expect(lambdaPermission.delete(ctx, created.id, current)).resolves.toBeUndefined();
  });
});
