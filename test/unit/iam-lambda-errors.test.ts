import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  LambdaClient,
  ResourceConflictException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import type { AwsClients } from '../../src/aws/clients.js';
import type { ResourceContext } from '../../src/resources/contract.js';
import { lambdaFunction, type LambdaFunctionProps } from '../../src/resources/lambda-function.js';

// Every bounded retry runs 1000 times faster, so a 120 s timeout takes 120 ms.
process.env.SCALR_SERVERLESS_RETRY_SCALE = '0.001';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/scalr-serverless-prod-webhook';
const ROLE_NOT_ASSUMABLE = 'The role defined for the function cannot be assumed by Lambda.';

const lambda = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const mock = mockClient(lambda);
let dir: string;
let props: LambdaFunctionProps;
let waits: string[];
let ctx: ResourceContext;

function deployed(overrides: Partial<FunctionConfiguration> = {}): FunctionConfiguration {
  return {
    FunctionName: props.name,
    FunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${props.name}`,
    Role: props.roleArn,
    Runtime: 'nodejs22.x',
    Handler: props.handler,
    Timeout: props.timeout,
    MemorySize: props.memorySize,
    Environment: { Variables: props.environment },
    CodeSha256: props.codeSha256,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    ...overrides,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambda-unit-'));
  const bytes = Buffer.from('PK fake zip bytes');
  const zipPath = join(dir, 'webhook.zip');
  await writeFile(zipPath, bytes);
  props = {
    name: 'scalr-serverless-prod-webhook',
    roleArn: ROLE_ARN,
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    timeout: 30,
    memorySize: 128,
    environment: {},
    zipPath,
    codeSha256: createHash('sha256').update(bytes).digest('base64'),
    logGroupName: '/aws/lambda/scalr-serverless-prod-webhook',
  };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  mock.reset();
  waits = [];
  ctx = {
    clients: { lambda } as unknown as AwsClients,
    stack: 'prod',
    region: 'us-east-1',
    accountId: '123456789012',
    tags: { 'scalr-serverless:stack': 'prod' },
    waiting: (message) => waits.push(message),
  };
});

describe('lambda.function error paths', () => {
  it('retries CreateFunction while the new role propagates, and says it is waiting', async () => {
    // given: IAM has not propagated the role for the first two attempts
    mock
      .on(CreateFunctionCommand)
      .rejectsOnce(new InvalidParameterValueException({ message: ROLE_NOT_ASSUMABLE, $metadata: {} }))
      .rejectsOnce(new InvalidParameterValueException({ message: ROLE_NOT_ASSUMABLE, $metadata: {} }))
      .resolves(deployed());
    mock.on(GetFunctionConfigurationCommand).resolves(deployed());

    // when
    const created = await lambdaFunction.create(ctx, props);

    // then
    expect(created.id).toBe(props.name);
    expect(mock.commandCalls(CreateFunctionCommand)).toHaveLength(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toMatch(/waiting for IAM role scalr-serverless-prod-webhook to propagate/);
    // and the function was created with the zip's bytes and the stack's tags
    const input = mock.commandCalls(CreateFunctionCommand)[2].args[0].input;
    expect(Buffer.from(input.Code?.ZipFile ?? []).toString()).toBe('PK fake zip bytes');
    expect(input.Tags).toEqual({ 'scalr-serverless:stack': 'prod' });
    // Lambda's default log group needs no LoggingConfig
    expect(input.LoggingConfig).toBeUndefined();
  });

  it('points the function at a log group other than the default one', async () => {
    // CreateFunction answers with the configuration it made, LoggingConfig included, as Lambda does.
    mock.on(CreateFunctionCommand).resolves(deployed({ LoggingConfig: { LogGroup: '/scalr/webhook' } }));
    mock.on(GetFunctionConfigurationCommand).resolves(deployed({ LoggingConfig: { LogGroup: '/scalr/webhook' } }));

    await lambdaFunction.create(ctx, { ...props, logGroupName: '/scalr/webhook' });

    const input = mock.commandCalls(CreateFunctionCommand)[0].args[0].input;
    expect(input.LoggingConfig).toEqual({ LogGroup: '/scalr/webhook', LogFormat: 'Text' });
    expect(mock.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
  });

  it('does not retry an InvalidParameterValueException that is not about the role', async () => {
    mock
      .on(CreateFunctionCommand)
      .rejects(new InvalidParameterValueException({ message: 'Unzipped size must be smaller than 262144000 bytes', $metadata: {} }));

    await expect(lambdaFunction.create(ctx, props)).rejects.toThrow(/Unzipped size/);
    expect(mock.commandCalls(CreateFunctionCommand)).toHaveLength(1);
  });

  it('gives up after the bounded propagation timeout with the last error', async () => {
    // given: the role never becomes assumable
    let attempts = 0;
    mock.on(CreateFunctionCommand).callsFake(() => {
      attempts += 1;
      throw new InvalidParameterValueException({ message: `${ROLE_NOT_ASSUMABLE} (attempt ${attempts})`, $metadata: {} });
    });

    // when
    const started = Date.now();
    const failure = await lambdaFunction.create(ctx, props).catch((error: unknown) => error);

    // then: the error of the last attempt, after several attempts, within the scaled timeout
    expect(attempts).toBeGreaterThan(2);
    expect(failure).toBeInstanceOf(InvalidParameterValueException);
    expect((failure as Error).message).toContain(`(attempt ${attempts})`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(mock.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(0);
  });

  it('waits for an in-progress update and retries UpdateFunctionConfiguration on ResourceConflictException', async () => {
    // given: the code update is still InProgress on the first look, and Lambda refuses one config write
    mock.on(GetFunctionConfigurationCommand)
      .resolvesOnce(deployed({ LastUpdateStatus: 'InProgress' }))
      .resolves(deployed());
    mock.on(GetFunctionCommand).resolves({ Configuration: deployed() });
    mock
      .on(UpdateFunctionConfigurationCommand)
      .rejectsOnce(
        new ResourceConflictException({
          message: `The operation cannot be performed at this time. An update is in progress for resource: ${props.name}`,
          $metadata: {},
        }),
      )
      .resolves(deployed({ Timeout: 60 }));

    // when
    await lambdaFunction.update!(ctx, props.name, { ...props, timeout: 60 }, props);

    // then
    const updates = mock.commandCalls(UpdateFunctionConfigurationCommand);
    expect(updates).toHaveLength(2);
    expect(updates[1].args[0].input.Timeout).toBe(60);
    expect(mock.commandCalls(UpdateFunctionCodeCommand)).toHaveLength(0);
    expect(waits.some((message) => /to become ready/.test(message))).toBe(true);
    expect(waits.some((message) => /update of Lambda function .* to finish/.test(message))).toBe(true);
  });

  it('reports a function whose update failed instead of waiting forever', async () => {
    mock.on(GetFunctionConfigurationCommand).resolves(
      deployed({ LastUpdateStatus: 'Failed', LastUpdateStatusReason: 'KMS key is disabled' }),
    );

    await expect(lambdaFunction.update!(ctx, props.name, props, props)).rejects.toThrow(/KMS key is disabled/);
  });
});
