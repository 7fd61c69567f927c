import { AddPermissionCommand, GetPolicyCommand, RemovePermissionCommand } from '@aws-sdk/client-lambda';
import { retryWhile } from '../aws/retry.js';
import type { Created, Observed, Props, ResourceContext, ResourceKind } from './contract.js';
import { hasErrorName, ignoreNotFound, unlessNotFound } from './aws-helpers.js';

/** How long to retry AddPermission while the function is busy with an update (ResourceConflictException). */
export const PERMISSION_CONFLICT_TIMEOUT_MS = 60_000;

/** Props of the permission that lets one API Gateway method invoke a function. */
export interface LambdaPermissionProps extends Props {
  functionName: string;
  statementId: string;
  restApiId: string;
  stage: string;
  httpMethod: string;
  /** Resource path without the leading slash, e.g. `trigger`. */
  path: string;
}

interface SourceParts {
  restApiId: string;
  stage: string;
  httpMethod: string;
  path: string;
}

/** The execute-api ARN of one method of one stage, as API Gateway presents it when invoking. */
export function sourceArnOf(ctx: ResourceContext, p: SourceParts): string {
  return `arn:aws:execute-api:${ctx.region}:${ctx.accountId}:${p.restApiId}/${p.stage}/${p.httpMethod}/${p.path}`;
}

/** Splits an execute-api SourceArn back into api id, stage, method and path. */
export function parseSourceArn(arn: string): SourceParts | undefined {
  const resource = arn.split(':').slice(5).join(':');
  const [restApiId, stage, httpMethod, ...path] = resource.split('/');
  if (!restApiId || stage === undefined || httpMethod === undefined) return undefined;
  return { restApiId, stage, httpMethod, path: path.join('/') };
}

function splitId(id: string): { functionName: string; statementId: string } {
  const slash = id.indexOf('/');
  return { functionName: id.slice(0, slash), statementId: id.slice(slash + 1) };
}

interface Statement {
  Sid?: string;
  Action?: string | string[];
  Principal?: string | { Service?: string | string[] };
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** True when the statement already lets API Gateway invoke the function from exactly `sourceArn`. */
function grantsExactly(statement: Statement, sourceArn: string): boolean {
  const principal = typeof statement.Principal === 'string' ? statement.Principal : statement.Principal?.Service;
  const actions = [statement.Action ?? []].flat();
  return (
    [principal ?? []].flat().includes('apigateway.amazonaws.com') &&
    actions.includes('lambda:InvokeFunction') &&
    sourceArnIn(statement) === sourceArn
  );
}

/** The policy statement with this Sid, or undefined when the function, its policy or the Sid is gone. */
async function findStatement(ctx: ResourceContext, functionName: string, sid: string): Promise<Statement | undefined> {
  const policy = await unlessNotFound(ctx.clients.lambda.send(new GetPolicyCommand({ FunctionName: functionName })));
  if (!policy?.Policy) return undefined;
  const statements = (JSON.parse(policy.Policy) as { Statement?: Statement[] }).Statement ?? [];
  return statements.find((statement) => statement.Sid === sid);
}

function sourceArnIn(statement: Statement): string {
  const value = statement.Condition?.ArnLike?.['AWS:SourceArn'] ?? statement.Condition?.ArnEquals?.['AWS:SourceArn'];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

async function remove(ctx: ResourceContext, functionName: string, statementId: string): Promise<void> {
  await ignoreNotFound(
    ctx.clients.lambda.send(new RemovePermissionCommand({ FunctionName: functionName, StatementId: statementId })),
  );
}

/** Puts the statement unless it is already there, replacing one of the same Sid (a Sid cannot be edited in place). */
async function put(ctx: ResourceContext, props: LambdaPermissionProps): Promise<Created> {
  const sourceArn = sourceArnOf(ctx, props);
  const add = () =>
    ctx.clients.lambda.send(
      new AddPermissionCommand({
        FunctionName: props.functionName,
        StatementId: props.statementId,
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        SourceArn: sourceArn,
      }),
    );
  const id = `${props.functionName}/${props.statementId}`;
  // A statement that already grants exactly this (an adopted one) is left alone: no write.
  const existing = await findStatement(ctx, props.functionName, props.statementId);
  if (existing && grantsExactly(existing, sourceArn)) return { id, outputs: { id, sourceArn } };
  // Lambda answers ResourceConflictException both for an existing Sid and while the function is
  // being updated; removing first handles the former, the bounded retry the latter. (moto accepts
  // a duplicate Sid silently, which is why the remove comes first rather than on conflict only.)
  if (existing) await remove(ctx, props.functionName, props.statementId);
  await retryWhile(
    async () => {
      try {
        return await add();
      } catch (error) {
        if (hasErrorName(error, 'ResourceConflictException')) await remove(ctx, props.functionName, props.statementId);
        throw error;
      }
    },
    (error) => hasErrorName(error, 'ResourceConflictException'),
    {
      timeoutMs: PERMISSION_CONFLICT_TIMEOUT_MS,
      onRetry: (attempt) =>
        ctx.waiting(`waiting to add permission ${props.statementId} to ${props.functionName} (attempt ${attempt})`),
      signal: ctx.signal,
    },
  );
  return { id, outputs: { id, sourceArn } };
}

/** Lets API Gateway invoke the webhook function from one method of one stage. */
export const lambdaPermission: ResourceKind<LambdaPermissionProps> = {
  kind: 'lambda.permission',
  label: 'Lambda Permission',
  replaceOn: ['functionName', 'statementId'],

  async find(ctx, props) {
    const id = `${props.functionName}/${props.statementId}`;
    const observed = await lambdaPermission.read(ctx, id, props);
    return observed ? { id, outputs: observed.outputs } : undefined;
  },

  create: put,

  async read(ctx, id): Promise<Observed | undefined> {
    const { functionName, statementId } = splitId(id);
    const statement = await findStatement(ctx, functionName, statementId);
    if (!statement) return undefined;
    const sourceArn = sourceArnIn(statement);
    // Observing the api id from the SourceArn is what reveals a permission left pointing at an
    // old API, which API Gateway reports as 500 "Invalid permissions on Lambda function" (FACTS §5).
    const parts = parseSourceArn(sourceArn);
    return {
      outputs: { id, sourceArn },
      props: parts ? { ...parts } : { restApiId: '', stage: '', httpMethod: '', path: '' },
    };
  },

  async update(ctx, _id, props) {
    return put(ctx, props);
  },

  async delete(ctx, id) {
    const { functionName, statementId } = splitId(id);
    await remove(ctx, functionName, statementId);
  },
};
