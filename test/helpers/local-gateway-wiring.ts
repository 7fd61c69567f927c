import {
  GetApiKeysCommand,
  GetIntegrationCommand,
  GetMethodCommand,
  GetResourcesCommand,
  GetStageCommand,
  GetUsagePlanKeysCommand,
  GetUsagePlansCommand,
  type APIGatewayClient,
  type Method,
} from '@aws-sdk/client-api-gateway';
import {
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  type FunctionConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';

/** Why API Gateway would not run the handler, with the answer it gives the caller. */
export interface Refusal {
  status: number;
  message: string;
  /** For the test author: which check failed; API Gateway itself never says. */
  reason: string;
}

/** What a correctly wired request resolves to. */
export interface Route {
  resourceId: string;
  resourcePath: string;
  stageVariables: Record<string, string> | null;
  apiKeyId?: string;
  accountId: string;
  fn: FunctionConfiguration;
}

/** One request, as far as routing cares. */
export interface RouteRequest {
  restApiId: string;
  region: string;
  stage: string;
  path: string;
  method: string;
  apiKey: string | undefined;
}

const PAGE_SIZE = 500;
const FORBIDDEN = 'Forbidden';
const MISSING_TOKEN = 'Missing Authentication Token';
const INTERNAL = 'Internal server error';

const refuse = (status: number, message: string, reason: string): Refusal => ({ status, message, reason });

/**
 * Checks a request against the live API Gateway and Lambda configuration, in the order API
 * Gateway does: stage, route, API key and usage plan, integration, then Lambda's resource policy.
 */
export async function resolveRoute(
  apigateway: APIGatewayClient,
  lambda: LambdaClient,
  request: RouteRequest,
): Promise<Route | Refusal> {
  const { restApiId, region, stage, path, method } = request;
  const stageInfo = await orUndefined(apigateway.send(new GetStageCommand({ restApiId, stageName: stage })));
  if (!stageInfo) return refuse(403, FORBIDDEN, `stage "${stage}" does not exist on ${restApiId}`);

  const resources = await apigateway.send(new GetResourcesCommand({ restApiId, limit: PAGE_SIZE }));
  const resource = resources.items?.find((r) => r.path === path);
  if (!resource?.id) return refuse(403, MISSING_TOKEN, `no resource ${path}`);
  const resourceId = resource.id;
  // A method named after the verb wins over ANY, as in API Gateway's routing.
  const found =
    (await orUndefined(apigateway.send(new GetMethodCommand({ restApiId, resourceId, httpMethod: method })))) ??
    (await orUndefined(apigateway.send(new GetMethodCommand({ restApiId, resourceId, httpMethod: 'ANY' }))));
  if (!found) return refuse(403, MISSING_TOKEN, `no ${method} method on ${path}`);

  let apiKeyId: string | undefined;
  if (found.apiKeyRequired) {
    const keyCheck = await checkApiKey(apigateway, restApiId, stage, request.apiKey);
    if (typeof keyCheck !== 'string') return keyCheck;
    apiKeyId = keyCheck;
  }

  const integration = await orUndefined(
    apigateway.send(new GetIntegrationCommand({ restApiId, resourceId, httpMethod: found.httpMethod ?? method })),
  );
  const functionArn = lambdaArnOf(integration, region);
  if (!integration || integration.type !== 'AWS_PROXY' || !functionArn) {
    return refuse(500, INTERNAL, `integration is not AWS_PROXY to a Lambda in ${region}: ${JSON.stringify(integration)}`);
  }
  // Lambda's Invoke API is POST; a proxy integration with another verb fails at execution time.
  if (integration.httpMethod !== 'POST') {
    return refuse(500, INTERNAL, `integration httpMethod is ${integration.httpMethod}, Lambda needs POST`);
  }
  const fn = await orUndefined(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionArn })));
  if (!fn) return refuse(500, INTERNAL, `integration names ${functionArn}, which does not exist`);

  const accountId = functionArn.split(':')[4] ?? '';
  const sourceArn = `arn:aws:execute-api:${region}:${accountId}:${restApiId}/${stage}/${method}${path}`;
  const policy = await orUndefined(lambda.send(new GetPolicyCommand({ FunctionName: functionArn })));
  const statements = policy?.Policy ? [JSON.parse(policy.Policy).Statement ?? []].flat() : [];
  if (!statements.some((s: PolicyStatement) => allowsInvoke(s, sourceArn, accountId))) {
    return refuse(500, INTERNAL, `Invalid permissions on Lambda function: no statement allows ${sourceArn}`);
  }
  const stageVariables = stageInfo.variables && Object.keys(stageInfo.variables).length > 0 ? stageInfo.variables : null;
  return { resourceId, resourcePath: resource.path ?? path, stageVariables, apiKeyId, accountId, fn };
}

/** True when `value` is a refusal rather than a route. */
export function isRefusal(value: Route | Refusal): value is Refusal {
  return 'reason' in value;
}

/** The key's id, when the header names an enabled key that a usage plan for this stage holds. */
async function checkApiKey(
  apigateway: APIGatewayClient,
  restApiId: string,
  stage: string,
  value: string | undefined,
): Promise<string | Refusal> {
  if (!value) return refuse(403, FORBIDDEN, 'no x-api-key header');
  const keys = await apigateway.send(new GetApiKeysCommand({ includeValues: true, limit: PAGE_SIZE }));
  const key = keys.items?.find((k) => k.enabled && k.value === value);
  if (!key?.id) return refuse(403, FORBIDDEN, 'x-api-key matches no enabled API key');
  const plans = await apigateway.send(new GetUsagePlansCommand({ limit: PAGE_SIZE }));
  for (const plan of plans.items ?? []) {
    if (!plan.id || !plan.apiStages?.some((s) => s.apiId === restApiId && s.stage === stage)) continue;
    const planKeys = await apigateway.send(new GetUsagePlanKeysCommand({ usagePlanId: plan.id, limit: PAGE_SIZE }));
    if (planKeys.items?.some((k) => k.id === key.id)) return key.id;
  }
  return refuse(403, FORBIDDEN, `API key ${key.id} is in no usage plan for ${restApiId}/${stage}`);
}

function lambdaArnOf(integration: Method['methodIntegration'], region: string): string | undefined {
  const prefix = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/`;
  const uri = integration?.uri ?? '';
  if (!uri.startsWith(prefix) || !uri.endsWith('/invocations')) return undefined;
  const arn = uri.slice(prefix.length, -'/invocations'.length);
  return /^arn:aws:lambda:[^:]+:\d{12}:function:[^/]+$/.test(arn) ? arn : undefined;
}

type PolicyStatement = {
  Effect?: string;
  Principal?: string | { Service?: string | string[] };
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
};

/** Does one resource-policy statement let API Gateway invoke the function for `sourceArn`? */
function allowsInvoke(statement: PolicyStatement, sourceArn: string, accountId: string): boolean {
  if (statement.Effect !== 'Allow') return false;
  const principal = statement.Principal;
  const services = typeof principal === 'string' ? [principal] : [principal?.Service ?? []].flat();
  if (!services.some((s) => s === '*' || s === 'apigateway.amazonaws.com')) return false;
  // Action names are case-insensitive in IAM.
  const actions = [statement.Action ?? []].flat().map((a) => a.toLowerCase());
  if (!actions.some((a) => glob(a, 'lambda:invokefunction'))) return false;
  for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
    for (const [key, raw] of Object.entries(block)) {
      const values = [raw].flat();
      const name = key.toLowerCase();
      if (name === 'aws:sourcearn' && /^Arn(Like|Equals)$/.test(operator)) {
        if (!values.some((v) => arnLike(v, sourceArn))) return false;
      } else if (name === 'aws:sourceaccount' && operator === 'StringEquals') {
        if (!values.includes(accountId)) return false;
      } else {
        return false; // a condition we cannot evaluate: treat it as not satisfied
      }
    }
  }
  return true;
}

/** IAM ArnLike/ArnEquals: each of the six colon-separated parts matched on its own, `*` and `?` wildcards. */
export function arnLike(pattern: string, arn: string): boolean {
  const split = (value: string) => {
    const parts = value.split(':');
    return [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const a = split(arn);
  return p.length === 6 && a.length === 6 && p.every((part, i) => glob(part, a[i] ?? ''));
}

function glob(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(value);
}

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'NotFoundException' || name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
