import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { ScalrServerlessError } from '../errors.js';
import { retryWhile, waitFor } from '../aws/retry.js';
import type { Created, Props, ResourceContext, ResourceKind } from './contract.js';
import { hasErrorName, ignoreNotFound, sameJson, unlessNotFound } from './aws-helpers.js';

/** How long a new IAM role may take to become assumable by Lambda (FACTS §5); IAM is eventually consistent. */
export const ROLE_PROPAGATION_TIMEOUT_MS = 120_000;
/** How long to wait for a function to leave Pending or an update to leave InProgress. */
export const FUNCTION_READY_TIMEOUT_MS = 300_000;
/** How long to keep retrying a write rejected because another update is still InProgress. */
export const UPDATE_CONFLICT_TIMEOUT_MS = 300_000;

/** Props of the webhook Lambda function, deployed from a zip file on disk. */
export interface LambdaFunctionProps extends Props {
  name: string;
  roleArn: string;
  runtime: string;
  handler: string;
  /** Seconds. */
  timeout: number;
  /** MB. */
  memorySize: number;
  environment: Record<string, string>;
  zipPath: string;
  /** Base64 SHA-256 of the zip's bytes: what Lambda reports as CodeSha256. */
  codeSha256: string;
  /**
   * The log group the function writes to, made beforehand (so it carries tags and retention). Lambda's
   * default, `/aws/lambda/<name>`, needs no setting; any other name is set as LoggingConfig.LogGroup.
   */
  logGroupName: string;
}

/** Base64 SHA-256 of the bytes, the form Lambda uses for CodeSha256. */
export function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** True for CreateFunction's "The role defined for the function cannot be assumed by Lambda" (FACTS §5). */
export function isRolePropagation(error: unknown): boolean {
  return hasErrorName(error, 'InvalidParameterValueException') && /cannot be assumed/i.test(errorMessage(error));
}

/** True when Lambda refuses a write because the function is still being created or updated. */
export function isUpdateInProgress(error: unknown): boolean {
  return hasErrorName(error, 'ResourceConflictException');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

function roleName(roleArn: string): string {
  return roleArn.split('/').pop() ?? roleArn;
}

function createdOf(ctx: ResourceContext, config: FunctionConfiguration): Created {
  const name = config.FunctionName ?? '';
  const arn = config.FunctionArn ?? '';
  const partition = arn.split(':')[1] || 'aws';
  const invokeArn = `arn:${partition}:apigateway:${ctx.region}:lambda:path/2015-03-31/functions/${arn}/invocations`;
  return { id: name, outputs: { id: name, name, arn, invokeArn } };
}

/** The zip's bytes, checked against the codeSha256 the plan was made with. */
async function zipBytes(props: LambdaFunctionProps): Promise<Uint8Array> {
  const bytes = await readFile(props.zipPath);
  if (sha256Base64(bytes) !== props.codeSha256) {
    throw new ScalrServerlessError('LAMBDA_ZIP_CHANGED', `${props.zipPath} changed since the plan was made`, {
      hint: 'run the command again so the plan uses the current package',
    });
  }
  return bytes;
}

/** Waits until the function is Active and no update is InProgress; a Failed state or update is an error. */
async function waitUntilSettled(ctx: ResourceContext, name: string): Promise<FunctionConfiguration> {
  return waitFor(
    async () => {
      const config = await ctx.clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
      if (config.State === 'Failed' || config.LastUpdateStatus === 'Failed') {
        throw new ScalrServerlessError(
          'LAMBDA_FAILED',
          `Lambda function ${name} failed: ${config.StateReason ?? config.LastUpdateStatusReason ?? 'no reason given'}`,
        );
      }
      if (config.State === 'Pending' || config.LastUpdateStatus === 'InProgress') return undefined;
      return config;
    },
    {
      timeoutMs: FUNCTION_READY_TIMEOUT_MS,
      onRetry: (attempt) => ctx.waiting(`waiting for Lambda function ${name} to become ready (attempt ${attempt})`),
      signal: ctx.signal,
    },
  );
}

/** Sends a write, retrying while another update holds the function and while a new role propagates. */
async function write<T>(ctx: ResourceContext, props: LambdaFunctionProps, send: () => Promise<T>): Promise<T> {
  return retryWhile(send, (error) => isUpdateInProgress(error) || isRolePropagation(error), {
    timeoutMs: UPDATE_CONFLICT_TIMEOUT_MS,
    onRetry: (attempt, error) =>
      ctx.waiting(
        isRolePropagation(error)
          ? `waiting for IAM role ${roleName(props.roleArn)} to propagate (attempt ${attempt})`
          : `waiting for an update of Lambda function ${props.name} to finish (attempt ${attempt})`,
      ),
    signal: ctx.signal,
  });
}

/** LoggingConfig for a log group other than Lambda's default one, else nothing to set. */
function loggingConfig(props: LambdaFunctionProps): { LogGroup: string; LogFormat: 'Text' } | undefined {
  const custom = props.logGroupName && props.logGroupName !== `/aws/lambda/${props.name}`;
  return custom ? { LogGroup: props.logGroupName, LogFormat: 'Text' } : undefined;
}

/** The configuration both CreateFunction and UpdateFunctionConfiguration send. */
function functionConfiguration(props: LambdaFunctionProps) {
  return {
    FunctionName: props.name,
    Role: props.roleArn,
    Runtime: props.runtime as Runtime,
    Handler: props.handler,
    Timeout: props.timeout,
    MemorySize: props.memorySize,
    Environment: { Variables: props.environment },
    LoggingConfig: loggingConfig(props),
  };
}

function configDiffers(config: FunctionConfiguration, props: LambdaFunctionProps): boolean {
  const logging = loggingConfig(props);
  return (
    (logging !== undefined && config.LoggingConfig?.LogGroup !== logging.LogGroup) ||
    config.Role !== props.roleArn ||
    config.Runtime !== props.runtime ||
    config.Handler !== props.handler ||
    config.Timeout !== props.timeout ||
    config.MemorySize !== props.memorySize ||
    !sameJson(config.Environment?.Variables ?? {}, props.environment)
  );
}

/**
 * Updates code and configuration, each only where it differs, so a no-op converge writes nothing.
 * `known` is CreateFunction's answer: when it already says Active with no update running, there is
 * nothing to wait for (real Lambda usually answers Pending, and then we poll).
 */
async function converge(ctx: ResourceContext, props: LambdaFunctionProps, known?: FunctionConfiguration): Promise<FunctionConfiguration> {
  const lambda = ctx.clients.lambda;
  const settled = known?.State === 'Active' && (known.LastUpdateStatus ?? 'Successful') === 'Successful';
  let config = settled ? known : await waitUntilSettled(ctx, props.name);
  if (config.CodeSha256 !== props.codeSha256) {
    const ZipFile = await zipBytes(props);
    await write(ctx, props, () => lambda.send(new UpdateFunctionCodeCommand({ FunctionName: props.name, ZipFile })));
    config = await waitUntilSettled(ctx, props.name);
  }
  if (configDiffers(config, props)) {
    await write(ctx, props, () =>
      lambda.send(
        new UpdateFunctionConfigurationCommand(functionConfiguration(props)),
      ),
    );
    config = await waitUntilSettled(ctx, props.name);
  }
  return config;
}

/** The webhook handler as a Lambda function. */
export const lambdaFunction: ResourceKind<LambdaFunctionProps> = {
  kind: 'lambda.function',
  label: 'Lambda Function',
  replaceOn: ['name'],
  findsByName: true,

  async find(ctx, props) {
    const found = await unlessNotFound(ctx.clients.lambda.send(new GetFunctionCommand({ FunctionName: props.name })));
    return found?.Configuration ? createdOf(ctx, found.Configuration) : undefined;
  },

  async create(ctx, props) {
    const ZipFile = await zipBytes(props);
    let created = false;
    let answer: FunctionConfiguration | undefined;
    try {
      answer = await retryWhile(
        () =>
          ctx.clients.lambda.send(
            new CreateFunctionCommand({
              ...functionConfiguration(props),
              Code: { ZipFile },
              PackageType: 'Zip',
              Tags: ctx.tags,
            }),
          ),
        isRolePropagation,
        {
          timeoutMs: ROLE_PROPAGATION_TIMEOUT_MS,
          onRetry: (attempt) =>
            ctx.waiting(`waiting for IAM role ${roleName(props.roleArn)} to propagate (attempt ${attempt})`),
          signal: ctx.signal,
        },
      );
      created = true;
    } catch (error) {
      // A run that died after CreateFunction left the function behind under its name: adopt and converge.
      if (!hasErrorName(error, 'ResourceConflictException')) throw error;
    }
    try {
      return createdOf(ctx, await converge(ctx, props, answer));
    } catch (error) {
      // A create that fails leaves nothing behind.
      if (created) await lambdaFunction.delete(ctx, props.name, props).catch(() => undefined);
      throw error;
    }
  },

  async read(ctx, id) {
    const found = await unlessNotFound(ctx.clients.lambda.send(new GetFunctionCommand({ FunctionName: id })));
    const config = found?.Configuration;
    if (!config) return undefined;
    return {
      outputs: createdOf(ctx, config).outputs,
      props: {
        codeSha256: config.CodeSha256 ?? '',
        roleArn: config.Role ?? '',
        runtime: config.Runtime ?? '',
        handler: config.Handler ?? '',
        timeout: config.Timeout ?? 0,
        memorySize: config.MemorySize ?? 0,
        environment: config.Environment?.Variables ?? {},
      },
    };
  },

  async update(ctx, _id, props) {
    return createdOf(ctx, await converge(ctx, props));
  },

  async delete(ctx, id) {
    await ignoreNotFound(ctx.clients.lambda.send(new DeleteFunctionCommand({ FunctionName: id })));
  },
};
