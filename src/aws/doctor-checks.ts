import { GetMethodCommand, GetIntegrationCommand, GetResourcesCommand, GetStageCommand, GetUsagePlanCommand, GetUsagePlanKeysCommand, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { GetFunctionConfigurationCommand, GetPolicyCommand } from '@aws-sdk/client-lambda';
import { DescribeClustersCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { DescribeSubnetsCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetRoleCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import type { AwsClients } from './clients.js';
import { describeCause } from '../errors.js';
import { isNotFound } from './not-found.js';
import { HANDLER_ENV, WEBHOOK_PATH, WEBHOOK_STAGE } from '../../lambda-src/contract.js';
import type { StackState } from '../state/state-file.js';
import { partitionOf } from '../stack.js';

/** One check's verdict, in plain words, with the fix when it failed. */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const REPAIR = 'run `scalr-serverless up` to repair the stack';

async function check(name: string, run: () => Promise<Omit<Check, 'name'>>): Promise<Check> {
  try {
    return { name, ...(await run()) };
  } catch (error) {
    return { name, status: 'fail', detail: describeCause(error), fix: REPAIR };
  }
}

const ok = (detail: string): Omit<Check, 'name'> => ({ status: 'ok', detail });
const fail = (detail: string, fix = REPAIR): Omit<Check, 'name'> => ({ status: 'fail', detail, fix });

/** The account-level check: ECS's service-linked role (up creates it when missing). */
export async function checkServiceLinkedRole(clients: AwsClients): Promise<Check> {
  return check('ECS service-linked role', async () => {
    try {
      await clients.iam.send(new GetRoleCommand({ RoleName: 'AWSServiceRoleForECS' }));
      return ok('AWSServiceRoleForECS exists');
    } catch (error) {
      return { status: 'warn', detail: `not found (${describeCause(error)})`, fix: 'nothing to do: up creates it on first use of ECS in the account' };
    }
  });
}

/**
 * The wiring checks API Gateway and ECS would make on a delivery: the route, the key and usage plan,
 * the integration and permission, and what the handler's environment names. Reads only.
 */
export async function checkWiring(clients: AwsClients, state: StackState): Promise<Check[]> {
  const r = state.resources;
  const apiId = r.restApi?.id;
  const functionName = r.handler?.id;
  if (!apiId || !functionName) return [{ name: 'stack wiring', status: 'fail', detail: 'the REST API or the function is not in the state file', fix: REPAIR }];
  const sourceArn = `arn:${partitionOf(state.region)}:execute-api:${state.region}:${state.accountId}:${apiId}/${WEBHOOK_STAGE}/POST/${WEBHOOK_PATH}`;

  const config = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName })).catch(() => undefined);
  const env = config?.Environment?.Variables ?? {};
  const checks = await Promise.all([
    check(`route POST /${WEBHOOK_PATH}`, async () => {
      const resources = await clients.apigateway.send(new GetResourcesCommand({ restApiId: apiId, limit: 500 }));
      const resource = resources.items?.find((item) => item.path === `/${WEBHOOK_PATH}`);
      if (!resource) return fail(`the REST API has no /${WEBHOOK_PATH} resource`);
      const method = await clients.apigateway.send(new GetMethodCommand({ restApiId: apiId, resourceId: resource.id, httpMethod: 'POST' }));
      if (!method.apiKeyRequired) return fail('POST does not require an API key: anyone could start agent tasks');
      const integration = await clients.apigateway.send(new GetIntegrationCommand({ restApiId: apiId, resourceId: resource.id, httpMethod: 'POST' }));
      if (integration.type !== 'AWS_PROXY') return fail(`the integration is ${integration.type}, not AWS_PROXY`);
      if (!config?.FunctionArn || !integration.uri?.includes(config.FunctionArn)) return fail(`the integration calls ${integration.uri}, not the function ${functionName}`);
      return ok('API key required; AWS_PROXY integration to the handler');
    }),
    check(`stage ${WEBHOOK_STAGE}`, async () => {
      const stage = await clients.apigateway.send(new GetStageCommand({ restApiId: apiId, stageName: WEBHOOK_STAGE }));
      return stage.deploymentId ? ok(`deployed (${stage.deploymentId})`) : fail('the stage has no deployment');
    }),
    check('API key and usage plan', async () => {
      const keyId = r.apiKey?.id;
      const planId = r.usagePlan?.id;
      if (!keyId || !planId) return fail('the API key or usage plan is not in the state file');
      const key = await clients.apigateway.send(new GetApiKeyCommand({ apiKey: keyId }));
      if (!key.enabled) return fail('the API key is disabled: every delivery gets 403');
      const plan = await clients.apigateway.send(new GetUsagePlanCommand({ usagePlanId: planId }));
      if (!plan.apiStages?.some((s) => s.apiId === apiId && s.stage === WEBHOOK_STAGE)) return fail(`the usage plan does not cover ${apiId}/${WEBHOOK_STAGE}: every delivery gets 403`);
      const keys = await clients.apigateway.send(new GetUsagePlanKeysCommand({ usagePlanId: planId }));
      if (!keys.items?.some((k) => k.id === keyId)) return fail('the API key is not in the usage plan: every delivery gets 403');
      return ok('key enabled, in a usage plan covering the stage');
    }),
    check('Lambda permission for API Gateway', async () => {
      // GetPolicy answers ResourceNotFoundException when the function has no resource policy at all:
      // that is the same fault as a policy without our statement, so it gets the same plain words.
      const response = await clients.lambda.send(new GetPolicyCommand({ FunctionName: functionName })).catch((error: unknown) => {
        if (isNotFound(error)) return { Policy: undefined };
        throw error;
      });
      const policy = JSON.parse(response.Policy ?? '{}');
      const allowed = (policy.Statement ?? []).some((s: any) => JSON.stringify(s.Condition ?? {}).includes(sourceArn));
      return allowed ? ok(`invocations from ${sourceArn} allowed`) : fail('no permission for this API: deliveries get 500 "Invalid permissions on Lambda function"');
    }),
    check('handler environment', async () => {
      if (!config) return fail(`function ${functionName} not found`);
      const problems: string[] = [];
      const cluster = env[HANDLER_ENV.cluster];
      const clusters = await clients.ecs.send(new DescribeClustersCommand({ clusters: [cluster ?? ''] }));
      if (clusters.clusters?.[0]?.status !== 'ACTIVE') problems.push(`cluster ${cluster} is not active`);
      const taskDefinition = env[HANDLER_ENV.taskDefinition];
      const td = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition })).catch(() => undefined);
      if (td?.taskDefinition?.status !== 'ACTIVE') problems.push(`task definition ${taskDefinition} is not active`);
      else if (!td.taskDefinition.containerDefinitions?.some((c) => c.name === env[HANDLER_ENV.container])) problems.push(`the task definition has no container named ${env[HANDLER_ENV.container]}`);
      const subnets = (env[HANDLER_ENV.subnets] ?? '').split(',').filter(Boolean);
      const found = await clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnets })).catch(() => undefined);
      if (!found || found.Subnets?.length !== subnets.length || subnets.length === 0) problems.push(`subnets ${subnets.join(', ')} do not all exist`);
      const groups = (env[HANDLER_ENV.securityGroups] ?? '').split(',').filter(Boolean);
      const sg = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groups })).catch(() => undefined);
      if (!sg || sg.SecurityGroups?.length !== groups.length || groups.length === 0) problems.push(`security group ${groups.join(', ')} does not exist`);
      return problems.length ? fail(problems.join('; ')) : ok('cluster, task definition, container, subnets and security group exist');
    }),
    check('handler may pass the agent roles', async () => {
      const roleName = r.handlerRole?.id;
      const td = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: env[HANDLER_ENV.taskDefinition] }));
      const policy = JSON.parse(decodeURIComponent((await clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'scalr-serverless' }))).PolicyDocument ?? '{}'));
      const passable = (policy.Statement ?? []).filter((s: any) => [s.Action].flat().includes('iam:PassRole')).flatMap((s: any) => [s.Resource].flat());
      const needed = [td.taskDefinition?.executionRoleArn, td.taskDefinition?.taskRoleArn].filter(Boolean) as string[];
      const missing = needed.filter((arn) => !passable.includes(arn));
      return missing.length ? fail(`the handler role may not pass ${missing.join(', ')}: RunTask would be denied`) : ok('PassRole covers exactly the execution and task roles');
    }),
  ]);
  return checks;
}
