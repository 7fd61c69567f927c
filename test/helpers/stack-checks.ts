import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  DescribeVpcsCommand,
  DescribeVpcAttributeCommand,
  DescribeSubnetsCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
} from '@aws-sdk/client-ec2';
import { DescribeClustersCommand, DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { GetRoleCommand, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetPolicyCommand } from '@aws-sdk/client-lambda';
import {
  GetRestApisCommand,
  GetApiKeysCommand,
  GetUsagePlansCommand,
  GetUsagePlanKeysCommand,
  GetResourcesCommand,
  GetMethodCommand,
  GetIntegrationCommand,
  GetStageCommand,
  GetDeploymentsCommand,
} from '@aws-sdk/client-api-gateway';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { inspectorClients } from './inspect-stack.js';
import { MOTO_ACCOUNT_ID } from './moto.js';

const ZIP_PATH = fileURLToPath(new URL('../../dist/lambda.zip', import.meta.url));
const REGION = 'us-east-1';

/** The ids of one complete stack, as independent Describe calls found them. */
export interface StackIds {
  vpcId: string;
  subnetIds: string[];
  internetGatewayId: string;
  routeTableId: string;
  securityGroupId: string;
  restApiId: string;
  apiKeyId: string;
  usagePlanId: string;
  functionArn: string;
}

/**
 * Checks, with the test's own SDK clients (never the code under test), that exactly one complete and
 * correctly wired stack named `stack` exists: one of each tagged network resource, one REST API, key
 * and usage plan by name, and every link between them (routes, associations, role policies, the
 * integration and the Lambda permission naming the live API, the usage plan holding stage and key).
 * Returns every problem found, so one failing assertion shows them all; empty means complete.
 */
export async function stackProblems(endpoint: string, stack: string): Promise<{ problems: string[]; ids: Partial<StackIds> }> {
  const c = inspectorClients(endpoint, REGION);
  const prefix = `scalr-serverless-${stack}`;
  const problems: string[] = [];
  const ids: Partial<StackIds> = {};
  const expectOne = <T>(what: string, items: T[] | undefined): T | undefined => {
    if (items?.length !== 1) problems.push(`expected exactly one ${what}, found ${items?.length ?? 0}`);
    return items?.length === 1 ? items[0] : undefined;
  };
  const byTag = [{ Name: 'tag:scalr-serverless:stack', Values: [stack] }];

  // Network
  const vpc = expectOne('VPC', (await c.ec2.send(new DescribeVpcsCommand({ Filters: byTag }))).Vpcs);
  if (vpc) {
    ids.vpcId = vpc.VpcId!;
    for (const Attribute of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
      const attr = await c.ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute }));
      if ((attr.EnableDnsSupport ?? attr.EnableDnsHostnames)?.Value !== true) problems.push(`VPC ${Attribute} is not enabled`);
    }
  }
  const subnets = (await c.ec2.send(new DescribeSubnetsCommand({ Filters: byTag }))).Subnets ?? [];
  if (subnets.length !== 2) problems.push(`expected two subnets, found ${subnets.length}`);
  ids.subnetIds = subnets.map((s) => s.SubnetId!).sort();
  for (const subnet of subnets) {
    if (subnet.VpcId !== ids.vpcId) problems.push(`subnet ${subnet.SubnetId} is not in the stack's VPC`);
    if (!subnet.MapPublicIpOnLaunch) problems.push(`subnet ${subnet.SubnetId} does not map public IPs`);
  }
  const igw = expectOne('internet gateway', (await c.ec2.send(new DescribeInternetGatewaysCommand({ Filters: byTag }))).InternetGateways);
  if (igw) {
    ids.internetGatewayId = igw.InternetGatewayId!;
    if (igw.Attachments?.[0]?.VpcId !== ids.vpcId) problems.push('internet gateway is not attached to the VPC');
  }
  const table = expectOne('route table', (await c.ec2.send(new DescribeRouteTablesCommand({ Filters: byTag }))).RouteTables);
  if (table) {
    ids.routeTableId = table.RouteTableId!;
    const route = table.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
    if (!route || route.GatewayId !== ids.internetGatewayId) problems.push('route table has no default route to the internet gateway');
    const associated = (table.Associations ?? []).filter((a) => a.SubnetId).map((a) => a.SubnetId!).sort();
    if (JSON.stringify(associated) !== JSON.stringify(ids.subnetIds)) problems.push(`route table is associated with [${associated}], not the stack's subnets`);
  }
  const group = expectOne('security group', (await c.ec2.send(new DescribeSecurityGroupsCommand({ Filters: byTag }))).SecurityGroups);
  if (group) {
    ids.securityGroupId = group.GroupId!;
    if (group.VpcId !== ids.vpcId) problems.push('security group is not in the VPC');
    if (!group.IpPermissionsEgress?.some((p) => p.IpProtocol === '-1')) problems.push('security group has no all-traffic egress');
  }

  // ECS, IAM, logs
  const clusters = (await c.ecs.send(new DescribeClustersCommand({ clusters: [prefix] }))).clusters ?? [];
  if (!clusters.some((cl) => cl.status === 'ACTIVE')) problems.push('ECS cluster is missing');
  const revisions = (await c.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: `${prefix}-agent`, status: 'ACTIVE' }))).taskDefinitionArns ?? [];
  const taskDefinitionArn = expectOne('ACTIVE task definition revision', revisions);
  const roleArn: Record<string, string | undefined> = {};
  for (const role of ['execution', 'task', 'webhook']) {
    roleArn[role] = await c.iam.send(new GetRoleCommand({ RoleName: `${prefix}-${role}` })).then((r) => r.Role!.Arn, () => undefined);
    if (!roleArn[role]) problems.push(`IAM role ${prefix}-${role} is missing`);
  }
  if (roleArn.execution) {
    const attached = await c.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: `${prefix}-execution` }));
    if (!attached.AttachedPolicies?.some((p) => p.PolicyName === 'AmazonECSTaskExecutionRolePolicy')) problems.push('execution role lacks AmazonECSTaskExecutionRolePolicy');
  }
  if (roleArn.webhook) {
    const inline = await c.iam.send(new ListRolePoliciesCommand({ RoleName: `${prefix}-webhook` }));
    if (!inline.PolicyNames?.includes('scalr-serverless')) problems.push('webhook role lacks its inline policy');
  }
  if (taskDefinitionArn) {
    const { taskDefinition: td } = await c.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    if (td?.executionRoleArn !== roleArn.execution || td?.taskRoleArn !== roleArn.task) problems.push('task definition does not name the stack roles');
  }
  for (const name of [`/ecs/${prefix}`, `/aws/lambda/${prefix}-webhook`]) {
    const groups = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
    const found = groups.logGroups?.find((g) => g.logGroupName === name);
    if (!found) problems.push(`log group ${name} is missing`);
    else if (found.retentionInDays !== 30) problems.push(`log group ${name} keeps ${found.retentionInDays} days, not 30`);
  }

  // Lambda
  const fn = await c.lambda.send(new GetFunctionCommand({ FunctionName: `${prefix}-webhook` })).catch(() => undefined);
  const configuration = fn?.Configuration;
  if (!configuration) problems.push('Lambda function is missing');
  else {
    ids.functionArn = configuration.FunctionArn!;
    const sha = createHash('sha256').update(await readFile(ZIP_PATH)).digest('base64');
    if (configuration.CodeSha256 !== sha) problems.push('Lambda code is not dist/lambda.zip');
    if (configuration.Role !== roleArn.webhook) problems.push('Lambda does not run as the webhook role');
    const env = configuration.Environment?.Variables ?? {};
    if (env.SCALR_SERVERLESS_TASK_DEFINITION !== taskDefinitionArn) problems.push(`Lambda env names task definition ${env.SCALR_SERVERLESS_TASK_DEFINITION}, not ${taskDefinitionArn}`);
    if (env.SCALR_SERVERLESS_SUBNETS?.split(',').sort().join(',') !== ids.subnetIds.join(',')) problems.push(`Lambda env names subnets ${env.SCALR_SERVERLESS_SUBNETS}`);
    if (env.SCALR_SERVERLESS_SECURITY_GROUPS !== ids.securityGroupId) problems.push(`Lambda env names security group ${env.SCALR_SERVERLESS_SECURITY_GROUPS}`);
  }

  // API Gateway
  const apis = (await c.apigateway.send(new GetRestApisCommand({ limit: 500 }))).items?.filter((a) => a.name === prefix);
  const api = expectOne('REST API', apis);
  if (api) {
    ids.restApiId = api.id!;
    const webhook = (await c.apigateway.send(new GetResourcesCommand({ restApiId: api.id }))).items?.filter((r) => r.path === '/webhook');
    const resource = expectOne('/webhook resource', webhook);
    if (resource) {
      const method = await c.apigateway.send(new GetMethodCommand({ restApiId: api.id, resourceId: resource.id, httpMethod: 'POST' })).catch(() => undefined);
      if (!method) problems.push('POST /webhook method is missing');
      else if (!method.apiKeyRequired) problems.push('POST /webhook does not require the API key');
      const integration = await c.apigateway.send(new GetIntegrationCommand({ restApiId: api.id, resourceId: resource.id, httpMethod: 'POST' })).catch(() => undefined);
      if (integration?.type !== 'AWS_PROXY' || !ids.functionArn || !integration.uri?.includes(`${ids.functionArn}/invocations`)) {
        problems.push(`integration does not invoke the live function (uri ${integration?.uri})`);
      }
    }
    const stage = await c.apigateway.send(new GetStageCommand({ restApiId: api.id, stageName: 'prod' })).catch(() => undefined);
    const deployments = (await c.apigateway.send(new GetDeploymentsCommand({ restApiId: api.id }))).items ?? [];
    if (!stage) problems.push('stage prod is missing');
    else if (!deployments.some((d) => d.id === stage.deploymentId)) problems.push('stage prod names a deployment that does not exist');
    if (configuration) {
      const policy = await c.lambda.send(new GetPolicyCommand({ FunctionName: configuration.FunctionName })).catch(() => undefined);
      const sourceArn = `arn:aws:execute-api:${REGION}:${MOTO_ACCOUNT_ID}:${api.id}/prod/POST/webhook`;
      if (!policy?.Policy?.includes(sourceArn)) problems.push(`Lambda permission for ${sourceArn} is missing`);
    }
  }
  const key = expectOne('API key', (await c.apigateway.send(new GetApiKeysCommand({ limit: 500 }))).items?.filter((k) => k.name === prefix));
  if (key) {
    ids.apiKeyId = key.id!;
    if (!key.enabled) problems.push('API key is disabled');
  }
  const plan = expectOne('usage plan', (await c.apigateway.send(new GetUsagePlansCommand({ limit: 500 }))).items?.filter((p) => p.name === prefix));
  if (plan) {
    ids.usagePlanId = plan.id!;
    const stages = (plan.apiStages ?? []).map((s) => `${s.apiId}/${s.stage}`);
    if (JSON.stringify(stages) !== JSON.stringify([`${ids.restApiId}/prod`])) problems.push(`usage plan stages are [${stages}], not the live API's prod`);
    const keys = (await c.apigateway.send(new GetUsagePlanKeysCommand({ usagePlanId: plan.id }))).items ?? [];
    if (JSON.stringify(keys.map((k) => k.id)) !== JSON.stringify([ids.apiKeyId])) problems.push(`usage plan keys are [${keys.map((k) => k.id)}], not the stack's key`);
  }
  return { problems, ids };
}

/** The resource ids the state file records, for comparing with what Describe calls found. */
export async function recordedIds(statePath: string): Promise<Record<string, string>> {
  const state = JSON.parse(await readFile(statePath, 'utf8')) as { resources: Record<string, { id: string }> };
  return Object.fromEntries(Object.entries(state.resources).map(([key, record]) => [key, record.id]));
}
